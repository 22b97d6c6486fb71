"""The benchmark harness: the suite, the SciPy route, the timer's rules, the files, the ladder, the CLI.

No assertion here depends on how fast anything runs.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import FrozenInstanceError, replace
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

from convscope.bench import (
    SUITE,
    BenchSettings,
    UnknownCaseError,
    _ran_text,
    _reference_timing,
    ladder,
    measure_case,
    run_bench,
    select_cases,
)
from convscope.bench.report import cpu_times, geomean, load_info, noise_warning, summary
from convscope.bench.suite import (
    CASES,
    chosen_algorithm,
    get_case,
    scipy_conv2d,
    scipy_skip_reason,
)
from convscope.bench.timing import (
    TimerSettings,
    auto_trace,
    peak_memory_mib,
    prewarm_case,
    time_call,
    tiny_torch_call_ms,
)
from convscope.cli import app
from convscope.engine import ConvScopeError, output_size
from convscope.engine.algorithms import ALGORITHMS

torch = pytest.importorskip("torch")

# One timed call per contender: the files and rows are checked, not the speed.
TINY = BenchSettings(TimerSettings(target_s=0.0, max_reps=1, min_reps=1, slow_s=0.0, single_s=60.0),
                     scipy_budget_s=2.0, algorithm_budget_s=60.0, memory_cases=1, reference_budget_s=1.0)


def torch_conv(case, x, w, b=None):
    args = [torch.from_numpy(a) if a is not None else None for a in (x, w, b)]
    return torch.nn.functional.conv2d(*args, *case.conv_args).numpy()


def test_the_suite_lists_the_eight_cases_of_the_issue():
    assert [c.name for c in SUITE] == list("abcdefgh")
    rows = {c.name: (c.N, c.Cin, c.H, c.W, c.Cout, c.k, c.stride, c.padding, c.dilation, c.groups) for c in SUITE}
    assert rows == {"a": (1, 1, 5, 5, 1, 3, 1, 0, 1, 1), "b": (64, 1, 28, 28, 32, 3, 1, 1, 1, 1),
                    "c": (32, 3, 32, 32, 64, 3, 1, 1, 1, 1), "d": (8, 64, 56, 56, 64, 3, 1, 1, 1, 1),
                    "e": (8, 3, 224, 224, 64, 7, 2, 3, 1, 1), "f": (8, 128, 56, 56, 128, 3, 1, 1, 1, 128),
                    "g": (1, 1, 1024, 1024, 1, 31, 1, 15, 1, 1), "h": (8, 32, 64, 64, 32, 3, 1, 2, 2, 1)}
    with pytest.raises(FrozenInstanceError):
        SUITE[0].N = 2  # type: ignore[misc]


def test_flops_by_hand_for_cases_a_and_d():
    a, d = CASES["a"], CASES["d"]
    assert a.out_size == (3, 3)                           # (5 - 3) / 1 + 1
    assert a.flops == 2 * 1 * 1 * 1 * 3 * 3 * 3 * 3 == 162
    assert d.out_size == (56, 56)                         # (56 + 2 - 3) / 1 + 1
    assert d.flops == 2 * 8 * 64 * 64 * 3 * 3 * 56 * 56 == 1_849_688_064
    for case in SUITE:  # the stride, dilation and groups cases too, against the engine's arithmetic
        h, w = output_size((case.H, case.W), case.k, case.stride, case.padding, case.dilation)
        assert case.flops == 2 * case.N * case.Cout * (case.Cin // case.groups) * case.k ** 2 * h * w


def test_case_data_is_seeded_float32():
    x1, w1, b1 = CASES["c"].data()
    x2, _, _ = CASES["c"].data()
    assert x1.dtype == w1.dtype == b1.dtype == np.float32
    assert x1.shape == (32, 3, 32, 32) and w1.shape == (64, 3, 3, 3) and b1.shape == (64,)
    np.testing.assert_array_equal(x1, x2)


def test_unknown_or_empty_case_selection_is_a_convscope_error():
    assert [c.name for c in select_cases("d,a,d")] == ["d", "a"]
    with pytest.raises(UnknownCaseError, match="unknown benchmark case") as error:
        select_cases("a,z")
    assert isinstance(error.value, ConvScopeError)
    with pytest.raises(UnknownCaseError):
        select_cases(",")


def test_the_scipy_route_equals_torch_on_case_a():
    case = CASES["a"]
    x, w, _ = case.data()
    for method in ("fftconvolve", "oaconvolve"):
        np.testing.assert_allclose(scipy_conv2d(x, w, case, method), torch_conv(case, x, w), atol=1e-5)


@pytest.mark.parametrize("name", ["e", "f", "h"])  # stride, groups, dilation on small crops
def test_the_scipy_route_handles_stride_groups_and_dilation(name):
    case = replace(CASES[name], N=2, H=20, W=20)
    if case.groups > 1:
        case = replace(case, Cin=8, Cout=8, groups=8)
    x, w, _ = case.data()
    np.testing.assert_allclose(scipy_conv2d(x, w, case), torch_conv(case, x, w), atol=1e-4)


def test_the_scipy_route_is_skipped_where_it_is_too_big_or_slow():
    assert scipy_skip_reason(CASES["a"], 2.0) is None
    assert "budget" in scipy_skip_reason(CASES["d"], 0.001)
    huge = replace(CASES["d"], N=512)
    assert "GiB" in scipy_skip_reason(huge, 1e9)


def test_the_timer_counts_repetitions_by_its_rules():
    calls = []
    assert time_call(lambda: calls.append(1), TimerSettings(0.0, 50, 3, 99, 99)).reps == 3
    assert len(calls) == 4  # the warm-up is never a sample
    assert time_call(lambda: None, TimerSettings(1e9, 7, 3, 99, 99)).reps == 7
    one = time_call(lambda: None, TimerSettings(1e9, 7, 3, 0.0, 99))
    assert one.reps == 1 and "one timed call" in one.note
    only = time_call(lambda: None, TimerSettings(1e9, 7, 3, 0.0, 0.0))
    assert only.reps == 1 and "warm-up only" in only.note
    setups = []
    time_call(lambda: None, TimerSettings(0.0, 50, 3, 99, 99), setup=lambda: setups.append(1))
    assert len(setups) == 4


def test_every_case_has_a_prewarm_case_and_an_auto_pick():
    for case in SUITE:
        tiny = prewarm_case(case)
        assert tiny.N == 1 and tiny.out_size  # a valid convolution
        assert chosen_algorithm(case) in ALGORITHMS


def test_algorithms_are_discovered_at_run_time(monkeypatch):
    fake = SimpleNamespace(NAME="fake", SUMMARY="never runs", unsupported=lambda p: "it is a test double",
                           cost=lambda p: 0.0, conv_valid=None)
    monkeypatch.setitem(ALGORITHMS, "fake", fake)
    result = measure_case(CASES["a"], TINY, backward=False)
    assert result.algorithms_skipped["fake"] == "it is a test double"
    assert set(result.algorithms) == {name for name in ALGORITHMS if name != "fake"}
    assert result.cost_model_pick in result.algorithms and result.fastest in result.algorithms
    assert fake.conv_valid is None  # the auto trace put every algorithm back


def test_the_auto_trace_names_what_auto_ran():
    case = CASES["a"]
    ran = auto_trace(case, *case.data())
    assert ran and set(ran) <= set(ALGORITHMS) and all(count >= 1 for count in ran.values())
    assert all(module.conv_valid.__name__ == "conv_valid" for module in ALGORITHMS.values())
    assert _ran_text({"direct": 1}) == "direct"
    assert _ran_text({"direct": 1, "fft": 15}) == "fft x15 + direct"


def test_a_slow_tiny_torch_call_is_flagged_as_noise():
    assert noise_warning({"torch_tiny_call_ms": 0.004}) is None
    assert noise_warning({}) is None
    assert "unreliable" in noise_warning({"torch_tiny_call_ms": 7.9})
    assert tiny_torch_call_ms() > 0
    assert "other processes used 50%" in noise_warning({"other_processes_cpu_fraction": 0.5})
    assert noise_warning({"other_processes_cpu_fraction": 0.01, "torch_tiny_call_ms": 0.004}) is None


def test_load_info_counts_only_other_processes():
    before = cpu_times()
    sum(i * i for i in range(200_000))  # this process's own work is not "other processes"
    info = load_info(before)
    assert {"loadavg_1_5_15", "cpu_steal_fraction", "other_processes_cpu_fraction"} <= set(info)
    assert info["other_processes_cpu_fraction"] is None or 0 <= info["other_processes_cpu_fraction"] <= 1


def test_run_bench_writes_json_and_markdown(tmp_path):
    results, paths = run_bench("a", out=tmp_path, memory=False, settings=TINY)
    assert paths == {"json": tmp_path / "results.json", "md": tmp_path / "results.md"}
    data = json.loads(paths["json"].read_text())
    assert {"command", "machine", "settings", "summary", "cases"} <= set(data)
    assert {"cpu_count", "numpy", "scipy", "torch", "OPENBLAS_CORETYPE"} <= set(data["machine"])
    assert {"forward_geomean_ratio", "backward_geomean_ratio", "max_ratio", "g_ratio", "auto_within_count",
            "auto_picks"} <= set(data["summary"])
    (row,) = data["cases"]
    assert {"case", "note", "flops", "auto", "torch", "scipy", "algorithms", "chosen", "fastest",
            "chosen_vs_fastest", "pick_vs_fastest", "cost_model_pick", "gflops", "ratio_torch", "ratio_scipy",
            "ratio_backward", "backward",
            "torch_backward", "memory_auto_mib", "memory_torch_mib"} <= set(row)
    assert row["case"] == "a" and row["flops"] == 162 and row["auto"]["reps"] == 1
    assert {"min_ms", "median_ms"} <= set(row["auto"])
    md = paths["md"].read_text()
    assert "| case |" in md and "| a |" in md
    for line in ("geometric mean", "max forward ratio", "case g", "auto within 1.3x", "command: convscope bench"):
        assert line in md
    assert data["summary"]["g_ratio"] is None  # g was not run
    assert results[0].ratio_torch == pytest.approx(row["ratio_torch"])


def test_summary_geomean_and_pick_count():
    assert geomean([2.0, 8.0]) == pytest.approx(4.0)
    assert geomean([]) is None
    assert summary([])["auto_picks"] == 0


def test_the_ladder_on_case_a_runs_from_reference_to_torch_slowest_first():
    rows = ladder("a", settings=TINY)
    names = [r.name for r in rows]
    assert "reference" in names and "torch" in names and "numpy" in names and "auto" in names
    assert {n for n in ALGORITHMS} <= set(names)  # every algorithm supports case a
    times = [r.ms for r in rows]
    assert times == sorted(times, reverse=True)
    assert rows[0].vs_first == pytest.approx(1.0) and rows[0].vs_previous == pytest.approx(1.0)
    for before, row in itertools.pairwise(rows):
        assert row.vs_previous == pytest.approx(before.ms / row.ms)
        assert row.vs_first == pytest.approx(rows[0].ms / row.ms)
    assert not any(r.estimated for r in rows)  # 162 FLOPs: the reference runs for real


def test_the_reference_on_a_big_case_is_estimated_from_a_crop():
    timing = _reference_timing(CASES["d"], replace(TINY, reference_budget_s=0.01))
    assert timing.estimated and "FLOP ratio" in timing.note
    crop = CASES["d"].crop(4000)
    assert crop.flops <= 4000 and crop.N == 1 and crop.groups == 1


def test_peak_memory_runs_in_a_fresh_process():
    mib = peak_memory_mib(CASES["a"], "auto")
    assert mib is not None and mib >= 0


runner = CliRunner()


def test_cli_bench_quick_on_case_a_writes_both_files(tmp_path):
    result = runner.invoke(app, ["bench", "--cases", "a", "--quick", "--no-memory", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "results.json").is_file() and (tmp_path / "results.md").is_file()
    assert "lesson example" in result.stdout and "geometric mean" in result.stdout
    assert json.loads((tmp_path / "results.json").read_text())["command"].startswith("convscope bench --quick")


def test_cli_bench_unknown_case_is_one_error_line(tmp_path):
    result = runner.invoke(app, ["bench", "--cases", "z", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unknown benchmark case"), result.stderr
    assert not (tmp_path / "results.json").exists()


def test_cli_ladder_unknown_case_is_one_error_line():
    result = runner.invoke(app, ["bench", "--ladder", "z"])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1


def test_get_case_accepts_spaces():
    assert get_case(" b ").name == "b"
