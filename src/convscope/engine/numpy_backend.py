"""The vectorised backend: im2col + one matrix multiply (GEMM) per group.

im2col lays every window out as a column: for an input (N, C, H, W) and a kH x kW
kernel, the column matrix is (C*kH*kW, N*H_out*W_out). The convolution is then one
matrix product ``weight (C_out, C*kH*kW) @ columns``. The two gradients are the same
product rearranged: ``grad_weight = grad_out @ columns.T`` and
``grad_columns = weight.T @ grad_out``, which col2im scatters back onto the input.

Windows are read through a strided view (``sliding_window_view``), so forming the
columns is the only copy.
"""

from __future__ import annotations

from itertools import product

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def windows(xp: np.ndarray, kernel_size: tuple[int, ...], stride: tuple[int, ...],
             dilation: tuple[int, ...], out_size: tuple[int, ...]) -> np.ndarray:
    """A view (N, C, *out, *kernel) of every (strided, dilated) window of ``xp``."""
    nd = len(kernel_size)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation))
    view = sliding_window_view(xp, span, axis=tuple(range(2, 2 + nd)))  # (N, C, *full_out, *span)
    keep_pos = tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out_size, stride))
    keep_tap = tuple(slice(0, sp, d) for sp, d in zip(span, dilation))
    return view[(slice(None), slice(None)) + keep_pos + keep_tap]


def _columns(xp: np.ndarray, kernel_size: tuple[int, ...], stride: tuple[int, ...],
             dilation: tuple[int, ...], groups: int, out_size: tuple[int, ...]) -> np.ndarray:
    """im2col: (G, Cin_g * K, N * L) where K = prod(kernel), L = prod(out)."""
    nd = len(kernel_size)
    batch, channels = xp.shape[:2]
    win = windows(xp, kernel_size, stride, dilation, out_size)
    win = win.reshape((batch, groups, channels // groups) + win.shape[2:])  # (N, G, Cg, *out, *k)
    order = (1, 2, *range(3 + nd, 3 + 2 * nd), 0, *range(3, 3 + nd))        # (G, Cg, *k, N, *out)
    cols = win.transpose(order)
    return cols.reshape(groups, -1, batch * int(np.prod(out_size)))


def _grouped(a: np.ndarray, groups: int) -> np.ndarray:
    """(N, G*Cg, *out) -> (G, Cg, N*L), the layout GEMM wants."""
    batch, channels = a.shape[:2]
    a = a.reshape(batch, groups, channels // groups, -1)  # (N, G, Cg, L)
    return a.transpose(1, 2, 0, 3).reshape(groups, channels // groups, -1)


def _ungrouped(a: np.ndarray, batch: int, out_size: tuple[int, ...]) -> np.ndarray:
    """(G, Cg, N*L) -> (N, G*Cg, *out)."""
    groups, cg = a.shape[:2]
    a = a.reshape((groups, cg, batch) + out_size)
    a = np.moveaxis(a, 2, 0)  # (N, G, Cg, *out)
    return np.ascontiguousarray(a).reshape((batch, groups * cg) + out_size)


def conv_valid(xp: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
               groups: int, out_size: tuple[int, ...]) -> np.ndarray:
    cols = _columns(xp, w.shape[2:], stride, dilation, groups, out_size)  # (G, Cg*K, N*L)
    w_mat = w.reshape(groups, w.shape[0] // groups, -1)                   # (G, Og, Cg*K)
    return _ungrouped(w_mat @ cols, xp.shape[0], out_size)                 # (N, O, *out)


def conv_weight_grad(gy: np.ndarray, xp: np.ndarray, kernel_size: tuple[int, ...],
                     stride: tuple[int, ...], dilation: tuple[int, ...], groups: int) -> np.ndarray:
    cols = _columns(xp, kernel_size, stride, dilation, groups, gy.shape[2:])  # (G, Cg*K, N*L)
    gw = _grouped(gy, groups) @ cols.transpose(0, 2, 1)                      # (G, Og, Cg*K)
    return gw.reshape((gy.shape[1], xp.shape[1] // groups) + tuple(kernel_size))


def conv_input_grad(gy: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
                    groups: int, in_size: tuple[int, ...]) -> np.ndarray:
    batch, out_size = gy.shape[0], gy.shape[2:]
    kernel_size, cin_g = w.shape[2:], w.shape[1]
    w_mat = w.reshape(groups, w.shape[0] // groups, -1)             # (G, Og, Cg*K)
    dcols = w_mat.transpose(0, 2, 1) @ _grouped(gy, groups)          # (G, Cg*K, N*L)
    dcols = dcols.reshape((groups, cin_g) + kernel_size + (batch,) + out_size)
    # col2im: tap by tap, add each strided slab back where its window read it.
    gx = np.zeros((batch, groups, cin_g) + tuple(in_size), dtype=gy.dtype)
    for tap in product(*map(range, kernel_size)):
        slab = np.moveaxis(dcols[(slice(None), slice(None)) + tap], 2, 0)  # (N, G, Cg, *out)
        dest = tuple(slice(t * d, t * d + (o - 1) * s + 1, s)
                     for t, d, o, s in zip(tap, dilation, out_size, stride))
        gx[(slice(None),) * 3 + dest] += slab
    return gx.reshape((batch, groups * cin_g) + tuple(in_size))


def window_max(xp: np.ndarray, kernel_size: tuple[int, ...], stride: tuple[int, ...],
               dilation: tuple[int, ...], out_size: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    nd = len(kernel_size)
    win = windows(xp, kernel_size, stride, dilation, out_size)
    flat = win.reshape(win.shape[: 2 + nd] + (-1,))                  # (N, C, *out, K)
    best = np.argmax(flat, axis=-1)                                   # first max; NaN wins, as in torch
    values = np.take_along_axis(flat, best[..., None], axis=-1)[..., 0]
    taps = np.unravel_index(best, kernel_size)
    grid = np.indices(out_size, sparse=True)
    src = tuple(g * s + t * d for g, t, s, d in zip(grid, taps, stride, dilation))
    return values, np.ravel_multi_index(src, xp.shape[2:])
