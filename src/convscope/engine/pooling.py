"""Public pooling functions, with PyTorch's names, argument order and defaults; the computation
and its rules are in :mod:`convscope.engine.pooling_rules`."""

from __future__ import annotations

import numpy as np

from .arithmetic import IntOrTuple, Padding
from .conv import ArrayLike
from .pooling_rules import _avg_pool, _avg_pool_backward, _lp_pool, _lp_pool_backward, _max_pool, _max_pool_backward

MaxResult = np.ndarray | tuple[np.ndarray, np.ndarray]


def max_pool1d(input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: Padding = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False, *, backend: str = "auto") -> MaxResult:
    """1-d max pooling (``torch.nn.functional.max_pool1d``); see :func:`max_pool2d`.

    >>> max_pool1d([[1., 3., 2., 5., 4.]], 2)
    array([[3., 5.]], dtype=float32)
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, backend)


def max_pool2d(input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: Padding = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False, *, backend: str = "auto") -> MaxResult:
    """2-d max pooling: the largest value in each window (``torch.nn.functional.max_pool2d``).

    Parameters
    ----------
    input
        (N, C, H, W) or (C, H, W).
    kernel_size
        Window size, int or (kH, kW).
    stride
        Defaults to ``kernel_size`` (non-overlapping windows).
    padding
        Implicit -inf border: an int (both sides, at most ``kernel_size // 2`` as in torch), one
        (before, after) pair per axis, e.g. ``((0, 1), (1, 0))``, or "same_upper" / "same_lower"
        (ONNX's auto_pad: ``ceil(in / stride)`` outputs); pairs and strings may pad more than half
        the kernel, and a window of padding only gives -inf (index -1).
    dilation
        Spacing between window taps.
    ceil_mode
        Round the output size up, keeping a last partial window.
    return_indices
        Also return, for each output, the flat index (over H*W) of its maximum.
    backend
        "reference", "numpy", "torch" or "auto".

    Returns
    -------
    numpy.ndarray, or (values, indices)
        (N, C, H_out, W_out); ``out = floor((in + 2*padding - dilation*(k-1) - 1)/stride) + 1``.
        Integer and bool input keep their dtype (bool: a window's logical or), as torch keeps
        integers; floats other than float64 become float32.

    Examples
    --------
    >>> x = np.array([[[1., 2., 5., 0.], [3., 4., 1., 1.], [0., 0., 2., 2.], [9., 0., 2., 3.]]])
    >>> max_pool2d(x, 2)
    array([[[4., 5.],
            [9., 3.]]])
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, backend)


def max_pool3d(input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: Padding = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False, *, backend: str = "auto") -> MaxResult:
    """3-d max pooling (``torch.nn.functional.max_pool3d``); see :func:`max_pool2d`."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, backend)


def avg_pool1d(input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: Padding = 0, ceil_mode: bool = False, count_include_pad: bool = True, *,
               dilation: IntOrTuple = 1, backend: str = "auto") -> np.ndarray:
    """1-d average pooling (``torch.nn.functional.avg_pool1d``); see :func:`avg_pool2d`.

    >>> avg_pool1d([[1., 3., 2., 6.]], 2)
    array([[2., 4.]], dtype=float32)
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     None, backend, dilation)


def avg_pool2d(input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: Padding = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None, *, dilation: IntOrTuple = 1,
               backend: str = "auto") -> np.ndarray:
    """2-d average pooling: the mean of each window (``torch.nn.functional.avg_pool2d``).

    Parameters
    ----------
    input
        (N, C, H, W) or (C, H, W).
    kernel_size, stride, padding, ceil_mode
        As in :func:`max_pool2d` (zero padding here).
    count_include_pad
        Count padded zeros in the divisor (torch's default) or only real pixels. A window with
        no real pixel (possible with per-side or "same_*" padding) then averages to NaN.
    dilation
        Spacing between window taps (beyond torch; ONNX's ``dilations``); the divisor counts taps.
    divisor_override
        Divide every window by this number instead.
    backend
        "reference", "numpy", "torch" or "auto".

    Returns
    -------
    numpy.ndarray
        (N, C, H_out, W_out).

    Examples
    --------
    With padding, the corner window holds one real pixel and three padded zeros:

    >>> x = np.full((1, 2, 2), 4.0)
    >>> avg_pool2d(x, 2, padding=1)[0, 0, 0], avg_pool2d(x, 2, padding=1, count_include_pad=False)[0, 0, 0]
    (np.float64(1.0), np.float64(4.0))
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, backend, dilation)


def avg_pool3d(input: ArrayLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: Padding = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None, *, dilation: IntOrTuple = 1,
               backend: str = "auto") -> np.ndarray:
    """3-d average pooling (``torch.nn.functional.avg_pool3d``); see :func:`avg_pool2d`."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, backend, dilation)


def max_pool1d_backward(grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple,
                        stride: IntOrTuple | None = None, padding: Padding = 0, dilation: IntOrTuple = 1,
                        ceil_mode: bool = False, *, backend: str = "auto") -> np.ndarray:
    """Gradient of :func:`max_pool1d` with respect to its input."""
    return _max_pool_backward("max_pool1d_backward", 1, grad_output, input, kernel_size, stride, padding,
                              dilation, ceil_mode, backend)


def max_pool2d_backward(grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple,
                        stride: IntOrTuple | None = None, padding: Padding = 0, dilation: IntOrTuple = 1,
                        ceil_mode: bool = False, *, backend: str = "auto") -> np.ndarray:
    """Gradient of :func:`max_pool2d`: each output's gradient goes to its window's (first) maximum.

    >>> max_pool2d_backward(np.ones((1, 1, 1)), [[[1., 7.], [3., 2.]]], 2)
    array([[[0., 1.],
            [0., 0.]]], dtype=float32)
    """
    return _max_pool_backward("max_pool2d_backward", 2, grad_output, input, kernel_size, stride, padding,
                              dilation, ceil_mode, backend)


def max_pool3d_backward(grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple,
                        stride: IntOrTuple | None = None, padding: Padding = 0, dilation: IntOrTuple = 1,
                        ceil_mode: bool = False, *, backend: str = "auto") -> np.ndarray:
    """Gradient of :func:`max_pool3d` with respect to its input."""
    return _max_pool_backward("max_pool3d_backward", 3, grad_output, input, kernel_size, stride, padding,
                              dilation, ceil_mode, backend)


def avg_pool1d_backward(grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple,
                        stride: IntOrTuple | None = None, padding: Padding = 0, ceil_mode: bool = False,
                        count_include_pad: bool = True, *, dilation: IntOrTuple = 1,
                        backend: str = "auto") -> np.ndarray:
    """Gradient of :func:`avg_pool1d` with respect to its input."""
    return _avg_pool_backward("avg_pool1d_backward", 1, grad_output, input, kernel_size, stride, padding,
                              ceil_mode, count_include_pad, None, backend, dilation)


def avg_pool2d_backward(grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple,
                        stride: IntOrTuple | None = None, padding: Padding = 0, ceil_mode: bool = False,
                        count_include_pad: bool = True, divisor_override: int | None = None, *,
                        dilation: IntOrTuple = 1, backend: str = "auto") -> np.ndarray:
    """Gradient of :func:`avg_pool2d`: each output's gradient is shared equally by its window.

    >>> avg_pool2d_backward(np.ones((1, 1, 1)), np.zeros((1, 2, 2)), 2)
    array([[[0.25, 0.25],
            [0.25, 0.25]]])
    """
    return _avg_pool_backward("avg_pool2d_backward", 2, grad_output, input, kernel_size, stride, padding,
                              ceil_mode, count_include_pad, divisor_override, backend, dilation)


def avg_pool3d_backward(grad_output: ArrayLike, input: ArrayLike, kernel_size: IntOrTuple,
                        stride: IntOrTuple | None = None, padding: Padding = 0, ceil_mode: bool = False,
                        count_include_pad: bool = True, divisor_override: int | None = None, *,
                        dilation: IntOrTuple = 1, backend: str = "auto") -> np.ndarray:
    """Gradient of :func:`avg_pool3d` with respect to its input."""
    return _avg_pool_backward("avg_pool3d_backward", 3, grad_output, input, kernel_size, stride, padding,
                              ceil_mode, count_include_pad, divisor_override, backend, dilation)


def lp_pool1d(input: ArrayLike, norm_type: float, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
              ceil_mode: bool = False, *, padding: Padding = 0, dilation: IntOrTuple = 1,
              backend: str = "auto") -> np.ndarray:
    """1-d Lp pooling; see :func:`lp_pool2d`.

    >>> lp_pool1d([[3., -4., 1.]], 2, 2, stride=1)
    array([[5.       , 4.1231055]], dtype=float32)
    """
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode, padding, dilation, backend)


def lp_pool2d(input: ArrayLike, norm_type: float, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
              ceil_mode: bool = False, *, padding: Padding = 0, dilation: IntOrTuple = 1,
              backend: str = "auto") -> np.ndarray:
    """2-d Lp pooling: ``(sum over the window of |x|**p) ** (1/p)``, ONNX's LpPool.

    torch's ``lp_pool2d`` has the same arguments up to ``ceil_mode`` but raises x (not |x|)
    to the power, so an odd p with negative input gives NaN there; and it has no padding or
    dilation. Zero padding adds nothing to a window's sum.

    Parameters
    ----------
    input
        (N, C, H, W) or (C, H, W).
    norm_type
        p >= 1: 1 sums |x|, 2 is the Euclidean norm of the window.
    kernel_size, stride, ceil_mode, padding, dilation
        As in :func:`max_pool2d` (``stride`` defaults to ``kernel_size``).

    Returns
    -------
    numpy.ndarray
        (N, C, H_out, W_out).

    Examples
    --------
    >>> lp_pool2d([[[3., 0.], [0., -4.]]], 2, 2)
    array([[[5.]]], dtype=float32)
    """
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode, padding, dilation, backend)


def lp_pool3d(input: ArrayLike, norm_type: float, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
              ceil_mode: bool = False, *, padding: Padding = 0, dilation: IntOrTuple = 1,
              backend: str = "auto") -> np.ndarray:
    """3-d Lp pooling; see :func:`lp_pool2d`."""
    return _lp_pool("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode, padding, dilation, backend)


def lp_pool1d_backward(grad_output: ArrayLike, input: ArrayLike, norm_type: float, kernel_size: IntOrTuple,
                       stride: IntOrTuple | None = None, ceil_mode: bool = False, *, padding: Padding = 0,
                       dilation: IntOrTuple = 1, backend: str = "auto") -> np.ndarray:
    """Gradient of :func:`lp_pool1d` with respect to its input."""
    return _lp_pool_backward("lp_pool1d_backward", 1, grad_output, input, norm_type, kernel_size, stride,
                             ceil_mode, padding, dilation, backend)


def lp_pool2d_backward(grad_output: ArrayLike, input: ArrayLike, norm_type: float, kernel_size: IntOrTuple,
                       stride: IntOrTuple | None = None, ceil_mode: bool = False, *, padding: Padding = 0,
                       dilation: IntOrTuple = 1, backend: str = "auto") -> np.ndarray:
    """Gradient of :func:`lp_pool2d`: ``grad * y / sum(|x|**p) * |x|**(p-1) * sign(x)`` per window;
    a window whose values are all 0 passes nothing back."""
    return _lp_pool_backward("lp_pool2d_backward", 2, grad_output, input, norm_type, kernel_size, stride,
                             ceil_mode, padding, dilation, backend)


def lp_pool3d_backward(grad_output: ArrayLike, input: ArrayLike, norm_type: float, kernel_size: IntOrTuple,
                       stride: IntOrTuple | None = None, ceil_mode: bool = False, *, padding: Padding = 0,
                       dilation: IntOrTuple = 1, backend: str = "auto") -> np.ndarray:
    """Gradient of :func:`lp_pool3d` with respect to its input."""
    return _lp_pool_backward("lp_pool3d_backward", 3, grad_output, input, norm_type, kernel_size, stride,
                             ceil_mode, padding, dilation, backend)
