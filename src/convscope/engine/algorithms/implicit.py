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

from ..workspace import chunks
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
    """The channel-major input copy, the partial sums and one GEMM result on the padded grid."""
    return p.nbytes(p.batch, p.in_channels, *p.padded_size) + 2 * p.nbytes(p.batch, p.out_channels,
                                                                            *p.padded_size)


def conv_valid(xp: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
               groups: int, out_size: tuple[int, ...]) -> np.ndarray:
    p = Problem.of(xp, w, stride, dilation, groups, out_size)
    batch, channels = xp.shape[:2]
    cg, og = channels // groups, w.shape[0] // groups
    plane = prod(p.padded_size)
    grid = [prod(p.padded_size[d + 1:]) for d in range(p.nd)]  # flat stride of each spatial axis
    length = _flat_length(p)
    # Channel-major: image n's plane sits at [n*plane, (n+1)*plane) of each channel's row, so
    # one tap's window over a run of images is a single slice: one big GEMM per tap, not one
    # per image (many small multithreaded GEMMs stall badly when a core is busy elsewhere).
    x_rows = np.ascontiguousarray(xp.reshape(batch, groups, cg, plane).transpose(1, 2, 0, 3))
    x_rows = x_rows.reshape(groups, cg, batch * plane)                         # (G, Cg, N*P)
    w_taps = np.ascontiguousarray(np.moveaxis(w.reshape(groups, og, cg, -1), -1, 0))  # (K, G, Og, Cg)
    offsets = [sum(t * d * g for t, d, g in zip(tap, dilation, grid))
               for tap in product(*map(range, p.kernel_size))]
    y = np.empty((batch, groups * og) + tuple(out_size), dtype=xp.dtype)
    item = xp.itemsize
    for part in chunks(batch, 2 * p.nbytes(groups, og, plane)):
        first, count = part.start, part.stop - part.start
        span = (count - 1) * plane + length                                   # this run's outputs
        acc = np.empty((groups, og, span), dtype=xp.dtype)                    # (G, Og, L_run)
        scratch = np.empty_like(acc)
        for k, off in enumerate(offsets):
            start = first * plane + off
            window = x_rows[:, :, start:start + span]                           # a view: no copy
            np.matmul(w_taps[k], window, out=acc if k == 0 else scratch)
            if k:
                acc += scratch
        # Pick the real outputs out of the padded grid: (n, C_out, *out_size).
        view = as_strided(acc, (count, groups * og) + tuple(out_size),
                          (plane * item, span * item) + tuple(g * item for g in grid))
        y[part] = view
    return y
