"""The model page's graph and inputs in Chromium: the branches it draws are the exploration's own,
an uploaded image and a drawing become the model's input (checked against torch on the same
pixels), the built-in shapes CNN answers on its held-out data as torch does, and a slow layer says
it is computing."""

from __future__ import annotations

import base64
import io
import sys
import time

import numpy as np
import pytest
import torch

from convscope.images import to_display
from convscope.inspect import explore
from convscope.inspect.explore import INPUT
from convscope.web.served_models import load
from convscope.web.trained_models import SHAPES

from browsers import close_watched, require_chromium, watched_page
from nets import USER_MODEL_FILE as MODEL
from test_web_pages import serious_violations

require_chromium()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    from servers import running_lab

    folder = tmp_path_factory.mktemp("inputs")
    (folder / "input_nets.py").write_text(MODEL)
    served = load(f"{folder}/input_nets.py:ResNet", None, "1,3,40,40")
    sys.modules.pop("input_nets", None)
    SHAPES.wait(300)   # trained (or loaded from its cache) in the background; the page lists it once ready
    with running_lab(models=(served,)) as base:
        yield base, served


def _pixels(data_url):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"))


def _hooked(model, x, name):
    seen = {}
    handle = model.get_submodule(name).register_forward_hook(lambda m, i, o: seen.update(y=o.detach()))
    with torch.no_grad():
        out = model(x)
    handle.remove()
    return seen["y"][0].numpy(), torch.softmax(out, 1)[0].numpy()


def _probabilities(page):
    """The softmax bars as the page writes them: [(label, percent text)]."""
    return [tuple(row) for row in page.eval_on_selector_all(
        "#softmax .prob", "rows => rows.map(r => [r.children[0].textContent, r.children[2].textContent])")]


def test_the_branches_drawn_are_the_explorations_own(lab, browser):
    base, served = lab
    context, page, problems = watched_page(browser, viewport={"width": 1280, "height": 900})
    page.goto(base + "/static/model.html")
    page.wait_for_selector("#maps-title:has-text('feature maps of stem')")
    drawn = set(map(tuple, page.eval_on_selector_all("#graph path",
                                                     "ps => ps.map(p => [p.dataset.from, p.dataset.to])")))
    branches = set(map(tuple, page.eval_on_selector_all("#graph path.branch",
                                                         "ps => ps.map(p => [p.dataset.from, p.dataset.to])")))
    layers = explore(served.module, (1, 3, 40, 40)).layers
    order = [INPUT] + [layer.name for layer in layers]
    edges = {(source, layer.name) for layer in layers for source in layer.inputs}
    assert drawn == edges
    assert branches == {(a, b) for a, b in edges if order.index(b) - order.index(a) > 1} == {("stem", "pool")}
    reads = page.eval_on_selector_all("#layers tr[data-layer]", "rows => rows.map(r => r.lastChild.textContent)")
    assert reads == ["", "", "stem + block.conv", ""]      # x + conv(x): pool reads both branches
    close_watched(context, page, problems, "model-graph")


def test_an_uploaded_image_is_the_models_input(lab, browser, tmp_path):
    from PIL import Image

    base, served = lab
    rgb = np.zeros((40, 40, 3), np.uint8)                   # the model's own size: nothing is resized
    rgb[:, :, 0] = np.arange(40)[None, :] * 6
    rgb[8:20, 10:30, 1] = 255
    Image.fromarray(rgb).save(tmp_path / "mine.png")
    (tmp_path / "notes.png").write_text("not a picture")
    context, page, problems = watched_page(browser, viewport={"width": 390, "height": 900})
    page.goto(base + "/static/model.html")
    page.wait_for_selector("#maps-title:has-text('feature maps of stem')")
    page.select_option("#input", "choose-upload")
    page.set_input_files("#upload", str(tmp_path / "notes.png"))
    page.wait_for_selector("#error:has-text('not an image the lab can read')")
    assert problems == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    problems.clear()                                         # that 400 was the point; any other problem fails
    page.set_input_files("#upload", str(tmp_path / "mine.png"))
    page.wait_for_function("document.querySelector('#input').value.startsWith('upload-')")
    page.wait_for_selector("#maps img")
    assert page.eval_on_selector("#input", "e => e.selectedOptions[0].textContent") == "your image: mine.png"
    x = torch.from_numpy(rgb.transpose(2, 0, 1)[None].astype(np.float32) / 255)
    expected, probabilities = _hooked(served.module, x, "stem")
    images = page.eval_on_selector_all("#maps img", "els => els.map(e => e.src)")
    for channel, src in enumerate(images):
        np.testing.assert_array_equal(_pixels(src), to_display(expected[channel], signed=True).rgb)
    shown = _probabilities(page)
    top = np.argsort(-probabilities)
    assert shown == [(f"class {k}", f"{100 * probabilities[k]:.1f}%") for k in top]
    page.click("#maps button[data-channel='1']")
    page.wait_for_selector("#unit .kernels canvas")
    labels = page.eval_on_selector_all("#unit .kernels canvas", "cs => cs.map(c => c.getAttribute('aria-label'))")
    weight = served.module.stem.weight.detach()[1].numpy()                 # (3 input channels, 3, 3)
    assert labels == [f"kernel for input channel {c}: " + " / ".join(" ".join(f"{v:.2f}" for v in row)
                                                                     for row in weight[c]) for c in range(3)]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not serious_violations(page)                      # with the upload field, the kernels and the bars shown
    close_watched(context, page, problems, "model-upload-390")


def test_the_shapes_cnn_reads_its_held_out_shapes_and_a_drawing(lab, browser):
    from convscope.data import shapes
    from convscope.data.synthetic import SHAPES as PATTERNS

    base, _ = lab
    context, page, problems = watched_page(browser, viewport={"width": 1280, "height": 900})
    page.goto(base + "/static/model.html")
    page.wait_for_selector("#model option[value='shapes CNN']", state="attached")
    page.select_option("#model", "shapes CNN")
    names = list(PATTERNS)
    held_out = shapes(canvas=24, seed=0)
    model = SHAPES.model()
    for k in (0, 4):                                         # a horizontal bar, a ring
        page.select_option("#input", f"example-{k}")
        page.wait_for_selector(f"#softmax .prob:first-of-type:has-text('{names[k]}')")
        x = torch.from_numpy(held_out.x_test[int(np.argmax(held_out.y_test == k))][None])
        with torch.no_grad():
            p = torch.softmax(model(x), 1)[0].numpy()
        assert _probabilities(page) == [(names[i], f"{100 * p[i]:.1f}%") for i in np.argsort(-p)]
    page.select_option("#input", "choose-drawing")
    box = page.locator("#draw").bounding_box()
    page.mouse.move(box["x"] + 70, box["y"] + 99)            # a bar 42 of 192 pixels long: 5 of the model's 24
    page.mouse.down()
    page.mouse.move(box["x"] + 112, box["y"] + 99, steps=8)
    page.mouse.up()
    page.wait_for_function("document.querySelector('#input').value.startsWith('upload-')")
    page.wait_for_selector("#softmax .prob:first-of-type:has-text('bar_h')")
    ident = page.eval_on_selector("#input", "e => e.value")
    answer = page.evaluate("id => fetch('/api/model/layers?model=shapes+CNN&input=' + id).then(r => r.json())", ident)
    picture = _pixels(answer["image"]).mean(axis=2)          # (24, 24): the drawing as the model reads it
    ink = picture > 128
    rows, cols = np.nonzero(ink)                             # drawn at y 99 of 192 (row 12.4), x 70-112 (8.8-14)
    assert set(rows) <= {11, 12, 13} and ink[12, 9:14].all() and set(cols) <= set(range(8, 16))
    assert not serious_violations(page)                      # with the drawing panel open
    close_watched(context, page, problems, "model-drawing")


def test_a_slow_layer_says_it_is_computing(lab, browser):
    base, _ = lab
    context, page, problems = watched_page(browser, viewport={"width": 1280, "height": 900})
    page.goto(base + "/static/model.html")
    page.wait_for_selector("#maps-title:has-text('feature maps of stem')")
    seen = []

    def slow(route):                                         # the answer held back 0.8 s, as a big model's would be
        time.sleep(0.8)
        seen.append((page.is_visible("#computing"), page.inner_text("#computing-what")))
        route.continue_()
    page.route("**/api/model/maps?*", slow)
    page.click("#layers button[data-layer='block.conv']")
    page.wait_for_selector("#maps-title:has-text('block.conv')")
    assert seen == [(True, "the maps of block.conv")]
    assert not page.is_visible("#computing")                 # gone once the maps are drawn
    close_watched(context, page, problems, "model-computing")
