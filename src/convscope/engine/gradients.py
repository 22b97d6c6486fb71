"""Fast gradients of a convolution, built from the fast forward algorithms.

* grad_input: at stride 1, the adjoint of a (dilated) correlation is a full
  correlation of grad_output with the kernel flipped in space and transposed in
  channels. That is an ordinary forward convolution, so every forward algorithm (and
  the cost model) serves the backward pass too. Strided layers use col2im.
* grad_weight: at stride 1, tap t of the kernel sees the flat padded input shifted by
  one offset, so its gradient is one GEMM of grad_output with a *view* of the input
  (summed over the batch): the route for many channels. Depthwise layers use compiled
  loops; the rest, blocked im2col (grad_output @ columns.T, block by block).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from math import prod

import numpy as np

from . import numpy_backend
from .algorithms import direct, im2col
from .padding import pad

Forward = Callable[[np.ndarray, np.ndarray, tuple[int, ...], tuple[int, ...], int, tuple[int, ...]], np.ndarray]


def flipped_transposed(w: np.ndarray, groups: int) -> np.ndarray:
    """(O, Cg, *k) -> (C, Og, *k) with the kernel flipped: the weight of the adjoint convolution."""
    out_channels, cg = w.shape[:2]
    og = out_channels // groups
    kernel = w.shape[2:]
    w = w.reshape((groups, og, cg) + kernel).swapaxes(1, 2).reshape((groups * cg, og) + kernel)
    return np.ascontiguousarray(np.flip(w, axis=tuple(range(2, w.ndim))))


def input_grad(forward: Forward, gy: np.ndarray, w: np.ndarray, stride: tuple[int, ...],
               dilation: tuple[int, ...], groups: int, in_size: tuple[int, ...]) -> np.ndarray:
    kernel = w.shape[2:]
    if any(s > 1 for s in stride):
        # Spreading grad_output with stride-1 zeros would multiply the work by prod(stride);
        # col2im does only the useful products.
        return numpy_backend.conv_input_grad(gy, w, stride, dilation, groups, in_size)
    span = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
    full = pad(gy, tuple((s, s) for s in span))
    reach = tuple(n + s for n, s in zip(gy.shape[2:], span))  # input positions any window read
    unit = (1,) * len(kernel)
    gx = forward(full, flipped_transposed(w, groups), unit, dilation, groups, reach)
    if reach != tuple(in_size):  # trailing rows no window read get no gradient
        gx = np.pad(gx, [(0, 0), (0, 0)] + [(0, n - r) for n, r in zip(in_size, reach)])
    return gx


def weight_grad(gy: np.ndarray, xp: np.ndarray, kernel_size: tuple[int, ...], stride: tuple[int, ...],
                dilation: tuple[int, ...], groups: int) -> np.ndarray:
    nd = len(kernel_size)
    if groups == xp.shape[1] and groups > 1 and nd == 2:
        return direct.weight_grad(gy, xp, kernel_size, stride, dilation, groups)
    if all(s == 1 for s in stride) and xp.shape[1] // groups >= 32:
        # many channels per tap make the per-tap GEMMs efficient, and they copy nothing
        return _implicit_weight_grad(gy, xp, kernel_size, dilation, groups)
    return im2col.weight_grad(gy, xp, kernel_size, stride, dilation, groups)


def _implicit_weight_grad(gy: np.ndarray, xp: np.ndarray, kernel_size: tuple[int, ...],
                          dilation: tuple[int, ...], groups: int) -> np.ndarray:
    batch, channels = xp.shape[:2]
    out_channels, out_size = gy.shape[1], gy.shape[2:]
    cg, og = channels // groups, out_channels // groups
    padded = xp.shape[2:]
    grid = [prod(padded[d + 1:]) for d in range(len(padded))]
    length = sum((o - 1) * g for o, g in zip(out_size, grid)) + 1
    # grad_output laid on the padded grid; the junk positions between rows hold zeros.
    g_grid = np.zeros((batch, out_channels, prod(padded)), gy.dtype)
    g_grid.reshape((batch, out_channels) + padded)[(slice(None), slice(None))
                                                   + tuple(slice(0, o) for o in out_size)] = gy
    g_grid = g_grid[..., :length].reshape(batch, groups, og, length)           # (N, G, Og, L)
    x_flat = np.ascontiguousarray(xp).reshape(batch, groups, cg, -1)           # (N, G, Cg, P)
    gw = np.empty((groups, og, cg, prod(kernel_size)), gy.dtype)
    for k, tap in enumerate(product(*map(range, kernel_size))):
        off = sum(t * d * g for t, d, g in zip(tap, dilation, grid))
        window = x_flat[..., off:off + length]                                 # a view: no copy
        # (N, G, Og, L) @ (N, G, L, Cg) summed over N -> (G, Og, Cg)
        gw[..., k] = np.matmul(g_grid, window.swapaxes(-1, -2)).sum(axis=0)
    return gw.reshape((groups * og, cg) + tuple(kernel_size))
