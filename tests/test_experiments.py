"""Experiments: intervals over seeds, claims that can fail, resuming, worker processes, the report, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from convscope.cli import app
from convscope.experiments import (
    REGISTRY,
    Claim,
    SeedRun,
    run_experiment,
    run_experiments,
)
from convscope.experiments.stats import interval
from convscope.experiments.structure import equivariance_errors
from convscope.filters import KERNELS
from convscope.images import sample

runner = CliRunner()
EXPECTED = {"parameter-sharing", "equivariance", "shuffle", "unseen-positions", "learned-filters", "receptive-field",
            "long-range", "rotation-scale", "pooling-shift", "hierarchy", "photo-filters"}


def test_every_experiment_is_registered():
    assert set(REGISTRY) == EXPECTED


def test_interval_against_scipy_and_by_hand():
    from scipy import stats

    values = [1.0, 2.0, 3.0, 4.0]
    # by hand: mean 2.5, sd sqrt(5/3), t(0.975, 3) = 3.182446
    spread = interval(values)
    half = 3.182446 * (5 / 3) ** 0.5 / 2
    assert spread.mean == 2.5 and spread.n == 4
    assert spread.low == pytest.approx(2.5 - half, abs=1e-5) and spread.high == pytest.approx(2.5 + half, abs=1e-5)
    rng = np.random.default_rng(0)
    for n in (2, 3, 5, 12):
        sample_values = list(rng.normal(0.7, 0.05, n))
        low, high = stats.t.interval(0.95, n - 1, loc=np.mean(sample_values), scale=stats.sem(sample_values))
        got = interval(sample_values)
        assert (got.low, got.high) == pytest.approx((low, high), rel=1e-9)
    alone = interval([0.25])
    assert (alone.low, alone.high, alone.sd) == (0.25, 0.25, 0.0) and alone.text() == "0.250"
    with pytest.raises(ValueError):
        interval([])


def test_a_claim_holds_only_when_its_interval_is_on_the_claimed_side():
    runs = [SeedRun({"a": a, "b": b}, seed=i) for i, (a, b) in enumerate([(0.9, 0.5), (0.8, 0.6), (0.85, 0.55)])]
    gap = Claim("a beats b", lambda m: m["a"] - m["b"], above=0.0)
    check = gap.check(runs)
    assert check.holds and check.values == pytest.approx([0.4, 0.2, 0.3])
    assert check.interval.low == pytest.approx(0.3 - 4.302653 * 0.1 / 3 ** 0.5, abs=1e-5)  # 0.052 > 0
    assert not Claim("a beats b by 10 points", lambda m: m["a"] - m["b"], above=0.1).check(runs).holds
    # the same mean gap, but noisy enough that the interval reaches below the threshold: not shown
    noisy = [SeedRun({"a": a, "b": 0.5}, seed=i) for i, a in enumerate([1.0, 0.5, 0.9])]
    assert not gap.check(noisy).holds and "does not hold" in gap.check(noisy).line()
    assert Claim("b small", lambda m: m["b"], below=0.7).check(runs).holds
    assert not Claim("b tiny", lambda m: m["b"], below=0.58).check(runs).holds
    assert "one seed" in gap.check(runs[:1]).line()


def test_parameter_sharing_numbers_from_the_lessons():
    result = run_experiment("parameter-sharing", quick=True, seeds=1)
    m = result.metrics
    assert m["weights/dense_32x32_to_512"] == 524_288 and m["weights/conv2d_3_16_3"] == 448
    assert m["weights/dense_224x224_to_224x224"] == 224 ** 4
    assert m["shapes/untied/weights"] > 100 * m["shapes/cnn/weights"]


def test_untied_weights_break_the_parameter_sharing_verdict(monkeypatch):
    """The control can fail: when the "CNN" is itself untied (a kernel per position, no sharing), the claim
    that sharing generalises better does not hold."""
    from convscope import models

    real = models.detector2d
    monkeypatch.setattr(models, "detector2d", lambda shape, classes, untied=False: real(shape, classes, untied=True))
    result = run_experiment("parameter-sharing", quick=True, seeds=3)
    assert result.checks[0].holds and not result.checks[1].holds and not result.holds


def test_a_locally_connected_layer_with_equal_kernels_is_a_convolution():
    import torch

    from convscope.models import LocallyConnected2d

    torch.manual_seed(0)
    untied, conv = LocallyConnected2d(2, 3, 3, (5, 6), padding=1), torch.nn.Conv2d(2, 3, 3, padding=1)
    with torch.no_grad():
        untied.weight.copy_(conv.weight.reshape(3, -1)[None].expand_as(untied.weight))
        untied.bias.copy_(conv.bias[:, None].expand_as(untied.bias))
    x = torch.randn(4, 2, 5, 6)
    torch.testing.assert_close(untied(x), conv(x), rtol=1e-5, atol=1e-5)
    assert untied.weight.shape == (30, 3, 18)  # 5 x 6 positions, each with its own 3 x (2 x 3 x 3) kernel


def test_equivariance_maps_by_hand():
    photo = sample("camera")[::8, ::8].copy()
    maps = equivariance_errors(photo, KERNELS["sobel_x"].weights, 3, 5)
    assert maps["circular/stride1"].max() < 1e-5                 # exact for circular padding
    zeros = maps["zeros/stride1"]
    assert zeros[5:-2, 7:-2].max() < 1e-5 and zeros.max() > 0.1  # only the border (and the roll's seam)
    assert maps["circular/stride2"].max() > 0.1                  # an odd shift cannot survive stride 2


def test_receptive_field_experiment_matches_the_closed_form():
    result = run_experiment("receptive-field", quick=True, seeds=2)
    metrics = result.metrics
    assert metrics["plain/depth4/analytic"] == 9 == metrics["plain/depth4/measured"]
    assert metrics["dilated/depth4/analytic"] == 1 + 2 * (1 + 2 + 4 + 8)
    assert result.holds and result.stats["plain/depth4/measured"].n == 2
    # every stack's picture shows a field: the centre unit depends on a square of the analytic size
    for stack in ("plain", "strided", "dilated", "pooled"):
        support = result.runs[0].arrays[stack]
        rows = np.flatnonzero(support.any(1))
        assert rows.size and rows[-1] - rows[0] + 1 == metrics[f"{stack}/depth4/analytic"]


def _counting(monkeypatch, name):
    """Replace an experiment's per-seed function by a cheap one that counts its calls."""
    import dataclasses

    from convscope.experiments import base

    calls = []

    def fake(quick, seed, device, progress, **_):
        calls.append(seed)
        update = progress("fake training", 3)
        update(3)
        return SeedRun({"x/value": 0.5 + 0.01 * seed, "x/other": 1.0}, {"picture": np.full((2, 2), seed)})
    original = base.REGISTRY[name]
    monkeypatch.setitem(base.REGISTRY, name, dataclasses.replace(
        original, run=fake, claims=(Claim("value", lambda m: m["x/value"], above=0.4),),
        draw=lambda result: {}, describe=lambda result: f"value {result.text('x/value')}"))
    return calls


def test_seeds_are_saved_and_a_rerun_resumes(tmp_path, monkeypatch):
    calls = _counting(monkeypatch, "parameter-sharing")
    first = run_experiments(["parameter-sharing"], True, [0, 1, 2], resume_in=tmp_path)[0]
    assert calls == [0, 1, 2] and (tmp_path / "parameter-sharing" / "seeds" / "seed-2.npz").is_file()
    again = run_experiments(["parameter-sharing"], True, [0, 1, 2, 3], resume_in=tmp_path)[0]
    assert calls == [0, 1, 2, 3]  # only the new seed ran
    assert again.stats["x/value"].n == 4 and again.runs[1].arrays["picture"].tolist() == [[1, 1], [1, 1]]
    assert first.stats["x/value"].mean == pytest.approx(0.51)
    run_experiments(["parameter-sharing"], False, [0], resume_in=tmp_path)  # another budget is not reused
    assert calls == [0, 1, 2, 3, 0]


def test_worker_processes_give_the_same_numbers_as_this_process():
    serial = run_experiments(["receptive-field"], True, [0, 1])[0]
    events = []

    def progress(description, total):
        return lambda done: events.append((description, done, total))
    parallel = run_experiments(["receptive-field"], True, [0, 1], progress=progress, workers=2)[0]
    assert [r.metrics for r in serial.runs] == [r.metrics for r in parallel.runs]
    for a, b in zip(serial.runs, parallel.runs):
        assert all(np.array_equal(a.arrays[k], b.arrays[k]) for k in a.arrays)
    assert any("seed 1" in d and done == total for d, done, total in events)  # the workers' bars reach the caller


def test_results_json_and_readme(tmp_path):
    result = run_experiment("receptive-field", quick=True, seeds=2)
    folder = result.write(tmp_path / "rf")
    saved = json.loads((folder / "results.json").read_text())
    assert {"experiment", "claim", "quick", "seeds", "seconds", "metrics", "checks", "runs", "verdict",
            "holds"} <= set(saved)
    assert saved["seeds"] == [0, 1] and saved["quick"] is True and saved["holds"] is True
    entry = saved["metrics"]["plain/depth4/analytic"]
    assert entry == {"mean": 9.0, "sd": 0.0, "low": 9.0, "high": 9.0, "n": 2}
    assert all(c["test"].startswith("Student-t") and len(c["values"]) == 2 for c in saved["checks"])
    readme = (folder / "README.md").read_text()
    assert saved["verdict"] in readme and "2 seed(s)" in readme and "| plain/depth4/analytic | 9 |" in readme
    assert (folder / "receptive_field.png").stat().st_size > 1000


def test_cli_run_list_and_report(tmp_path, monkeypatch):
    result = runner.invoke(app, ["experiment", "list"])
    assert result.exit_code == 0 and all(name in result.stdout for name in REGISTRY)
    result = runner.invoke(app, ["experiment", "run", "receptive-field", "--quick", "--seeds", "2", "--workers", "1",
                                 "--out", str(tmp_path / "rf")])
    assert result.exit_code == 0, result.output
    assert "holds" in result.output and "[" in result.output  # each claim printed with its interval
    assert json.loads((tmp_path / "rf" / "results.json").read_text())["seeds"] == [0, 1]
    result = runner.invoke(app, ["experiment", "run", "nope", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "unknown experiment" in result.stderr and not (tmp_path / "x").exists()
    result = runner.invoke(app, ["experiment", "run", "receptive-field", "--seeds", "0", "--out", str(tmp_path / "y")])
    assert result.exit_code == 2 and "--seeds is out of range" in result.stderr and not (tmp_path / "y").exists()
    # the report: one experiment for real, one cheap stand-in that counts its calls
    from convscope.experiments import base

    calls = _counting(monkeypatch, "parameter-sharing")
    monkeypatch.setattr(base, "REGISTRY", {k: base.REGISTRY[k] for k in ("parameter-sharing", "receptive-field")})
    monkeypatch.setattr("convscope.experiments.REGISTRY", base.REGISTRY)
    out = tmp_path / "report"
    result = runner.invoke(app, ["report", "--quick", "--seeds", "2", "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 1 and "http" not in page.replace("http-equiv", "")
    assert "2 seed(s) (0, 1)" in page and "all finished: 2 of 2 claims hold" in page and "Student-t" in page
    assert "value: 50.5% [" in page  # the stand-in's claim, with its interval
    assert (out / "receptive-field" / "results.json").exists() and calls == [0, 1]
    result = runner.invoke(app, ["report", "--quick", "--seeds", "2", "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0 and calls == [0, 1]  # resumed: nothing ran again


def test_a_partial_report_is_readable(tmp_path):
    from convscope.experiments.report import render

    done = {"receptive-field": run_experiment("receptive-field", quick=True, seeds=2)}
    done["receptive-field"].write(tmp_path / "receptive-field")
    page = render(["receptive-field", "shuffle"], done, tmp_path, True, [0, 1], 12.0, 2)
    assert "1 of 2 finished so far" in page and "Not finished yet" in page and "running or queued" in page
    assert page.count("data:image/png;base64,") == 1


def test_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = runner.invoke(app, ["experiment", "run", "long-range", "--quick", "--device", "cuda", "--out",
                                 str(tmp_path / "lr")])
    assert result.exit_code == 2 and "no CUDA device" in result.stderr


def test_training_is_repeatable_on_the_cpu():
    from convscope import data, models
    from convscope.train import train

    split = data.shapes(300, 100, 16, seed=3)
    runs = [train(lambda: models.cnn2d(split.input_shape, split.classes, channels=4), split, 30, seed=5)
            for _ in range(2)]
    assert runs[0].losses == runs[1].losses and runs[0].test_accuracy == runs[1].test_accuracy
    other = train(lambda: models.cnn2d(split.input_shape, split.classes, channels=4), split, 30, seed=6)
    assert other.losses != runs[0].losses


def test_shuffle_takes_idx_files_from_data_dir(tmp_path, monkeypatch):
    from test_data import _write_mnist_like

    from convscope.experiments import trained

    # this test is about the IDX files' way in, not about accuracy: every model trains 10 steps
    real_train = trained.train
    monkeypatch.setattr(trained, "train", lambda build, split, steps, **kw: real_train(build, split, 10, **kw))
    folder = tmp_path / "mnist"
    folder.mkdir()
    _write_mnist_like(folder)
    result = runner.invoke(app, ["experiment", "run", "shuffle", "--quick", "--seeds", "1", "--workers", "1",
                                 "--data-dir", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "results.json").read_text())["metrics"]
    assert metrics["idx/cnn/plain"]["n"] == 1
    assert {"idx/cnn/plain", "idx/cnn/shuffled", "idx/mlp/plain", "idx/logistic/shuffled"} <= set(metrics)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["experiment", "run", "shuffle", "--quick", "--data-dir", str(empty), "--out",
                                 str(tmp_path / "none")])
    assert result.exit_code == 2 and "train-images-idx3-ubyte not found" in result.stderr
    assert not (tmp_path / "none").exists()
