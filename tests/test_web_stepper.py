"""The stepper: its API against torch (each channel's subtotal is that channel's conv2d alone; the
total adds them and the bias; numbers as float32 shows them), and its page driven in Debian's
Chromium: channels, step back, scrub, arrow keys, a live speed, edits, errors, a phone's width."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from convscope.web.app import limited_app

from browsers import SHOTS, require_chromium  # noqa: E402

RNG = np.random.default_rng(13)
# 3 channels of 7x7, a 3x3 kernel per channel, stride 2, padding 1, dilation 2: a 3x3 output
CASE = {"input": RNG.integers(-3, 5, (3, 7, 7)).tolist(), "kernel": RNG.integers(-2, 3, (3, 3, 3)).tolist(),
        "stride": 2, "padding": 1, "dilation": 2, "padding_mode": "zeros", "flip": False, "bias": 0.5}


def torch_parts(body: dict) -> tuple[np.ndarray, np.ndarray]:
    """Each channel's conv2d alone (C, oh, ow) and the total with the bias (oh, ow), in float64."""
    x = torch.tensor(body["input"], dtype=torch.float64)
    w = torch.tensor(body["kernel"], dtype=torch.float64)
    if body.get("flip"):
        w = w.flip(-1, -2)
    x = torch.nn.functional.pad(x[None], (body["padding"],) * 4, mode=body["padding_mode"].replace("zeros", "constant"))
    parts = torch.stack([torch.nn.functional.conv2d(x[:, c:c + 1], w[None, c:c + 1], stride=body["stride"],
                                                    dilation=body["dilation"])[0, 0] for c in range(w.shape[0])])
    return parts.numpy(), parts.sum(0).numpy() + body.get("bias", 0.0)


def grid_text(array) -> str:
    return "\n\n".join("\n".join(" ".join(str(v) for v in row) for row in channel) for channel in array)


# ----------------------------------------------------------------------------------------- the API

@pytest.fixture(scope="module")
def client():
    return TestClient(limited_app(), base_url="http://127.0.0.1:8000")


@pytest.mark.parametrize("flip,mode", [(False, "zeros"), (True, "reflect")])
def test_subtotals_are_each_channels_conv2d_and_sum_to_the_total(client, flip, mode):
    body = {**CASE, "input": (RNG.random((3, 7, 7)) * 4 - 2).round(2).tolist(), "flip": flip, "padding_mode": mode}
    setup = client.post("/api/stepper", json=body).json()
    parts, total = torch_parts(body)
    assert setup["output_shape"] == [3, 3] and setup["frames"] == 9 and len(setup["padded"]) == 3
    np.testing.assert_allclose(setup["output"], total, rtol=1e-5, atol=1e-5)
    kernel = np.array(setup["kernel"])
    assert setup["weights"] == (kernel[:, ::-1, ::-1] if flip else kernel).tolist()
    assert "conv.bias[0] = 0.5" in setup["code"] and "dilation=2" in setup["code"]
    for index in range(setup["frames"]):
        frame = client.post("/api/stepper/frame", json={**body, "index": index}).json()
        i, j = divmod(index, 3)
        assert (frame["row"], frame["col"]) == (i, j) and len(frame["cells"]) == 3 * 9
        np.testing.assert_allclose(frame["subtotals"], parts[:, i, j], rtol=1e-5, atol=1e-5)
        assert sum(frame["subtotals"]) + frame["bias"] == pytest.approx(frame["total"], abs=1e-5)
        assert frame["total"] == setup["output"][i][j]
        for c in range(3):
            products = [cell["product"] for cell in frame["cells"] if cell["channel"] == c]
            assert sum(products) == pytest.approx(frame["subtotals"][c], abs=1e-5)
        rows = sorted({cell["row"] for cell in frame["cells"]})
        assert rows == [2 * i, 2 * i + 2, 2 * i + 4]  # dilation 2: taps two apart, on the padded grid


def test_tensorflow_same_pads_the_odd_cell_after_and_matches_torch_on_a_prepadded_input(client):
    x, w = RNG.integers(-3, 5, (1, 6, 6)), RNG.integers(-2, 3, (1, 3, 3))
    body = {"input": x.tolist(), "kernel": w.tolist(), "stride": 2, "padding": "same_upper"}
    setup = client.post("/api/stepper", json=body).json()
    # ONNX's SAME_UPPER: ceil(6 / 2) = 3 outputs need (3 - 1)*2 + 3 - 6 = 1 cell of padding, put after
    assert setup["padding"] == [[0, 1], [0, 1]] and setup["output_shape"] == [3, 3]
    padded = torch.nn.functional.pad(torch.tensor(x, dtype=torch.float64)[None], (0, 1, 0, 1))
    want = torch.nn.functional.conv2d(padded, torch.tensor(w, dtype=torch.float64)[None], stride=2)[0, 0]
    np.testing.assert_allclose(setup["output"], want.numpy())
    assert "0 before, 1 after" in setup["explain"]["height"] and "(0, 1, 0, 1)" in setup["code"]
    frame = client.post("/api/stepper/frame", json={**body, "index": 8}).json()
    assert frame["total"] == want[2, 2].item() and max(cell["row"] for cell in frame["cells"]) == 6  # the padded row
    assert client.post("/api/stepper", json={**body, "padding": "same"}).status_code == 422


def test_numbers_come_rounded_as_float32_shows_them(client):
    body = {"input": [[1.1, 2.2], [0.1, 0.7]], "kernel": [[1, 1]], "bias": 0.2}
    response = client.post("/api/stepper", json=body)
    assert response.json()["output"] == [[3.5], [1.0]]  # 1.1 + 2.2 + 0.2 in float64 is 3.5000000000000004
    frame = client.post("/api/stepper/frame", json={**body, "index": 0})
    assert frame.json()["subtotals"] == [3.3] and frame.json()["total"] == 3.5
    assert "3.3000000" not in frame.text and "1.100000" not in frame.text
    numbers = [v for cell in frame.json()["cells"] for v in (cell["value"], cell["weight"], cell["product"])]
    for value in numbers + response.json()["padded"][0][0]:
        assert float(str(np.float32(value))) == value  # the shortest text of a float32, nothing more
    assert client.post("/api/stepper", json={"input": [[-0.0]], "kernel": [[1]]}).json()["output"] == [[0.0]]


@pytest.mark.parametrize("body,message", [
    ({"input": [], "kernel": [[1]]}, "the input is empty"),
    ({"input": [[]], "kernel": [[1]]}, "the input is empty"),
    ({"input": [[1]], "kernel": [[[]]]}, "the kernel is empty"),
])
def test_an_empty_grid_is_refused_in_words(client, body, message):
    for path, extra in (("/api/stepper", {}), ("/api/stepper/frame", {"index": 0})):
        response = client.post(path, json={**body, **extra})
        assert response.status_code == 400 and message in response.json()["error"]
        assert "Fix: type at least one number" in response.json()["error"]


@pytest.mark.parametrize("bias", ["1", 1e7, True])
def test_a_bias_that_is_not_a_small_number_is_refused(client, bias):
    response = client.post("/api/stepper", json={"input": [[1]], "kernel": [[1]], "bias": bias})
    assert response.status_code == 422 and "bias" in response.json()["error"]


# ------------------------------------------------------------------------------------ the page

require_chromium()


def open_stepper(browser, server, request, **context):
    """The stepper in a fresh context, its errors collected; closed (with a screenshot) by the caller's
    finaliser so a failing assertion still leaves a picture."""
    options = {"viewport": {"width": 1280, "height": 900}, **context}
    opened = browser.new_context(**options)
    page = opened.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("request", lambda r: errors.append(f"external request {r.url}")
            if not r.url.startswith(("http://127.0.0.1", "data:")) else None)

    def finish():
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"stepper-{request.node.name}.png"), full_page=True)
        opened.close()

    request.addfinalizer(finish)
    page.goto(f"{server}/static/stepper.html")
    page.wait_for_selector("#total")
    return page, errors


@pytest.fixture()
def page(browser, server, request):
    opened, errors = open_stepper(browser, server, request)
    yield opened
    assert not [e for e in errors if "status of 400" not in e], errors  # a refused request logs its 400


def wait_step(page, step: int, of: int) -> None:
    page.wait_for_function(f"document.querySelector('#readout').textContent.startsWith('Step {step} of {of}:')")


def current_cell(page) -> tuple[int, int]:
    cell = page.locator("#output-board .cell.current")
    return int(cell.get_attribute("data-row")), int(cell.get_attribute("data-col"))


def enter(page, body: dict) -> None:
    page.fill("#input", grid_text(body["input"]))
    page.fill("#kernel", grid_text(body["kernel"]))
    for name in ("stride", "padding", "dilation"):
        page.select_option(f"#{name}", str(body[name]))
    page.fill("#bias", str(body["bias"]))  # the last edit: its set-up (after a pause in typing) has everything
    page.wait_for_function(f"document.querySelector('#total-line').textContent.includes('bias {body['bias']} =')")


def test_every_channels_subtotal_and_the_total_match_torch(page):
    enter(page, CASE)
    wait_step(page, 1, 9)
    page.wait_for_function("document.querySelectorAll('#channels .channel-card').length === 3")
    parts, total = torch_parts(CASE)
    for step in range(1, 7):
        if step > 1:
            page.click("#step")
            wait_step(page, step, 9)
        i, j = current_cell(page)
        assert (i, j) == divmod(step - 1, 3)
        shown = [float(page.inner_text(f"#subtotal-{c}")) for c in range(3)]
        np.testing.assert_allclose(shown, parts[:, i, j], atol=1e-5)
        assert float(page.inner_text("#total")) == pytest.approx(total[i, j], abs=1e-5)
        assert float(page.inner_text("#output-board .cell.current")) == pytest.approx(total[i, j], abs=1e-5)
        for c in range(3):  # the window: 9 squares, each carrying its weight, over this channel's input
            assert page.locator(f"#input-{c} .tap").count() == 9
            assert page.locator(f"#products-{c} .product").count() == 9
    assert "bias 0.5" in page.inner_text("#total-line")
    assert page.locator("#channels .kernel-card").count() == 3


def test_lesson_steps_back_scrubs_and_follows_the_arrow_keys(page):
    lesson = [-2, 2, -4, 4, 0, -1, 0, 0, 1]  # the lesson's 4x4 image with the 2x2 kernel [[1, 0], [0, -1]]
    assert "out = floor((in + 2*padding - kernel_size) / stride) + 1" in page.inner_text("#formula")
    assert page.inner_text("#why-title") == "Why is the output 3 × 3?"
    assert page.inner_text("#total") == "-2"
    for step in (2, 3, 4):
        page.click("#step")
        wait_step(page, step, 9)
    page.click("#back")
    wait_step(page, 3, 9)
    assert current_cell(page) == (0, 2) and page.inner_text("#total") == str(lesson[2])
    page.fill("#scrub", "7")
    wait_step(page, 8, 9)
    assert current_cell(page) == (2, 1) and page.inner_text("#total") == str(lesson[7])
    page.focus("#back")
    page.keyboard.press("ArrowLeft")
    wait_step(page, 7, 9)
    assert current_cell(page) == (2, 0) and page.input_value("#scrub") == "6"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_step(page, 9, 9)
    assert current_cell(page) == (2, 2)
    page.keyboard.press("Home")
    wait_step(page, 1, 9)
    page.click("#output-board .cell[data-row='1'][data-col='0']")
    wait_step(page, 4, 9)
    assert page.inner_text("#total") == "4"
    assert "nn.Conv2d(1, 1, kernel_size=(2, 2)" in page.inner_text("#code")


def test_tensorflow_same_shows_the_padding_on_one_side(page):
    body = {**CASE, "input": RNG.integers(-3, 5, (1, 6, 6)).tolist(), "kernel": RNG.integers(-2, 3, (1, 3, 3)).tolist(),
            "dilation": 1, "padding": "same_upper"}
    enter(page, body)
    wait_step(page, 1, 9)
    assert "0 before, 1 after" in page.inner_text("#formula")
    board = page.locator("#input-0")
    assert board.locator(".cell").count() == 49  # 6x6 and one padded row and column, below and right
    pads = board.locator(".cell.pad")
    assert pads.count() == 13
    assert "padded by 0 above, 1 below, 0 left, 1 right" in board.get_attribute("aria-label")


def test_play_obeys_a_speed_changed_while_playing(page):
    page.fill("#speed", "1")   # 1.55 s a step: 12 s for the lesson's 9 cells
    page.click("#play")
    wait_step(page, 2, 9)
    page.fill("#speed", "10")  # 0.2 s a step, from the next step on
    page.wait_for_function("document.querySelector('#readout').textContent.startsWith('Step 9 of 9')", timeout=4000)
    page.wait_for_function("document.querySelector('#play').textContent === 'play'")
    cells = [c.strip() for c in page.locator("#output-board .cell").all_inner_texts()]
    assert cells == ["-2", "2", "-4", "4", "0", "-1", "0", "0", "1"]


def test_editing_reruns_the_set_up(page):
    page.click("#step")
    wait_step(page, 2, 9)
    page.fill("#input", "5 1 0\n2 3 1")  # 2x3 with the 2x2 kernel: two windows
    wait_step(page, 1, 2)
    assert page.inner_text("#total") == "2"  # 5*1 + 3*(-1)
    page.click("#step")
    wait_step(page, 2, 2)
    assert page.inner_text("#total") == "0" and page.locator("#output-board .cell").count() == 2
    page.check("#flip")
    wait_step(page, 1, 2)
    assert page.inner_text("#total") == "-2"  # turned around: -5 + 3
    assert "turned 180°" in page.inner_text("#channels")
    page.fill("#bias", "0.1")
    page.wait_for_function("document.querySelector('#total').textContent === '-1.9'")


def test_an_empty_input_shows_the_error_and_clears_the_old_grid(page):
    page.fill("#input", "")
    page.wait_for_function("document.querySelector('#error').textContent.includes('the input is empty')")
    assert not page.locator("#results").is_visible() and page.inner_text("#readout") == ""
    assert page.inner_text("#formula") == "" and page.is_disabled("#step")
    page.fill("#input", "1 2\n3 x")
    page.wait_for_function("document.querySelector('#error').textContent.includes('\"x\", which is not a number')")
    page.fill("#input", "1 2\n3 4")
    wait_step(page, 1, 1)
    assert page.inner_text("#error") == "" and page.inner_text("#total") == "-3"
    page.fill("#kernel", "1 1 1 1 1\n1 1 1 1 1\n1 1 1 1 1\n1 1 1 1 1\n1 1 1 1 1")
    page.wait_for_function("document.querySelector('#error').textContent.includes('larger than the padded input')")
    assert not page.locator("#results").is_visible()


def test_a_phone_never_scrolls_sideways_and_steps_by_touch(browser, server, request):
    page, errors = open_stepper(browser, server, request, viewport={"width": 390, "height": 844},
                                has_touch=True, is_mobile=True)
    width = "document.documentElement.scrollWidth"
    assert page.evaluate(width) <= 390
    enter(page, {**CASE, "padding": 3})
    wait_step(page, 1, 25)
    assert page.evaluate(width) <= 390
    page.tap("#step")
    wait_step(page, 2, 25)
    page.select_option("#dilation", "1")
    wait_step(page, 1, 36)
    assert page.evaluate(width) <= 390
    for control in ("#preset", "#input", "#kernel", "#stride", "#padding", "#dilation", "#mode", "#bias", "#flip",
                    "#back", "#step", "#play", "#scrub", "#speed"):  # every control has a name a reader can say
        assert page.locator(control).evaluate("e => e.labels?.length > 0 || !!e.getAttribute('aria-label') "
                                              "|| e.textContent.trim() !== ''"), control
    assert not errors, errors
