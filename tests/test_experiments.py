"""Experiments: results.json's schema, verdicts that hold at the quick budget, the report page, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from convscope.cli import app
from convscope.experiments import REGISTRY, run_experiment
from convscope.experiments.learned import closest_classic
from convscope.experiments.structure import equivariance_errors
from convscope.filters import KERNELS
from convscope.images import sample

runner = CliRunner()
EXPECTED = {"parameter-sharing", "equivariance", "shuffle", "unseen-positions", "learned-filters", "receptive-field",
            "long-range"}


def test_every_experiment_is_registered():
    assert set(REGISTRY) == EXPECTED


def test_parameter_sharing_numbers_from_the_lessons():
    result = run_experiment("parameter-sharing", quick=True)
    m = result.metrics
    assert m["weights/dense_32x32_to_512"] == 524_288 and m["weights/conv2d_3_16_3"] == 448
    assert m["weights/dense_224x224_to_224x224"] == 224 ** 4


def test_equivariance_maps_by_hand():
    photo = sample("camera")[::8, ::8].copy()
    maps = equivariance_errors(photo, KERNELS["sobel_x"].weights, 3, 5)
    assert maps["circular/stride1"].max() < 1e-5                 # exact for circular padding
    zeros = maps["zeros/stride1"]
    assert zeros[5:-2, 7:-2].max() < 1e-5 and zeros.max() > 0.1  # only the border (and the roll's seam)
    assert maps["circular/stride2"].max() > 0.1                  # an odd shift cannot survive stride 2


def test_closest_classic_kernel():
    assert closest_classic(KERNELS["sobel_x"].weights * -3)[0] == "sobel_x"
    name, score = closest_classic(KERNELS["laplacian4"].weights + 0.01)
    assert name == "laplacian4" and score > 0.99


@pytest.mark.parametrize("name", ["receptive-field", "learned-filters", "long-range"])
def test_quick_runs_hold_and_write_their_files(tmp_path, name):
    result = run_experiment(name, quick=True, seed=0)
    assert result.holds, result.verdict
    folder = result.write(tmp_path / name)
    saved = json.loads((folder / "results.json").read_text())
    assert {"experiment", "quick", "seed", "seconds", "metrics", "verdict"} <= set(saved)
    assert saved["experiment"] == name and saved["quick"] is True and saved["seed"] == 0
    assert all(isinstance(v, float) and np.isfinite(v) for v in saved["metrics"].values())
    assert all("/" in k for k in saved["metrics"])  # flat names such as marks/plain2/accuracy
    assert saved["verdict"] in (folder / "README.md").read_text()
    for stem in result.figures:
        assert (folder / f"{stem}.png").stat().st_size > 1000


def test_receptive_field_experiment_matches_the_closed_form():
    metrics = run_experiment("receptive-field", quick=True).metrics
    assert metrics["plain/depth4/analytic"] == 9 == metrics["plain/depth4/measured"]
    assert metrics["dilated/depth4/analytic"] == 1 + 2 * (1 + 2 + 4 + 8)


def test_cli_run_list_and_report(tmp_path, monkeypatch):
    result = runner.invoke(app, ["experiment", "list"])
    assert result.exit_code == 0 and all(name in result.stdout for name in EXPECTED)
    result = runner.invoke(app, ["experiment", "run", "parameter-sharing", "--quick", "--out", str(tmp_path / "ps")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "ps" / "results.json").read_text())["metrics"]["weights/conv2d_3_16_3"] == 448
    result = runner.invoke(app, ["experiment", "run", "nope", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "unknown experiment" in result.stderr and not (tmp_path / "x").exists()
    # the report on two fast experiments: one page, figures inline, no external resource
    import convscope.experiments.base as base

    monkeypatch.setattr(base, "REGISTRY", {k: REGISTRY[k] for k in ("parameter-sharing", "receptive-field")})
    monkeypatch.setattr("convscope.experiments.REGISTRY", base.REGISTRY)
    result = runner.invoke(app, ["report", "--quick", "--out", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and "http" not in page.replace("http-equiv", "")
    assert "receptive-field" in page and (tmp_path / "report" / "receptive-field" / "results.json").exists()


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
    from convscope.experiments import trained
    from test_data import _write_mnist_like

    # this test is about the IDX files' way in, not about accuracy: every model trains 10 steps
    real_train = trained.train
    monkeypatch.setattr(trained, "train", lambda build, split, steps, **kw: real_train(build, split, 10, **kw))
    folder = tmp_path / "mnist"
    folder.mkdir()
    _write_mnist_like(folder)
    result = runner.invoke(app, ["experiment", "run", "shuffle", "--quick", "--data-dir", str(folder), "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "results.json").read_text())["metrics"]
    assert {"idx/cnn/plain", "idx/cnn/shuffled", "idx/mlp/plain", "idx/logistic/shuffled"} <= set(metrics)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["experiment", "run", "shuffle", "--quick", "--data-dir", str(empty), "--out",
                                 str(tmp_path / "none")])
    assert result.exit_code == 2 and "train-images-idx3-ubyte not found" in result.stderr
    assert not (tmp_path / "none").exists()
