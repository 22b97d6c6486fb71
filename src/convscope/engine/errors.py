"""Errors are part of the product: each one says what was expected, what came, and the fix.

Every error raised for bad user input is a :class:`ConvScopeError`, which is a
``ValueError``, so ``except ValueError`` keeps working for callers who do not care
which kind it is. The CLI prints ``str(error)`` without a traceback and exits 2; the
web API answers 4xx with the same text.
"""

from __future__ import annotations


class ConvScopeError(ValueError):
    """Base class: a request convscope cannot carry out, with the reason and the fix.

    Parameters
    ----------
    what
        The problem in a few words, e.g. ``"conv2d: input channels do not match the weight"``.
    expected, got
        What the operation needed and what it received.
    fix
        The most likely repair, written so that it can be pasted.
    """

    def __init__(self, what: str, *, expected: str = "", got: str = "", fix: str = "") -> None:
        self.what, self.expected, self.got, self.fix = what, expected, got, fix
        parts = [what]
        if expected:
            parts.append(f"expected {expected}")
        if got:
            parts.append(f"got {got}")
        message = "; ".join(parts) + "."
        if fix:
            message += f" Fix: {fix}"
        super().__init__(message)


class ConvShapeError(ConvScopeError):
    """An array whose shape does not fit the operation (wrong rank, channels, size)."""


class MissingAxisError(ConvShapeError):
    """The input lacks its batch and/or channel axis, e.g. an (H, W) image for conv2d."""


class ChannelsLastError(ConvShapeError):
    """The input looks channels-last, (N, H, W, C), where (N, C, H, W) is required."""


class KernelLayoutError(ConvShapeError):
    """The weight is not (out_channels, in_channels // groups, *kernel).

    Typical causes: a TensorFlow-ordered (kH, kW, in, out) kernel or a bare (k, k) kernel.
    """


class ChannelMismatchError(ConvShapeError):
    """The input's channel count is not what the weight expects."""


class KernelTooLargeError(ConvShapeError):
    """The (dilated) kernel does not fit in the padded input, so there is no output."""


class ConvParameterError(ConvScopeError):
    """A hyper-parameter that is out of range: stride, padding, dilation, groups, mode, ..."""


class BackendError(ConvScopeError):
    """An unknown backend, or one whose library is not installed."""


class ArrayTooLargeError(ConvScopeError):
    """A padded input or output larger than the array limit (``workspace.max_array_bytes()``).

    Raised at validation, before anything is allocated: a huge padding, dilation or
    stride otherwise asks for terabytes, or hangs in the code that plans the work.
    """


class TensorTypeError(ConvScopeError):
    """A torch tensor NumPy cannot read: bfloat16, sparse, meta (no data), quantized, ..."""
