"""Max and average pooling, forward and backward, with PyTorch's rules.

Average pooling *is* a convolution: a depthwise one with a kernel of ones, divided by
the window size. So it reuses the backend's convolution primitives. Max pooling needs
one more primitive, ``window_max``, which also says where each maximum was, and its
backward sends each gradient to that one pixel.

Lp pooling is a convolution too: the box filter summing ``|x|**p``, then the p-th root.

PyTorch's rules kept here: ``stride`` defaults to ``kernel_size``; an int padding is at most
half the kernel; max pooling pads with -inf (the smallest integer for integer input);
``ceil_mode`` keeps a last partial window unless it would start in the right padding;
``count_include_pad`` divides by the window's taps inside the padded input, otherwise by
the real pixels it covers.

Beyond torch (ONNX's rules): padding per side, or "same_upper"/"same_lower", may exceed half the
kernel, so a window may hold only padding. Its max is -inf (index -1), its average without
the padding is NaN (the mean of no pixels, as ONNX's reference computes it), its Lp norm 0;
none of them passes a gradient back. Average pooling may be dilated; its divisor counts taps.
Max pooling keeps integer and bool dtypes (bool: the window's logical or); average and Lp
pooling return float32 for them, since a mean or a root is not an integer.
"""

from __future__ import annotations

import numpy as np

from .arithmetic import IntOrTuple, Padding
from .conv import ArrayLike
from .dispatch import as_array, batched, batched_grad_output, get_backend, unbatched
from .errors import ConvParameterError
from .padding import pad, pad_backward
from .validate import PoolSpec, pool_spec


def _prepare(op: str, nd: int, input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None,
             padding: Padding, dilation: IntOrTuple, ceil_mode: bool,
             keep_integers: bool = False) -> tuple[np.ndarray, PoolSpec]:
    x = _integer_array(input) if keep_integers else None
    if x is None:
        x = as_array(input, "input")
    spec = pool_spec(op, nd, x.shape, kernel_size, stride, padding, dilation, ceil_mode, itemsize=x.dtype.itemsize)
    return batched(x, spec.batched), spec


def _integer_array(value: ArrayLike) -> np.ndarray | None:
    """An integer or bool NumPy array or torch tensor as a NumPy array of its own dtype; None otherwise
    (floats, and nested lists, which become float32 as everywhere in the engine)."""
    if hasattr(value, "detach") and hasattr(value, "cpu") and not value.is_floating_point() \
            and not value.is_complex():
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray) and (np.issubdtype(value.dtype, np.integer) or value.dtype == bool):
        return value
    return None


def _lowest(dtype: np.dtype) -> int | float:
    """What max pooling pads with: below every value of the dtype."""
    return int(np.iinfo(dtype).min) if np.issubdtype(dtype, np.integer) else -np.inf


def _max(x: np.ndarray, spec: PoolSpec, backend: str) -> tuple[np.ndarray, np.ndarray]:
    """Values and flat indices into the *padded* plane."""
    if x.size == 0:  # an empty batch (the spec refuses the other empty axes)
        empty = (x.shape[0], x.shape[1]) + spec.output_size
        return np.zeros(empty, x.dtype), np.zeros(empty, np.int64)
    if x.dtype == bool:  # the max of bools is their logical or; the backends compare numbers
        values, where = _max(x.view(np.uint8), spec, backend)
        return values.astype(bool), where
    xp = pad(x, spec.padding, "zeros", value=_lowest(x.dtype))
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
              padding: Padding, dilation: IntOrTuple, ceil_mode: bool, return_indices: bool,
              backend: str) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    x, spec = _prepare(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, keep_integers=True)
    values, where = _max(x, spec, backend)
    values = unbatched(values.astype(x.dtype, copy=False), spec.batched)
    if return_indices:
        return values, unbatched(_unpadded_index(where, spec), spec.batched)
    return values


def _max_pool_backward(op: str, nd: int, grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple,
                       stride: IntOrTuple | None, padding: Padding, dilation: IntOrTuple, ceil_mode: bool,
                       backend: str) -> np.ndarray:
    x, spec = _prepare(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode)
    gy = batched_grad_output(op, grad_output, x, spec.channels, spec.output_size, spec.batched)
    if x.size == 0:  # an empty batch: nothing to scatter (and no row count to reshape by)
        return unbatched(np.zeros(x.shape, x.dtype), spec.batched)
    exact = _integer_array(input)  # find the argmax in the input's own dtype: an int64 above 2**53 is no float
    _, where = _max(x if exact is None else batched(exact, spec.batched), spec, backend)
    rows = x.shape[0] * x.shape[1]
    plane = int(np.prod([n + a + b for n, (a, b) in zip(spec.input_size, spec.padding)]))
    # Each output's gradient lands on its argmax; overlapping windows add up.
    target = (np.arange(rows).reshape(-1, 1) * plane + where.reshape(rows, -1)).ravel()
    grad_xp = np.bincount(target, weights=gy.ravel().astype(np.float64), minlength=rows * plane)
    grad_xp = grad_xp.reshape(x.shape[:2] + tuple(n + a + b for n, (a, b) in zip(spec.input_size, spec.padding)))
    return unbatched(pad_backward(grad_xp, spec.padding).astype(x.dtype), spec.batched)


def _divisor(spec: PoolSpec, count_include_pad: bool, divisor_override: int | None) -> np.ndarray | float:
    """Per-output divisor: a product over axes of how many of the window's taps it counts."""
    if divisor_override is not None:
        return float(divisor_override)
    divisor: np.ndarray | float = 1.0
    for axis, (n, k, s, d, (before, after)) in enumerate(zip(spec.input_size, spec.kernel_size, spec.stride,
                                                              spec.dilation, spec.asked_padding)):
        taps = (np.arange(spec.output_size[axis]) * s - before)[:, None] + np.arange(k) * d  # (out, k), input coords
        # inside the padded input (not ceil_mode's overhang), or only the real pixels
        counted = taps < n + after if count_include_pad else (taps >= 0) & (taps < n)
        shape = [1] * spec.nd
        shape[axis] = -1
        divisor = divisor * counted.sum(axis=1).reshape(shape)
    return divisor


def _ones(spec: PoolSpec, dtype: np.dtype) -> np.ndarray:
    return np.ones((spec.channels, 1) + spec.kernel_size, dtype=dtype)


def _window_sums(x: np.ndarray, spec: PoolSpec, backend: str) -> np.ndarray:
    """Each window's sum: a box filter per channel (groups = channels) on the zero-padded input."""
    return get_backend(backend).conv_valid(pad(x, spec.padding), _ones(spec, x.dtype), spec.stride, spec.dilation,
                                           spec.channels, spec.output_size)


def _spread(g: np.ndarray, x: np.ndarray, spec: PoolSpec, backend: str) -> np.ndarray:
    """The adjoint of :func:`_window_sums`: each window's gradient to every input position it summed."""
    padded = tuple(n + a + b for n, (a, b) in zip(spec.input_size, spec.padding))
    grad_xp = get_backend(backend).conv_input_grad(g.astype(x.dtype, copy=False), _ones(spec, x.dtype), spec.stride,
                                                   spec.dilation, spec.channels, padded)
    return pad_backward(grad_xp, spec.padding)


def _avg_pool(op: str, nd: int, input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None,
              padding: Padding, ceil_mode: bool, count_include_pad: bool, divisor_override: int | None,
              backend: str, dilation: IntOrTuple = 1) -> np.ndarray:
    x, spec = _prepare(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode)
    _check_override(op, divisor_override)
    if x.size == 0:
        return unbatched(np.zeros((x.shape[0], x.shape[1]) + spec.output_size, x.dtype), spec.batched)
    with np.errstate(invalid="ignore"):  # 0 / 0: a window of padding only, without counting padding: NaN
        y = _window_sums(x, spec, backend) / _divisor(spec, count_include_pad, divisor_override)
    return unbatched(y.astype(x.dtype, copy=False), spec.batched)


def _avg_pool_backward(op: str, nd: int, grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple,
                       stride: IntOrTuple | None, padding: Padding, ceil_mode: bool, count_include_pad: bool,
                       divisor_override: int | None, backend: str, dilation: IntOrTuple = 1) -> np.ndarray:
    x, spec = _prepare(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode)
    _check_override(op, divisor_override)
    gy = batched_grad_output(op, grad_output, x, spec.channels, spec.output_size, spec.batched)
    if x.size == 0:
        return unbatched(np.zeros_like(x), spec.batched)
    divisor = _divisor(spec, count_include_pad, divisor_override)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(np.asarray(divisor) != 0, gy / divisor, 0.0)  # a window of no pixel passes nothing back
    return unbatched(_spread(scaled, x, spec, backend).astype(x.dtype, copy=False), spec.batched)


def _check_norm(op: str, norm_type: float) -> float:
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float, np.number)) \
            or not np.isfinite(norm_type) or norm_type < 1:
        raise ConvParameterError(f"{op}: norm_type must be a finite number >= 1", expected="p >= 1 (1: sum of |x|, "
                                 "2: Euclidean norm)", got=f"norm_type={norm_type!r}",
                                 fix="use norm_type=2; for p = infinity, max-pool the absolute values")
    return float(norm_type)


def _lp_sums(op: str, nd: int, input: ArrayLike, norm_type: float, kernel_size: IntOrTuple,
             stride: IntOrTuple | None, padding: Padding, dilation: IntOrTuple, ceil_mode: bool,
             backend: str) -> tuple[np.ndarray, PoolSpec, float, np.ndarray]:
    """The input, its spec, p, and each window's sum of |x|**p (never below 0: a fast algorithm's
    rounding could make a sum of non-negative numbers slightly negative)."""
    p = _check_norm(op, norm_type)
    x, spec = _prepare(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode)
    if x.size == 0:
        return x, spec, p, np.zeros((x.shape[0], x.shape[1]) + spec.output_size, x.dtype)
    return x, spec, p, np.maximum(_window_sums(np.abs(x) ** p, spec, backend), 0)


def _lp_pool(op: str, nd: int, input: ArrayLike, norm_type: float, kernel_size: IntOrTuple,
             stride: IntOrTuple | None, ceil_mode: bool, padding: Padding, dilation: IntOrTuple,
             backend: str) -> np.ndarray:
    x, spec, p, sums = _lp_sums(op, nd, input, norm_type, kernel_size, stride, padding, dilation, ceil_mode, backend)
    return unbatched((sums ** (1 / p)).astype(x.dtype, copy=False), spec.batched)


def _lp_pool_backward(op: str, nd: int, grad_output: ArrayLike, input: ArrayLike, norm_type: float,
                      kernel_size: IntOrTuple, stride: IntOrTuple | None, ceil_mode: bool, padding: Padding,
                      dilation: IntOrTuple, backend: str) -> np.ndarray:
    x, spec, p, sums = _lp_sums(op, nd, input, norm_type, kernel_size, stride, padding, dilation, ceil_mode, backend)
    gy = batched_grad_output(op, grad_output, x, spec.channels, spec.output_size, spec.batched)
    if x.size == 0:
        return unbatched(np.zeros_like(x), spec.batched)
    # y = S**(1/p) with S = sum |x|**p:  dy/dx = y / S * |x|**(p-1) * sign(x); a window of zeros passes nothing
    with np.errstate(divide="ignore", invalid="ignore"):
        per_window = np.where(sums > 0, gy * sums ** (1 / p) / sums, 0.0)
    grad = _spread(per_window, x, spec, backend) * np.abs(x) ** (p - 1) * np.sign(x)
    return unbatched(grad.astype(x.dtype, copy=False), spec.batched)


def _check_override(op: str, divisor_override: int | None) -> None:
    if divisor_override is not None and (isinstance(divisor_override, bool) or int(divisor_override) != divisor_override
                                         or divisor_override == 0):
        raise ConvParameterError(f"{op}: divisor_override must be a non-zero integer",
                                 got=f"divisor_override={divisor_override!r}",
                                 fix="pass None to divide by the window size")
