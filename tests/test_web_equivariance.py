"""The equivariance page and /api/equivariance: the map and its peaks equal torch's conv2d on the same
canvas; at stride 1 moving the pattern by k moves the peak by k; ties are reported as ties and stride 2's
jumps are explained; in Chromium the page shows the API's peak, the slider works by keyboard, and a
phone does not scroll sideways."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient

from convscope.filters import SOBEL_X
from convscope.web.app import create_app

from browsers import close_watched, watched_page  # noqa: E402


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), base_url="http://127.0.0.1:8000")


def torch_map(answer, stride):
    x = torch.tensor(answer["input"], dtype=torch.float32)[None, None]
    w = torch.tensor(SOBEL_X.weights, dtype=torch.float32)[None, None]
    return F.conv2d(x, w, stride=stride, padding=1)[0, 0].numpy()


def torch_peaks(y):
    return [[int(i), int(j)] for i, j in np.argwhere(y >= y.max() - 1e-5)]


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("position", [0, 3, 4, 11, 24])
def test_the_map_and_its_peaks_are_torchs(client, position, stride):
    answer = client.post("/api/equivariance", json={"position": position, "stride": stride}).json()
    y = torch_map(answer, stride)
    np.testing.assert_allclose(answer["output"], y, atol=1e-5)
    assert answer["peaks"] == torch_peaks(y) and answer["peak"] == answer["peaks"][0]
    assert answer["peak_value"] == pytest.approx(float(y.max()))
    assert np.asarray(answer["input"])[14:19, position:position + 5].sum() == 9  # the corner is where it says


@pytest.mark.parametrize("start, k", [(1, 1), (4, 3), (4, 5), (10, 14)])
def test_at_stride_1_moving_the_pattern_by_k_moves_the_peak_by_k(client, start, k):
    a = client.post("/api/equivariance", json={"position": start, "stride": 1}).json()
    b = client.post("/api/equivariance", json={"position": start + k, "stride": 1, "previous": start}).json()
    pa, pb = torch_peaks(torch_map(a, 1)), torch_peaks(torch_map(b, 1))
    assert [[i, j + k] for i, j in pa] == pb  # every tied peak moves by k, in torch's map too
    assert b["moved"] == {"from": start, "pattern": k, "peak": [0, k], "previous_peak": a["peak"]}


def test_ties_and_stride_2_are_explained_truthfully(client):
    one = client.post("/api/equivariance", json={"position": 4, "stride": 1}).json()
    assert one["peaks"] == [[15, 3], [16, 3], [17, 3]] and "3 positions tie at 4" in one["why"]
    border = client.post("/api/equivariance", json={"position": 0, "stride": 1}).json()
    assert border["peaks"] == [[14, 0]] and "off the map" in border["why"]  # no window centred on column -1
    even = client.post("/api/equivariance", json={"position": 4, "stride": 2}).json()
    odd = client.post("/api/equivariance", json={"position": 5, "stride": 2}).json()
    # the 7/8 row flip: the strong edge (4) lands on the stride-2 grid only when its column is even
    assert (even["peak"], even["peak_value"], odd["peak"], odd["peak_value"]) == ([7, 2], 2.0, [8, 2], 4.0)
    full = torch_map(one, 1)
    assert even["peak_value"] == full[::2, ::2].max() and full.max() == 4.0
    assert "odd column, so stride 2 skips it" in even["why"] and "even column, so it is kept" in odd["why"]
    assert even["window"] == {"start": [13, 3], "size": [3, 3]}  # map cell (7, 2) reads rows 13..15, columns 3..5


# --- in Chromium ---------------------------------------------------------------------------------

def _open(browser, server, viewport):
    context, page, errors = watched_page(browser, viewport=viewport)
    page.goto(f"{server}/static/equivariance.html")
    page.wait_for_function("document.querySelector('#peak') !== null")
    return context, page, errors


def test_the_page_shows_the_apis_peak_and_how_far_it_moved(server, browser, client):
    context, page, errors = _open(browser, server, {"width": 1280, "height": 900})
    page.fill("#position", "9")  # fires the slider's input event
    page.wait_for_function("document.querySelector('#moved') && document.querySelector('#position-value')"
                           ".textContent === '9'")
    answer = client.post("/api/equivariance", json={"position": 9, "stride": 1}).json()
    y = torch_map(answer, 1)
    first = torch_peaks(y)[0]
    assert page.inner_text("#peak") == f"peak {y.max():g} at row {first[0]}, column {first[1]}"
    assert "the pattern moved 5 column(s); the peak moved 5 column(s) and 0 row(s)" in page.inner_text("#moved")
    assert f"row {first[0]}, column {first[1]}" in page.get_attribute("#out-canvas", "aria-label")
    page.focus("#position")
    page.keyboard.press("ArrowRight")  # the keyboard moves the slider, and the map follows
    page.wait_for_function("document.querySelector('#peak').textContent.endsWith('column 9')")
    assert "since column 9: the pattern moved 1" in page.inner_text("#moved")
    page.select_option("#stride", "2")
    page.wait_for_function("document.querySelector('#out-canvas').width === 16 * 16 && "
                           "document.querySelector('#why-now').textContent.includes('Stride 2')")
    assert "an odd column, so stride 2 skips it" in page.inner_text("#why-now")  # the edge's best window: column 9
    close_watched(context, page, errors, "test_equivariance_desktop")


def test_the_peak_is_marked_on_both_plots(server, browser, client):
    context, page, errors = _open(browser, server, {"width": 1280, "height": 900})
    answer = client.post("/api/equivariance", json={"position": 4, "stride": 1}).json()
    i, j = answer["peak"]
    marked = page.evaluate(f"Array.from(document.querySelector('#out-canvas').getContext('2d')"
                           f".getImageData({j * 8 + 1}, {i * 8 + 4}, 1, 1).data)")  # the peak's yellow outline
    assert marked[:3] == [255, 214, 0]
    top, left = answer["window"]["start"]
    window = page.evaluate(f"Array.from(document.querySelector('#in-canvas').getContext('2d')"
                           f".getImageData({left * 8 + 1}, {top * 8 + 12}, 1, 1).data)")
    assert window[:3] == [255, 214, 0]
    close_watched(context, page, errors, "test_equivariance_marks")


def test_equivariance_on_a_phone(server, browser):
    context, page, errors = _open(browser, server, {"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    boxes = [page.locator(sel).bounding_box() for sel in ("#in-canvas", "#out-canvas", "#numbers")]
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]  # the panels stack
    close_watched(context, page, errors, "test_equivariance_on_a_phone")
