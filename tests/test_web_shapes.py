"""The shapes page and /api/shape: sizes equal torch's layer by layer, the arithmetic behind each size,
refusals written for a web user, and in Chromium: Enter calculates, an error clears the old results,
the receptive-field box drawn is the API's (start, size) scaled to the canvas, a click picks the unit."""

from __future__ import annotations

import pytest
import torch
from fastapi.testclient import TestClient
from torch import nn

from convscope.web.app import create_app

STACK = "Conv2d(3,16,3,padding=1) -> ReLU -> MaxPool2d(2) -> Conv2d(16,32,3,stride=2) -> Flatten -> Linear(?,10)"
from browsers import SHOTS, watched_page  # noqa: E402


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), base_url="http://127.0.0.1:8000")


@pytest.mark.parametrize("stack, shape", [
    (STACK, [1, 3, 32, 32]),
    ("Conv2d(3,8,5,stride=3,padding=2,dilation=2) -> MaxPool2d(3,stride=2,ceil_mode=True) -> AvgPool2d(2)",
     [2, 3, 29, 23]),
    ("Conv2d(1,4,3,padding='same') -> BatchNorm2d(?) -> MaxPool2d(2,padding=1) -> Conv2d(4,4,(3,1))",
     [1, 1, 15, 14]),
    ("Conv1d(2,4,4,stride=2) -> ReLU -> Conv1d(4,4,3,dilation=3)", [1, 2, 40]),
])
def test_each_layers_size_is_torchs_with_its_arithmetic(client, stack, shape):
    answer = client.post("/api/shape", json={"stack": stack, "input": shape}).json()
    model = nn.Sequential(*(eval(layer["code"], {"nn": nn}) for layer in answer["layers"]))  # noqa: S307
    x = torch.randn(shape)
    for layer, module in zip(answer["layers"], model):
        x = module(x)
        assert layer["output_shape"] == list(x.shape), layer["text"]
        windowed = isinstance(module, (nn.Conv1d, nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d))
        assert (layer["arithmetic"] is not None) == windowed, layer["text"]
        if windowed:  # each spatial axis's formula ends in torch's size: "    = 12 + 1 = 13"
            ends = [next(line for line in text.split("\n") if " + 1 = " in line).rsplit("= ", 1)[1]
                    for text in layer["arithmetic"]]
            assert ends == [str(n) for n in x.shape[2:]], layer["text"]


def test_why_13_and_not_14(client):
    answer = client.post("/api/shape", json={"stack": "Conv2d(3,64,3,stride=2)", "input": [1, 3, 28, 28]}).json()
    why, same = answer["layers"][0]["arithmetic"]
    assert why == same  # height and width alike
    assert "floor(12.5) + 1" in why and "= 12 + 1 = 13" in why and "position 27 is never covered" in why


@pytest.mark.parametrize("stack, shape, words", [
    ("Conv2d(3,?,3) -> ReLU", [1, 3, 32, 32], "? cannot stand for out_channels"),
    (STACK.replace("?", "100"), [1, 3, 32, 32], "expects in_features=100"),
    ("Conv2d(3,16,40)", "1,3,32,32", "the kernel is larger than the padded input"),
    ("Conv2d(3,16,3)", "1,3,thirty", "the input shape does not read as sizes"),
    ("Conv2d(3,16,3)", "32", "needs 2 to 5 sizes"),
    ("Flatten -> Conv2d(3,16,3)", [1, 3, 8, 8], "check the input shape"),
])
def test_refusals_are_400_with_a_message_for_a_web_user(client, stack, shape, words):
    response = client.post("/api/shape", json={"stack": stack, "input": shape})
    assert response.status_code == 400
    message = response.json()["error"]
    assert words in message and "Fix:" in message
    assert "--" not in message and "/tmp" not in message and "Traceback" not in message


def test_field_text_names_the_padding(client):
    answer = client.post("/api/shape", json={"stack": STACK, "input": "1,3,32,32", "unit": [0, 0]}).json()
    assert answer["field"]["start"] == [-1, -1] and answer["field"]["size"] == [8, 8]
    assert "rows -1..6 and columns -1..6: 8x8 pixels" in answer["field_text"]
    assert "zero padding" in answer["field_text"]
    assert [row["rf"] for row in answer["trace"]][:4] == ["3", "3", "4", "8"]


# --- in Chromium ---------------------------------------------------------------------------------

def _page(browser, request, viewport):
    return watched_page(browser, viewport=viewport)


@pytest.fixture()
def page(browser, request):
    context, opened, errors = _page(browser, request, {"width": 1280, "height": 900})
    yield opened
    SHOTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(SHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not [e for e in errors if "400" not in e], errors  # a refused stack logs its 400: that is the point


def _drawn_box(page):
    return [float(v) for v in page.get_attribute("#rf-canvas", "data-box").split(",")]


def test_shapes_solves_and_draws_the_apis_field(server, page, client):
    page.goto(f"{server}/static/shapes.html")
    page.wait_for_function("document.querySelector('#solved').textContent.includes('1568')")
    assert "nn.Linear(1568, 10)" in page.inner_text("#torch-code")  # 32 * 7 * 7
    assert "floor(6.5) + 1" in page.text_content("#shape-table")  # inside a closed "why this size"
    page.fill("#unit-row", "0")
    page.fill("#unit-col", "0")
    page.press("#unit-col", "Enter")  # Enter calculates
    page.wait_for_function("document.querySelector('#field-text').textContent.includes('unit (0, 0)')")
    assert "rows -1..6" in page.inner_text("#field-text")  # field 8 starting in the padding
    field = client.post("/api/shape", json={"stack": STACK, "input": [1, 3, 32, 32], "unit": [0, 0]}).json()["field"]
    (top, left), (height, width) = field["start"], field["size"]
    canvas = page.evaluate("[document.querySelector('#rf-canvas').width, document.querySelector('#rf-canvas').height]")
    x0, y0 = min(0, left), min(0, top)
    scale = canvas[0] / (max(32, left + width) - x0)
    assert canvas[1] == pytest.approx((max(32, top + height) - y0) * scale, abs=1)
    assert _drawn_box(page) == pytest.approx([(left - x0) * scale, (top - y0) * scale, width * scale, height * scale])
    x, y = (left - x0) * scale, (top - y0 + height / 2) * scale  # the middle of the box's left edge is yellow
    pixel = page.evaluate(f"Array.from(document.querySelector('#rf-canvas').getContext('2d')"
                          f".getImageData({int(x)}, {int(y)}, 1, 1).data)")
    assert pixel[:3] == [255, 214, 0]


def test_clicking_the_last_map_picks_the_unit(server, page, client):
    page.goto(f"{server}/static/shapes.html")
    page.wait_for_function("document.querySelector('#rf-canvas').dataset.box")
    units = page.locator("#unit-canvas")
    box = units.bounding_box()
    units.click(position={"x": box["width"] * 6.5 / 7, "y": box["height"] * 1.5 / 7})  # the 7x7 map's row 1, column 6
    page.wait_for_function("document.querySelector('#field-text').textContent.includes('unit (1, 6)')")
    field = client.post("/api/shape", json={"stack": STACK, "input": [1, 3, 32, 32], "unit": [1, 6]}).json()["field"]
    assert f"rows {field['start'][0]}..{field['start'][0] + field['size'][0] - 1}" in page.inner_text("#field-text")
    units.focus()
    page.keyboard.press("ArrowDown")  # the keyboard moves the unit too
    page.wait_for_function("document.querySelector('#field-text').textContent.includes('unit (2, 6)')")
    page.select_option("#backdrop", "camera")
    page.wait_for_function("document.querySelector('#rf-canvas').getAttribute('aria-label').includes('photo')")


def test_an_error_clears_the_old_results_and_shows_the_apis_message(server, page, client):
    page.goto(f"{server}/static/shapes.html")
    page.wait_for_selector("#shape-table table")
    page.fill("#stack", "Conv2d(3,?,3) -> ReLU")
    page.press("#stack", "Enter")  # Enter in the layer box calculates
    expected = client.post("/api/shape", json={"stack": "Conv2d(3,?,3) -> ReLU", "input": "1,3,32,32"}).json()["error"]
    page.wait_for_function("document.querySelector('#error').textContent.length > 0")
    assert page.inner_text("#error") == expected
    assert page.locator("#shape-table table").count() == 0
    assert page.inner_text("#torch-code") == "" and page.inner_text("#field-text") == ""
    assert page.get_attribute("#rf-canvas", "data-box") is None
    page.fill("#stack", "Conv2d(3,16,3) -> Flatten -> Linear(100,10)")
    page.click("#calc")
    page.wait_for_function("document.querySelector('#error').textContent.includes('in_features')")
    page.fill("#stack", "Conv2d(3,16,3) -> Flatten -> Linear(?,10)")
    page.press("#input-shape", "Enter")
    page.wait_for_function("document.querySelector('#solved').textContent.includes('14400')")
    assert page.inner_text("#error") == ""


def test_shapes_on_a_phone(server, browser, request):
    context, opened, errors = _page(browser, request, {"width": 390, "height": 844})
    opened.goto(f"{server}/static/shapes.html")
    opened.wait_for_function("document.querySelector('#rf-canvas').dataset.box")
    assert opened.evaluate("document.documentElement.scrollWidth") <= 390
    opened.locator("details summary").first.click()  # the open arithmetic fits too
    assert opened.evaluate("document.documentElement.scrollWidth") <= 390
    SHOTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(SHOTS / "test_shapes_on_a_phone.png"), full_page=True)
    context.close()
    assert not errors, errors


def test_a_1d_stack_keeps_its_table_without_a_drawing(server, page):
    page.goto(f"{server}/static/shapes.html")
    page.wait_for_selector("#shape-table table")
    page.fill("#stack", "Conv1d(2,4,3) -> ReLU")
    page.fill("#input-shape", "1,2,20")
    page.press("#input-shape", "Enter")
    page.wait_for_function("document.querySelector('#shape-table').textContent.includes('(1, 4, 18)')")
    assert "2-D images only" in page.get_attribute("#rf-canvas", "aria-label")
    assert "positions 9..11" in page.inner_text("#field-text")  # the centre unit, 9, reads 9..11
