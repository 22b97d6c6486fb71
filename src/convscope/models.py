"""Small models for the experiments: CNNs (1-D and 2-D), their untied (locally connected) twin, an MLP,
logistic regression.

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


def dilated_cnn1d(dilations: tuple[int, ...], classes: int = 2, channels: int = 16) -> nn.Module:
    """Conv1d(k=3) layers with the given dilations, then global average pooling and a *linear*
    read-out: a sum of local evidence, so only units whose field spans a relation can use it."""
    layers: list[nn.Module] = []
    c = 1
    for d in dilations:
        layers += [nn.Conv1d(c, channels, 3, padding=d, dilation=d), nn.ReLU()]
        c = channels
    return nn.Sequential(*layers, nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(channels, classes))


def device_for(name: str) -> torch.device:
    from .engine.errors import BackendError

    if name == "cuda" and not torch.cuda.is_available():
        raise BackendError("no CUDA device here", expected="--device cpu, or a machine with a GPU",
                           got="torch.cuda.is_available() is False", fix="--device cpu")
    return torch.device(name)


class LocallyConnected2d(nn.Module):
    """A convolution without weight sharing: every output position has its own kernel.

    Same window arithmetic as ``nn.Conv2d(c_in, c_out, k, padding=p)`` (stride 1), but
    ``weight`` is (positions, c_out, c_in*k*k): the control that separates what weight
    sharing buys from what locality alone buys."""

    def __init__(self, c_in: int, c_out: int, kernel: int, side: tuple[int, int], padding: int = 0) -> None:
        super().__init__()
        self.kernel, self.padding = kernel, padding
        self.out_side = (side[0] + 2 * padding - kernel + 1, side[1] + 2 * padding - kernel + 1)
        positions = self.out_side[0] * self.out_side[1]
        fan_in = c_in * kernel * kernel
        bound = 1 / fan_in ** 0.5  # nn.Conv2d's default initialisation range, per position
        self.weight = nn.Parameter(torch.empty(positions, c_out, fan_in).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(c_out, positions).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        columns = nn.functional.unfold(x, self.kernel, padding=self.padding)    # (N, c_in*k*k, positions)
        out = torch.einsum("ncl,loc->nol", columns, self.weight) + self.bias    # (N, c_out, positions)
        return out.reshape(x.shape[0], -1, *self.out_side)


def locally_connected2d(input_shape: tuple[int, ...], classes: int, channels: int = 16, global_pool: bool = True,
                        first_kernel: int = 3) -> nn.Module:
    """:func:`cnn2d` with every convolution untied (:class:`LocallyConnected2d`): the same layers,
    windows and read-out, but one kernel per position instead of one kernel for the image."""
    c, h, w = input_shape
    p = first_kernel // 2
    features = nn.Sequential(LocallyConnected2d(c, channels, first_kernel, (h, w), p), nn.ReLU(),
                             LocallyConnected2d(channels, 2 * channels, 3, (h, w), 1), nn.ReLU(), nn.MaxPool2d(2),
                             LocallyConnected2d(2 * channels, 2 * channels, 3, (h // 2, w // 2), 1), nn.ReLU())
    if global_pool:
        return nn.Sequential(features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * channels, classes))
    return nn.Sequential(features, nn.Flatten(), nn.Linear(2 * channels * (h // 2) * (w // 2), classes))


def parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def detector2d(input_shape: tuple[int, ...], classes: int, channels: int = 8, kernel: int = 5,
               untied: bool = False) -> nn.Module:
    """One layer of ``channels`` pattern detectors, the strongest response anywhere (global max
    pooling), a Linear read-out. ``untied``: the same with one kernel per position."""
    c, h, w = input_shape
    layer = LocallyConnected2d(c, channels, kernel, (h, w), kernel // 2) if untied else \
        nn.Conv2d(c, channels, kernel, padding=kernel // 2)
    return nn.Sequential(layer, nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(channels, classes))
