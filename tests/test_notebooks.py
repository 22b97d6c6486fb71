"""The generated notebooks: written by the CLI, valid nbformat, and every one executed on a real
kernel (nbclient + ipykernel), with the rich displays and widgets in its outputs.

The expected contents come from running the same library calls in this process (the lab's own
text and checks, the experiment's registry entry), never from the notebook's own outputs.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convscope.cli import app
from convscope.lessons import list_labs, run_lab
from convscope.notebooks import build, notebooks, parse_percent

from browsers import ARGS, CHROMIUM, SHOTS, require_chromium

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

SPECS = notebooks()
WIDGET = "application/vnd.jupyter.widget-view+json"


def _outputs(notebook, mime: str) -> list[str]:
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if mime in data:
                value = data[mime]
                found.append(value if isinstance(value, str) else json.dumps(value))
    return found


def _stdout(notebook) -> str:
    return "".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
                   if output.get("output_type") == "stream" and output.get("name") == "stdout")


def test_the_percent_parser_keeps_cells_apart_and_strips_comment_marks():
    text = '"""a docstring before the first cell is not a cell"""\n# %% [markdown]\n# # Title\n#\n# two\n\n' \
           "# %%\nx = 1\n\n# not markdown: a code comment\ny = 2\n# %%\n\n# %% [markdown]\n# end\n"
    cells = parse_percent(text)
    assert [cell["cell_type"] for cell in cells] == ["markdown", "code", "markdown"]  # the empty code cell is gone
    assert "".join(cells[0]["source"]) == "# Title\n\ntwo"
    assert "".join(cells[1]["source"]) == "x = 1\n\n# not markdown: a code comment\ny = 2"


def test_the_cli_writes_one_valid_notebook_per_lab_exercise_and_experiment(tmp_path):
    from convscope.experiments import ORDER

    result = CliRunner().invoke(app, ["notebooks", "--out", str(tmp_path / "nb")])
    assert result.exit_code == 0, result.output
    files = sorted(path.name for path in (tmp_path / "nb").glob("*.ipynb"))
    assert len(files) == len(list_labs()) + 1 + len(ORDER)
    for lab in list_labs():
        assert any(name.endswith(f"-{lab.name}.ipynb") for name in files), lab.name
    for name in ORDER:
        path = next((tmp_path / "nb").glob(f"experiment-*-{name}.ipynb"))
        text = path.read_text()
        assert "__EXPERIMENT__" not in text and f'run_experiment(\\"{name}\\"' in text
    for path in (tmp_path / "nb").glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        kinds = {cell.cell_type for cell in notebook.cells}
        assert kinds == {"markdown", "code"}, path.name
    assert "jupyter lab" in result.output


def test_notebooks_only_writes_the_named_and_refuses_an_unknown_name(tmp_path):
    result = CliRunner().invoke(app, ["notebooks", "--out", str(tmp_path), "--only", "sobel"])
    assert result.exit_code == 0, result.output
    assert sorted(path.stem for path in tmp_path.glob("*.ipynb")) == ["exercise-sobel", "lab-08-sobel_lab"]
    result = CliRunner().invoke(app, ["notebooks", "--out", str(tmp_path), "--only", "nope"])
    assert result.exit_code == 2
    assert "no notebook name contains 'nope'" in result.output and "lab-01-manual_conv_lab" in result.output


def test_notebooks_refuses_an_out_that_is_a_file(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    result = CliRunner().invoke(app, ["notebooks", "--out", str(target)])
    assert result.exit_code == 2 and "error:" in result.output and "a folder" in result.output


def _execute(spec, tmp_path):
    notebook = nbformat.reads(json.dumps(build(spec)), as_version=4)  # as a file is read: sources joined
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error
    return notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Each notebook executed once, on demand, shared by the tests below."""
    done: dict[str, object] = {}

    def run(stem: str):
        if stem not in done:
            spec = next(spec for spec in SPECS if spec.stem == stem)
            done[stem] = _execute(spec, tmp_path_factory.mktemp(stem))
        return done[stem]
    return run


@pytest.mark.parametrize("lab", list_labs(), ids=lambda lab: lab.name)
def test_each_lab_notebook_runs_and_shows_the_labs_output_and_checks(lab, executed):
    notebook = executed(next(spec.stem for spec in SPECS if spec.stem.endswith(lab.name)))
    expected = run_lab(lab.name)   # in this process: the lab's own text and its torch checks
    html = "\n".join(_outputs(notebook, "text/html"))
    assert escape(expected.text) in html
    assert "every number checked against torch" in html
    for check in expected.checks:
        assert escape(check.description) in html


def test_the_manual_lab_notebook_explains_the_size_and_mounts_the_stepper(executed):
    notebook = executed("lab-01-manual_conv_lab")
    html = "\n".join(_outputs(notebook, "text/html"))
    assert "= 2 + 1 = 3" in html                    # explain_output_size(4, 2), as HTML
    assert "sum = -2.0" in _stdout(notebook)          # 1*1 + 2*0 + 5*0 + 3*(-1), worked by hand
    widgets = _outputs(notebook, WIDGET)
    assert widgets and '"model_id"' in widgets[0]


def test_the_sobel_exercise_notebook_learns_sobel_back_and_mounts_the_gallery(executed):
    notebook = executed("exercise-sobel")
    out = _stdout(notebook)
    assert "interior: max |conv2d - ndimage.sobel|" in out
    error = re.search(r"max \|learned - Sobel\| = ([0-9.e+-]+)", out)
    assert error and float(error.group(1)) < 0.05, out
    assert _outputs(notebook, WIDGET)
    assert any("data:image/png;base64," in html for html in _outputs(notebook, "text/html"))


@pytest.mark.parametrize("spec", [spec for spec in SPECS if spec.experiment], ids=lambda spec: spec.experiment)
def test_each_experiment_notebook_runs_at_the_quick_budget_and_shows_its_verdict(spec, executed):
    from convscope.experiments import REGISTRY

    notebook = executed(spec.stem)
    assert f"claim: {REGISTRY[spec.experiment].claim}" in _stdout(notebook)
    html = "\n".join(_outputs(notebook, "text/html"))
    assert re.search(r"\b(holds|does not hold)\b", html)
    assert "<table" in html


def test_a_notebook_renders_in_chromium_for_the_readme(executed, tmp_path):
    """An executed notebook, exported by nbconvert and opened in Chromium: the screenshot the README
    shows. Nothing leaves the machine: nbconvert's CDN script tags are refused."""
    require_chromium()
    nbconvert = pytest.importorskip("nbconvert")
    from playwright.sync_api import sync_playwright

    notebook = nbformat.from_dict(json.loads(json.dumps(executed("lab-01-manual_conv_lab"))))
    # a static export cannot draw a widget without a CDN script, so the stepper's cell and the
    # text that leads to it stay out of this picture (the widget tests take its own)
    notebook.cells = notebook.cells[:-2]
    body, _ = nbconvert.HTMLExporter(template_name="lab").from_notebook_node(notebook)
    page_file = tmp_path / "notebook.html"
    page_file.write_text(body, encoding="utf-8")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 900, "height": 1200})
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else route.abort())
        page.goto(page_file.as_uri())
        text = page.inner_text("body")
        assert "Lab 1: a feature map by hand" in text and "every number checked against torch" in text
        page.screenshot(path=str(SHOTS / "notebook.png"), full_page=True)
        browser.close()
    assert Path(SHOTS / "notebook.png").stat().st_size > 10_000


def test_the_core_library_needs_no_notebook_package():
    """`import convscope` (and the CLI's notebook writer) load none of the notebook extra."""
    import subprocess
    import sys

    code = ("import sys, convscope, convscope.notebooks, convscope.filters, convscope.inspect\n"
            "from convscope.notebooks import build, notebooks\n[build(spec) for spec in notebooks()]\n"
            "print(sorted(m for m in ('anywidget', 'ipywidgets', 'nbformat', 'nbclient', 'IPython')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
