"""The layout of an input and a weight, checked with the fix a person needs: the rank (a missing
batch or channel axis), a channels-last image, a TensorFlow-ordered kernel, a channel count that does
not match the layer. Channels-last and TensorFlow are only guessed when the other reading would fit.
"""

from __future__ import annotations

from .errors import ChannelMismatchError, ChannelsLastError, ConvShapeError, KernelLayoutError, MissingAxisError

_AXES = {1: "L", 2: "H, W", 3: "D, H, W"}



def _count(n: int, noun: str) -> str:
    """``1 channel``, ``3 channels``: messages read as a person would write them."""
    return f"{n} {noun}" + ("" if n == 1 else "s")

def _layout(nd: int, batched: bool = True) -> str:
    return f"({'N, ' if batched else ''}C, {_AXES[nd]})"


def _channels_first_fix(shape: tuple[int, ...], batched: bool) -> str:
    ndim = len(shape)
    if batched:
        perm = (0, ndim - 1, *range(1, ndim - 1))
    else:
        perm = (ndim - 1, *range(0, ndim - 1))
    p = ", ".join(map(str, perm))
    return f"x.permute({p}) for a torch tensor, np.transpose(x, ({p})) for a NumPy array"


def _check_rank(op: str, nd: int, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                weight_layout: str) -> bool:
    """Check input and weight ranks; return True when the input is batched."""
    if len(w_shape) != nd + 2:
        fix = "give the weight all its axes"
        if len(w_shape) == nd:
            new = ", ".join(["1", "1", *map(str, w_shape)])
            fix = (f"a single kernel for a 1-channel input is w[None, None] (shape ({new})); "
                   "the kernel always has its channel axes, even when in_channels == 1")
        raise KernelLayoutError(f"{op}: the weight must have {nd + 2} dimensions {weight_layout}",
                                expected=f"a {nd + 2}-d weight", got=f"shape {tuple(w_shape)}", fix=fix)
    if len(x_shape) == nd + 2:
        return True
    if len(x_shape) == nd + 1:
        return False
    if len(x_shape) == nd:
        new = ", ".join(["1", "1", *map(str, x_shape)])
        raise MissingAxisError(f"{op}: the input has no batch or channel axis",
                               expected=f"{_layout(nd)} or {_layout(nd, False)}",
                               got=f"shape {tuple(x_shape)}",
                               fix=f"x[None, None] gives shape ({new}): one image, one channel")
    raise ConvShapeError(f"{op}: wrong number of input dimensions",
                         expected=f"{nd + 1}-d {_layout(nd, False)} or {nd + 2}-d {_layout(nd)}",
                         got=f"{len(x_shape)}-d shape {tuple(x_shape)}",
                         fix="reshape the input to the layout above" if len(x_shape) > nd + 2 else
                         "add the missing axes with x[None]")


def _looks_channels_last(shape: tuple[int, ...], batched: bool, expected: int) -> bool:
    """The channel mismatch is a channels-last input only when the permuted input would fit: its
    last axis is the channel count the layer expects (the channel axis is not), and the permuted
    spatial axes look at least as much like an image's as the current ones do (their smallest
    side is no smaller). A CIFAR batch (N, 3, 32, 32) reaching a
    layer built for 32 channels is a channel mismatch: read channels-last it would be a 3 x 32
    image of 32 channels.

    >>> _looks_channels_last((8, 32, 32, 3), True, 3)
    True
    >>> _looks_channels_last((8, 3, 32, 32), True, 32)
    False
    """
    if shape[-1] != expected:
        return False
    start = 1 if batched else 0
    current, permuted = shape[start + 1:], shape[start:-1]
    return min(permuted) >= min(current)


def _looks_tensorflow(nd: int, w_shape: tuple[int, ...]) -> bool:
    """Read as PyTorch's (out, in, *kernel), a TensorFlow kernel's "kernel" is (in, out): not
    square, or, when it is, larger than the leading axes (the true kernel). A PyTorch weight built
    for the wrong channel count (16, 32, 3, 3) reads as a 16 x 32 TensorFlow kernel: not one.

    >>> _looks_tensorflow(2, (3, 3, 1, 16)), _looks_tensorflow(2, (3, 3, 16, 16)), _looks_tensorflow(2, (16, 32, 3, 3))
    (True, True, False)
    """
    torch_kernel, tf_kernel = w_shape[2:], w_shape[:nd]
    if len(set(torch_kernel)) > 1:
        return True
    return len(set(tf_kernel)) == 1 and max(tf_kernel) < max(torch_kernel)


def _check_channels(op: str, nd: int, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                    batched: bool, expected: int, groups: int, transposed: bool) -> None:
    got = x_shape[1] if batched else x_shape[0]
    if got == expected:
        return
    shape = tuple(x_shape)
    if _looks_channels_last(shape, batched, expected):
        raise ChannelsLastError(
            f"{op}: the input looks channels-last", expected=f"{_count(expected, 'channel')} in {_layout(nd, batched)}",
            got=f"shape {shape}, whose last axis is {expected}",
            fix=f"move channels first: {_channels_first_fix(shape, batched)}")
    per_group = got // groups if got % groups == 0 else None
    if not transposed and per_group is not None and w_shape[nd] == per_group and w_shape[1] != per_group \
            and _looks_tensorflow(nd, w_shape):
        # TensorFlow stores a conv kernel as (*kernel, in, out).
        perm = ", ".join(map(str, (nd + 1, nd, *range(nd))))
        raise KernelLayoutError(
            f"{op}: the weight looks TensorFlow-ordered (*kernel, in_channels, out_channels)",
            expected=f"(out_channels, in_channels // groups, *kernel) with in_channels // groups = {per_group}",
            got=f"weight shape {tuple(w_shape)}",
            fix=f"w.permute({perm}) (torch) or np.transpose(w, ({perm})) (NumPy)")
    what = "weight.shape[0]" if transposed else "weight.shape[1] * groups"
    layer = "ConvTranspose" if transposed else "Conv"
    raise ChannelMismatchError(
        f"{op}: the input's channels do not match the weight",
        expected=f"{_count(expected, 'input channel')} ({what})",
        got=f"{_count(got, 'channel')} in input shape {shape}",
        fix=f"build the layer with in_channels={got} (nn.{layer}{nd}d({got}, ...)), or print x.shape "
            "before the layer to find where the channels changed")
