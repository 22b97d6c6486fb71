"""Shared test settings: hypothesis sized for CI's 2-core machine."""


import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile("default")


@pytest.fixture()
def golden(request):
    """Compare with tests/golden/NAME.txt; `pytest --update-golden` rewrites the files instead."""
    from pathlib import Path

    def check(name: str, text: str) -> None:
        path = Path(__file__).with_name("golden") / f"{name}.txt"
        if request.config.getoption("--update-golden"):
            path.write_text(text)
        assert path.exists(), f"no golden file {path}: run pytest --update-golden once"
        assert text == path.read_text(), f"{name}: output changed (pytest --update-golden accepts it)"
    return check


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/*.txt from the current output instead of comparing with them")


# The browser tests' two fixtures, one per test module (Playwright's sync API must not outlive its module:
# other modules run event loops of their own).
@pytest.fixture(scope="module")
def server():
    """The lab as `convscope serve` runs it, on a free loopback port."""
    from servers import running_lab

    with running_lab() as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, driven by Playwright (never Playwright's own download)."""
    from browsers import ARGS, CHROMIUM, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()
