"""Every page of the lab driven in Debian's Chromium by Playwright: step, play, upload, draw, slide,
answer; what is shown is checked, and screenshots are kept in test-artifacts/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from servers import running_lab

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"

if not Path(CHROMIUM).exists():
    if os.environ.get("CONVSCOPE_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    pytest.skip("Debian's chromium is not installed (make test installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def server():
    with running_lab() as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture()
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("request", lambda r: errors.append(f"external request {r.url}")
              if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    yield opened
    SHOTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(SHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, errors


def test_stepper_steps_and_plays(server, page):
    page.goto(f"{server}/static/stepper.html")
    page.wait_for_selector("#output-grid table")
    assert "out = floor((in + 2*padding - kernel_size) / stride) + 1" in page.inner_text("#formula")
    page.click("#step")
    page.wait_for_function("document.querySelector('#sum').textContent !== ''")
    assert page.inner_text("#sum") == "-2"  # the lesson's first window: 1*1 + 2*0 + 5*0 + 3*(-1)
    assert page.locator("#input-grid td.hl").count() == 4
    page.click("#step")
    page.wait_for_function("document.querySelector('#sum').textContent === '2'")
    page.fill("#speed", "1500")
    page.click("#play")
    page.wait_for_function("document.querySelectorAll('#output-grid td.filled, #output-grid td.current').length >= 9",
                           timeout=15000)
    page.click("#play")  # pause
    cells = [c.strip() for c in page.locator("#output-grid td").all_inner_texts()]
    assert cells == ["-2", "2", "-4", "4", "0", "-1", "0", "0", "1"]
    assert "nn.Conv2d(1, 1, kernel_size=(2, 2)" in page.inner_text("#code")


def test_stepper_shows_the_apis_refusal(server, page):
    page.goto(f"{server}/static/stepper.html")
    page.wait_for_selector("#output-grid table")
    page.fill("#kernel", "1 1 1 1 1\n1 1 1 1 1\n1 1 1 1 1\n1 1 1 1 1\n1 1 1 1 1")
    page.click("#setup")
    page.wait_for_function("document.querySelector('#error').textContent.includes('larger than the padded input')")


def test_gallery_filters_samples_and_uploads(server, page, tmp_path):
    page.goto(f"{server}/static/gallery.html")
    page.wait_for_function("document.querySelector('#range').textContent.startsWith('range')")
    assert "(0 = grey)" in page.inner_text("#range") and "vertical edges" in page.inner_text("#kernel-desc")
    page.select_option("#kernel", "box3")
    page.wait_for_function("document.querySelector('#kernel-desc').textContent.startsWith('box3')")
    picture = tmp_path / "stripes.png"
    stripes = np.zeros((60, 80), np.uint8)
    stripes[:, ::10] = 255
    Image.fromarray(stripes).save(picture)
    page.select_option("#kernel", "sobel_x")
    page.set_input_files("#upload", str(picture))
    page.wait_for_function("document.querySelector('#in-img').naturalWidth === 80")
    page.wait_for_function("document.querySelector('#out-img').naturalHeight === 60")  # the upload's response
    (tmp_path / "notes.png").write_text("not a picture")
    page.set_input_files("#upload", str(tmp_path / "notes.png"))
    page.wait_for_function("document.querySelector('#error').textContent.includes('not an image')")


def test_shapes_solves_and_draws_the_field(server, page):
    page.goto(f"{server}/static/shapes.html")
    page.wait_for_function("document.querySelector('#solved').textContent.includes('1568')")
    assert "nn.Linear(1568, 10)" in page.inner_text("#torch-code")  # 32 * 7 * 7
    page.fill("#unit-row", "0")
    page.fill("#unit-col", "0")
    page.click("#calc")
    page.wait_for_function("document.querySelector('#rf-note').textContent.includes('unit (0, 0)')")
    assert "rows -1..6" in page.inner_text("#rf-note")  # field 8 starting in the padding
    page.fill("#stack", "Conv2d(3,16,3) -> Flatten -> Linear(100,10)")
    page.click("#calc")
    page.wait_for_function("document.querySelector('#error').textContent.includes('in_features')")


def test_feature_maps_from_a_drawing(server, page):
    page.goto(f"{server}/static/features.html")
    box = page.locator("#draw").bounding_box()
    page.mouse.move(box["x"] + 128, box["y"] + 30)
    page.mouse.down()
    for step in range(20):
        page.mouse.move(box["x"] + 128, box["y"] + 30 + step * 10)
    page.mouse.up()
    page.wait_for_function("/^[0-9]$/.test(document.querySelector('#prediction').textContent)", timeout=60000)
    assert page.inner_text("#prediction") == "1"
    assert page.locator("#maps img").count() == 8 + 16 + 16
    assert "test accuracy" in page.inner_text("#model-note")


def test_equivariance_slider_moves_the_map(server, page):
    page.goto(f"{server}/static/equivariance.html")
    page.wait_for_function("document.querySelector('#peak').textContent.includes('column')")
    page.fill("#position", "9")  # fires the slider's input event
    page.wait_for_function("document.querySelector('#peak').textContent.includes('moved 5 while the pattern moved 5')")
    page.select_option("#stride", "2")
    page.wait_for_function("document.querySelector('#out-canvas').width === 16 * 16")


def test_quiz_answers_by_clicking(server, page):
    page.goto(f"{server}/static/quiz.html")
    page.wait_for_selector(".question .choice")
    assert page.locator(".question").count() == 5
    first = page.locator(".question").first
    first.locator(".choice").first.click()
    first.locator(".explanation").wait_for()
    assert first.locator(".choice.right").count() == 1
    assert "score:" in page.inner_text("#score") and "of 1" in page.inner_text("#score")
    assert first.locator(".explanation").inner_text().startswith(("Right", "Not"))


def test_home_lists_every_page(server, page):
    page.goto(server)
    for name in ("stepper", "gallery", "shapes", "feature maps", "equivariance", "quiz"):
        assert page.locator("nav a", has_text=name).count() == 1
