"""The "CNN vs flattened MLP" step: the library's quick `shuffle` experiment, started from the page, run
in a background thread, polled, then shown: its verdict, its accuracies and its figure."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from convscope.web import lessons
from convscope.web.app import create_app

from test_web_pages import open_page  # noqa: E402 - after the module skips without chromium


def test_before_a_run_the_figure_is_a_404_with_a_message(monkeypatch):
    monkeypatch.setattr(lessons, "SHUFFLE", lessons.ShuffleRun())
    client = TestClient(create_app())
    assert client.get("/api/lessons/shuffle").json()["state"] == "idle"
    refused = client.get("/api/lessons/shuffle.png")
    assert refused.status_code == 404 and "not finished" in refused.json()["error"]


def test_a_failed_run_says_why_and_may_start_again(monkeypatch):
    run = lessons.ShuffleRun()
    monkeypatch.setattr(run, "_run", lambda: run._fail("the experiment stopped: out of memory"))
    assert run.start()["state"] in ("running", "failed")
    for _ in range(100):
        if run.status()["state"] == "failed":
            break
        time.sleep(0.02)
    assert run.status()["error"] == "the experiment stopped: out of memory"
    monkeypatch.setattr(run, "_run", lambda: None)
    assert run.start()["state"] == "running"  # a failed run may be started again


def test_the_page_runs_the_experiment_and_shows_the_librarys_numbers(server, browser):
    context, page, problems = open_page(browser, server, "cnn-vs-mlp", (390, 844))
    try:
        page.click("#run")
        page.wait_for_function("document.querySelector('#progress').textContent.startsWith('training')")
        page.wait_for_selector("table.accuracy", timeout=240_000)
        status = page.evaluate("fetch('/api/lessons/shuffle').then(r => r.json())")
        assert status["state"] == "done" and status["percent"] == 100
        accuracy = status["accuracy"]
        # the lesson's claim, in the library's numbers: shuffling hurts the CNN, not the MLP (MNIST-1D)
        assert accuracy["mnist1d/cnn/plain"] - accuracy["mnist1d/cnn/shuffled"] > 0.1
        assert abs(accuracy["mnist1d/mlp/plain"] - accuracy["mnist1d/mlp/shuffled"]) < 0.06
        assert status["holds"] and "The claim held" in page.inner_text("#answer")
        rows = page.eval_on_selector_all("table.accuracy tbody tr",
                                         "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
        shown = {(row[0], row[1]): row[2:] for row in rows}
        assert shown[("mnist1d", "CNN")] == [f"{100 * accuracy['mnist1d/cnn/plain']:.1f}%",
                                             f"{100 * accuracy['mnist1d/cnn/shuffled']:.1f}%"]
        assert len(rows) == 6  # 3 models x 2 data sets
        page.wait_for_function("document.querySelector('#answer img').naturalWidth > 0")
        assert page.is_disabled("#run")
        from test_web_pages import SHOTS

        page.screenshot(path=str(SHOTS / "cnn-vs-mlp-result-390.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        assert not problems, problems
    finally:
        context.close()
