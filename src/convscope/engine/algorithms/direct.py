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

import numba
import numpy as np

# numba's OpenMP threads spin after each parallel loop, starving the BLAS threads of the
# GEMM-based algorithms that often run next (measured: a 12 ms GEMM took over 1 s right
# after a numba loop). The work-queue layer sleeps instead of spinning, but it aborts the
# process when two threads launch parallel loops at once: see _launch.
numba.config.THREADING_LAYER = "workqueue"

from . import Problem, machine

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


# The 3x3 kernels walk each plane as one flat run over the padded grid: output p reads
# input p + u*dh*W + v*dw, so each tap is a shifted slice and one long loop vectorises
# (rows of 28 or 32 outputs are too short to). The W - out_w junk outputs between rows
# are computed and dropped. Bands of rows (about FLAT_BLOCK outputs) keep the sums in the
# L1 cache and the scratch small whatever the image size.
FLAT_BLOCK = 1024


def _three_by_three(xp, w, bias, y, groups, dh, dw):  # pragma: no cover - compiled
    """3x3, stride 1, any dilation, one output channel per task (depthwise layers)."""
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
            a = acc[:(i1 - i0 - 1) * width + out_w]  # the run of outputs rows i0..i1-1 span
            a[:] = bias[o]
            for c in range(cg):
                # slices, not j + offset: numba cannot prove j + offset >= 0, and its
                # wraparound check would stop the loop from vectorising
                x = xp[n, c0 + c].reshape(-1)[i0 * width:]
                s0, s1, s2 = x, x[dw:], x[2 * dw:]
                s3, s4, s5 = x[dh * width:], x[dh * width + dw:], x[dh * width + 2 * dw:]
                s6, s7, s8 = x[2 * dh * width:], x[2 * dh * width + dw:], x[2 * dh * width + 2 * dw:]
                k = w[o, c]
                k0, k1, k2, k3, k4 = k[0, 0], k[0, 1], k[0, 2], k[1, 0], k[1, 1]
                k5, k6, k7, k8 = k[1, 2], k[2, 0], k[2, 1], k[2, 2]
                for j in range(a.size):
                    a[j] += (k0 * s0[j] + k1 * s1[j] + k2 * s2[j] + k3 * s3[j] + k4 * s4[j]
                             + k5 * s5[j] + k6 * s6[j] + k7 * s7[j] + k8 * s8[j])
            for i in range(i0, i1):
                y[n, o, i, :] = acc[(i - i0) * width:(i - i0) * width + out_w]


def _three_by_three_x4(xp, w, bias, y, groups, dh, dw):  # pragma: no cover - compiled
    """As :func:`_three_by_three`, four output channels per task: each input load feeds 36
    multiplies instead of 9 (about 30% faster when channels per group are a multiple of 4).
    ``w`` is (O, Cg, 9)."""
    batch, out_channels, out_h, out_w = y.shape
    cg, width = w.shape[1], xp.shape[3]
    og = out_channels // groups
    quads = out_channels // 4
    rows = max(1, FLAT_BLOCK // width)
    for task in numba.prange(batch * quads):
        n, o = task // quads, (task % quads) * 4
        c0 = (o // og) * cg
        acc = np.empty((4, rows * width), y.dtype)
        for i0 in range(0, out_h, rows):
            i1 = min(out_h, i0 + rows)
            span = (i1 - i0 - 1) * width + out_w
            a0, a1, a2, a3 = acc[0, :span], acc[1, :span], acc[2, :span], acc[3, :span]
            a0[:], a1[:], a2[:], a3[:] = bias[o], bias[o + 1], bias[o + 2], bias[o + 3]
            for c in range(cg):
                x = xp[n, c0 + c].reshape(-1)[i0 * width:]
                s0, s1, s2 = x, x[dw:], x[2 * dw:]
                s3, s4, s5 = x[dh * width:], x[dh * width + dw:], x[dh * width + 2 * dw:]
                s6, s7, s8 = x[2 * dh * width:], x[2 * dh * width + dw:], x[2 * dh * width + 2 * dw:]
                # the 36 weights as scalars: read through an array, they would be reloaded
                # every iteration (the compiler cannot rule out that the sums alias them)
                p0, q0, r0, t0 = w[o, c, 0], w[o + 1, c, 0], w[o + 2, c, 0], w[o + 3, c, 0]
                p1, q1, r1, t1 = w[o, c, 1], w[o + 1, c, 1], w[o + 2, c, 1], w[o + 3, c, 1]
                p2, q2, r2, t2 = w[o, c, 2], w[o + 1, c, 2], w[o + 2, c, 2], w[o + 3, c, 2]
                p3, q3, r3, t3 = w[o, c, 3], w[o + 1, c, 3], w[o + 2, c, 3], w[o + 3, c, 3]
                p4, q4, r4, t4 = w[o, c, 4], w[o + 1, c, 4], w[o + 2, c, 4], w[o + 3, c, 4]
                p5, q5, r5, t5 = w[o, c, 5], w[o + 1, c, 5], w[o + 2, c, 5], w[o + 3, c, 5]
                p6, q6, r6, t6 = w[o, c, 6], w[o + 1, c, 6], w[o + 2, c, 6], w[o + 3, c, 6]
                p7, q7, r7, t7 = w[o, c, 7], w[o + 1, c, 7], w[o + 2, c, 7], w[o + 3, c, 7]
                p8, q8, r8, t8 = w[o, c, 8], w[o + 1, c, 8], w[o + 2, c, 8], w[o + 3, c, 8]
                for j in range(span):
                    v0, v1, v2, v3, v4 = s0[j], s1[j], s2[j], s3[j], s4[j]
                    v5, v6, v7, v8 = s5[j], s6[j], s7[j], s8[j]
                    a0[j] += (p0 * v0 + p1 * v1 + p2 * v2 + p3 * v3 + p4 * v4
                              + p5 * v5 + p6 * v6 + p7 * v7 + p8 * v8)
                    a1[j] += (q0 * v0 + q1 * v1 + q2 * v2 + q3 * v3 + q4 * v4
                              + q5 * v5 + q6 * v6 + q7 * v7 + q8 * v8)
                    a2[j] += (r0 * v0 + r1 * v1 + r2 * v2 + r3 * v3 + r4 * v4
                              + r5 * v5 + r6 * v6 + r7 * v7 + r8 * v8)
                    a3[j] += (t0 * v0 + t1 * v1 + t2 * v2 + t3 * v3 + t4 * v4
                              + t5 * v5 + t6 * v6 + t7 * v7 + t8 * v8)
            for q in range(4):
                for i in range(i0, i1):
                    y[n, o + q, i, :] = acc[q, (i - i0) * width:(i - i0) * width + out_w]


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

# One thread at a time may use the work queue; a thread that finds it busy runs the serial
# copy, which releases the GIL (nogil), so concurrent callers still use every core: each
# runs on its own. (TBB's layer is thread-safe, but PyPI's tbb wheel puts libtbb.so.12 in
# the venv's lib/, which the loader never searches without LD_LIBRARY_PATH set before
# Python starts; OpenMP spins, as said above.)
_WORK_QUEUE = threading.Lock()


def _launch(kernel: tuple, parallel: bool, *args: object) -> None:
    """Run the parallel copy of ``kernel`` when it is worth it and the work queue is free, else the serial one."""
    if parallel and _WORK_QUEUE.acquire(blocking=False):
        try:
            kernel[0](*args)
        finally:
            _WORK_QUEUE.release()
    else:
        kernel[1](*args)
_GENERAL, _THREE_BY_THREE = _compiled(_general), _compiled(_three_by_three)
_THREE_BY_THREE_X4 = _compiled(_three_by_three_x4)


def conv_valid(xp: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
               groups: int, out_size: tuple[int, ...], bias: np.ndarray | None = None) -> np.ndarray:
    """The loops start each sum at the bias: no second pass over the output to add it."""
    y = np.empty((xp.shape[0], w.shape[0]) + tuple(out_size), dtype=xp.dtype)
    w = np.ascontiguousarray(w, dtype=xp.dtype)
    xp = np.ascontiguousarray(xp)
    bias = np.zeros(w.shape[0], xp.dtype) if bias is None else np.ascontiguousarray(bias, dtype=xp.dtype)
    parallel = 2 * y.size * w[0].size >= PARALLEL_MIN_FLOPS
    if w.shape[2:] == (3, 3) and tuple(stride) == (1, 1):
        if (w.shape[0] // groups) % 4 == 0:
            _launch(_THREE_BY_THREE_X4, parallel, xp, w.reshape(w.shape[0], w.shape[1], 9), bias, y, groups,
                    *dilation)
        else:
            _launch(_THREE_BY_THREE, parallel, xp, w, bias, y, groups, *dilation)
    else:
        _launch(_GENERAL, parallel, xp, w, bias, y, groups, stride[0], stride[1], dilation[0], dilation[1])
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


def compile_all(dtype: type = np.float32) -> None:
    """Compile (or load from numba's cache) every kernel, parallel and serial, for ``dtype``.

    A timing harness calls this first: which copy runs depends on the problem's size, so
    a small warm-up call would leave the parallel copies to compile inside a timed call.
    """
    x, w, b = np.zeros((1, 4, 5, 5), dtype), np.zeros((4, 4, 3, 3), dtype), np.zeros(4, dtype)
    y, gw = np.empty((1, 4, 3, 3), dtype), np.empty((4, 4, 3, 3), dtype)
    with _WORK_QUEUE:  # the parallel copies are called directly here
        for which in (0, 1):
            _GENERAL[which](x, w, b, y, 1, 1, 1, 1, 1)
            _THREE_BY_THREE[which](x, w, b, y, 1, 1, 1)
            _THREE_BY_THREE_X4[which](x, w.reshape(4, 4, 9), b, y, 1, 1, 1)
            _WEIGHT_GRAD[which](y, x, gw, 1, 1, 1, 1, 1)


def weight_grad(gy: np.ndarray, xp: np.ndarray, kernel_size: tuple[int, ...], stride: tuple[int, ...],
                dilation: tuple[int, ...], groups: int) -> np.ndarray:
    """The weight gradient by compiled loops: the fast route for depthwise layers."""
    gw = np.empty((gy.shape[1], xp.shape[1] // groups) + tuple(kernel_size), dtype=gy.dtype)
    _launch(_WEIGHT_GRAD, 2 * gy.size * gw[0].size >= PARALLEL_MIN_FLOPS, np.ascontiguousarray(gy),
            np.ascontiguousarray(xp), gw, groups, stride[0], stride[1], dilation[0], dilation[1])
    return gw
