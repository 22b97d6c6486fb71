"""Notebook displays (``_repr_html_``, ``_repr_png_``) of the result objects.

Each display is checked against a number computed without convscope (torch's own output sizes and
forward hooks, SciPy's correlation, per-seed means recomputed here), and the plain ``str``/``repr``
each object had before are checked to be unchanged.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import re
import subprocess
import sys
from collections import OrderedDict
from html import unescape
from html.parser import HTMLParser

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import convscope as cs
from convscope import filters
from convscope.engine.arithmetic import Explanation
from convscope.images import sample
from convscope.inspect.doctor import doctor
from convscope.inspect.trace import trace


class _Page(HTMLParser):
    """The parts of an HTML string the tests look at: body rows as lists of cell texts, each
    cell's attributes, the <img> sources, the text inside and outside <details>, and spans by class."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.row_titles: list[list[str | None]] = []
        self.images: list[str] = []
        self.spans: list[tuple[str, str]] = []          # (class, text) of every span
        self.inside_details, self.outside_details = [], []
        self.list_items: list[str] = []
        self._stack: list[str] = []
        self._cell: list[str] | None = None
        self._span: list | None = None
        self._item: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._stack.append(tag)
        if tag == "tr" and "tbody" in self._stack:
            self.rows.append([])
            self.row_titles.append([])
        elif tag == "td" and "tbody" in self._stack:
            self._cell = []
            self.row_titles[-1].append(None)
        elif tag == "span" and self._cell is not None and "title" in attrs:
            self.row_titles[-1][-1] = attrs["title"]
        elif tag == "img":
            self.images.append(attrs["src"])
            self._stack.pop()
        if tag == "span":
            self._span = [attrs.get("class", ""), []]
        if tag == "li":
            self._item = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None
        if tag == "span" and self._span is not None:
            self.spans.append((self._span[0], "".join(self._span[1])))
            self._span = None
        if tag == "li" and self._item is not None:
            self.list_items.append("".join(self._item))
            self._item = None
        while self._stack and self._stack.pop() != tag:
            pass

    def handle_data(self, data):
        if "style" in self._stack:
            return
        for part in (self._cell, self._span[1] if self._span else None, self._item):
            if part is not None:
                part.append(data)
        (self.inside_details if "details" in self._stack else self.outside_details).append(data)

    @property
    def text(self) -> str:
        return "".join(self.outside_details + self.inside_details)


def _png(source: str) -> tuple[int, int]:
    """The (width, height) of a data-URL PNG, decoded (and so checked to be one)."""
    from PIL import Image

    assert source.startswith("data:image/png;base64,")
    data = base64.b64decode(source.split(",", 1)[1], validate=True)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        image.load()
        return image.size


# --- explain_output_size ------------------------------------------------------------------------

OLD_TEXT = """out = floor((in + 2*padding - kernel_size) / stride) + 1
    = floor((28 + 2*0 - 3) / 2) + 1
    = floor(25 / 2) + 1
    = floor(12.5) + 1
    = 12 + 1 = 13
The 13 windows start at 0, 2, ..., 24; the last one covers input positions 24..26.
Warning: input position 27 is never covered by a window: the floor drops 1 position. \
Pad the input or change the stride if it matters."""


def test_the_explanation_is_still_the_same_plain_string():
    text = cs.explain_output_size(28, 3, stride=2)
    assert isinstance(text, str) and isinstance(text, Explanation)
    assert text == OLD_TEXT and str(text) == OLD_TEXT and repr(text) == repr(OLD_TEXT)
    assert type(str(text)) is str and text.splitlines() == OLD_TEXT.splitlines()
    assert json.dumps({"explain": text}) == json.dumps({"explain": OLD_TEXT})
    copy = pickle.loads(pickle.dumps(text))
    assert copy == OLD_TEXT and copy.out == 13 and copy._repr_html_() == text._repr_html_()


def test_the_web_api_encoders_send_it_as_a_plain_string():
    pydantic = pytest.importorskip("pydantic")
    from fastapi.encoders import jsonable_encoder
    from fastapi.responses import JSONResponse

    class Model(pydantic.BaseModel):
        explain: str

    text = cs.explain_output_size(28, 3, stride=2)
    assert json.loads(Model(explain=text).model_dump_json())["explain"] == OLD_TEXT
    assert json.loads(JSONResponse(jsonable_encoder({"explain": text})).body)["explain"] == OLD_TEXT


CASES = [(28, 3, 2, 0, 1), (28, 3, 1, 1, 1), (10, 4, 1, "same", 1), (10, 3, 1, 0, 2), (7, 2, 3, 0, 1),
         (6, 3, 2, 1, 1), (9, 5, 2, 2, 2), (4, 2, 1, 0, 1)]


@pytest.mark.parametrize("size, k, s, p, d", CASES)
def test_the_html_highlights_the_size_torch_computes(size, k, s, p, d):
    out = F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]
    explanation = cs.explain_output_size(size, k, s, p, d)
    page = _Page(explanation._repr_html_())
    assert explanation.out == out
    assert f"output size: {out}" in page.text
    results = [text for cls, text in page.spans if cls == "convscope-result"]
    assert len(results) == 1 and results[0].endswith(f"= {out}")
    # every line as it prints, in order, one span each
    assert [text for _, text in page.spans] == explanation.splitlines()
    # positions past the last window, computed from torch's size: the warning says so exactly when some exist
    pad = (k - 1) * d // 2 if p == "same" else p
    uncovered = size - 1 - ((out - 1) * s - pad + d * (k - 1))
    warnings = [text for cls, text in page.spans if cls == "convscope-warning"]
    if uncovered > 0:
        assert len(warnings) == 1 and "never covered" in warnings[0]
        assert f"drops {uncovered} position" in warnings[0]
    else:
        assert warnings == [] and "never covered" not in page.text


def test_ceil_mode_highlights_the_size_torch_pooling_gives():
    out = nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True)(torch.zeros(1, 1, 5, 5)).shape[-1]
    page = _Page(cs.explain_output_size(5, 2, stride=2, padding=1, ceil_mode=True)._repr_html_())
    results = [text for cls, text in page.spans if cls == "convscope-result"]
    assert out == 3 and len(results) == 1 and "ceil_mode drops the last window" in results[0]
    assert results[0].endswith(f"out = {out}") and f"output size: {out}" in page.text


def test_the_engine_draws_its_html_without_matplotlib_or_the_display_module():
    code = ("import sys; from convscope.engine import explain_output_size as e; e(28, 3, 2)._repr_html_(); "
            "print([m for m in ('matplotlib', 'convscope.display', 'PIL') if m in sys.modules])")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"


def test_importing_convscope_and_its_result_modules_loads_no_matplotlib():
    code = ("import sys, convscope, convscope.display, convscope.filters, convscope.experiments.base, "
            "convscope.lessons.quiz.model; print('matplotlib' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


# --- trace ------------------------------------------------------------------------------------------

def _small_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(OrderedDict(
        stem=nn.Conv2d(3, 8, 3, padding=1), act=nn.ReLU(),
        block=nn.Sequential(OrderedDict(conv=nn.Conv2d(8, 16, 3, stride=2), bn=nn.BatchNorm2d(16), relu=nn.ReLU())),
        pool=nn.MaxPool2d(2), flatten=nn.Flatten(), head=nn.Linear(16 * 3 * 3, 10)))


def _hooked_shapes(model: nn.Module, shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Every sub-module's output shape, by its dotted name, from torch's own forward hooks."""
    shapes: dict[str, tuple[int, ...]] = {}
    handles = [module.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape)))
               for name, module in model.named_modules() if name]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(shape))
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def test_the_trace_table_has_one_row_per_layer_with_torchs_shapes():
    model, shape = _small_cnn(), (2, 3, 14, 14)
    expected = _hooked_shapes(model, shape)
    result = trace(model, shape, measure=False)
    page = _Page(result._repr_html_())
    header, cells = result.columns()
    assert len(page.rows) == len(cells) == len(expected) == 9           # one <tr> per visible row
    assert re.findall(r"<th>(.*?)</th>", result._repr_html_()) == header
    output = header.index("output")
    names = [titles[0] for titles in page.row_titles]                  # the full name, as the tooltip
    assert sorted(names) == sorted(expected) and names.index("block") < names.index("block.conv")  # call order
    for row, name in zip(page.rows, names):
        assert row[0] == name.rsplit(".", 1)[-1] and row[output] == str(expected[name])
    assert [row for row in page.rows] == [[c.strip() for c in line] for line in cells]
    params = sum(p.numel() for p in model.parameters())
    assert f"total params {params:,}" in page.text and "(2, 10)" in page.text
    # nested layers indented, as the printed table indents them
    html = result._repr_html_()
    assert "padding-left:1em' title='block.conv'" in html and "padding-left:0em' title='block'" in html


def test_the_trace_prints_as_before():
    result = trace(_small_cnn(), (1, 3, 14, 14), measure=False)
    assert repr(result).startswith("Trace(model='Sequential', input_shape=(1, 3, 14, 14), rows=[LayerRow(")
    assert str(result) == repr(result)
    assert result.to_markdown().startswith("| layer | type | input | output |")


# --- doctor -------------------------------------------------------------------------------------------

def test_a_diagnosis_names_the_failing_layer_and_the_fix():
    torch.manual_seed(0)
    features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
    model = nn.Sequential(OrderedDict(features=features, flatten=nn.Flatten(), classifier=nn.Linear(100, 10)))
    with torch.no_grad():
        needed = nn.Flatten()(features(torch.zeros(2, 1, 28, 28))).shape[1]   # what torch gives the Linear
    diagnosis = doctor(model, (2, 1, 28, 28))
    html = diagnosis._repr_html_()
    page = _Page(html)
    assert not diagnosis.ok and needed == 4 * 13 * 13
    assert f"fails at classifier (Linear) with input (2, {needed})" in page.text
    assert f"<pre><code>nn.Linear({needed}, 10)</code></pre>" in html
    for line in diagnosis.lines():
        assert line in page.text
    # the fix really fixes it
    model.classifier = nn.Linear(needed, 10)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    # the shapes that led there, in the folded trace
    assert "(2, 4, 13, 13)" in "".join(page.inside_details)


def test_a_diagnosis_of_a_model_that_runs_says_so_and_keeps_its_repr():
    diagnosis = doctor(nn.Sequential(nn.Conv2d(1, 2, 3)), (1, 1, 8, 8))
    page = _Page(diagnosis._repr_html_())
    assert diagnosis.ok and "the forward pass runs" in page.text and page.rows[0][3] == "(1, 2, 6, 6)"
    assert repr(diagnosis).startswith("Diagnosis(ok=True, trace=Trace(model='Sequential'")


# --- filters ---------------------------------------------------------------------------------------

def _scipy_sobel_x(image: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    weights = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)
    return ndimage.correlate(image.astype(np.float64), weights, mode="mirror")  # convscope's "reflect"


def test_a_filtered_image_shows_input_and_response_with_scipys_range():
    camera = sample("camera")
    shown = filters.show(camera, "sobel_x")
    reference = _scipy_sobel_x(camera)
    assert np.allclose(shown.response, reference, atol=1e-5)           # the same map, so the same range
    html = shown._repr_html_()
    page = _Page(html)
    assert f"range {reference.min():.3g} \u2026 {reference.max():.3g}" in page.text
    scale = np.percentile(np.abs(reference), 99.5)                       # to_display's symmetric colour scale
    assert f"-{scale:.3g}" in page.text and f"+{scale:.3g}" in page.text
    assert [[float(v) for v in row] for row in page.rows] == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    (source,) = page.images
    width, height = _png(source)
    assert width > 1.8 * height and height > 200                         # two panels side by side
    assert base64.b64decode(source.split(",", 1)[1]) == shown._repr_png_()


def test_filtered_keeps_its_repr_and_works_without_a_source():
    camera = sample("camera")[:64, :64]
    shown = filters.show(camera, "sobel_x")
    assert shown.source is not None and np.array_equal(shown.source, camera)
    bare = filters.Filtered(shown.kernel, shown.response, shown.display)  # the old three-field form
    assert bare.source is None and repr(bare) == repr(shown) and "source" not in repr(shown)
    one, two = _png(_Page(bare._repr_html_()).images[0]), _png(_Page(shown._repr_html_()).images[0])
    assert one[0] < 0.75 * two[0]                                          # one panel instead of two
    with pytest.raises(AttributeError):
        shown.source = None  # still frozen


def test_a_colour_blur_and_a_gradient_display():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    blurred = filters.show(sample("coffee")[::4, ::4], "box5")
    assert "range" in _Page(blurred._repr_html_()).text and blurred.source.ndim == 3
    image = sample("camera")[::4, ::4]
    gradient = filters.gradient(image)
    page = _Page(gradient._repr_html_())
    dx = _scipy_sobel_x(image)
    assert f"dx: range {dx.min():.3g} \u2026 {dx.max():.3g}" in page.list_items
    assert _png(page.images[0])[0] > 2.5 * _png(page.images[0])[1]        # three panels
    assert plt.get_fignums() == before                                     # nothing left in pyplot's registry


# --- experiments ----------------------------------------------------------------------------------

def test_an_experiment_result_shows_claim_verdict_metrics_and_figures(tmp_path):
    from scipy import stats

    from convscope.experiments import run_experiment

    result = run_experiment("receptive-field", quick=True, seeds=2)
    html = result._repr_html_()
    page = _Page(html)
    assert result.claim in page.text
    assert f"Verdict ({'holds' if all(c.holds for c in result.checks) else 'does not hold'}):" in page.text
    for check in result.checks:
        assert check.line() in page.list_items[result.checks.index(check)]
    rows = {row[0]: row for row in page.rows}
    assert list(rows) == list(result.runs[0].metrics)
    for name, row in rows.items():
        values = [run.metrics[name] for run in result.runs]               # recomputed from the seeds
        mean, sd = np.mean(values), np.std(values, ddof=1)
        half = stats.t.ppf(0.975, len(values) - 1) * sd / np.sqrt(len(values))
        assert float(row[1]) == pytest.approx(float(f"{mean:.4g}"))
        assert row[3] == f"[{mean - half:.4g}, {mean + half:.4g}]" and row[4] == "2"
    assert len(page.images) == len(result.figures) >= 1
    for source in page.images:
        width, height = _png(source)
        assert width > 200 and height > 100
    result.write(tmp_path)                                                  # the figures are still usable
    assert all((tmp_path / f"{stem}.png").is_file() for stem in result.figures)


def test_a_result_built_by_hand_that_does_not_hold():
    from convscope.experiments import Claim, SeedRun
    from convscope.experiments.base import Result
    from convscope.experiments.stats import interval
    from convscope.plots import subplots

    runs = [SeedRun({"cnn/accuracy": 0.42, "mlp/accuracy": 0.40}, seed=0)]
    check = Claim("the CNN wins by 10 points", lambda m: m["cnn/accuracy"] - m["mlp/accuracy"], above=0.1).check(runs)
    figure, axis = subplots(figsize=(3, 2))
    axis.plot([0, 1], [0, 1])
    result = Result("toy <exp>", "CNNs & MLPs", True, runs, {k: interval([v]) for k, v in runs[0].metrics.items()},
                    [check], verdict="the gap is 2 points", figures={"curve": figure})
    html = result._repr_html_()
    page = _Page(html)
    assert "Verdict (does not hold): the gap is 2 points" in page.text and "&#10007;" in html
    assert "toy &lt;exp&gt;" in html and "CNNs &amp; MLPs" in html           # escaped
    assert page.rows == [["cnn/accuracy", "0.42", "-", "- (one seed)", "1"],
                         ["mlp/accuracy", "0.4", "-", "- (one seed)", "1"]]
    assert len(page.images) == 1 and _png(page.images[0])[0] > 100
    assert repr(result).startswith("Result(experiment='toy <exp>', claim='CNNs & MLPs', quick=True")


# --- quiz ---------------------------------------------------------------------------------------

def test_a_question_letters_its_choices_and_folds_the_answer():
    from convscope.lessons.quiz import generate

    for question in generate(n=4, seed=3, topics=["weight_shape"]):
        facts = question.facts
        weight = nn.Conv2d(facts["cin"], facts["cout"], facts["k"], groups=facts["groups"]).weight
        assert question.answer == str(tuple(weight.shape))                  # torch's, independently
        html = question._repr_html_()
        page = _Page(html)
        assert page.list_items == question.choices and "<ol type='A'>" in html
        letter = "ABCD"[question.choices.index(str(tuple(weight.shape)))]
        folded = "".join(page.inside_details)
        assert f"{letter}. {question.answer}" in folded
        assert question.explanation.splitlines()[0] in folded
        outside = "".join(page.outside_details)
        assert question.question in outside and f"{letter}. " not in outside and "The other choices" not in outside


def test_a_question_escapes_its_text_and_keeps_its_repr():
    from convscope.lessons.quiz.model import Question

    question = Question("Is 3 < 5 & 2 > 1?", ["yes", "no <b>"], 0, "both hold", "easy", "logic")
    html = question._repr_html_()
    assert "Is 3 &lt; 5 &amp; 2 &gt; 1?" in html and "no &lt;b&gt;" in html and "<b>A. yes</b>" in html
    assert unescape(html).count("both hold") == 1
    assert repr(question) == ("Question(question='Is 3 < 5 & 2 > 1?', choices=['yes', 'no <b>'], answer_index=0, "
                              "explanation='both hold', difficulty='easy', topic='logic', facts={}, ident='')")
