"""The oracle backend: the same primitives computed by ``torch.nn.functional``.

torch is imported lazily so the rest of the engine runs without it; asking for this
backend without torch installed raises :class:`BackendError` with the install line.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .errors import BackendError


def _torch() -> ModuleType:
    try:
        import torch
    except ImportError:  # pragma: no cover - exercised only without torch
        raise BackendError('backend="torch" needs PyTorch', expected="torch importable",
                           got="no torch module",
                           fix="pip install -c constraints.txt 'convscope[torch]'") from None
    return torch


def _t(a: np.ndarray) -> Any:
    # A copy: torch.from_numpy refuses negative strides (a flipped kernel) even on size-1 axes.
    return _torch().from_numpy(a.copy(order="C"))


def _fn(kind: str, nd: int) -> Any:
    torch = _torch()
    if kind in ("input", "weight"):
        return getattr(torch.nn.grad, f"conv{nd}d_{kind}")
    return getattr(torch.nn.functional, f"{kind}{nd}d")


def conv_valid(xp: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
               groups: int, out_size: tuple[int, ...]) -> np.ndarray:
    y = _fn("conv", w.ndim - 2)(_t(xp), _t(w), None, stride, 0, dilation, groups).numpy()
    return y[(slice(None), slice(None)) + tuple(slice(0, o) for o in out_size)]


def conv_input_grad(gy: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
                    groups: int, in_size: tuple[int, ...]) -> np.ndarray:
    # Ask torch for the smallest input these windows read, then zero-fill the rest: rows
    # past the last window get no gradient, and torch rejects sizes its windows cannot explain.
    reach = tuple((o - 1) * s + d * (k - 1) + 1
                  for o, s, d, k in zip(gy.shape[2:], stride, dilation, w.shape[2:]))
    shape = (gy.shape[0], w.shape[1] * groups) + reach
    gx = _fn("input", w.ndim - 2)(shape, _t(w), _t(gy), stride, 0, dilation, groups).numpy()
    return np.pad(gx, [(0, 0), (0, 0)] + [(0, n - r) for n, r in zip(in_size, reach)])


def conv_weight_grad(gy: np.ndarray, xp: np.ndarray, kernel_size: tuple[int, ...],
                     stride: tuple[int, ...], dilation: tuple[int, ...], groups: int) -> np.ndarray:
    shape = (gy.shape[1], xp.shape[1] // groups) + tuple(kernel_size)
    # conv*_weight returns the gradient for the full window count of xp; crop xp so the
    # windows are exactly those of gy.
    span = tuple((o - 1) * s + d * (k - 1) + 1 for o, s, d, k in zip(gy.shape[2:], stride, dilation, kernel_size))
    xp = xp[(slice(None), slice(None)) + tuple(slice(0, n) for n in span)]
    return _fn("weight", len(kernel_size))(_t(xp), shape, _t(gy), stride, 0, dilation, groups).numpy()


def window_max(xp: np.ndarray, kernel_size: tuple[int, ...], stride: tuple[int, ...],
               dilation: tuple[int, ...], out_size: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    values, where = _fn("max_pool", len(kernel_size))(_t(xp), kernel_size, stride, 0, dilation,
                                                      return_indices=True)
    crop = (slice(None), slice(None)) + tuple(slice(0, o) for o in out_size)
    return values.numpy()[crop], where.numpy()[crop]
