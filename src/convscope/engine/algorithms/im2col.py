"""im2col + GEMM, in cache-sized blocks written straight into the output.

The lesson's "conv becomes a giant matrix multiply": copy every window into a column,
then multiply by the weight matrix. Done naively, the column matrix of a whole batch is
many times the input (the ResNet stem's is 59 MB) and the product comes out in the
wrong axis order, so it costs two big copies besides the GEMM. Here the columns of a
block of images or output rows (:data:`BLOCK_BYTES`, about the size of the caches) are
copied into one reused scratch buffer and multiplied straight into the matching slice
of the output: the GEMM reads its columns from cache and the result needs no reordering.

It handles every configuration (any stride, dilation, groups and number of
dimensions), so it is the fallback the cost model can always choose.
"""

from __future__ import annotations

from math import prod

import numpy as np

from ..numpy_backend import windows
from . import Problem, machine

NAME = "im2col"
FUSES_BIAS = True
SUMMARY = "copy every window into a column, then one matrix multiply per cache-sized block"

BLOCK_BYTES = 2 * 2**20  # columns per GEMM: big enough for an efficient GEMM, small enough for the cache


def unsupported(problem: Problem) -> str | None:
    return None


def _blocks(p: Problem) -> tuple[int, int]:
    """(images per block, output rows per block): whole images when one fits a block,
    else one image in bands of rows along the first output axis."""
    row_bytes = p.nbytes(p.in_channels // p.groups, p.taps, *p.out_size[1:])
    image_bytes = row_bytes * p.out_size[0]
    if image_bytes <= BLOCK_BYTES:
        return max(1, min(p.batch, BLOCK_BYTES // max(1, image_bytes))), p.out_size[0]
    return 1, max(1, BLOCK_BYTES // max(1, row_bytes))


def cost(p: Problem) -> float:
    cols = p.batch * p.nbytes(p.in_channels, p.taps, *p.out_size)
    k, out_g = (p.in_channels // p.groups) * p.taps, p.out_channels // p.groups
    # BLAS runs thin products (a short inner dimension, few output rows) far below its peak
    rate = machine.GEMM_FLOPS * k / (k + 30) * out_g / (out_g + 4)
    images, rows = _blocks(p)
    calls = -(-p.batch // images) * -(-p.out_size[0] // rows) * p.groups
    # No channels (k or out_g 0) means no FLOPs and a rate of 0: cost the calls, not 0 / 0.
    gemm = p.flops / rate if p.flops else 0.0
    return cols / machine.CACHED_COPY_BYTES + gemm + calls * 3 * machine.CALL


def scratch(p: Problem) -> int:
    """Bytes of scratch: one block of columns."""
    images, rows = _blocks(p)
    return images * rows * p.nbytes(p.in_channels // p.groups, p.taps, *p.out_size[1:])


def conv_valid(xp: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
               groups: int, out_size: tuple[int, ...], bias: np.ndarray | None = None) -> np.ndarray:
    """The bias is added block by block, while the block's output is still in cache."""
    p = Problem.of(xp, w, stride, dilation, groups, out_size)
    nd, cin_g, out_g = p.nd, p.in_channels // groups, p.out_channels // groups
    k_len, row_len = cin_g * p.taps, prod(out_size[1:])
    images, rows = _blocks(p)
    win = windows(xp, p.kernel_size, stride, dilation, out_size)        # (N, C, *out, *k) view
    # column order (Cg, *k | n, *out) matches the weight matrix (Og, Cg*K) and the output
    order = (0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd))        # (n, Cg, *k, *out)
    out = np.empty((p.batch, p.out_channels, prod(out_size)), dtype=xp.dtype)  # (N, O, L)
    w_mat = w.reshape(groups, out_g, k_len)                              # (G, Og, Cg*K)
    buffer = np.empty(scratch(p) // p.itemsize, dtype=xp.dtype)
    for n0 in range(0, p.batch, images):
        n1 = min(p.batch, n0 + images)
        for r0 in range(0, out_size[0], rows):
            r1 = min(out_size[0], r0 + rows)
            span = (r1 - r0) * row_len
            for g in range(groups):
                src = win[n0:n1, g * cin_g:(g + 1) * cin_g, r0:r1].transpose(order)
                cols: np.ndarray = buffer[:src.size].reshape(src.shape)
                np.copyto(cols, src)
                dest = out[n0:n1, g * out_g:(g + 1) * out_g, r0 * row_len:r1 * row_len]  # (n, Og, span)
                np.matmul(w_mat[g], cols.reshape(n1 - n0, k_len, span), out=dest)
                if bias is not None:
                    dest += bias[g * out_g:(g + 1) * out_g, None]
    return out.reshape((p.batch, p.out_channels) + tuple(out_size))


def weight_grad(gy: np.ndarray, xp: np.ndarray, kernel_size: tuple[int, ...], stride: tuple[int, ...],
                dilation: tuple[int, ...], groups: int) -> np.ndarray:
    """grad_weight = grad_output @ columns.T, summed block by block over the same blocks as
    the forward pass, so no whole-batch column matrix is ever formed."""
    out_size = gy.shape[2:]
    w_shape = (gy.shape[1], xp.shape[1] // groups) + tuple(kernel_size)
    p = Problem(xp.shape[0], xp.shape[1], gy.shape[1], groups, tuple(xp.shape[2:]), tuple(kernel_size),
                tuple(stride), tuple(dilation), tuple(out_size), xp.dtype.itemsize)
    nd, cin_g, out_g = p.nd, p.in_channels // groups, p.out_channels // groups
    k_len, row_len = cin_g * p.taps, prod(out_size[1:])
    images, rows = _blocks(p)
    win = windows(xp, p.kernel_size, stride, dilation, out_size)        # (N, C, *out, *k) view
    order = (0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd))        # (n, Cg, *k, *out)
    g_flat = np.ascontiguousarray(gy).reshape(p.batch, p.out_channels, -1)  # (N, O, L)
    gw = np.zeros((groups, out_g, k_len), dtype=gy.dtype)
    buffer = np.empty(scratch(p) // p.itemsize, dtype=xp.dtype)
    for n0 in range(0, p.batch, images):
        n1 = min(p.batch, n0 + images)
        for r0 in range(0, out_size[0], rows):
            r1 = min(out_size[0], r0 + rows)
            for g in range(groups):
                src = win[n0:n1, g * cin_g:(g + 1) * cin_g, r0:r1].transpose(order)
                cols: np.ndarray = buffer[:src.size].reshape(src.shape)
                np.copyto(cols, src)
                cols = cols.reshape(n1 - n0, k_len, -1)                           # (n, Cg*K, span)
                grad = g_flat[n0:n1, g * out_g:(g + 1) * out_g, r0 * row_len:r1 * row_len]  # (n, Og, span)
                for i in range(n1 - n0):
                    gw[g] += grad[i] @ cols[i].T
    return gw.reshape(w_shape)
