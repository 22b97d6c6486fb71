"""The gallery page and its API: the magnifier's sum is the output pixel (checked against SciPy and
PyTorch on the very photo the server filtered), weights edit and re-filter, uploads join the photo
menu, refusals speak to a web user; driven in Debian's Chromium at a desktop and a phone size."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient
from PIL import Image

from convscope import filters, images
from convscope.web.app import limited_app
from convscope.web.schemas import MAX_UPLOAD_BYTES
from convscope.web.services import _sample

from browsers import CHROMIUM, close_watched  # noqa: E402

WEB_LIMIT = "choose a smaller image (at most 4 megapixels / 8 MB)"


@pytest.fixture(scope="module")
def client():
    return TestClient(limited_app(), base_url="http://127.0.0.1:8000")


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def oracle(photo: np.ndarray, weights: np.ndarray, mode: str) -> np.ndarray:
    """Correlation by SciPy, channel by channel, for odd kernels (SciPy centres them as the engine does)."""
    planes = photo[..., None] if photo.ndim == 2 else photo
    return np.stack([ndi.correlate(planes[..., c].astype(np.float64), weights.astype(np.float64),
                                   mode=filters.SCIPY_MODE[mode]) for c in range(planes.shape[-1])], axis=-1)


# --- the API --------------------------------------------------------------------------------------

@pytest.mark.parametrize("image,kernel,mode", [
    ("coins", "sobel_x", "reflect"), ("coins", "laplacian8", "zeros"), ("astronaut", "box3", "symmetric"),
    ("astronaut", "gaussian5_s1", "replicate"), ("camera", "unsharp", "circular"), ("chelsea", "emboss", "zeros"),
])
def test_pixel_is_the_output_pixel(client, image, kernel, mode):
    body = {"image": image, "kernel": kernel, "padding_mode": mode, "size": 96}
    shown = client.post("/api/filter", json=body).json()
    k = filters.get(kernel)
    photo = _sample(image, 96)                      # what the server filtered: the library's downscale
    source = filters.luma(photo) if k.signed else photo
    expected = oracle(source, k.weights, mode)
    assert expected.shape[:2] == (shown["height"], shown["width"])
    corners = [(0, 0), (shown["height"] - 1, shown["width"] - 1), (0, shown["width"] - 1), (40, 17)]
    for row, col in corners:
        d = client.post("/api/filter/pixel", json={**body, "row": row, "col": col}).json()
        assert len(d["channels"]) == (1 if source.ndim == 2 else 3)    # detectors: grey, as the picture
        assert d["weights"] == k.weights.tolist()
        for c, channel in enumerate(d["channels"]):
            patch, products = np.array(channel["patch"]), np.array(channel["products"])
            np.testing.assert_allclose(products, patch * k.weights, rtol=1e-12)
            assert channel["sum"] == pytest.approx(products.sum(), abs=1e-12)
            assert channel["sum"] == pytest.approx(channel["output"], abs=1e-5)   # the engine's pixel
            assert channel["output"] == pytest.approx(expected[row, col, c], abs=1e-5)  # SciPy's pixel


def test_even_kernel_and_the_border_cells(client):
    """A 1x2 kernel: the extra column is on the far side (PyTorch's padding="same"); torch says the value."""
    body = {"image": "camera", "kernel": "edge_1x2", "padding_mode": "replicate", "size": 64}
    shown = client.post("/api/filter", json=body).json()
    photo = torch.from_numpy(_sample("camera", 64).astype(np.float64))[None, None]
    weight = torch.tensor(filters.get("edge_1x2").weights, dtype=torch.float64)[None, None]
    expected = F.conv2d(F.pad(photo, (0, 1, 0, 0), mode="replicate"), weight)[0, 0]
    col = shown["width"] - 1
    d = client.post("/api/filter/pixel", json={**body, "row": 3, "col": col}).json()
    assert d["patch_cols"] == [col, col + 1] and d["inside"] == [[True, False]]   # the replicated edge
    assert d["channels"][0]["output"] == pytest.approx(float(expected[3, col]), abs=1e-6)
    assert d["channels"][0]["sum"] == pytest.approx(0.0, abs=1e-6)
    outside = client.post("/api/filter/pixel", json={**body, "row": 3, "col": shown["width"]})
    assert outside.status_code == 400 and "outside the output" in outside.json()["error"]


def test_custom_weights_and_the_empty_kernel(client):
    weights = np.random.default_rng(3).normal(size=(5, 5)).round(3)
    body = {"image": "coins", "weights": weights.tolist(), "padding_mode": "reflect", "size": 80}
    shown = client.post("/api/filter", json=body).json()
    assert shown["kernel"]["name"] == "custom" and shown["kernel"]["sum"] == pytest.approx(weights.sum())
    d = client.post("/api/filter/pixel", json={**body, "row": 10, "col": 20}).json()
    expected = oracle(_sample("coins", 80), weights, "reflect")[10, 20, 0]
    assert d["channels"][0]["output"] == pytest.approx(expected, abs=1e-5)
    for empty in ([], [[]], [[], [], []]):
        refused = client.post("/api/filter", json={**body, "weights": empty})
        assert refused.status_code == 400 and "custom kernel is empty" in refused.json()["error"]
    one = client.post("/api/filter", json={**body, "weights": [[0]]})
    assert one.status_code == 400 and "3x3, 5x5 or 7x7" in one.json()["error"]


def test_signed_output_and_colour_bar_anchors(client):
    sobel = client.post("/api/filter", json={"image": "coins", "kernel": "sobel_x"}).json()
    display = filters.show(_sample("coins", 256), "sobel_x").display
    assert sobel["signed"] and sobel["kernel"]["signed"] and sobel["scale"] == pytest.approx(display.scale)
    out = np.asarray(Image.open(io.BytesIO(client.get(sobel["output"]).content)).convert("RGB"))
    # the bar's anchors are the colours the picture uses at -scale, 0 and +scale
    response = filters.show(_sample("coins", 256), "sobel_x").response
    for value, anchor in ((response.max(), "above"), (response.min(), "below")):
        at = np.unravel_index(np.argmax(response == value), response.shape)
        assert out[at].tolist() == sobel["colours"][anchor]
    assert sobel["colours"]["zero"] == [128, 128, 128]
    blur = client.post("/api/filter", json={"image": "astronaut", "kernel": "box3"}).json()
    assert not blur["signed"] and blur["colour"] and blur["kernel"]["sum"] == pytest.approx(1.0)


def test_upload_names_and_web_wording(client):
    up = client.post("/api/upload", files={"file": ("C:\\photos\\stripes.png", png(np.zeros((20, 30), np.uint8)),
                                                    "image/png")}).json()
    assert up["name"] == "stripes.png" and (up["width"], up["height"]) == (30, 20)
    sneaky = client.post("/api/upload", files={"file": ("../../etc/x.png", png(np.zeros((8, 8), np.uint8)),
                                                        "image/png")}).json()
    assert sneaky["name"] == "x.png"
    for data in (b"hello, not a picture", b"\x89PNG\r\n\x1a\n" + b"\0" * 40):
        error = client.post("/api/upload", files={"file": ("notes.png", data, "image/png")}).json()["error"]
        assert "not an image" in error and "/" not in error and "0x" not in error and "tmp" not in error
    wide = client.post("/api/upload", files={"file": ("wide.png", png(np.zeros((2000, 2100), np.uint8)), "image/png")})
    assert wide.status_code == 400 and WEB_LIMIT in wide.json()["error"] and "max_pixels" not in wide.json()["error"]
    big = client.post("/api/upload", files={"file": ("big.png", b"\0" * (MAX_UPLOAD_BYTES + 1), "image/png")})
    assert big.status_code == 413 and WEB_LIMIT in big.json()["error"]
    with pytest.raises(images.ImageError, match=r"raise the limit \(max_pixels"):   # the CLI keeps its own words
        images.decode(png(np.zeros((2000, 2100), np.uint8)), max_pixels=4_000_000)


# --- the page in Chromium ------------------------------------------------------------------------

needs_browser = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CONVSCOPE_REQUIRE_BROWSER"),
                                   reason="Debian's chromium is not installed (make test installs it)")


def open_gallery(browser, server, width=1280, height=900, touch=False, refusals=False):
    """The gallery loaded and filtered once, with every problem it logs; ``refusals``: a test that
    sends a bad request on purpose, where Chromium logs the 400 it asked for."""
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=touch)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    expected = "Failed to load resource: the server responded with a status of 4" if refusals else None
    page.on("console", lambda message: errors.append(message.text) if message.type == "error"
            and not (expected and message.text.startswith(expected)) else None)
    page.on("request", lambda r: errors.append(f"external request {r.url}")
            if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    page.goto(f"{server}/static/gallery.html")
    page.wait_for_function("document.querySelector('#status').textContent.startsWith('sobel_x on')")
    page.wait_for_function("document.querySelector('#out-img').complete"
                           " && document.querySelector('#out-img').naturalWidth")
    return context, page, errors


def finish(context, page, errors, name):
    close_watched(context, page, errors, f"gallery-{name}")


def magnified(page):
    page.wait_for_function("document.querySelector('#magnifier .mag-output')")
    box = page.locator("#magnifier")
    return (int(box.get_attribute("data-row")), int(box.get_attribute("data-col")),
            float(page.inner_text("#magnifier .mag-sum")), float(page.inner_text("#magnifier .mag-output")))


@needs_browser
def test_hover_magnifies_the_output_pixel(browser, server):
    context, page, errors = open_gallery(browser, server)
    shown = page.evaluate("document.querySelector('#out-img').clientWidth")  # inside the border
    # the middle of photo pixel (150, 77); Playwright's position counts from inside the border
    page.locator("#out-img").hover(position={"x": 77.5 * shown / 256, "y": 150.5 * shown / 256})
    row, col, total, output = magnified(page)
    expected = oracle(filters.luma(_sample("camera", 256)), filters.get("sobel_x").weights, "reflect")[row, col, 0]
    assert output == pytest.approx(expected, rel=1e-4, abs=1e-4) and total == pytest.approx(output, abs=1e-4)
    assert (row, col) == (150, 77)                                        # the pixel under the pointer
    assert page.locator("#magnifier table.mag").count() == 3             # patch x weights = products
    assert "signed" in page.inner_text("#kernel-desc") and "vertical edges" in page.inner_text("#kernel-desc")
    assert page.inner_text("#bar-labels").split() == [f"−{page.inner_text('#bar-labels span:last-child')}", "0",
                                                      page.inner_text("#bar-labels span:last-child")]
    page.focus("#out-img")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"document.querySelector('#magnifier').dataset.col === '{col + 1}'")
    finish(context, page, errors, "magnifier")


@needs_browser
def test_editing_a_weight_refilters(browser, server):
    context, page, errors = open_gallery(browser, server)
    page.select_option("#kernel", "box3")
    page.wait_for_function("document.querySelector('#status').textContent.startsWith('box3')")
    assert page.inner_text("#kernel-desc").endswith("weights sum to 1")
    before = page.get_attribute("#out-img", "src")
    page.fill("#weights input:nth-child(5)", "1")                          # the centre weight
    page.wait_for_function("document.querySelector('#status').textContent.startsWith('custom')")
    assert page.get_attribute("#out-img", "src") != before and page.input_value("#kernel") == "custom"
    assert "weights sum to 1.889" in page.inner_text("#kernel-desc")
    page.locator("#out-img").click()
    row, col, _, output = magnified(page)
    weights = np.full((3, 3), 1 / 9)
    weights[1, 1] = 1
    assert output == pytest.approx(oracle(_sample("camera", 256), weights, "reflect")[row, col, 0], rel=1e-4)
    page.select_option("#ksize", "5")                                      # grows around the old weights
    page.wait_for_function("document.querySelectorAll('#weights input').length === 25")
    assert page.input_value("#weights input:nth-child(13)") == "1" and page.input_value("#weights input") == "0"
    page.fill("#weights input:nth-child(13)", "")
    page.wait_for_function("document.querySelector('#error').textContent.includes('empty')")
    assert page.locator("#out-img").is_hidden() and page.inner_text("#magnifier") == ""   # nothing stale left
    finish(context, page, errors, "edited")


@needs_browser
def test_upload_becomes_the_selected_photo(browser, server, tmp_path):
    context, page, errors = open_gallery(browser, server, refusals=True)
    stripes = np.zeros((60, 80), np.uint8)
    stripes[:, ::10] = 255
    (tmp_path / "stripes.png").write_bytes(png(stripes))
    page.set_input_files("#upload", str(tmp_path / "stripes.png"))
    page.wait_for_function("document.querySelector('#in-img').naturalWidth === 80")
    page.wait_for_function("document.querySelector('#out-img').naturalHeight === 60")
    selected = page.locator("#sample option:checked")
    assert selected.inner_text() == "stripes.png" and page.input_value("#sample").startswith("upload-")
    (tmp_path / "notes.png").write_text("not a picture")
    page.set_input_files("#upload", str(tmp_path / "notes.png"))
    page.wait_for_function("document.querySelector('#error').textContent.includes('not an image')")
    message = page.inner_text("#error")
    assert "/" not in message and "tmp" not in message and str(tmp_path) not in message
    finish(context, page, errors, "upload")


@needs_browser
def test_phone_tap_and_no_sideways_scroll(browser, server):
    context, page, errors = open_gallery(browser, server, 390, 844, touch=True)
    page.select_option("#kernel", "gaussian5_s1")
    page.select_option("#ksize", "7")                                      # the widest magnifier
    page.wait_for_function("document.querySelector('#status').textContent.startsWith('custom')")
    page.tap("#out-img")
    row, col, total, output = magnified(page)
    assert total == pytest.approx(output, abs=1e-4)
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], width
    assert page.locator("#out-img").bounding_box()["width"] <= 390
    from axe_playwright_python.sync_playwright import Axe  # with the magnifier's coloured tables drawn

    found = [(rule["id"], [n["target"] for n in rule["nodes"][:3]]) for rule in Axe().run(page).response["violations"]
             if rule["impact"] in ("serious", "critical")]
    assert not found, found
    finish(context, page, errors, "phone")
