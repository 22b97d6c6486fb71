"""The whole quick report, for real: every experiment over its default three seeds, in worker processes,
every claim holding on its interval. The experiments' own test files check that each claim can fail."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
from typer.testing import CliRunner

from convscope.cli import app
from convscope.experiments import REGISTRY


def test_the_quick_report_holds_for_every_claim(tmp_path):
    out = tmp_path / "report"
    open_before = plt.get_fignums()
    result = CliRunner().invoke(app, ["report", "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    # the figures never enter pyplot's registry, where they would stay open (and shared between threads)
    assert plt.get_fignums() == open_before
    failed = []
    for name in REGISTRY:
        saved = json.loads((out / name / "results.json").read_text())
        assert saved["seeds"] == [0, 1, 2] and saved["quick"] is True
        assert all(check["n"] == 3 and len(check["values"]) == 3 for check in saved["checks"])
        assert all((out / name / figure).stat().st_size > 1000 for figure in saved["figures"])
        assert len(list((out / name / "seeds").glob("seed-*.npz"))) == 3  # what a rerun would resume from
        failed += [f"{name}: {check['claim']} {check['low']:.3f}..{check['high']:.3f} {check['side']} "
                   f"{check['threshold']}" for check in saved["checks"] if not check["holds"]]
    assert not failed, failed
    page = (out / "report.html").read_text()
    assert f"all finished: {len(REGISTRY)} of {len(REGISTRY)} claims hold" in page and "3 seed(s) (0, 1, 2)" in page
    assert page.count("<section") == len(REGISTRY) and "http" not in page.replace("http-equiv", "")
