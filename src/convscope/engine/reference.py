"""The textbook backend: convolution as nested Python loops, nothing hidden.

This is the lesson's first layer, written to be read. Each function works on an input
that is already padded (see :mod:`padding`) and batched, and on any number of spatial
axes: ``itertools.product`` walks every output position and every kernel tap, so the
same four loops serve 1-d, 2-d and 3-d. It is slow by design; the ``numpy`` backend is
the same arithmetic vectorised, and the tests hold each to the other and to PyTorch.

The index of the input read by output position ``pos`` and kernel tap ``tap`` is, per
axis, ``pos * stride + tap * dilation``; group ``g`` sees input channels
``g * Cin_g ... (g + 1) * Cin_g - 1`` and owns output channels ``g * Cout_g ...``.
"""

from __future__ import annotations

from itertools import product

import numpy as np


def _source(pos: tuple[int, ...], tap: tuple[int, ...], stride: tuple[int, ...],
            dilation: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(p * s + t * d for p, t, s, d in zip(pos, tap, stride, dilation))


def conv_valid(xp: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
               groups: int, out_size: tuple[int, ...]) -> np.ndarray:
    """y[n, o, pos] = sum over c, tap of xp[n, c_g, pos*stride + tap*dilation] * w[o, c, tap]."""
    batch, out_channels, cin_g = xp.shape[0], w.shape[0], w.shape[1]
    cout_g = out_channels // groups
    y = np.zeros((batch, out_channels) + out_size, dtype=xp.dtype)
    for n in range(batch):
        for o in range(out_channels):
            group = o // cout_g
            for pos in product(*map(range, out_size)):            # slide the window
                total = 0.0
                for c in range(cin_g):                             # channels of the group
                    for tap in product(*map(range, w.shape[2:])):  # window positions
                        src = _source(pos, tap, stride, dilation)
                        total += float(xp[(n, group * cin_g + c) + src]) * float(w[(o, c) + tap])
                y[(n, o) + pos] = total
    return y


def conv_input_grad(gy: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
                    groups: int, in_size: tuple[int, ...]) -> np.ndarray:
    """Every input pixel receives grad * weight from each window that read it."""
    batch, out_channels, cin_g = gy.shape[0], w.shape[0], w.shape[1]
    cout_g = out_channels // groups
    gx = np.zeros((batch, cin_g * groups) + in_size, dtype=gy.dtype)
    for n in range(batch):
        for o in range(out_channels):
            group = o // cout_g
            for pos in product(*map(range, gy.shape[2:])):
                g = float(gy[(n, o) + pos])
                for c in range(cin_g):
                    for tap in product(*map(range, w.shape[2:])):
                        src = _source(pos, tap, stride, dilation)
                        gx[(n, group * cin_g + c) + src] += g * float(w[(o, c) + tap])
    return gx


def conv_weight_grad(gy: np.ndarray, xp: np.ndarray, kernel_size: tuple[int, ...],
                     stride: tuple[int, ...], dilation: tuple[int, ...], groups: int) -> np.ndarray:
    """Each weight receives grad * input summed over every position it was pressed at."""
    batch, out_channels = gy.shape[:2]
    cin_g = xp.shape[1] // groups
    cout_g = out_channels // groups
    gw = np.zeros((out_channels, cin_g) + kernel_size, dtype=gy.dtype)
    for o in range(out_channels):
        group = o // cout_g
        for c in range(cin_g):
            for tap in product(*map(range, kernel_size)):
                total = 0.0
                for n in range(batch):
                    for pos in product(*map(range, gy.shape[2:])):
                        src = _source(pos, tap, stride, dilation)
                        total += float(gy[(n, o) + pos]) * float(xp[(n, group * cin_g + c) + src])
                gw[(o, c) + tap] = total
    return gw


def window_max(xp: np.ndarray, kernel_size: tuple[int, ...], stride: tuple[int, ...],
               dilation: tuple[int, ...], out_size: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Max over each window, and the flat index (in the padded plane) of the first maximum.

    NaN counts as larger than any number, as in PyTorch.
    """
    batch, channels = xp.shape[:2]
    floats = xp.dtype.kind == "f"  # only floats hold NaN
    values = np.empty((batch, channels) + out_size, dtype=xp.dtype)
    where = np.empty((batch, channels) + out_size, dtype=np.int64)
    for n, c in product(range(batch), range(channels)):
        for pos in product(*map(range, out_size)):
            best, best_src = xp.flat[0], None  # best is set by the first tap
            for tap in product(*map(range, kernel_size)):
                src = _source(pos, tap, stride, dilation)
                value = xp[(n, c) + src]  # its own dtype: an int64 near 2**63 has no exact float
                if best_src is None or value > best or (floats and np.isnan(value) and not np.isnan(best)):
                    best, best_src = value, src
            values[(n, c) + pos] = best
            assert best_src is not None  # the first tap always sets it
            where[(n, c) + pos] = np.ravel_multi_index(best_src, xp.shape[2:])
    return values, where
