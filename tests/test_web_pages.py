"""Every page of the lab, at a desktop and a phone viewport, in Debian's Chromium: it loads and gets its
first API answers, nothing scrolls sideways, no console or page error, no request leaves 127.0.0.1, and
axe-core (the script shipped inside axe-playwright-python) finds no serious or critical violation.
A screenshot of each lands in test-artifacts/screenshots/<page>-<width>.png."""

from __future__ import annotations

import pytest

from browsers import SHOTS, require_chromium  # noqa: E402

require_chromium()

# page name -> (path, a selector that is there once the page has drawn what its first answers brought)
PAGES = {
    "index": ("/static/index.html", "ol.path-list"),
    "stepper": ("/static/stepper.html", "#output-board > *"),
    "gallery": ("/static/gallery.html", "#kernel"),
    "shapes": ("/static/shapes.html", "main"),
    "features": ("/static/features.html", "canvas"),
    "equivariance": ("/static/equivariance.html", "canvas"),
    "cnn-vs-mlp": ("/static/cnn-vs-mlp.html", "#claim"),
    "quiz": ("/static/quiz.html", ".question .choice"),
    "model": ("/static/model.html", "#model"),
    "docs": ("/docs", ".opblock-summary"),
    "redoc": ("/redoc", "[data-section-id^='operation/']"),
}
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}


def open_page(browser, server, name, size):
    """The page at ``size``, loaded and idle, with every problem it logged on the way."""
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text} "
                                                       f"({message.location.get('url', '')})")
            if message.type == "error" else None)
    page.on("request", lambda request: problems.append(f"request leaving 127.0.0.1: {request.url}")
            if not request.url.startswith((server + "/", "data:", "blob:")) else None)
    path, ready = PAGES[name]
    page.goto(server + path)
    page.wait_for_selector(ready, timeout=30000)
    page.wait_for_load_state("networkidle")
    # lab.js counts the API calls in flight on <html data-pending>: wait until they have all answered
    page.wait_for_function("!document.documentElement.dataset.pending", timeout=30000)
    return context, page, problems


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    lines = []
    for rule in found:
        if rule["impact"] not in ("serious", "critical"):
            continue
        lines.append(f"[{rule['impact']}] {rule['id']}: {rule['help']} ({rule['helpUrl'].split('?')[0]})")
        for node in rule["nodes"][:8]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {' '.join(node['target'])}: {node['html'][:160]}\n      {summary[:300]}")
        if len(rule["nodes"]) > 8:
            lines.append(f"    ... and {len(rule['nodes']) - 8} more elements")
    return lines


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("name", PAGES)
def test_page(server, browser, name, viewport):
    size = VIEWPORTS[viewport]
    context, page, problems = open_page(browser, server, name, size)
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{size[0]}.png"), full_page=True)
        wide = page.evaluate("""() => {
            const limit = window.innerWidth, culprits = [];
            if (document.documentElement.scrollWidth <= limit) return null;
            for (const el of document.querySelectorAll('body *')) {
                const box = el.getBoundingClientRect();
                if (box.right > limit + 1 && el.offsetParent !== null && !el.closest('pre, .scroll'))
                    culprits.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}` +
                                  (typeof el.className === 'string' && el.className
                                   ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
                                  ` right edge ${Math.round(box.right)}px`);
            }
            return {scrollWidth: document.documentElement.scrollWidth, limit, culprits: culprits.slice(0, 8)};
        }""")
        assert wide is None, (f"{name} at {size[0]}px scrolls sideways: scrollWidth {wide['scrollWidth']} > "
                              f"{wide['limit']}; widest elements: {wide['culprits']}")
        assert not problems, f"{name} at {size[0]}px:\n" + "\n".join(problems)
        violations = serious_violations(page)
        assert not violations, f"axe on {name} at {size[0]}px:\n" + "\n".join(violations)
    finally:
        context.close()


@pytest.mark.parametrize("name", ["docs", "redoc"])
def test_api_docs_render_offline(server, browser, name):
    context, page, problems = open_page(browser, server, name, VIEWPORTS["desktop"])
    try:
        text = page.inner_text("body")
        for route in ("/api/stepper", "/api/filter", "/api/quiz/answer"):
            assert route in text, f"{name} does not list {route}"
        assert not problems, problems
    finally:
        context.close()


def test_every_page_has_a_favicon_and_the_path(server, browser):
    """No 404 for the favicon; every lesson page names its step and links the previous and next."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    assert page.goto(server + "/favicon.ico").status == 200
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    lessons = [n for n, (path, _) in PAGES.items() if path.startswith("/static/") and n not in ("index", "model")]
    for name in lessons:
        page.goto(server + PAGES[name][0])
        page.wait_for_selector("nav.path a[aria-current='page']")
        assert page.locator("nav.steps a").count() >= 1, f"{name} has no previous/next links"
    assert not missing, missing
    context.close()


def test_quiz_gives_feedback_and_keeps_the_key_on_the_server(server, browser):
    """Keyboard only: Tab to a choice, Enter; the feedback is the server's, the questions carry no key."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sent = []
    page.on("response", lambda r: sent.append(r) if "/api/quiz?" in r.url else None)
    page.goto(server + "/static/quiz.html")
    page.wait_for_selector(".question .choice")
    questions = sent[0].json()
    assert len(questions) == 5 and page.locator(".question").count() == 5
    assert not any(key in q for q in questions for key in ("answer", "answer_index", "explanation"))
    first = page.locator(".question").first
    first.locator(".choice").nth(1).focus()
    page.keyboard.press("Enter")
    first.locator(".explanation").wait_for()
    with page.expect_response("**/api/quiz/answer") as checked:
        page.locator(".question").nth(1).locator(".choice").first.click()
    truth = checked.value.json()
    right = page.locator(".question").nth(1).locator(".choice.right")
    assert right.count() == 1 and right.inner_text().startswith("ABCD"[truth["answer_index"]] + ")")
    assert page.locator(".question").nth(1).locator(".explanation").inner_text() == truth["explanation"]
    assert page.inner_text("#score").endswith("of 2")
    # a long question wraps inside the phone's width
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    context.close()


def test_index_lists_the_steps_in_order(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server)
    order = ["stepper.html", "features.html", "gallery.html", "shapes.html", "equivariance.html",
             "cnn-vs-mlp.html", "quiz.html"]
    def links(selector):
        return [href.split("/")[-1] for href in page.eval_on_selector_all(selector, "l => l.map(a => a.href)")]

    assert links("ol.path-list > li > a") == order
    assert links("nav.path a")[1:] == order
    assert page.locator("nav.steps a.next").get_attribute("href") == "stepper.html"
    page.goto(server + "/static/gallery.html")
    page.wait_for_selector("nav.steps a.next")
    assert page.locator("nav.path a[aria-current='page']").get_attribute("href") == "gallery.html"
    assert page.locator("nav.steps a.previous").get_attribute("href") == "features.html"
    assert page.locator("nav.steps a.next").get_attribute("href") == "shapes.html"
    context.close()


def test_an_error_clears_old_results_and_a_non_json_answer_reads_as_a_message(server, browser):
    """lab.js's convention: showError empties every .result; a bare HTTP 500 is not 'Unexpected token'."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(server + "/static/quiz.html")
    page.wait_for_selector(".question .choice")
    assert page.get_attribute("#questions", "aria-live") == "polite"
    page.route("**/api/quiz?*", lambda route: route.fulfill(status=500, body="Internal Server Error"))
    page.click("#new")
    page.wait_for_function("document.querySelector('#error').textContent !== ''")
    message = page.inner_text("#error")
    assert "HTTP 500" in message and "Unexpected token" not in message
    assert page.locator("#questions > *").count() == 0  # the old questions went with the error
    assert page.get_attribute("#error", "role") == "alert"
    assert page.evaluate("document.documentElement.dataset.pending") is None
    context.close()
