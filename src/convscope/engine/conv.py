"""Convolution and transposed convolution, forward and backward, in 1, 2 and 3 dimensions.

Each public function validates its arguments into a spec (:mod:`validate`), pads the
input (:mod:`padding`), and calls three primitives of the chosen backend:

* ``conv_valid``: the sliding dot product on an already padded input;
* ``conv_input_grad``: its adjoint (which *is* the transposed convolution);
* ``conv_weight_grad``: the gradient of the weight.

Like PyTorch, "convolution" here means cross-correlation: the kernel is not flipped.
``flip=True`` flips it first, which gives the convolution of signal processing
(``scipy.signal.convolve``).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from .arithmetic import IntOrTuple, Padding
from .banding import band_rows, banded
from .dispatch import as_array, batched, batched_grad_output, get_backend, unbatched
from .padding import pad, pad_backward
from .validate import ConvSpec, conv_spec

ArrayLike = Any  # np.ndarray, torch.Tensor or nested lists


def _spatial(nd: int) -> tuple[int, ...]:
    return tuple(range(2, 2 + nd))


def _prepare(op: str, nd: int, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None,
             stride: IntOrTuple, padding: Padding, dilation: IntOrTuple, groups: int,
             padding_mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, ConvSpec]:
    x = as_array(input, "input")
    w = as_array(weight, "weight", x.dtype)
    b = None if bias is None else as_array(bias, "bias", x.dtype)
    spec = conv_spec(op, nd, x.shape, w.shape, None if b is None else b.shape, stride, padding,
                     dilation, groups, padding_mode, itemsize=x.dtype.itemsize)
    return batched(x, spec.batched), w, b, spec


def _conv(op: str, nd: int, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None,
          stride: IntOrTuple, padding: Padding, dilation: IntOrTuple, groups: int,
          padding_mode: str, flip: bool, backend: str) -> np.ndarray:
    x, w, b, spec = _prepare(op, nd, input, weight, bias, stride, padding, dilation, groups, padding_mode)
    impl = get_backend(backend)
    if flip:
        w = np.flip(w, axis=_spatial(nd)).copy()
    if x.size == 0:
        # An empty batch, or no input channels (then torch returns no output channels, and no
        # bias): torch's empty result, before any padding or planning (an empty batch may carry
        # any padding, and the cost model has nothing to divide by).
        return unbatched(np.zeros((x.shape[0], spec.result_channels) + spec.output_size, x.dtype), spec.batched)
    fused = b is not None and getattr(impl, "accepts_bias", False)
    conv_valid = partial(impl.conv_valid, bias=b) if fused else impl.conv_valid
    if (rows := band_rows(x, spec, backend)) < spec.output_size[0]:
        y = banded(conv_valid, x, w, spec, rows)  # too big for the workspace: strip by strip
    else:
        xp = pad(x, spec.padding, spec.padding_mode)
        y = conv_valid(xp, w, spec.stride, spec.dilation, spec.groups, spec.output_size).astype(x.dtype, copy=False)
    if b is not None and not fused:
        y += b.reshape((1, -1) + (1,) * nd)  # in place: y is a fresh array (a new one costs page faults)
    return unbatched(y, spec.batched)


def _conv_backward(op: str, nd: int, grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike,
                   stride: IntOrTuple, padding: Padding, dilation: IntOrTuple, groups: int,
                   padding_mode: str, flip: bool, backend: str
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, w, _, spec = _prepare(op, nd, input, weight, None, stride, padding, dilation, groups, padding_mode)
    gy = batched_grad_output(op, grad_output, x, spec.result_channels, spec.output_size, spec.batched)
    impl = get_backend(backend)
    if x.size == 0:  # nothing reached the output: zero gradients of the inputs' shapes, as torch's autograd
        grad_x = np.zeros(x.shape, x.dtype)
        return unbatched(grad_x, spec.batched), np.zeros(w.shape, x.dtype), np.zeros(spec.out_channels, x.dtype)
    if flip:
        w = np.flip(w, axis=_spatial(nd)).copy()
    xp = pad(x, spec.padding, spec.padding_mode)
    grad_xp = impl.conv_input_grad(gy, w, spec.stride, spec.dilation, spec.groups, xp.shape[2:])
    grad_x = pad_backward(grad_xp, spec.padding, spec.padding_mode).astype(x.dtype, copy=False)
    grad_w = impl.conv_weight_grad(gy, xp, spec.kernel_size, spec.stride, spec.dilation,
                                   spec.groups).astype(x.dtype, copy=False)
    if flip:
        grad_w = np.flip(grad_w, axis=_spatial(nd)).copy()
    grad_b = gy.sum(axis=(0,) + _spatial(nd))
    return unbatched(grad_x, spec.batched), grad_w, grad_b


_CONV_DOC = """{nd}-d convolution (cross-correlation, like ``torch.nn.functional.conv{nd}d``).

    ``out[n, o, p] = bias[o] + sum over c, t of input[n, c, p*stride + t*dilation - padding] * weight[o, c, t]``

    Like PyTorch, the kernel is *not* flipped: this is cross-correlation. Pass
    ``flip=True`` for the textbook convolution that flips the kernel first.

    Parameters
    ----------
    input
        (N, C_in, {axes}) or unbatched (C_in, {axes}); array, tensor or nested list.
    weight
        (C_out, C_in // groups, {kaxes}).
    bias
        (C_out,) or None.
    stride, dilation
        int or tuple of {nd} ints, each >= 1.
    padding
        int or tuple of {nd} ints (both sides), one (before, after) pair per axis, "valid"
        (none), "same" (output size = input size; stride 1 only; an odd total puts the extra
        row after, as torch does) or "same_upper" / "same_lower" (ONNX's auto_pad, TensorFlow's
        "same": ceil(size / stride) outputs at any stride).
        With a ``padding_mode`` other than "zeros", a negative number crops (as torch's
        ``F.pad`` does).
    groups
        Split channels into independent groups; ``groups == C_in`` is depthwise.
    padding_mode
        "zeros", "reflect", "replicate" or "circular" (as ``nn.Conv{nd}d``).
    flip
        Flip the kernel: true convolution instead of cross-correlation.
    backend
        "reference" (Python loops), "numpy" (im2col + GEMM), "torch" (the oracle) or
        "auto" (the fastest of convscope's own; never torch).

    Returns
    -------
    numpy.ndarray
        (N, C_out, {oaxes}); float64 if the input is float64, else float32.
        Per axis ``out = floor((in + 2*padding - dilation*(k - 1) - 1) / stride) + 1``.

    Raises
    ------
    ConvShapeError
        Wrong rank, channels, bias or kernel layout; the message names the fix.
    ConvParameterError
        Non-positive stride or dilation, negative padding, bad groups or padding_mode.
    ArrayTooLargeError
        The padded input or the output would exceed the array limit
        (``convscope.engine.workspace.max_array_bytes()``, 4 GiB by default).

    Notes
    -----
    Empty inputs follow torch: an empty batch gives (0, C_out, ...); an input with no
    channels gives (N, 0, ...) whatever the weight's output channels (the bias is not
    added); an empty spatial axis is accepted only with one of those.
    """


def conv1d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, *,
           padding_mode: str = "zeros", flip: bool = False, backend: str = "auto") -> np.ndarray:
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups, padding_mode, flip, backend)


def conv2d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, *,
           padding_mode: str = "zeros", flip: bool = False, backend: str = "auto") -> np.ndarray:
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups, padding_mode, flip, backend)


def conv3d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, *,
           padding_mode: str = "zeros", flip: bool = False, backend: str = "auto") -> np.ndarray:
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups, padding_mode, flip, backend)


_EXAMPLES = {
    1: """
    Examples
    --------
    >>> conv1d([[0., 0., 1., 1., 1.]], [[[-1., 1.]]])
    array([[0., 1., 0., 0.]], dtype=float32)
    """,
    2: """
    Examples
    --------
    The lesson's 4x4 image and 2x2 kernel (seed 002, lab 1):

    >>> image = [[[[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]]]
    >>> conv2d(image, [[[[1, 0], [0, -1]]]])[0, 0]
    array([[-2.,  2., -4.],
           [ 4.,  0., -1.],
           [ 0.,  0.,  1.]], dtype=float32)
    >>> conv2d(np.ones((1, 1, 6, 6)), np.ones((2, 1, 3, 3)), stride=2, padding=1).shape
    (1, 2, 3, 3)
    """,
    3: """
    Examples
    --------
    >>> conv3d(np.ones((1, 2, 4, 4, 4)), np.ones((3, 2, 3, 3, 3)), padding="same").shape
    (1, 3, 4, 4, 4)
    """,
}
for _nd, _f in ((1, conv1d), (2, conv2d), (3, conv3d)):
    _axes = {1: "L", 2: "H, W", 3: "D, H, W"}[_nd]
    _f.__doc__ = _CONV_DOC.format(nd=_nd, axes=_axes, kaxes=_axes.replace("H", "kH").replace("W", "kW")
                                  .replace("D", "kD").replace("L", "kL"),
                                  oaxes=_axes.replace("H", "H_out").replace("W", "W_out")
                                  .replace("D", "D_out").replace("L", "L_out")) + _EXAMPLES[_nd]


_BACKWARD_DOC = """Gradients of :func:`conv{nd}d`, computed by the engine (not by autograd).

    Parameters
    ----------
    grad_output
        dLoss/dOutput, shaped like the forward output.
    input, weight, stride, padding, dilation, groups, padding_mode, flip, backend
        Exactly as given to :func:`conv{nd}d`.

    Returns
    -------
    grad_input, grad_weight, grad_bias : numpy.ndarray
        Shaped like ``input``, ``weight`` and ``(C_out,)``. ``grad_input`` is the
        transposed convolution of ``grad_output``; ``grad_weight`` correlates the padded
        input with ``grad_output``; ``grad_bias`` sums ``grad_output`` over batch and space.
        With reflect, replicate or circular padding, the gradient that lands on a padded
        copy of a pixel is added back to that pixel.
    """


def conv1d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                    padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, *,
                    padding_mode: str = "zeros", flip: bool = False, backend: str = "auto"
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _conv_backward("conv1d_backward", 1, grad_output, input, weight, stride, padding, dilation,
                          groups, padding_mode, flip, backend)


def conv2d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                    padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, *,
                    padding_mode: str = "zeros", flip: bool = False, backend: str = "auto"
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _conv_backward("conv2d_backward", 2, grad_output, input, weight, stride, padding, dilation,
                          groups, padding_mode, flip, backend)


def conv3d_backward(grad_output: ArrayLike, input: ArrayLike, weight: ArrayLike, stride: IntOrTuple = 1,
                    padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, *,
                    padding_mode: str = "zeros", flip: bool = False, backend: str = "auto"
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _conv_backward("conv3d_backward", 3, grad_output, input, weight, stride, padding, dilation,
                          groups, padding_mode, flip, backend)


for _nd, _fb in ((1, conv1d_backward), (2, conv2d_backward), (3, conv3d_backward)):
    _fb.__doc__ = _BACKWARD_DOC.format(nd=_nd)
conv2d_backward.__doc__ = str(conv2d_backward.__doc__) + """
    Examples
    --------
    Each weight's gradient is the sum of the input pixels it was pressed on:

    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> gx, gw, gb = conv2d_backward(np.ones((1, 1, 3, 3)), x, np.ones((1, 1, 2, 2)))
    >>> gw[0, 0]
    array([[45., 54.],
           [81., 90.]])
    >>> gb
    array([9.])
    """
