"""The model page in Chromium, on a residual CNN the test writes and saves: click a layer and a map,
and what the page shows is the model's own activation (hooked here in torch) and the trace's
receptive field."""

from __future__ import annotations

import base64
import io
import sys

import numpy as np
import pytest
import torch

from convscope.images import to_display
from convscope.inspect import trace
from convscope.web.model_page import _input, _Model
from convscope.web.served_models import load

from browsers import close_watched, require_chromium, watched_page
from nets import USER_MODEL_FILE as MODEL

require_chromium()



@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    from servers import running_lab

    folder = tmp_path_factory.mktemp("model")
    (folder / "page_nets.py").write_text(MODEL)
    sys.path.insert(0, str(folder))
    try:
        import page_nets
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("page_nets", None)   # other tests write modules of their own
    torch.manual_seed(5)
    torch.save(page_nets.ResNet().state_dict(), folder / "resnet.pt")
    served = load(f"{folder}/page_nets.py:ResNet", str(folder / "resnet.pt"), "1,3,40,40")
    with running_lab(models=(served,)) as base:
        yield base, served


def _hooked(model, x, name):
    seen = {}
    handle = model.get_submodule(name).register_forward_hook(lambda m, i, o: seen.update(y=o.detach()))
    with torch.no_grad():
        model(x)
    handle.remove()
    return seen["y"][0].numpy()


def _pixels(data_url):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"))


@pytest.mark.parametrize("width", [1280, 390])
def test_click_a_layer_and_a_map_to_see_the_models_own_activation_and_field(lab, browser, width):
    base, served = lab
    x = torch.from_numpy(_input("astronaut", _Model(served.module, served.input_shape)))
    context, page, problems = watched_page(browser, viewport={"width": width, "height": 900})
    page.goto(base + "/static/model.html")
    page.wait_for_selector("#input option[value='astronaut']", state="attached")
    page.select_option("#input", "astronaut")
    page.wait_for_selector("#maps-title:has-text('feature maps of stem')")
    page.click("#layers button[data-layer='block.conv']")
    page.wait_for_selector("#maps-title:has-text('block.conv')")
    expected = _hooked(served.module, x, "block.conv")                  # (8, 20, 20): torch's own activation
    images = page.eval_on_selector_all("#maps img", "els => els.map(e => e.src)")
    assert len(images) == expected.shape[0]
    for channel, src in enumerate(images):
        np.testing.assert_array_equal(_pixels(src), to_display(expected[channel], signed=True).rgb)
    page.click("#maps button[data-channel='2']")
    page.wait_for_selector("#unit-text")
    peak = np.unravel_index(int(expected[2].argmax()), expected[2].shape)
    row = next(r for r in trace(served.module, x).rows if r.name == "block.conv")
    rows = [row.rf[0].first(int(peak[0])), row.rf[0].first(int(peak[0])) + row.rf[0].size - 1]
    cols = [row.rf[1].first(int(peak[1])), row.rf[1].first(int(peak[1])) + row.rf[1].size - 1]
    text = page.inner_text("#unit-text")
    assert f"strongest unit at {peak[0]}, {peak[1]}" in text
    assert f"rows {rows[0]}-{rows[1]}, columns {cols[0]}-{cols[1]}" in text
    summary = page.inner_text("#summary")
    assert "largest difference from torch" in summary and "3 convolutions" not in summary  # stem + block.conv
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    close_watched(context, page, problems, f"model-{width}")


def test_a_bad_request_is_a_400_the_page_can_show(lab):
    import httpx

    base, _ = lab
    answer = httpx.get(base + "/api/model/maps", params={"model": "ResNet", "layer": "head"})
    assert answer.status_code == 400 and "has no feature maps" in answer.json()["error"]
    answer = httpx.get(base + "/api/model/layers", params={"model": "nope"})
    assert answer.status_code == 400 and "ResNet" in answer.json()["error"]
