"""Transposed convolution ("deconvolution"), forward and backward.

A transposed convolution is the adjoint of a convolution with the same weight: it
sends each input pixel out through the kernel, adding into a larger output. That is
exactly the ``conv_input_grad`` primitive, so the forward pass reuses it, and the
backward passes reuse ``conv_valid`` and ``conv_weight_grad`` with the roles swapped.
"""

from __future__ import annotations

import numpy as np

from .arithmetic import IntOrTuple, Padding
from .conv import ArrayLike
from .dispatch import as_array, batched, batched_grad_output, get_backend, unbatched
from .padding import pad
from .validate import TransposeSpec, transpose_spec


def _full_size(spec: TransposeSpec) -> tuple[int, ...]:
    """Output length before ``padding`` is cropped from its ends (output_padding included)."""
    return tuple(o + before + after for o, (before, after) in zip(spec.output_size, spec.padding))


def _prepare(op: str, nd: int, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None,
             stride: IntOrTuple, padding: Padding, output_padding: IntOrTuple, groups: int,
             dilation: IntOrTuple) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, TransposeSpec]:
    x = as_array(input, "input")
    w = as_array(weight, "weight", x.dtype)
    b = None if bias is None else as_array(bias, "bias", x.dtype)
    spec = transpose_spec(op, nd, x.shape, w.shape, None if b is None else b.shape, stride, padding,
                          output_padding, groups, dilation, itemsize=x.dtype.itemsize)
    return batched(x, spec.batched), np.ascontiguousarray(w), b, spec


def _conv_transpose(op: str, nd: int, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None,
                    stride: IntOrTuple, padding: Padding, output_padding: IntOrTuple, groups: int,
                    dilation: IntOrTuple, backend: str) -> np.ndarray:
    x, w, b, spec = _prepare(op, nd, input, weight, bias, stride, padding, output_padding, groups, dilation)
    impl = get_backend(backend)
    if x.size == 0:  # only an empty batch gets here (the spec refuses the other empty axes)
        return unbatched(np.zeros((x.shape[0], spec.out_channels) + spec.output_size, x.dtype), spec.batched)
    full = impl.conv_input_grad(x, w, spec.stride, spec.dilation, spec.groups, _full_size(spec))
    crop = tuple(slice(before, before + o) for (before, _), o in zip(spec.padding, spec.output_size))
    y = full[(slice(None), slice(None)) + crop].astype(x.dtype, copy=False)
    if b is not None:
        y += b.reshape((1, -1) + (1,) * nd)  # in place: y is a fresh array (a new one costs page faults)
    return unbatched(y, spec.batched)


def _conv_transpose_backward(op: str, nd: int, grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                             stride: IntOrTuple, padding: Padding, output_padding: IntOrTuple,
                             groups: int, dilation: IntOrTuple, backend: str
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, w, _, spec = _prepare(op, nd, input, weight, None, stride, padding, output_padding, groups, dilation)
    gy = batched_grad_output(op, grad_output, x, spec.out_channels, spec.output_size, spec.batched)
    impl = get_backend(backend)
    if x.size == 0:
        grad_x = np.zeros(x.shape, x.dtype)
        return unbatched(grad_x, spec.batched), np.zeros(w.shape, x.dtype), np.zeros(spec.out_channels, x.dtype)
    # Undo the crop: the full-size gradient is zero where the forward pass cut rows away.
    g_full = pad(gy, spec.padding)
    grad_x = impl.conv_valid(g_full, w, spec.stride, spec.dilation, spec.groups, spec.input_size)
    grad_w = impl.conv_weight_grad(x, g_full, spec.kernel_size, spec.stride, spec.dilation, spec.groups)
    grad_b = gy.sum(axis=(0,) + tuple(range(2, 2 + nd)))
    return (unbatched(grad_x.astype(x.dtype, copy=False), spec.batched),
            grad_w.astype(x.dtype, copy=False), grad_b)


_DOC = """{nd}-d transposed convolution (like ``torch.nn.functional.conv_transpose{nd}d``).

    Each input pixel is multiplied by the whole kernel and added into the output at
    ``stride`` spacing; ``padding`` then crops that many positions from both ends and
    ``output_padding`` adds positions at the end. It is the gradient of :func:`conv{nd}d`
    with respect to its input, which is why it restores that input's shape.

    Parameters
    ----------
    input
        (N, C_in, *spatial) or unbatched (C_in, *spatial).
    weight
        (C_in, C_out // groups, *kernel): note the order differs from conv{nd}d.
    bias
        (C_out,) or None.
    stride, padding, output_padding, dilation
        int or tuple of {nd} ints; ``output_padding`` < max(stride, dilation). ``padding`` may
        also be one (before, after) pair per axis, cropping the ends unequally (ONNX's ``pads``).
    groups
        Number of independent channel groups.
    backend
        "reference", "numpy", "torch" or "auto".

    Returns
    -------
    numpy.ndarray
        (N, C_out, *out) with, per axis,
        ``out = (in - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1``.
        An empty batch gives an empty result (its axes may then be 0, as in torch).

    Raises
    ------
    ConvScopeError
        Whatever torch refuses; :class:`ArrayTooLargeError` when the input or the output
        before its crop would exceed the array limit (``workspace.max_array_bytes()``).
    """

_BACKWARD_DOC = """Gradients of :func:`conv_transpose{nd}d`: ``(grad_input, grad_weight, grad_bias)``.

    Arguments are those of the forward call, after ``grad_output``. ``grad_input`` is an
    ordinary convolution of ``grad_output`` with the same weight.
    """


def conv_transpose1d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None,
                     stride: IntOrTuple = 1, padding: Padding = 0, output_padding: IntOrTuple = 0,
                     groups: int = 1, dilation: IntOrTuple = 1, *, backend: str = "auto") -> np.ndarray:
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding,
                           groups, dilation, backend)


def conv_transpose2d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None,
                     stride: IntOrTuple = 1, padding: Padding = 0, output_padding: IntOrTuple = 0,
                     groups: int = 1, dilation: IntOrTuple = 1, *, backend: str = "auto") -> np.ndarray:
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding,
                           groups, dilation, backend)


def conv_transpose3d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None,
                     stride: IntOrTuple = 1, padding: Padding = 0, output_padding: IntOrTuple = 0,
                     groups: int = 1, dilation: IntOrTuple = 1, *, backend: str = "auto") -> np.ndarray:
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding,
                           groups, dilation, backend)


def conv_transpose1d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                              stride: IntOrTuple = 1, padding: Padding = 0,
                              output_padding: IntOrTuple = 0, groups: int = 1, dilation: IntOrTuple = 1,
                              *, backend: str = "auto") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _conv_transpose_backward("conv_transpose1d_backward", 1, grad_output, input, weight, stride,
                                    padding, output_padding, groups, dilation, backend)


def conv_transpose2d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                              stride: IntOrTuple = 1, padding: Padding = 0,
                              output_padding: IntOrTuple = 0, groups: int = 1, dilation: IntOrTuple = 1,
                              *, backend: str = "auto") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _conv_transpose_backward("conv_transpose2d_backward", 2, grad_output, input, weight, stride,
                                    padding, output_padding, groups, dilation, backend)


def conv_transpose3d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                              stride: IntOrTuple = 1, padding: Padding = 0,
                              output_padding: IntOrTuple = 0, groups: int = 1, dilation: IntOrTuple = 1,
                              *, backend: str = "auto") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _conv_transpose_backward("conv_transpose3d_backward", 3, grad_output, input, weight, stride,
                                    padding, output_padding, groups, dilation, backend)


for _nd, _f, _b in ((1, conv_transpose1d, conv_transpose1d_backward),
                    (2, conv_transpose2d, conv_transpose2d_backward),
                    (3, conv_transpose3d, conv_transpose3d_backward)):
    _f.__doc__ = _DOC.format(nd=_nd)
    _b.__doc__ = _BACKWARD_DOC.format(nd=_nd)
conv_transpose2d.__doc__ = str(conv_transpose2d.__doc__) + """
    Examples
    --------
    Stride 2 spreads each input pixel into a 2x2 block:

    >>> conv_transpose2d([[[[1., 2.], [3., 4.]]]], np.ones((1, 1, 2, 2)), stride=2)[0, 0]
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.],
           [3., 3., 4., 4.],
           [3., 3., 4., 4.]], dtype=float32)
    """
