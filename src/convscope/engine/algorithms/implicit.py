"""Implicit GEMM on a flat padded layout: no im2col copy at stride 1.

Flatten each padded channel to one long row. At stride 1 the window tap (u, v) of
every output position is the same row shifted by ``u*dilation*W_padded + v*dilation``,
so each tap is one GEMM of the weight slice (C_out, C_in) with a *view* of the
input: kh*kw GEMMs, summed, and nothing copied. The output is computed on the padded
grid (its last columns are junk that wraps into the next row) and cropped at the end.
"""

from __future__ import annotations

from itertools import product
from math import prod

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import Problem, machine

NAME = "implicit"
SUMMARY = "one GEMM per kernel tap on shifted views of the flat padded input (stride 1, no copy)"


def unsupported(p: Problem) -> str | None:
    return None if p.unit_stride else "implicit GEMM needs stride 1 (strided windows are not contiguous)"


def _flat_length(p: Problem) -> int:
    """Positions of the flat padded grid that hold an output (plus the junk between rows)."""
    grid = [prod(p.padded_size[d + 1:]) for d in range(p.nd)]
    return sum((o - 1) * g for o, g in zip(p.out_size, grid)) + 1


def cost(p: Problem) -> float:
    length = _flat_length(p)
    cg, og = p.in_channels // p.groups, p.out_channels // p.groups
    gemm_flops = 2 * p.batch * p.out_channels * cg * length * p.taps
    rate = machine.GEMM_FLOPS if cg >= 32 and og >= 16 else machine.SMALL_GEMM_FLOPS * min(1.0, cg / 16)
    accumulate = p.taps * p.nbytes(p.batch, p.out_channels, length) * 3 / machine.STREAM_BYTES
    return gemm_flops / max(rate, 1e9) + accumulate + 3 * p.taps * machine.CALL * p.groups


def scratch(p: Problem) -> int:
    """The channel-major input copy and the outputs on the padded grid (the chunk sums are small)."""
    return p.nbytes(p.batch, p.in_channels, *p.padded_size) + 2 * p.nbytes(p.batch, p.out_channels,
                                                                            *p.padded_size)


CACHE_BYTES = 2**20  # partial sums of one chunk of positions: stays in L2 while 9 GEMMs add into it


def conv_valid(xp: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
               groups: int, out_size: tuple[int, ...]) -> np.ndarray:
    p = Problem.of(xp, w, stride, dilation, groups, out_size)
    batch, channels = xp.shape[:2]
    cg, og = channels // groups, w.shape[0] // groups
    plane = prod(p.padded_size)
    grid = [prod(p.padded_size[d + 1:]) for d in range(p.nd)]  # flat stride of each spatial axis
    # Channel-major: image n's plane sits at [n*plane, (n+1)*plane) of each channel's row, so a
    # tap's window over any run of positions, across images, is one slice of that row.
    x_rows = np.ascontiguousarray(xp.reshape(batch, groups, cg, plane).transpose(1, 2, 0, 3))
    x_rows = x_rows.reshape(groups, cg, batch * plane)                                # (G, Cg, N*P)
    w_taps = np.ascontiguousarray(np.moveaxis(w.reshape(groups, og, cg, -1), -1, 0))  # (K, G, Og, Cg)
    offsets = [sum(t * d * g for t, d, g in zip(tap, dilation, grid))
               for tap in product(*map(range, p.kernel_size))]
    total = (batch - 1) * plane + _flat_length(p)       # every position that holds an output
    y_rows = np.empty((groups, og, batch * plane), dtype=xp.dtype)                    # (G, Og, N*P)
    # Walk the positions in cache-sized runs: a tap's GEMM and the sum it adds into stay in
    # cache (one pass over a whole-image partial sum per tap is memory-bound on big images).
    step = max(256, CACHE_BYTES // (2 * groups * og * p.itemsize))
    acc = np.empty((groups, og, step), dtype=xp.dtype)
    scratch = np.empty_like(acc)
    for first in range(0, total, step):
        n = min(step, total - first)
        for k, off in enumerate(offsets):
            window = x_rows[:, :, first + off:first + off + n]                          # a view: no copy
            np.matmul(w_taps[k], window, out=acc[..., :n] if k == 0 else scratch[..., :n])
            if k:
                acc[..., :n] += scratch[..., :n]
        y_rows[..., first:first + n] = acc[..., :n]
    # Pick the real outputs out of the padded grid: (N, C_out, *out_size).
    item = xp.itemsize
    view = as_strided(y_rows, (batch, groups * og) + tuple(out_size),
                      (plane * item, batch * plane * item) + tuple(g * item for g in grid))
    return np.ascontiguousarray(view)
