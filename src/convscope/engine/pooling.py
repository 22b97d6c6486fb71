"""Max and average pooling, forward and backward, with PyTorch's rules.

Average pooling *is* a convolution: a depthwise one with a kernel of ones, divided by
the window size. So it reuses the backend's convolution primitives. Max pooling needs
one more primitive, ``window_max``, which also says where each maximum was, and its
backward sends each gradient to that one pixel.

PyTorch's rules kept here: ``stride`` defaults to ``kernel_size``; padding is at most
half the kernel; max pooling pads with -inf; ``ceil_mode`` keeps a last partial window
unless it would start in the right padding; ``count_include_pad`` divides by the window
clipped to the padded input, otherwise by the real pixels it covers.
"""

from __future__ import annotations

import numpy as np

from .arithmetic import IntOrTuple
from .conv import ArrayLike
from .dispatch import as_array, batched, batched_grad_output, get_backend, unbatched
from .errors import ConvParameterError
from .padding import pad, pad_backward
from .validate import PoolSpec, pool_spec


def _prepare(op: str, nd: int, input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None,
             padding: IntOrTuple, dilation: IntOrTuple, ceil_mode: bool) -> tuple[np.ndarray, PoolSpec]:
    x = as_array(input, "input")
    spec = pool_spec(op, nd, x.shape, kernel_size, stride, padding, dilation, ceil_mode, itemsize=x.dtype.itemsize)
    return batched(x, spec.batched), spec


def _max(x: np.ndarray, spec: PoolSpec, backend: str) -> tuple[np.ndarray, np.ndarray]:
    """Values and flat indices into the *padded* plane."""
    if x.size == 0:  # an empty batch (the spec refuses the other empty axes)
        empty = (x.shape[0], x.shape[1]) + spec.output_size
        return np.zeros(empty, x.dtype), np.zeros(empty, np.int64)
    xp = pad(x, spec.padding, "zeros", value=-np.inf)
    return get_backend(backend).window_max(xp, spec.kernel_size, spec.stride, spec.dilation, spec.output_size)


def _unpadded_index(where: np.ndarray, spec: PoolSpec) -> np.ndarray:
    """Flat indices over the input plane, as torch returns them; -1 for a window of pure padding.

    With dilation a window can fall entirely on padding (its max is -inf). torch then
    returns an index outside the plane (and its backward writes into the neighbouring
    channel); convscope says -1 and sends that window's gradient nowhere.
    """
    padded = tuple(n + a + b for n, (a, b) in zip(spec.input_size, spec.padding))
    coords = [c - a for c, (a, _) in zip(np.unravel_index(where, padded), spec.padding)]
    inside = np.logical_and.reduce([(c >= 0) & (c < n) for c, n in zip(coords, spec.input_size)])
    flat = np.ravel_multi_index(tuple(np.clip(c, 0, n - 1) for c, n in zip(coords, spec.input_size)),
                                spec.input_size)
    return np.where(inside, flat, -1)


def _max_pool(op: str, nd: int, input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None,
              padding: IntOrTuple, dilation: IntOrTuple, ceil_mode: bool, return_indices: bool,
              backend: str) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    x, spec = _prepare(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode)
    values, where = _max(x, spec, backend)
    values = unbatched(values.astype(x.dtype, copy=False), spec.batched)
    if return_indices:
        return values, unbatched(_unpadded_index(where, spec), spec.batched)
    return values


def _max_pool_backward(op: str, nd: int, grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple,
                       stride: IntOrTuple | None, padding: IntOrTuple, dilation: IntOrTuple, ceil_mode: bool,
                       backend: str) -> np.ndarray:
    x, spec = _prepare(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode)
    gy = batched_grad_output(op, grad_output, x, spec.channels, spec.output_size, spec.batched)
    if x.size == 0:  # an empty batch: nothing to scatter (and no row count to reshape by)
        return unbatched(np.zeros(x.shape, x.dtype), spec.batched)
    _, where = _max(x, spec, backend)
    rows = x.shape[0] * x.shape[1]
    plane = int(np.prod([n + a + b for n, (a, b) in zip(spec.input_size, spec.padding)]))
    # Each output's gradient lands on its argmax; overlapping windows add up.
    target = (np.arange(rows).reshape(-1, 1) * plane + where.reshape(rows, -1)).ravel()
    grad_xp = np.bincount(target, weights=gy.ravel().astype(np.float64), minlength=rows * plane)
    grad_xp = grad_xp.reshape(x.shape[:2] + tuple(n + a + b for n, (a, b) in zip(spec.input_size, spec.padding)))
    return unbatched(pad_backward(grad_xp, spec.padding).astype(x.dtype), spec.batched)


def _divisor(spec: PoolSpec, count_include_pad: bool, divisor_override: int | None) -> np.ndarray | float:
    """Per-output divisor: a product over axes of how many positions the window counts."""
    if divisor_override is not None:
        return float(divisor_override)
    divisor: np.ndarray | float = 1.0
    for axis, (n, k, s, (p, _)) in enumerate(zip(spec.input_size, spec.kernel_size, spec.stride, spec.padding)):
        start = np.arange(spec.output_size[axis]) * s - p
        end = np.minimum(start + k, n + p)  # clipped to the padded input, not ceil_mode's overhang
        count = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        shape = [1] * spec.nd
        shape[axis] = -1
        divisor = divisor * count.reshape(shape)
    return divisor


def _ones(spec: PoolSpec, dtype: np.dtype) -> np.ndarray:
    return np.ones((spec.channels, 1) + spec.kernel_size, dtype=dtype)


def _avg_pool(op: str, nd: int, input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None,
              padding: IntOrTuple, ceil_mode: bool, count_include_pad: bool, divisor_override: int | None,
              backend: str) -> np.ndarray:
    x, spec = _prepare(op, nd, input, kernel_size, stride, padding, 1, ceil_mode)
    _check_override(op, divisor_override)
    if x.size == 0:
        return unbatched(np.zeros((x.shape[0], x.shape[1]) + spec.output_size, x.dtype), spec.batched)
    xp = pad(x, spec.padding)
    # A box filter, one per channel (groups = channels), then the divisor.
    sums = get_backend(backend).conv_valid(xp, _ones(spec, x.dtype), spec.stride, (1,) * nd, spec.channels,
                                           spec.output_size)
    y = sums / _divisor(spec, count_include_pad, divisor_override)
    return unbatched(y.astype(x.dtype, copy=False), spec.batched)


def _avg_pool_backward(op: str, nd: int, grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple,
                       stride: IntOrTuple | None, padding: IntOrTuple, ceil_mode: bool, count_include_pad: bool,
                       divisor_override: int | None, backend: str) -> np.ndarray:
    x, spec = _prepare(op, nd, input, kernel_size, stride, padding, 1, ceil_mode)
    _check_override(op, divisor_override)
    gy = batched_grad_output(op, grad_output, x, spec.channels, spec.output_size, spec.batched)
    if x.size == 0:
        return unbatched(np.zeros_like(x), spec.batched)
    scaled = (gy / _divisor(spec, count_include_pad, divisor_override)).astype(x.dtype, copy=False)
    padded = tuple(n + a + b for n, (a, b) in zip(spec.input_size, spec.padding))
    grad_xp = get_backend(backend).conv_input_grad(scaled, _ones(spec, x.dtype), spec.stride, (1,) * nd,
                                                   spec.channels, padded)
    return unbatched(pad_backward(grad_xp, spec.padding).astype(x.dtype, copy=False), spec.batched)


def _check_override(op: str, divisor_override: int | None) -> None:
    if divisor_override is not None and (isinstance(divisor_override, bool) or int(divisor_override) != divisor_override
                                         or divisor_override == 0):
        raise ConvParameterError(f"{op}: divisor_override must be a non-zero integer",
                                 got=f"divisor_override={divisor_override!r}", fix="pass None to divide by the window size")
