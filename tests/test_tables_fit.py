"""Tables that fit the terminal: the bench table and a trace at 100 and 200 columns are golden, no
line is wider than the console, no number is folded or header cut, and what left a narrow table is
listed under it."""

from __future__ import annotations

import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

from convscope.bench.report import HEADERS, CaseResult, table
from convscope.bench.timing import Timing
from convscope.cli import app


def _results() -> list[CaseResult]:
    """Two cases with fixed times: the table's layout, not this machine's speed."""
    def t(ms: float) -> Timing:
        return Timing(ms, ms * 1.05, 20)
    wide = CaseResult("a", "ResNet stem, 7x7 stride 2 on a batch of 8 photos", "8x3x224x224 * 64x3x7x7", 7_552_000_000,
                      "implicit x2", t(41.2), "implicit", t(38.0), t(910.0), "fft", None, {"im2col": t(52.0),
                      "implicit": t(40.1)}, {}, t(120.0), t(101.0), 310.0, 296.0)
    tiny = CaseResult("h", "a tiny call: 1x1x8x8 * 1x1x3x3", "1x1x8x8 * 1x1x3x3", 648, "direct", t(0.004),
                      "direct", t(0.011), t(3.2), "direct", None, {"direct": t(0.004)}, {}, t(0.02), t(0.05))
    return [wide, tiny]


@pytest.mark.parametrize("width", [100, 200])
def test_the_bench_table_fits_and_is_golden(golden, width):
    shown, dropped = table(_results(), width=width)
    console = Console(width=width, record=True, highlight=False, file=open("/dev/null", "w"))
    console.print(shown)
    for line in dropped:
        console.print(line, markup=False)
    text = console.export_text()
    golden(f"bench_table_{width}cols", text)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines)
    header = next(line for line in lines if "case" in line)
    kept = [h for h in HEADERS if h.split()[0] in header]
    assert all(h in header or h.split()[-1] in text for h in kept), header   # headers whole, not "/Sci..."
    assert "…" not in text and "..." not in text
    assert "0.00x" not in text and "0.001x" in text   # a tiny ratio says how small (0.004 / 3.2 ms)
    if width == 100:
        assert dropped and dropped[0].startswith("left out to fit 100 columns: note")
        assert any("ResNet stem" in line for line in dropped)   # the note is kept, below the table
    else:
        assert not dropped and "ResNet stem" in text


@pytest.mark.parametrize("columns", ["100", "200"])
def test_a_trace_fits_the_columns_it_is_given(golden, columns):
    from pathlib import Path

    nets = Path(__file__).with_name("nets.py")
    result = CliRunner().invoke(app, ["trace", f"{nets}:ResNet18Shaped", "--input", "1,3,64,64", "--no-measure"],
                                env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line.rstrip()) <= int(columns) for line in lines)
    assert not any(re.search(r"│\s*,\d", line) or re.search(r"\d,\s*│", line) for line in lines)   # no fold
    if columns == "200":
        golden("trace_resnet18_200cols", result.stdout)
        assert "left out to fit" not in result.stdout
