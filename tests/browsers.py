"""Debian's Chromium for the browser tests: where it is, how it is started (never Playwright's own
download), and where screenshots go. `make test` installs it; without it the browser tests skip,
unless CONVSCOPE_REQUIRE_BROWSER is set (as `make test` sets it), when they fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


def require_chromium() -> None:
    """Skip the calling test (or module) without Chromium; fail instead where it is required."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CONVSCOPE_REQUIRE_BROWSER"):
            raise RuntimeError(f"{CHROMIUM} is missing: `make test` installs Debian's chromium "
                               "(apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed (make test installs it)", allow_module_level=True)


def watched_page(browser, **context_options):
    """A page in a fresh context, and the list its problems land in: page errors, console errors, and
    any request that leaves 127.0.0.1."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: problems.append(f"external request {r.url}")
            if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    return context, page, problems


def close_watched(context, page, problems: list[str], name: str) -> None:
    """Keep a screenshot under ``name``, close the context, and fail on any problem the page had."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    context.close()
    assert not problems, problems
