"""Small models for the experiments: CNNs (1-D and 2-D), an MLP, logistic regression.

The MNIST-1D models follow the reference code of Greydanus (2020): a CNN of three
stride-2 convolutions with 25 channels, an MLP with two hidden layers of 100 units.
"""

from __future__ import annotations

from math import prod

import torch
from torch import nn


def logistic(input_shape: tuple[int, ...], classes: int) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(prod(input_shape), classes))


def mlp(input_shape: tuple[int, ...], classes: int, hidden: int = 100) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(prod(input_shape), hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                         nn.ReLU(), nn.Linear(hidden, classes))


def cnn1d(input_shape: tuple[int, ...], classes: int, channels: int = 25) -> nn.Module:
    """MNIST-1D's reference CNN: three Conv1d(k=5, stride=2, padding=1) + ReLU, then a Linear."""
    c, length = input_shape
    layers: list[nn.Module] = []
    for _ in range(3):
        layers += [nn.Conv1d(c, channels, 5, stride=2, padding=1), nn.ReLU()]
        c, length = channels, (length + 2 - 5) // 2 + 1
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * length, classes))


def cnn2d(input_shape: tuple[int, ...], classes: int, channels: int = 16, global_pool: bool = True,
          first_kernel: int = 3) -> nn.Module:
    """Two 3x3 conv blocks; global average pooling (position-free) or flatten + Linear."""
    c, h, w = input_shape
    features = nn.Sequential(nn.Conv2d(c, channels, first_kernel, padding=first_kernel // 2), nn.ReLU(),
                             nn.Conv2d(channels, 2 * channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(2 * channels, 2 * channels, 3, padding=1), nn.ReLU())
    if global_pool:
        return nn.Sequential(features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * channels, classes))
    return nn.Sequential(features, nn.Flatten(), nn.Linear(2 * channels * (h // 2) * (w // 2), classes))


def local_cnn1d(depth: int, dilated: bool, classes: int = 2, channels: int = 16) -> nn.Module:
    """Conv1d(k=3) layers (dilations 1, 2, 4, ... if ``dilated``), then global average pooling and a
    *linear* read-out: a sum of local evidence, so only units whose field spans a relation can use it."""
    layers: list[nn.Module] = []
    c = 1
    for i in range(depth):
        d = 2 ** i if dilated else 1
        layers += [nn.Conv1d(c, channels, 3, padding=d, dilation=d), nn.ReLU()]
        c = channels
    return nn.Sequential(*layers, nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(channels, classes))


def device_for(name: str) -> torch.device:
    from .engine.errors import BackendError

    if name == "cuda" and not torch.cuda.is_available():
        raise BackendError("no CUDA device here", expected="--device cpu, or a machine with a GPU",
                           got="torch.cuda.is_available() is False", fix="--device cpu")
    return torch.device(name)
