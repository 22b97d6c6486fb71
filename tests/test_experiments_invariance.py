"""rotation-scale and pooling-shift: quick verdicts that hold, verdicts that can fail, the pieces by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convscope.data import write_idx
from convscope.experiments import invariance, run_experiment
from convscope.experiments.invariance import BlurPool, consistency, feature_change, warp


def few_steps(monkeypatch, steps: int = 20) -> None:
    """Train for ``steps`` steps whatever the experiment asks: for tests where accuracy does not matter."""
    real = invariance.train
    monkeypatch.setattr(invariance, "train", lambda build, split, _steps, **kw: real(build, split, steps, **kw))


def test_rotation_scale_fails_without_augmentation(monkeypatch):
    # the "augmented" model trains on the upright set itself: the same seed, the same data, the same
    # weights, so the paired gain is exactly zero and both gain claims must fail
    monkeypatch.setattr(invariance, "augmented", lambda split, seed, copies=2: split)
    few_steps(monkeypatch)
    result = run_experiment("rotation-scale", quick=True, seeds=2)
    gains = [check for check in result.checks if "gains" in check.text]
    assert len(gains) == 2 and not any(check.holds for check in gains) and not result.holds
    assert all(abs(value) < 1e-9 for check in gains for value in check.values)  # up to rounding


def test_pooling_shift_fails_when_the_blur_model_is_max_pooling(monkeypatch):
    real = invariance.Downsampled
    monkeypatch.setattr(invariance, "Downsampled",
                        lambda down, *args, **kw: real("max" if down == "blur" else down, *args, **kw))
    few_steps(monkeypatch)
    result = run_experiment("pooling-shift", quick=True, seeds=2)
    by_text = {check.text: check for check in result.checks}
    against_max = [by_text[text] for text in by_text if "max" in text]
    assert len(against_max) == 2 and not any(check.holds for check in against_max) and not result.holds
    assert all(abs(value) < 1e-9 for check in against_max for value in check.values)


def test_blur_pool_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 5, 6)).astype(np.float32)
    got = BlurPool(3)(torch.from_numpy(x)).numpy()
    kernel = np.outer([1, 2, 1], [1, 2, 1]) / 16
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")
    want = np.zeros((2, 3, 3, 3))                                             # ceil(5/2), ceil(6/2)
    for i in range(3):
        for j in range(3):
            want[:, :, i, j] = (padded[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3] * kernel).sum((-2, -1))
    np.testing.assert_allclose(got, want, atol=1e-6)
    constant = BlurPool(1)(torch.full((1, 1, 6, 6), 2.0))                    # weights sum to one
    assert torch.allclose(constant, torch.full((1, 1, 3, 3), 2.0))


def dots(n: int, size: int = 12) -> np.ndarray:
    """(n, 1, size, size) images of one bright pixel at the centre."""
    x = np.zeros((n, 1, size, size), np.float32)
    x[:, 0, size // 2, size // 2] = 1
    return x


def test_consistency_of_known_classifiers():
    x, rng = dots(9000), np.random.default_rng(0)
    # blind to position: always consistent
    assert consistency(lambda b: (b.sum((1, 2, 3)) > 0.5).astype(int), x, 3, rng) == 1.0
    # the dot's exact position: the two shifts must be equal, (1/3)^2 for k = 1
    def where(b):
        return b.reshape(len(b), -1).argmax(1)
    assert consistency(where, x, 1, rng) == pytest.approx(1 / 9, abs=0.02)
    # the column's parity: dx even twice (1/3 * 1/3) or odd twice (2/3 * 2/3), 5/9 for k = 1
    assert consistency(lambda b: where(b) % 2, x, 1, rng) == pytest.approx(5 / 9, abs=0.02)


def test_feature_change_and_warp_by_hand():
    # the identity "layer" on one dot: the shifted dot differs in two pixels, ||d|| / ||x|| = sqrt(2)
    change, first = feature_change(torch.nn.Identity(), dots(3))
    assert change == pytest.approx(np.sqrt(2)) and first.shape == (1, 12, 12) and first.sum() == 0
    image = np.random.default_rng(1).random((1, 9, 9)).astype(np.float32)
    np.testing.assert_allclose(warp(image, 0.0, 1.0), image, atol=1e-6)
    np.testing.assert_allclose(warp(image, 90.0, 1.0)[0], np.rot90(image[0]), atol=1e-5)  # anticlockwise
    grown = warp(dots(1, 9)[:, 0], 0.0, 2.0)[0]                              # bilinear: a 3x3 spot, peak kept
    assert grown[4, 4] == pytest.approx(1) and grown.sum() == pytest.approx(4)


def test_both_take_mnist_from_data_dir(tmp_path, monkeypatch):
    # a stand-in MNIST: sklearn's digits enlarged to 20x20 on 28x28, written as the four IDX files
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.pad(zoom(bunch.images / 16, (1, 2.5, 2.5), order=1).clip(0, 1), ((0, 0), (4, 4), (4, 4)))
    images, labels = (images * 255).astype(np.uint8), bunch.target.astype(np.uint8)
    for part, cut in (("train", slice(0, 1200)), ("t10k", slice(1200, 1500))):
        write_idx(tmp_path / f"{part}-images-idx3-ubyte", images[cut])
        write_idx(tmp_path / f"{part}-labels-idx1-ubyte", labels[cut])
    few_steps(monkeypatch)
    for name, metric in (("rotation-scale", "idx/augmented/angle60"), ("pooling-shift", "idx/blur/consistency")):
        result = run_experiment(name, quick=True, seeds=1, data_dir=str(tmp_path))
        assert metric in result.metrics and "MNIST" in result.verdict
        assert len(result.figures) == 2
