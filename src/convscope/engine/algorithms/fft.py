"""FFT convolution: multiply in the frequency domain, sum channels there, transform back once.

A k x k kernel costs k*k multiply-adds per output pixel directly, but an FFT costs
about log(H*W) per pixel whatever k is, so large kernels (a 31x31 blur) are far
cheaper this way. Cross-correlation is convolution with the flipped kernel; dilation
spreads the kernel with zeros; stride subsamples the full result.
"""

from __future__ import annotations

import os
from math import log2, prod

import numpy as np
import scipy.fft

from ..workspace import chunks
from . import Problem, machine

NAME = "fft"
SUMMARY = "rfft of input and kernel, channel sum in the frequency domain, one inverse rfft"
WORKERS = os.cpu_count() or 1


def _fft_shape(p: Problem) -> tuple[int, ...]:
    return tuple(scipy.fft.next_fast_len(n, real=True) for n in p.padded_size)


# scipy.fft refuses longer transforms (ValueError, or OverflowError past ssize_t); the
# cost model asks every algorithm, so an absurd size must be "unsupported", not a crash.
MAX_LENGTH = 2**40


def unsupported(p: Problem) -> str | None:
    if any(n > MAX_LENGTH for n in p.padded_size):
        return f"FFT lengths stop at 2**40 (got {p.padded_size})"
    return None


def cost(p: Problem) -> float:
    shape = _fft_shape(p)
    points = prod(shape)
    transforms = p.batch * p.in_channels + p.out_channels * (p.in_channels // p.groups) + p.batch * p.out_channels
    fft_time = transforms * points * log2(max(points, 2)) / (machine.FFT_POINTS * 20)
    # Complex multiply-accumulate over input channels, half spectrum, 8 real flops each.
    mac_time = 8 * p.batch * p.out_channels * (p.in_channels // p.groups) * points / 2 / machine.SMALL_GEMM_FLOPS
    return fft_time + mac_time + 10 * machine.CALL


def scratch(p: Problem) -> int:
    """Half-spectra of inputs, kernels and outputs (complex), and the inverse transform."""
    points = prod(_fft_shape(p))
    spectra = (p.batch * p.in_channels + p.out_channels * (p.in_channels // p.groups)
               + p.batch * p.out_channels) * points // 2 * 2 * p.itemsize
    return spectra + p.nbytes(p.batch, p.out_channels, points)


def conv_valid(xp: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
               groups: int, out_size: tuple[int, ...]) -> np.ndarray:
    p = Problem.of(xp, w, stride, dilation, groups, out_size)
    axes = tuple(range(-p.nd, 0))
    batch, channels = xp.shape[:2]
    cg, og = channels // groups, w.shape[0] // groups
    shape = _fft_shape(p)
    # Dilate the kernel with zeros, flip it (correlation = convolution with the flipped kernel).
    span = tuple(d * (k - 1) + 1 for k, d in zip(p.kernel_size, dilation))
    kernel = np.zeros(w.shape[:2] + span, dtype=w.dtype)
    kernel[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in dilation)] = w
    kernel = np.flip(kernel, axis=axes)
    w_hat = scipy.fft.rfftn(kernel, shape, axes=axes, workers=WORKERS)        # (O, Cg, *F)
    w_hat = w_hat.reshape((groups, og, cg) + w_hat.shape[2:])
    # The full convolution at index span-1+i is the correlation at i; keep every stride-th.
    keep = tuple(slice(s - 1, s - 1 + (o - 1) * st + 1, st) for s, o, st in zip(span, out_size, stride))
    y = np.empty((batch, groups * og) + tuple(out_size), dtype=xp.dtype)
    spectrum_bytes = 2 * p.itemsize * prod(w_hat.shape[3:]) * (channels + groups * og)
    for part in chunks(batch, spectrum_bytes):
        x_hat = scipy.fft.rfftn(xp[part], shape, axes=axes, workers=WORKERS)  # (n, C, *F)
        x_hat = x_hat.reshape((x_hat.shape[0], groups, cg) + x_hat.shape[2:])
        # Sum over input channels per frequency: (n, G, Cg, F) x (G, Og, Cg, F) -> (n, G, Og, F).
        y_hat = np.einsum("ngc...,goc...->ngo...", x_hat, w_hat, optimize=True)
        y_hat = y_hat.reshape((y_hat.shape[0], groups * og) + y_hat.shape[3:])
        full = scipy.fft.irfftn(y_hat, shape, axes=axes, workers=WORKERS)
        y[part] = full[(slice(None), slice(None)) + keep]
    return y
