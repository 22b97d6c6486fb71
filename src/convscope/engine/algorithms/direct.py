"""Direct convolution compiled with numba: the textbook loops, run at machine speed.

The same arithmetic as the reference backend, reordered so the innermost loop walks
a run of outputs with the weights held in registers (the compiler vectorises it, with
AVX-512 where the CPU has it, which the BLAS here is not allowed to use), and parallel
over (image, output channel) planes. It wins where a GEMM has little to chew on: tiny
inputs, depthwise convolutions, layers with few input channels, and 3x3 layers of
a few dozen channels.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable

import numba
import numpy as np
from numpy.typing import DTypeLike

# numba's OpenMP threads spin after each parallel loop, starving the BLAS threads of the
# GEMM-based algorithms that often run next (measured: a 12 ms GEMM took over 1 s right
# after a numba loop). The work-queue layer sleeps instead of spinning, but it aborts the
# process when two threads launch parallel loops at once: see _launch. (numba.config fills its
# settings in from the environment at run time, so its type stubs do not declare them.)
numba.config.THREADING_LAYER = "workqueue"  # type: ignore[attr-defined]  # a run-time setting

from . import Problem, machine  # noqa: E402 - after the threading layer is chosen

NAME = "direct"
FUSES_BIAS = True
SUMMARY = "the nested loops compiled by numba, vectorised along each output row, parallel over planes"


def unsupported(p: Problem) -> str | None:
    return None if p.nd == 2 else "the compiled direct loops are written for 2-d convolutions"


def cost(p: Problem) -> float:
    three = p.kernel_size == (3, 3) and p.unit_stride
    cin_g = max(1, p.in_channels // p.groups)  # an empty problem still gets a finite cost
    # each output pixel's loads and stores are shared by fewer multiplies when channels are few
    rate = machine.JIT_3X3_FLOPS * cin_g / (cin_g + 4) if three else machine.JIT_FLOPS
    if p.out_size[-1] < 8:
        rate *= 0.3  # rows too short to vectorise
    return p.flops / rate + 3 * machine.CALL


def scratch(p: Problem) -> int:
    """One row buffer per thread: nothing worth counting."""
    return 0


def _general(xp: np.ndarray, w: np.ndarray, bias: np.ndarray, y: np.ndarray,  # pragma: no cover - compiled
             groups: int, sh: int, sw: int, dh: int, dw: int) -> None:
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


# The 3x3 kernels walk each plane as one flat run over the padded grid: output p reads
# input p + u*dh*W + v*dw, so each tap is a shifted slice and one long loop vectorises
# (rows of 28 or 32 outputs are too short to). The W - out_w junk outputs between rows
# are computed and dropped. Bands of rows (about FLAT_BLOCK outputs) keep the sums in the
# L1 cache and the scratch small whatever the image size.
FLAT_BLOCK = 1024


@numba.njit(cache=True, fastmath=True, nogil=True)
def _store_rows(run: np.ndarray, plane: np.ndarray, i0: int, i1: int,  # pragma: no cover - compiled
                width: int, out_w: int) -> None:
    """Rows i0..i1-1 of an output plane from a flat run with row pitch ``width``. An explicit
    loop, not a slice assignment per row: numba's slice copy costs more than a short row."""
    for i in range(i0, i1):
        src, dst = run[(i - i0) * width:], plane[i]
        for j in range(out_w):
            dst[j] = src[j]


# The weights are unpacked into scalars: read through the array inside the loop, they would
# be reloaded every step (the compiler cannot rule out that the sums alias them) and the loop
# would not vectorise (measured: 10 GFLOP/s instead of 70 on one core). Each sum is three
# partial sums of three taps: one chain of nine dependent multiply-adds would leave the FMA
# units waiting on each other. (The same code through small helper functions returning
# tuples ran 30% slower in the parallel build, so it is written out.) The taps are slices,
# not x[j + offset]: numba cannot prove j + offset >= 0, and its wraparound check would stop
# the loop from vectorising.


def _three_by_three(xp: np.ndarray, w: np.ndarray, bias: np.ndarray, y: np.ndarray,  # pragma: no cover - compiled
                    groups: int, dh: int, dw: int) -> None:
    """3x3, stride 1, any dilation, one output channel per task (depthwise layers); ``w`` is (O, Cg, 9)."""
    batch, out_channels, out_h, out_w = y.shape
    cg, width = w.shape[1], xp.shape[3]
    og = out_channels // groups
    rows = max(1, FLAT_BLOCK // width)
    for plane in numba.prange(batch * out_channels):
        n, o = plane // out_channels, plane % out_channels
        c0 = (o // og) * cg
        acc = np.empty(rows * width, y.dtype)
        for i0 in range(0, out_h, rows):
            i1 = min(out_h, i0 + rows)
            a0 = acc[:(i1 - i0 - 1) * width + out_w]  # the run of outputs rows i0..i1-1 cover
            a0[:] = bias[o]
            for c in range(cg):
                x = xp[n, c0 + c].reshape(-1)[i0 * width:]
                s0, s1, s2 = x, x[dw:], x[2 * dw:]
                s3, s4, s5 = x[dh * width:], x[dh * width + dw:], x[dh * width + 2 * dw:]
                s6, s7, s8 = x[2 * dh * width:], x[2 * dh * width + dw:], x[2 * dh * width + 2 * dw:]
                w00, w01, w02, w03, w04, w05, w06, w07, w08 = w[o, c]
                for j in range(a0.size):
                    v0, v1, v2, v3, v4 = s0[j], s1[j], s2[j], s3[j], s4[j]
                    v5, v6, v7, v8 = s5[j], s6[j], s7[j], s8[j]
                    a0[j] += ((w00 * v0 + w01 * v1 + w02 * v2) + (w03 * v3 + w04 * v4 + w05 * v5)
                              + (w06 * v6 + w07 * v7 + w08 * v8))
            _store_rows(acc, y[n, o], i0, i1, width, out_w)


def _three_by_three_x4(xp: np.ndarray, w: np.ndarray, bias: np.ndarray, y: np.ndarray,  # pragma: no cover - compiled
                       groups: int, dh: int, dw: int) -> None:
    """As :func:`_three_by_three`, four output channels per task (channels per group a multiple
    of 4): each input load feeds 36 multiplies instead of 9."""
    batch, out_channels, out_h, out_w = y.shape
    cg, width = w.shape[1], xp.shape[3]
    og = out_channels // groups
    tasks = out_channels // 4
    rows = max(1, FLAT_BLOCK // width)
    for task in numba.prange(batch * tasks):
        n, o = task // tasks, (task % tasks) * 4
        c0 = (o // og) * cg
        acc = np.empty((4, rows * width), y.dtype)
        for i0 in range(0, out_h, rows):
            i1 = min(out_h, i0 + rows)
            span = (i1 - i0 - 1) * width + out_w  # the run of outputs rows i0..i1-1 cover
            a0, a1, a2, a3 = acc[0, :span], acc[1, :span], acc[2, :span], acc[3, :span]
            for q in range(4):
                acc[q, :span] = bias[o + q]
            for c in range(cg):
                x = xp[n, c0 + c].reshape(-1)[i0 * width:]
                s0, s1, s2 = x, x[dw:], x[2 * dw:]
                s3, s4, s5 = x[dh * width:], x[dh * width + dw:], x[dh * width + 2 * dw:]
                s6, s7, s8 = x[2 * dh * width:], x[2 * dh * width + dw:], x[2 * dh * width + 2 * dw:]
                w00, w01, w02, w03, w04, w05, w06, w07, w08 = w[o, c]
                w10, w11, w12, w13, w14, w15, w16, w17, w18 = w[o + 1, c]
                w20, w21, w22, w23, w24, w25, w26, w27, w28 = w[o + 2, c]
                w30, w31, w32, w33, w34, w35, w36, w37, w38 = w[o + 3, c]
                for j in range(span):
                    v0, v1, v2, v3, v4 = s0[j], s1[j], s2[j], s3[j], s4[j]
                    v5, v6, v7, v8 = s5[j], s6[j], s7[j], s8[j]
                    a0[j] += ((w00 * v0 + w01 * v1 + w02 * v2) + (w03 * v3 + w04 * v4 + w05 * v5)
                              + (w06 * v6 + w07 * v7 + w08 * v8))
                    a1[j] += ((w10 * v0 + w11 * v1 + w12 * v2) + (w13 * v3 + w14 * v4 + w15 * v5)
                              + (w16 * v6 + w17 * v7 + w18 * v8))
                    a2[j] += ((w20 * v0 + w21 * v1 + w22 * v2) + (w23 * v3 + w24 * v4 + w25 * v5)
                              + (w26 * v6 + w27 * v7 + w28 * v8))
                    a3[j] += ((w30 * v0 + w31 * v1 + w32 * v2) + (w33 * v3 + w34 * v4 + w35 * v5)
                              + (w36 * v6 + w37 * v7 + w38 * v8))
            for q in range(4):
                _store_rows(acc[q], y[n, o + q], i0, i1, width, out_w)


def _three_by_three_x8(xp: np.ndarray, w: np.ndarray, bias: np.ndarray, y: np.ndarray,  # pragma: no cover - compiled
                       groups: int, dh: int, dw: int) -> None:
    """Eight output channels per task (channels per group a multiple of 8): 72 multiplies per
    input load. The weights no longer fit the registers; the multiply-adds read them from the
    L1 cache. Measured on 8x64x56x56: 149 GFLOP/s against 129 with four and 93 with one."""
    batch, out_channels, out_h, out_w = y.shape
    cg, width = w.shape[1], xp.shape[3]
    og = out_channels // groups
    tasks = out_channels // 8
    rows = max(1, FLAT_BLOCK // width)
    for task in numba.prange(batch * tasks):
        n, o = task // tasks, (task % tasks) * 8
        c0 = (o // og) * cg
        acc = np.empty((8, rows * width), y.dtype)
        for i0 in range(0, out_h, rows):
            i1 = min(out_h, i0 + rows)
            span = (i1 - i0 - 1) * width + out_w  # the run of outputs rows i0..i1-1 cover
            a0, a1, a2, a3 = acc[0, :span], acc[1, :span], acc[2, :span], acc[3, :span]
            a4, a5, a6, a7 = acc[4, :span], acc[5, :span], acc[6, :span], acc[7, :span]
            for q in range(8):
                acc[q, :span] = bias[o + q]
            for c in range(cg):
                x = xp[n, c0 + c].reshape(-1)[i0 * width:]
                s0, s1, s2 = x, x[dw:], x[2 * dw:]
                s3, s4, s5 = x[dh * width:], x[dh * width + dw:], x[dh * width + 2 * dw:]
                s6, s7, s8 = x[2 * dh * width:], x[2 * dh * width + dw:], x[2 * dh * width + 2 * dw:]
                w00, w01, w02, w03, w04, w05, w06, w07, w08 = w[o, c]
                w10, w11, w12, w13, w14, w15, w16, w17, w18 = w[o + 1, c]
                w20, w21, w22, w23, w24, w25, w26, w27, w28 = w[o + 2, c]
                w30, w31, w32, w33, w34, w35, w36, w37, w38 = w[o + 3, c]
                w40, w41, w42, w43, w44, w45, w46, w47, w48 = w[o + 4, c]
                w50, w51, w52, w53, w54, w55, w56, w57, w58 = w[o + 5, c]
                w60, w61, w62, w63, w64, w65, w66, w67, w68 = w[o + 6, c]
                w70, w71, w72, w73, w74, w75, w76, w77, w78 = w[o + 7, c]
                for j in range(span):
                    v0, v1, v2, v3, v4 = s0[j], s1[j], s2[j], s3[j], s4[j]
                    v5, v6, v7, v8 = s5[j], s6[j], s7[j], s8[j]
                    a0[j] += ((w00 * v0 + w01 * v1 + w02 * v2) + (w03 * v3 + w04 * v4 + w05 * v5)
                              + (w06 * v6 + w07 * v7 + w08 * v8))
                    a1[j] += ((w10 * v0 + w11 * v1 + w12 * v2) + (w13 * v3 + w14 * v4 + w15 * v5)
                              + (w16 * v6 + w17 * v7 + w18 * v8))
                    a2[j] += ((w20 * v0 + w21 * v1 + w22 * v2) + (w23 * v3 + w24 * v4 + w25 * v5)
                              + (w26 * v6 + w27 * v7 + w28 * v8))
                    a3[j] += ((w30 * v0 + w31 * v1 + w32 * v2) + (w33 * v3 + w34 * v4 + w35 * v5)
                              + (w36 * v6 + w37 * v7 + w38 * v8))
                    a4[j] += ((w40 * v0 + w41 * v1 + w42 * v2) + (w43 * v3 + w44 * v4 + w45 * v5)
                              + (w46 * v6 + w47 * v7 + w48 * v8))
                    a5[j] += ((w50 * v0 + w51 * v1 + w52 * v2) + (w53 * v3 + w54 * v4 + w55 * v5)
                              + (w56 * v6 + w57 * v7 + w58 * v8))
                    a6[j] += ((w60 * v0 + w61 * v1 + w62 * v2) + (w63 * v3 + w64 * v4 + w65 * v5)
                              + (w66 * v6 + w67 * v7 + w68 * v8))
                    a7[j] += ((w70 * v0 + w71 * v1 + w72 * v2) + (w73 * v3 + w74 * v4 + w75 * v5)
                              + (w76 * v6 + w77 * v7 + w78 * v8))
            for q in range(8):
                _store_rows(acc[q], y[n, o + q], i0, i1, width, out_w)


def _compiled(kernel: Callable[..., None]) -> tuple[Callable[..., None], Callable[..., None]]:
    """The kernel twice: parallel over planes, and serial (prange runs as range) for small work,
    where waking the thread pool costs more than the loops (~35 us with the work queue).

    numba's on-disk cache is keyed by the function's name and signature, not by ``parallel``,
    so the serial copy must be a function of another name: with the same name, a cached
    parallel build was loaded for the serial one (measured: 80 us instead of 0.3 us on 5x5).
    """
    serial = types.FunctionType(kernel.__code__, kernel.__globals__, kernel.__name__ + "_serial",
                                kernel.__defaults__, kernel.__closure__)
    serial.__qualname__ = kernel.__qualname__ + "_serial"
    parallel = numba.njit(parallel=True, cache=True, fastmath=True, nogil=True)(kernel)
    return parallel, numba.njit(cache=True, fastmath=True, nogil=True)(serial)


PARALLEL_MIN_FLOPS = 2_000_000

# One thread at a time may use the work queue; a thread that finds it busy runs the serial
# copy, which releases the GIL (nogil), so concurrent callers still use every core: each
# runs on its own. (TBB's layer is thread-safe, but PyPI's tbb wheel puts libtbb.so.12 in
# the venv's lib/, which the loader never searches without LD_LIBRARY_PATH set before
# Python starts; OpenMP spins, as said above.)
_WORK_QUEUE = threading.Lock()


def _launch(kernel: tuple[Callable[..., None], Callable[..., None]], parallel: bool, *args: object) -> None:
    """Run the parallel copy of ``kernel`` when it is worth it and the work queue is free, else the serial one."""
    if parallel and _WORK_QUEUE.acquire(blocking=False):
        try:
            kernel[0](*args)
        finally:
            _WORK_QUEUE.release()
    else:
        kernel[1](*args)
_GENERAL = _compiled(_general)
_THREE_BY_THREE_X8, _THREE_BY_THREE_X4 = _compiled(_three_by_three_x8), _compiled(_three_by_three_x4)
_THREE_BY_THREE = _compiled(_three_by_three)


def conv_valid(xp: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
               groups: int, out_size: tuple[int, ...], bias: np.ndarray | None = None) -> np.ndarray:
    """The loops start each sum at the bias: no second pass over the output to add it."""
    y = np.empty((xp.shape[0], w.shape[0]) + tuple(out_size), dtype=xp.dtype)
    w = np.ascontiguousarray(w, dtype=xp.dtype)
    xp = np.ascontiguousarray(xp)
    bias = np.zeros(w.shape[0], xp.dtype) if bias is None else np.ascontiguousarray(bias, dtype=xp.dtype)
    parallel = 2 * y.size * w[0].size >= PARALLEL_MIN_FLOPS
    if w.shape[2:] == (3, 3) and tuple(stride) == (1, 1):
        per_group = w.shape[0] // groups  # the widest kernel whose channels per task divide it
        kernel = _THREE_BY_THREE_X8 if per_group % 8 == 0 else _THREE_BY_THREE_X4 if per_group % 4 == 0 \
            else _THREE_BY_THREE
        _launch(kernel, parallel, xp, w.reshape(w.shape[0], w.shape[1], 9), bias, y, groups, *dilation)
    else:
        _launch(_GENERAL, parallel, xp, w, bias, y, groups, stride[0], stride[1], dilation[0], dilation[1])
    return y


def _weight_grad_loops(gy: np.ndarray, xp: np.ndarray, gw: np.ndarray,  # pragma: no cover - compiled
                       groups: int, sh: int, sw: int, dh: int, dw: int) -> None:
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


def _weight_grad_3x3(gy: np.ndarray, xp: np.ndarray, gw: np.ndarray,  # pragma: no cover - compiled
                     groups: int, dh: int, dw: int) -> None:
    """The same sums for a 3x3 stride-1 kernel (``gw`` is (O, Cg, 9)), on the flat runs of the
    forward kernels: each image's grad_output plane is first laid on the padded grid (zeros in
    the W - out_w junk columns), so the nine taps are nine shifted slices of one long run and
    one loop of nine vectorised sums does them all (rows of 56 are too short to vectorise well)."""
    batch, out_channels, out_h, out_w = gy.shape
    cg, width = gw.shape[1], xp.shape[3]
    og = out_channels // groups
    span = (out_h - 1) * width + out_w
    for pair in numba.prange(out_channels * cg):
        o, c = pair // cg, pair % cg
        channel = (o // og) * cg + c
        g = np.zeros(span, gy.dtype)
        total = np.zeros(9)  # float64 across images; each image's sums stay in the input's type so they vectorise
        for n in range(batch):
            for i in range(out_h):
                g_row, dst = gy[n, o, i], g[i * width:]
                for j in range(out_w):
                    dst[j] = g_row[j]
            x = xp[n, channel].reshape(-1)
            s0, s1, s2 = x, x[dw:], x[2 * dw:]
            s3, s4, s5 = x[dh * width:], x[dh * width + dw:], x[dh * width + 2 * dw:]
            s6, s7, s8 = x[2 * dh * width:], x[2 * dh * width + dw:], x[2 * dh * width + 2 * dw:]
            zero = g[0] * 0
            r0, r1, r2, r3, r4, r5, r6, r7, r8 = zero, zero, zero, zero, zero, zero, zero, zero, zero
            for j in range(span):
                a = g[j]
                r0 += a * s0[j]
                r1 += a * s1[j]
                r2 += a * s2[j]
                r3 += a * s3[j]
                r4 += a * s4[j]
                r5 += a * s5[j]
                r6 += a * s6[j]
                r7 += a * s7[j]
                r8 += a * s8[j]
            total[0] += r0
            total[1] += r1
            total[2] += r2
            total[3] += r3
            total[4] += r4
            total[5] += r5
            total[6] += r6
            total[7] += r7
            total[8] += r8
        for t in range(9):
            gw[o, c, t] = total[t]


_WEIGHT_GRAD, _WEIGHT_GRAD_3X3 = _compiled(_weight_grad_loops), _compiled(_weight_grad_3x3)


def compile_all(dtype: DTypeLike = np.float32) -> None:
    """Compile (or load from numba's cache) every kernel, parallel and serial, for ``dtype``.

    A timing harness calls this first: which copy runs depends on the problem's size, so
    a small warm-up call would leave the parallel copies to compile inside a timed call.
    """
    x, w, b = np.zeros((1, 4, 5, 5), dtype), np.zeros((4, 4, 3, 3), dtype), np.zeros(4, dtype)
    y, gw = np.empty((1, 4, 3, 3), dtype), np.empty((4, 4, 3, 3), dtype)
    x8, w8, b8, y8 = x, np.zeros((8, 4, 9), dtype), np.zeros(8, dtype), np.empty((1, 8, 3, 3), dtype)
    with _WORK_QUEUE:  # the parallel copies are called directly here
        for which in (0, 1):
            _GENERAL[which](x, w, b, y, 1, 1, 1, 1, 1)
            for kernel in (_THREE_BY_THREE_X8, _THREE_BY_THREE_X4, _THREE_BY_THREE):
                kernel[which](x8, w8, b8, y8, 1, 1, 1)
            _WEIGHT_GRAD[which](y, x, gw, 1, 1, 1, 1, 1)
            _WEIGHT_GRAD_3X3[which](y, x, gw.reshape(4, 4, 9), 1, 1, 1)


def weight_grad(gy: np.ndarray, xp: np.ndarray, kernel_size: tuple[int, ...], stride: tuple[int, ...],
                dilation: tuple[int, ...], groups: int) -> np.ndarray:
    """The weight gradient by compiled loops: the fast route for depthwise layers."""
    gw = np.empty((gy.shape[1], xp.shape[1] // groups) + tuple(kernel_size), dtype=gy.dtype)
    parallel = 2 * gy.size * gw[0].size >= PARALLEL_MIN_FLOPS
    gy, xp = np.ascontiguousarray(gy), np.ascontiguousarray(xp)
    if tuple(kernel_size) == (3, 3) and tuple(stride) == (1, 1):
        _launch(_WEIGHT_GRAD_3X3, parallel, gy, xp, gw.reshape(gw.shape[0], gw.shape[1], 9), groups, *dilation)
    else:
        _launch(_WEIGHT_GRAD, parallel, gy, xp, gw, groups, stride[0], stride[1], dilation[0], dilation[1])
    return gw
