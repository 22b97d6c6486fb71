"""Direct convolution compiled with numba: the textbook loops, run at machine speed.

The same arithmetic as the reference backend, reordered so the innermost loop walks
one output row with a single weight held in a register (the compiler vectorises it),
and parallel over (image, output channel) planes. It wins where a GEMM has nothing to
chew on: tiny inputs, depthwise convolutions (one input channel per output), and
layers with one or two input channels.
"""

from __future__ import annotations

import types

import numba
import numpy as np

# numba's OpenMP threads spin after each parallel loop, starving the BLAS threads of the
# GEMM-based algorithms that often run next (measured: a 12 ms GEMM took over 1 s right
# after a numba loop). The work-queue layer sleeps instead of spinning.
numba.config.THREADING_LAYER = "workqueue"

from . import Problem, machine

NAME = "direct"
FUSES_BIAS = True
SUMMARY = "the nested loops compiled by numba, vectorised along each output row, parallel over planes"


def unsupported(p: Problem) -> str | None:
    return None if p.nd == 2 else "the compiled direct loops are written for 2-d convolutions"


def cost(p: Problem) -> float:
    three = p.kernel_size == (3, 3) and p.unit_stride and all(d == 1 for d in p.dilation)
    cin_g = p.in_channels // p.groups
    # each output pixel's loads and stores are shared by fewer multiplies when channels are few
    rate = machine.JIT_3X3_FLOPS * cin_g / (cin_g + 3) if three else machine.JIT_FLOPS
    if p.out_size[-1] < 8:
        rate *= 0.3  # rows too short to vectorise
    return p.flops / rate + 3 * machine.CALL


def scratch(p: Problem) -> int:
    """One row buffer per thread: nothing worth counting."""
    return 0


def _general(xp, w, bias, y, groups, sh, sw, dh, dw):  # pragma: no cover - compiled
    """Any kernel, stride and dilation: one output row at a time, summed in a local buffer.

    The buffer cannot alias the input, so the compiler vectorises the innermost loop.
    """
    batch, out_channels, out_h, out_w = y.shape
    cg, kh, kw = w.shape[1], w.shape[2], w.shape[3]
    og = out_channels // groups
    for plane in numba.prange(batch * out_channels):
        n, o = plane // out_channels, plane % out_channels
        c0 = (o // og) * cg
        acc = np.empty(out_w, dtype=y.dtype)
        for i in range(out_h):
            acc[:] = bias[o]
            for c in range(cg):
                for u in range(kh):
                    row = xp[n, c0 + c, i * sh + u * dh]
                    for v in range(kw):
                        weight = w[o, c, u, v]
                        for j in range(out_w):
                            acc[j] += weight * row[j * sw + v * dw]
            y[n, o, i, :] = acc


def _three_by_three(xp, w, bias, y, groups):  # pragma: no cover - compiled
    """3x3, stride 1, dilation 1 (the depthwise layers of MobileNet): the nine weights of
    each channel sit in registers and each output row is one vectorised pass."""
    batch, out_channels, out_h, out_w = y.shape
    cg = w.shape[1]
    og = out_channels // groups
    for plane in numba.prange(batch * out_channels):
        n, o = plane // out_channels, plane % out_channels
        c0 = (o // og) * cg
        out = y[n, o]
        out[:, :] = bias[o]
        for c in range(cg):
            x = xp[n, c0 + c]
            k = w[o, c]
            w00, w01, w02 = k[0, 0], k[0, 1], k[0, 2]
            w10, w11, w12 = k[1, 0], k[1, 1], k[1, 2]
            w20, w21, w22 = k[2, 0], k[2, 1], k[2, 2]
            for i in range(out_h):
                r0, r1, r2, dest = x[i], x[i + 1], x[i + 2], out[i]
                for j in range(out_w):
                    dest[j] += (w00 * r0[j] + w01 * r0[j + 1] + w02 * r0[j + 2]
                                + w10 * r1[j] + w11 * r1[j + 1] + w12 * r1[j + 2]
                                + w20 * r2[j] + w21 * r2[j + 1] + w22 * r2[j + 2])


def _compiled(kernel):  # type: ignore[no-untyped-def]
    """The kernel twice: parallel over planes, and serial (prange runs as range) for small work,
    where waking the thread pool costs more than the loops (~35 us with the work queue).

    numba's on-disk cache is keyed by the function's name and signature, not by ``parallel``,
    so the serial copy must be a function of another name: with the same name, a cached
    parallel build was loaded for the serial one (measured: 80 us instead of 0.3 us on 5x5).
    """
    serial = types.FunctionType(kernel.__code__, kernel.__globals__, kernel.__name__ + "_serial",
                                kernel.__defaults__, kernel.__closure__)
    serial.__qualname__ = kernel.__qualname__ + "_serial"
    options = dict(cache=True, fastmath=True, nogil=True)
    return numba.njit(parallel=True, **options)(kernel), numba.njit(**options)(serial)


PARALLEL_MIN_FLOPS = 2_000_000
_GENERAL, _THREE_BY_THREE = _compiled(_general), _compiled(_three_by_three)


def conv_valid(xp: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
               groups: int, out_size: tuple[int, ...], bias: np.ndarray | None = None) -> np.ndarray:
    """The loops start each sum at the bias: no second pass over the output to add it."""
    y = np.empty((xp.shape[0], w.shape[0]) + tuple(out_size), dtype=xp.dtype)
    w = np.ascontiguousarray(w, dtype=xp.dtype)
    xp = np.ascontiguousarray(xp)
    bias = np.zeros(w.shape[0], xp.dtype) if bias is None else np.ascontiguousarray(bias, dtype=xp.dtype)
    which = 0 if 2 * y.size * w[0].size >= PARALLEL_MIN_FLOPS else 1
    if w.shape[2:] == (3, 3) and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1):
        _THREE_BY_THREE[which](xp, w, bias, y, groups)
    else:
        _GENERAL[which](xp, w, bias, y, groups, stride[0], stride[1], dilation[0], dilation[1])
    return y


def _weight_grad_loops(gy, xp, gw, groups, sh, sw, dh, dw):  # pragma: no cover - compiled
    """gw[o, c, u, v] = sum over n, i, j of gy[n, o, i, j] * xp[n, c_g, i*sh + u*dh, j*sw + v*dw]."""
    batch, out_channels, out_h, out_w = gy.shape
    cg, kh, kw = gw.shape[1], gw.shape[2], gw.shape[3]
    og = out_channels // groups
    for pair in numba.prange(out_channels * cg):
        o, c = pair // cg, pair % cg
        channel = (o // og) * cg + c
        for u in range(kh):
            for v in range(kw):
                total = 0.0  # float64 across rows; each row's sum stays in the input's type so it vectorises
                for n in range(batch):
                    for i in range(out_h):
                        g_row = gy[n, o, i]
                        x_row = xp[n, channel, i * sh + u * dh, v * dw:]  # sliced: no wraparound check
                        row = g_row[0] * 0
                        if sw == 1:
                            for j in range(out_w):
                                row += g_row[j] * x_row[j]
                        else:
                            for j in range(out_w):
                                row += g_row[j] * x_row[j * sw]
                        total += row
                gw[o, c, u, v] = total


_WEIGHT_GRAD = _compiled(_weight_grad_loops)


def weight_grad(gy: np.ndarray, xp: np.ndarray, kernel_size: tuple[int, ...], stride: tuple[int, ...],
                dilation: tuple[int, ...], groups: int) -> np.ndarray:
    """The weight gradient by compiled loops: the fast route for depthwise layers."""
    gw = np.empty((gy.shape[1], xp.shape[1] // groups) + tuple(kernel_size), dtype=gy.dtype)
    which = 0 if 2 * gy.size * gw[0].size >= PARALLEL_MIN_FLOPS else 1
    _WEIGHT_GRAD[which](np.ascontiguousarray(gy), np.ascontiguousarray(xp), gw, groups, stride[0], stride[1],
                 dilation[0], dilation[1])
    return gw
