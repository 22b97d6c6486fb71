"""The notebook widgets' front end in Debian's Chromium, mounted the way anywidget mounts it: the
widget's ``_esm`` imported from a Blob URL, ``render({model, el})`` called with a model that keeps the
traits in a JavaScript object. Each ``save_changes`` goes to the Python widget (through an exposed
function), which computes the next frame as in a kernel; what changed comes back into the model with
its change events. The products and sums on screen are checked against torch; screenshots of the
stepper at desktop and phone width land in test-artifacts/screenshots/widget-*.png."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("anywidget")
torch = pytest.importorskip("torch")

from browsers import SHOTS, require_chromium  # noqa: E402

require_chromium()

from convscope.widgets import Gallery, Stepper  # noqa: E402

ORIGIN = "http://127.0.0.1:9"   # routed below: nothing listens there, nothing leaves the machine
# A fake anywidget model: get/set/save_changes/on/off/send, as the widget's code uses them.
HOST = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>widget</title>
<style>body { margin: 0; padding: 8px; font-family: sans-serif; } .output { max-width: 1000px; }</style>
</head><body><main><div class="output" id="host"></div></main><script>
window.mount = async (esm, css, state) => {
  const style = document.createElement("style");
  style.textContent = css;
  document.head.append(style);
  const listeners = {};
  let pending = {};
  const fire = name => (listeners["change:" + name] || []).slice().forEach(cb => cb());
  const model = {
    get: name => state[name],
    set: (name, value) => { state[name] = value; pending[name] = value; fire(name); },
    save_changes: () => {
      const sent = pending;
      pending = {};
      window.saved = (window.saved || 0) + 1;
      window.pySave(JSON.stringify(sent)).then(back => {
        for (const [name, value] of Object.entries(JSON.parse(back))) { state[name] = value; fire(name); }
      });
    },
    on: (event, cb) => (listeners[event] = listeners[event] || []).push(cb),
    off: (event, cb) => { listeners[event] = (listeners[event] || []).filter(f => f !== cb); },
    send: () => {},
  };
  const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
  const widget = (await import(url)).default;
  window.cleanup = widget.render({ model, el: document.getElementById("host") });
};
</script></body></html>"""

SYNCED = ("_esm", "_css")


def mount(browser, widget, width=1280):
    """A page with ``widget`` rendered and bridged to it; the list of problems the page had."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: problems.append(f"external request {r.url}")
            if not r.url.startswith((ORIGIN, "data:", "blob:")) else None)
    page.route("**/*", lambda route: route.fulfill(body=HOST, content_type="text/html")
               if route.request.url == ORIGIN + "/" else route.abort())
    state = {k: v for k, v in widget.get_state().items() if k not in ("layout",)}

    def save(changes: str) -> str:
        # as the kernel does: set the traits the front end sent; answer with every other trait that moved
        sent = json.loads(changes)
        before = {k: v for k, v in widget.get_state().items() if k not in SYNCED}
        for name, value in sent.items():
            setattr(widget, name, value)
        after = {k: v for k, v in widget.get_state().items() if k not in SYNCED}
        return json.dumps({k: v for k, v in after.items() if before.get(k) != v and k not in sent})

    page.expose_function("pySave", save)
    page.goto(ORIGIN + "/")
    page.evaluate("([esm, css, state]) => mount(esm, css, state)", [state.pop("_esm"), state.pop("_css", ""), state])
    return context, page, problems


def numbers(page, selector):
    return [float(t) for t in page.locator(selector).all_inner_texts()]


def wait_step(page, step, of):
    page.wait_for_function(f"document.querySelector('.readout').textContent.startsWith('Step {step} of {of}:')")


def torch_windows(x, w, stride=1, padding=0, dilation=1, bias=0.0):
    """Every window's products (C, kh*kw, cells) and the output (cells,), by torch."""
    x = torch.tensor(np.asarray(x, np.float64))
    w = torch.tensor(np.asarray(w, np.float64))
    windows = torch.nn.functional.unfold(x[:, None], w.shape[1:], dilation=dilation, padding=padding, stride=stride)
    out = torch.nn.functional.conv2d(x[None], w[None], stride=stride, padding=padding, dilation=dilation)[0, 0] + bias
    return windows * w.flatten(1)[:, :, None], out.flatten(), tuple(out.shape)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_stepper_steps_and_shows_torchs_products_and_sums(browser, width):
    image = [[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]
    kernel = [[1, 0], [0, -1]]
    widget = Stepper(image, kernel)
    products, totals, _ = torch_windows([image], [kernel])
    context, page, problems = mount(browser, widget, width)
    try:
        wait_step(page, 1, 9)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"widget-stepper-{width}.png"), full_page=True)
        if width == 1280:  # the widget alone, for the README
            page.locator("#host").screenshot(path=str(SHOTS / "widget-stepper.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= width   # readable without side-scrolling
        for step in range(1, 10):
            if step > 1:
                page.click("button[aria-label='step forward']")
                wait_step(page, step, 9)
            assert widget.index == step - 1                      # the click reached Python
            assert numbers(page, ".product b") == products[0, :, step - 1].tolist()
            assert float(page.inner_text(".total")) == totals[step - 1]
            assert float(page.inner_text(".output-board .cell.current")) == totals[step - 1]
            assert page.locator(".tap").count() == 4
        page.click("button[aria-label='step back']")
        wait_step(page, 8, 9)
        assert widget.index == 7 and float(page.inner_text(".total")) == totals[7]
        assert not problems, problems
    finally:
        context.close()


def test_three_channels_at_a_stride_with_padding_and_play(browser):
    rng = np.random.default_rng(5)
    x, w = rng.integers(-3, 4, (3, 5, 5)), rng.integers(-2, 3, (3, 3, 3))
    widget = Stepper(x, w, stride=2, padding=1, bias=0.5)
    widget.interval = 120
    products, totals, shape = torch_windows(x, w, stride=2, padding=1, bias=0.5)
    context, page, problems = mount(browser, widget)
    try:
        wait_step(page, 1, 9)
        assert page.locator(".channel-card").count() == 3 and shape == (3, 3)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-stepper-rgb-1280.png"), full_page=True)
        page.click("button[aria-label='step forward']")
        wait_step(page, 2, 9)
        for c in range(3):
            shown = numbers(page, f".channel-card:nth-child({c + 1}) .product b")
            np.testing.assert_allclose(shown, products[c, :, 1].numpy())
            subtotal = float(page.inner_text(f".channel-card:nth-child({c + 1}) .subtotal-value"))
            assert subtotal == pytest.approx(float(products[c, :, 1].sum()))
        assert float(page.inner_text(".total")) == pytest.approx(float(totals[1]))
        page.click("button.play")
        page.wait_for_function("document.querySelector('.readout').textContent.startsWith('Step 9 of 9')",
                               timeout=10_000)
        page.wait_for_function("document.querySelector('button.play').textContent === 'play'")
        assert widget.index == 8 and not widget.playing
        np.testing.assert_allclose(numbers(page, ".output-board .cell"), totals.numpy())
        page.click(".output-board .cell[data-row='1'][data-col='2']")   # a click on an output cell goes there
        wait_step(page, 6, 9)
        assert widget.index == 5
        assert not problems, problems
    finally:
        context.close()


def test_the_gallery_shows_its_pictures_and_follows_the_kernel_menu(browser):
    from convscope.images import sample

    widget = Gallery(sample("camera")[::2, ::2], size=64)   # 256 x 256 shrunk to 64, as the lab shrinks photos
    context, page, problems = mount(browser, widget, 900)
    try:
        page.wait_for_function("[...document.querySelectorAll('.convscope-gallery img')]"
                               ".every(i => i.complete && i.naturalWidth === 64)")
        assert page.locator(".range").get_attribute("data-low") == str(widget.low)
        first = page.locator("img").nth(1).get_attribute("src")
        page.select_option(".convscope-gallery select >> nth=0", "box3")
        page.wait_for_function("document.querySelector('.about b').textContent === 'box3'")
        assert widget.kernel == "box3"
        assert page.locator("img").nth(1).get_attribute("src") != first
        assert float(page.locator(".range").get_attribute("data-high")) == widget.high
        assert page.locator("table.weights td").count() == 9
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-gallery-900.png"), full_page=True)
        assert not problems, problems
    finally:
        context.close()


def test_three_channels_fit_a_phone(browser):
    rng = np.random.default_rng(6)
    widget = Stepper(rng.normal(size=(3, 6, 6)).round(2), rng.normal(size=(3, 3, 3)).round(2), padding=1)
    context, page, problems = mount(browser, widget, 390)
    try:
        wait_step(page, 1, 36)
        page.click("button[aria-label='step forward']")
        wait_step(page, 2, 36)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-stepper-rgb-390.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert not problems, problems
    finally:
        context.close()
