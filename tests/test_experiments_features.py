"""The hierarchy and photo-filters experiments: their measurements on hand-made cases, their verdicts over
seeds, the files they write, and verdicts that fail when the effect is taken away."""

from __future__ import annotations

import numpy as np
import pytest

from convscope.experiments import hierarchy, photos, run_experiment
from convscope.filters import KERNELS

# ---- measurement helpers ----------------------------------------------------------------------------

def test_effective_size_on_known_maps():
    point = np.zeros((21, 21))
    point[10, 10] = 5.0
    assert hierarchy.effective_size(point, (10, 10)) == 1
    block = np.zeros((21, 21))
    block[8:13, 8:13] = -1.0                   # 5x5, signed: the magnitude counts
    assert hierarchy.effective_size(block, (10, 10)) == 5
    even = np.zeros((20, 20))
    even[8:12, 8:12] = 1.0                     # 4x4 around a half-integer centre
    assert hierarchy.effective_size(even, (9.5, 9.5)) == 4
    # 90% of the mass: a strong centre and a faint ring stop at the centre
    ring = np.zeros((21, 21))
    ring[9:12, 9:12] = 0.01
    ring[10, 10] = 1.0
    assert hierarchy.effective_size(ring, (10, 10)) == 1
    assert hierarchy.effective_size(np.zeros((5, 5)), (2, 2)) == 0


def test_layer_fields_and_centres():
    model = hierarchy.build_network(5)
    fields = [field for _, field in hierarchy.layer_fields(model)]
    assert [f.size for f in fields] == [3, 8, 18, 26]   # conv, pool, conv, pool, conv, conv
    assert [f.jump for f in fields] == [1, 2, 4, 4]
    assert hierarchy.unit_centre(fields[0], 5) == 5      # a 3x3 'same' conv is centred on its pixel
    assert hierarchy.unit_centre(fields[1], 0) == 0.5    # after a 2x2 pool: between two pixels


def test_top_units_and_crop():
    maps = np.zeros((3, 2, 4, 4), np.float32)
    maps[1, 0, 2, 3] = 5.0
    maps[2, 0, 0, 1] = 3.0
    units = hierarchy.top_units(maps, top=2)
    assert units == [(0, 1, 2, 3, 5.0), (0, 2, 0, 1, 3.0)]   # channel 1 is dead: left out
    image = np.arange(25.0).reshape(5, 5)
    assert np.array_equal(hierarchy.crop(image, (2, 2), 3), image[1:4, 1:4])
    assert hierarchy.crop(image, (0, 0), 3)[0].tolist() == [0, 0, 0]   # outside the image: zeros


def test_the_bank_matches_itself_and_sobel_is_sobel():
    bank = photos.classic_bank(5)
    assert {"sobel_x", "sobel_y", "laplacian"} <= set(bank) and sum(k.startswith("gabor") for k in bank) == 8
    for name, kernel in bank.items():
        assert kernel.shape == (5, 5)
        assert photos.closest(kernel * -2.5, bank) == (name, pytest.approx(1.0))
    small = photos.classic_bank(3)
    assert photos.closest(KERNELS["sobel_x"].weights, small) == ("sobel_x", pytest.approx(1.0))
    assert photos.closest(KERNELS["sobel_y"].weights + 0.01, small)[0] == "sobel_y"
    assert photos.closest(KERNELS["laplacian4"].weights, small)[0] == "laplacian"
    # the 5x5 Sobel is the smoothed difference [1 2 0 -2 -1] across, binomial [1 4 6 4 1] along
    assert bank["sobel_x"][2].tolist() == [6, 12, 0, -12, -6]
    noise = np.random.default_rng(0).normal(size=(5, 5))
    assert photos.closest(noise, bank)[1] < 0.9


def test_photo_patches_are_standardised_and_disjoint():
    split = photos.photo_patches(80, 40, seed=0)
    assert split.x_train.shape == (80, 1, photos.PATCH, photos.PATCH) and split.classes == len(photos.PHOTOS)
    assert np.allclose(split.x_train.mean(axis=(1, 2, 3)), 0, atol=1e-4)
    assert sorted(set(split.y_test.tolist())) == list(range(len(photos.PHOTOS)))


# ---- the experiments over seeds --------------------------------------------------------------------

def test_hierarchy_fails_without_growth(monkeypatch):
    from torch import nn

    def pointwise(classes: int, kernel: int = 3):   # 1x1 convolutions only: every field is one pixel
        return nn.Sequential(nn.Conv2d(1, 8, 1), nn.ReLU(), nn.Conv2d(8, 8, 1), nn.ReLU(), nn.Conv2d(8, 8, 1),
                             nn.ReLU(), nn.Conv2d(8, 8, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(8, classes))
    monkeypatch.setattr(hierarchy, "build_network", pointwise)
    result = run_experiment("hierarchy", quick=True, seeds=2)
    assert not result.checks[0].holds and not result.holds
    assert result.metrics["layer4/receptive_field"] == 1 and result.metrics["layer4/effective_size"] <= 1


def test_photo_filters_fails_without_training(monkeypatch):
    import torch

    def untrained(split, steps, seed, device, progress, label):   # the kernels stay at their random start
        torch.manual_seed(seed)
        return photos.first_layer(photos.build_network(split.classes)), 1 / split.classes
    monkeypatch.setattr(photos, "train_first_layer", untrained)
    result = run_experiment("photo-filters", quick=True, seeds=2)
    assert result.metrics["match/trained"] == pytest.approx(result.metrics["match/init"])
    assert not result.checks[0].holds and not result.holds
