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
            raise RuntimeError(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed (make test installs it)", allow_module_level=True)
