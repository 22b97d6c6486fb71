"""The feature-maps page: a digit model trained in the background (or loaded from its cache) with a
status to poll, a blank canvas refused, maps with their kernels and receptive fields, checked against
torch.nn.functional on the weights the server holds; then the page itself in Chromium."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient

from convscope.web import digits
from convscope.web.app import limited_app
from convscope.web.digits import DigitModel

ONE = np.zeros((32, 32))
ONE[4:28, 14:18] = 1
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


def wait_ready(client: TestClient, timeout: float = 180) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = client.get("/api/digit/status").json()
        assert status["state"] in ("training", "ready"), status
        if status["state"] == "ready":
            return status
        time.sleep(0.1)
    raise AssertionError("the digit model did not become ready")


@pytest.fixture(scope="module")
def client():
    client = TestClient(limited_app(), base_url="http://127.0.0.1:8000")
    wait_ready(client)
    return client


def convs():
    return [m for m in digits.DIGITS.model()[0] if isinstance(m, torch.nn.Conv2d)]


def oracle_maps(small: np.ndarray) -> list[torch.Tensor]:
    """The three convolutions' outputs (before ReLU) by torch.nn.functional on the server's weights."""
    c1, c2, c3 = convs()
    x = torch.tensor(small, dtype=torch.float32)[None, None]
    with torch.no_grad():
        y1 = F.conv2d(x, c1.weight, c1.bias, padding=1)
        y2 = F.conv2d(F.relu(y1), c2.weight, c2.bias, padding=1)
        y3 = F.conv2d(F.max_pool2d(F.relu(y2), 2), c3.weight, c3.bias, padding=1)
    return [y1[0], y2[0], y3[0]]


def test_status_reaches_ready_with_the_accuracy(client):
    status = client.get("/api/digit/status").json()
    assert status["state"] == "ready" and status["progress"] == 1 and status["accuracy"] > 0.9
    assert f"{status['accuracy'] * 100:.1f}%" in status["message"]


def test_a_blank_or_nearly_blank_canvas_is_refused_with_a_message(client):
    for drawing in (np.zeros((32, 32)), np.pad(np.ones((3, 3)), ((0, 29), (0, 29)))):  # nothing; one dab
        answer = client.post("/api/digit", json={"pixels": drawing.tolist()})
        assert answer.status_code == 400 and answer.json()["error"].startswith("draw a digit first")


def test_a_drawn_one_is_read_with_maps_peaks_and_fields_from_torch(client):
    read = client.post("/api/digit", json={"pixels": ONE.tolist()}).json()
    assert read["prediction"] == 1
    small = ONE.reshape(8, 4, 8, 4).mean(axis=(1, 3))
    np.testing.assert_allclose(read["input"], small)
    # receptive fields by hand: 3x3 convs with padding 1, then a 2x2 pool, then a 3x3 conv
    field = {0: lambda r: (r - 1, r + 1), 1: lambda r: (r - 2, r + 2), 2: lambda r: (2 * r - 4, 2 * r + 5)}
    for depth, (layer, expected) in enumerate(zip(read["feature_maps"], oracle_maps(small))):
        assert layer["shape"] == list(expected.shape)
        for m, shown in enumerate(layer["maps"]):
            r, c = shown["peak"]
            assert shown["value"] == pytest.approx(float(expected[m].max()), abs=1e-5)
            assert float(expected[m, r, c]) == pytest.approx(float(expected[m].max()), abs=1e-5)
            assert tuple(shown["rows"]) == field[depth](r) and tuple(shown["cols"]) == field[depth](c)
            assert shown["box"] == [max(0, field[depth](r)[0]), max(0, field[depth](c)[0]),
                                    min(7, field[depth](r)[1]), min(7, field[depth](c)[1])]


def test_a_maps_kernels_are_the_models_weights(client):
    for layer, conv in enumerate(convs(), start=1):
        for index in (0, conv.out_channels - 1):
            answer = client.get(f"/api/digit/kernel?layer={layer}&map={index}").json()
            np.testing.assert_array_equal(np.array(answer["kernels"], np.float32), conv.weight.detach()[index].numpy())
            assert answer["bias"] == pytest.approx(float(conv.bias.detach()[index]))
    refused = client.get("/api/digit/kernel?layer=1&map=8")  # conv 1 has 8 maps
    assert refused.status_code == 400 and "click one of the maps" in refused.json()["error"]


def test_samples_are_held_out_digits_and_read_as_themselves(client):
    split = digits._samples()
    right = 0
    for digit in range(10):
        sample = client.get(f"/api/digit/sample?digit={digit}").json()
        np.testing.assert_allclose(np.array(sample["pixels"]).reshape(8, 4, 8, 4).mean(axis=(1, 3)), split[digit],
                                   atol=1e-4)
        right += client.post("/api/digit", json={"pixels": sample["pixels"]}).json()["prediction"] == digit
    assert right >= 8


def test_while_training_requests_answer_at_once_and_the_cache_is_reused(tmp_path, monkeypatch):
    fresh = DigitModel(cache=tmp_path)
    monkeypatch.setattr(digits, "DIGITS", fresh)
    client = TestClient(limited_app(), base_url="http://127.0.0.1:8000")
    started = time.monotonic()
    answers = [client.post("/api/digit", json={"pixels": ONE.tolist()}) for _ in range(3)]
    assert time.monotonic() - started < 5  # not a minute behind the training
    for answer in answers:
        assert answer.status_code == 503 and "still training" in answer.json()["error"]
    assert client.get("/api/digit/kernel?layer=1&map=0").status_code == 503
    assert wait_ready(client)["source"] == "training"
    files = list(tmp_path.glob("digits-*.pt"))
    assert len(files) == 1 and files[0] == fresh.cache_file()

    # many readers at once on the shared model: each gets what one reader alone gets
    alone = digits.read_digit(SimpleNamespace(pixels=ONE.tolist()))
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda _: digits.read_digit(SimpleNamespace(pixels=ONE.tolist())), range(16)))
    assert all(t["probabilities"] == alone["probabilities"] for t in together)

    cached = DigitModel(cache=tmp_path)
    cached.wait(60)
    assert cached.status()["source"] == "cache" and cached.accuracy == fresh.accuracy
    for a, b in zip(cached.model().state_dict().values(), fresh.model().state_dict().values()):
        assert torch.equal(a, b)

    files[0].write_bytes(b"not a model")  # a corrupt cache: trained again, not a crash
    repaired = DigitModel(cache=tmp_path)
    repaired.wait(120)
    assert repaired.status()["state"] == "ready" and repaired.source == "training"
    assert repaired.accuracy == fresh.accuracy  # the same seed, the same training


# ---- the page in Chromium ----------------------------------------------------------------------

def open_page(browser, base, width=1280, height=900, touch=False):
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=touch)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "400" not in m.text else None)
    page.on("request", lambda r: errors.append(f"external request {r.url}")
            if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    page.goto(f"{base}/static/features.html")
    page.wait_for_function("document.querySelector('#model-status').textContent.includes('model ready')",
                           timeout=60000)
    return page, errors


def draw_one(page):
    box = page.locator("#draw").bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.12)
    page.mouse.down()
    for step in range(20):
        page.mouse.move(x, box["y"] + box["height"] * (0.12 + step * 0.04))
    page.mouse.up()


def test_page_refuses_blank_reads_a_one_and_shows_a_maps_kernels_and_field(server, browser):
    page, errors = open_page(browser, server)
    page.click("#read")
    page.wait_for_function("document.querySelector('#error').textContent.includes('draw a digit first')")
    assert page.inner_text("#prediction") == "-" and page.locator("#maps .map").count() == 0

    with page.expect_response("**/api/digit") as answer:
        draw_one(page)
    page_input = np.array(answer.value.json()["input"])
    page.wait_for_function("/^[0-9]$/.test(document.querySelector('#prediction').textContent)")
    assert page.inner_text("#prediction") == "1" and page.inner_text("#error") == ""
    assert page.locator("#maps .map").count() == 8 + 16 + 16
    small = np.array(page.evaluate("() => Array.from(document.querySelector('#small').getContext('2d')"
                                   ".getImageData(0, 0, 128, 128).data)")).reshape(128, 128, 4)
    assert (small[..., 0] == small[..., 1]).all() and (small[..., 1] == small[..., 2]).all()  # grey, not red/blue

    page.click("#maps .map[data-layer='2'][data-map='3']")
    page.wait_for_selector("#detail:not([hidden]) #kernels table")
    shown = np.array(page.evaluate("() => Array.from(document.querySelectorAll('#kernels table')).map(t =>"
                                   " Array.from(t.rows).map(r => Array.from(r.cells)"
                                   ".map(c => Number(c.dataset.value))))"))
    np.testing.assert_array_equal(shown.astype(np.float32), convs()[1].weight.detach()[3].numpy())
    texts = page.locator("#kernels td").all_inner_texts()
    np.testing.assert_allclose(np.array(texts, float), convs()[1].weight.detach()[3].numpy().ravel(), atol=0.0051)
    # the strongest unit, by torch on the input the page was given
    expected = oracle_maps(page_input)[1][3]
    r, c = (int(i) for i in np.unravel_index(int(expected.argmax()), expected.shape))
    note = page.inner_text("#field-note")
    assert f"row {r}, column {c}" in note and f"rows {r - 2} to {r + 2}" in note
    assert f"columns {c - 2} to {c + 2}" in note
    assert page.get_attribute("#maps .map[data-layer='2'][data-map='3']", "aria-pressed") == "true"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "features-map-detail-1280.png"), full_page=True)

    page.click("#clear")
    assert page.inner_text("#prediction") == "-" and page.locator("#maps .map").count() == 0
    assert page.is_hidden("#detail") and page.locator("#probs div").count() == 0
    assert page.evaluate("() => Array.from(document.querySelector('#draw').getContext('2d')"
                         ".getImageData(0, 0, 256, 256).data).every(v => v === 0)")
    assert not errors, errors


def test_keyboard_loads_a_sample_digit(server, browser):
    page, errors = open_page(browser, server)
    page.focus("#sample")
    page.keyboard.press("Home")
    for _ in range(7):
        page.keyboard.press("ArrowDown")  # a closed <select> steps through its options by arrow keys
    assert page.input_value("#sample") == "7"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "load-sample"
    page.keyboard.press("Enter")
    page.wait_for_function("/^[0-9]$/.test(document.querySelector('#prediction').textContent)")
    assert page.inner_text("#prediction") == "7"
    page.focus("#maps .map")
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail:not([hidden]) #kernels table")
    assert not errors, errors


def test_phone_touch_drawing_and_no_sideways_scroll(server, browser):
    page, errors = open_page(browser, server, 390, 844, touch=True)
    page.locator("#draw").scroll_into_view_if_needed()  # touch points are in the viewport
    box = page.locator("#draw").bounding_box()
    assert box["x"] + box["width"] <= 390
    cdp = page.context.new_cdp_session(page)
    x = box["x"] + box["width"] / 2
    points = [box["y"] + box["height"] * (0.12 + i * 0.04) for i in range(20)]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": points[0]}]})
    for y in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_function("/^[0-9]$/.test(document.querySelector('#prediction').textContent)")
    assert page.inner_text("#prediction") == "1"
    page.click("#maps .map[data-layer='3'][data-map='0']")
    page.wait_for_selector("#detail:not([hidden]) #kernels table")
    assert page.locator("#kernels table").count() == 16
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "features-drawn-390.png"), full_page=True)
    assert not errors, errors
