"""Check a request against PyTorch's rules and normalise it into a spec.

Each public operation turns its arguments into one frozen spec here (every int|tuple
normalised, padding as (before, after) pairs, output size computed by
:mod:`arithmetic`). Backends receive only specs, never raw user arguments. Anything
PyTorch rejects is rejected here, with the fix spelled out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any, Callable, TypeVar

from .arithmetic import (IntOrTuple, effective_kernel, output_size, resolve_padding, to_tuple,
                         transposed_output_size)
from .errors import (ChannelMismatchError, ChannelsLastError, ConvParameterError, ConvShapeError,
                     KernelLayoutError, MissingAxisError)

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_F = TypeVar("_F", bound=Callable[..., Any])


def _memoised(fn: _F) -> _F:
    """Cache a spec builder: a layer called again with the same shapes skips validation.

    Specs are immutable, so sharing them is safe; unhashable arguments (a list for a
    stride, say) simply bypass the cache. Errors are never cached.
    """
    cached = lru_cache(maxsize=4096)(fn)

    @wraps(fn)
    def call(*args: Any) -> Any:
        try:
            return cached(*args)
        except TypeError as exc:
            if "unhashable" not in str(exc):
                raise
            return fn(*args)

    return call  # type: ignore[return-value]
_AXES = {1: "L", 2: "H, W", 3: "D, H, W"}


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


def _check_channels(op: str, nd: int, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                    batched: bool, expected: int, groups: int, transposed: bool) -> None:
    got = x_shape[1] if batched else x_shape[0]
    if got == expected:
        return
    shape = tuple(x_shape)
    if shape[-1] == expected:
        raise ChannelsLastError(
            f"{op}: the input looks channels-last", expected=f"{expected} channels in {_layout(nd, batched)}",
            got=f"shape {shape}, whose last axis is {expected}",
            fix=f"move channels first: {_channels_first_fix(shape, batched)}")
    per_group = got // groups if got % groups == 0 else None
    if not transposed and per_group is not None and w_shape[nd] == per_group and w_shape[1] != per_group:
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
        expected=f"{expected} input channels ({what})",
        got=f"{got} channels in input shape {shape}",
        fix=f"build the layer with in_channels={got} (nn.{layer}{nd}d({got}, ...)), or print x.shape "
            "before the layer to find where the channels changed")


def _check_groups(op: str, groups: int, channels: int, role: str) -> None:
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ConvParameterError(f"{op}: groups must be a positive integer", got=f"groups={groups!r}",
                                 fix="use groups=1 (the default)")
    if channels % groups:
        raise ConvParameterError(f"{op}: {role} must be divisible by groups",
                                 expected=f"{role} % groups == 0", got=f"{role}={channels}, groups={groups}",
                                 fix=f"pick groups among the divisors of {channels}")


def _check_bias(op: str, b_shape: tuple[int, ...] | None, out_channels: int) -> None:
    if b_shape is not None and tuple(b_shape) != (out_channels,):
        raise ConvShapeError(f"{op}: the bias must have one value per output channel",
                             expected=f"shape ({out_channels},)", got=f"shape {tuple(b_shape)}",
                             fix="pass bias=None or an array of out_channels values")


def _positive(op: str, name: str, values: tuple[int, ...]) -> None:
    if any(v <= 0 for v in values):
        raise ConvParameterError(f"{op}: {name} must be positive", expected=f"every {name} >= 1",
                                 got=f"{name}={values}", fix=f"use {name}=1 or larger")


@dataclass(frozen=True)
class _Layer:
    """What a convolution and a transposed convolution have in common."""

    nd: int
    batched: bool
    in_channels: int
    out_channels: int
    groups: int
    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]


@dataclass(frozen=True)
class ConvSpec(_Layer):
    """A validated convolution: every parameter normalised to per-axis tuples."""

    padding: tuple[tuple[int, int], ...]  # (before, after) per spatial axis
    dilation: tuple[int, ...]
    padding_mode: str
    output_size: tuple[int, ...]


@_memoised
def conv_spec(op: str, nd: int, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
              b_shape: tuple[int, ...] | None, stride: IntOrTuple, padding: IntOrTuple | str,
              dilation: IntOrTuple, groups: int, padding_mode: str) -> ConvSpec:
    batched = _check_rank(op, nd, x_shape, w_shape, "(out_channels, in_channels // groups, *kernel)")
    out_channels = w_shape[0]
    _check_groups(op, groups, out_channels, "out_channels (weight.shape[0])")
    _check_channels(op, nd, x_shape, w_shape, batched, w_shape[1] * groups, groups, transposed=False)
    _check_bias(op, b_shape, out_channels)
    ks = tuple(w_shape[2:])
    ss, ds = to_tuple(stride, nd, "stride"), to_tuple(dilation, nd, "dilation")
    _positive(op, "stride", ss)
    _positive(op, "dilation", ds)
    if padding_mode not in PADDING_MODES:
        raise ConvParameterError(f"{op}: unknown padding_mode", expected=" / ".join(PADDING_MODES),
                                 got=repr(padding_mode), fix='use padding_mode="zeros"')
    # torch pads reflect/replicate/circular with F.pad, where a negative padding crops.
    pads = resolve_padding(padding, ks, ss, ds, allow_negative=padding_mode != "zeros")
    size = tuple(x_shape[-nd:])
    _check_mode_fits(op, padding_mode, pads, size)
    for n, (before, after) in zip(size, pads):
        if n + before + after < 1:
            raise ConvShapeError(f"{op}: the negative padding crops away the whole input",
                                 expected="size + padding >= 1", got=f"size {n} with padding {before}, {after}",
                                 fix="use a padding closer to 0")
    out = _conv_out(size, ks, ss, pads, ds)
    return ConvSpec(nd, batched, w_shape[1] * groups, out_channels, groups, size, ks, ss, pads, ds,
                    padding_mode, out)


def _conv_out(size: tuple[int, ...], ks: tuple[int, ...], ss: tuple[int, ...],
              pads: tuple[tuple[int, int], ...], ds: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for n, k, s, (before, after), d in zip(size, ks, ss, pads, ds):
        # output_size validates and raises KernelTooLargeError with the fix.
        out.append(output_size(n + before + after, k, s, 0, d))
    return tuple(out)  # type: ignore[arg-type]


def _check_mode_fits(op: str, mode: str, pads: tuple[tuple[int, int], ...], size: tuple[int, ...]) -> None:
    """Reflect needs padding < size, circular padding <= size (one wrap), as in torch."""
    for n, (before, after) in zip(size, pads):
        widest = max(before, after)
        if mode == "reflect" and widest >= n:
            raise ConvParameterError(f"{op}: reflect padding must be smaller than the input",
                                     expected=f"padding < {n}", got=f"padding={widest} on an axis of {n}",
                                     fix='use padding_mode="replicate" or a smaller padding')
        if mode == "circular" and widest > n:
            raise ConvParameterError(f"{op}: circular padding can wrap around at most once",
                                     expected=f"padding <= {n}", got=f"padding={widest} on an axis of {n}",
                                     fix="use a smaller padding or a larger input")


@dataclass(frozen=True)
class TransposeSpec(_Layer):
    """A validated transposed convolution. Weight layout: (in_channels, out_channels // groups, *kernel)."""

    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    output_size: tuple[int, ...]


@_memoised
def transpose_spec(op: str, nd: int, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                   b_shape: tuple[int, ...] | None, stride: IntOrTuple, padding: IntOrTuple,
                   output_padding: IntOrTuple, groups: int, dilation: IntOrTuple) -> TransposeSpec:
    batched = _check_rank(op, nd, x_shape, w_shape, "(in_channels, out_channels // groups, *kernel)")
    in_channels = w_shape[0]
    _check_groups(op, groups, in_channels, "in_channels (weight.shape[0])")
    _check_channels(op, nd, x_shape, w_shape, batched, in_channels, groups, transposed=True)
    out_channels = w_shape[1] * groups
    _check_bias(op, b_shape, out_channels)
    if isinstance(padding, str):
        raise ConvParameterError(f"{op}: padding must be numbers for a transposed convolution",
                                 expected="an int or a tuple", got=repr(padding),
                                 fix="compute the padding: (kernel_size - 1) // 2 undoes a 'same' conv")
    ks = tuple(w_shape[2:])
    ss, ds = to_tuple(stride, nd, "stride"), to_tuple(dilation, nd, "dilation")
    ps, ops = to_tuple(padding, nd, "padding"), to_tuple(output_padding, nd, "output_padding")
    _positive(op, "stride", ss)
    _positive(op, "dilation", ds)
    for name, values in (("padding", ps), ("output_padding", ops)):
        if any(v < 0 for v in values):
            raise ConvParameterError(f"{op}: {name} must not be negative", got=f"{name}={values}",
                                     fix=f"use {name}=0")
    for s, d, o in zip(ss, ds, ops):
        if o >= s and o >= d:
            raise ConvParameterError(f"{op}: output_padding must be smaller than stride or dilation",
                                     expected=f"output_padding < max(stride, dilation) = {max(s, d)}",
                                     got=f"output_padding={o}",
                                     fix="output_padding only picks among the sizes a stride makes ambiguous; "
                                         "use a value below the stride")
    size = tuple(x_shape[-nd:])
    out = tuple(transposed_output_size(n, k, s, p, o, d) for n, k, s, p, o, d in zip(size, ks, ss, ps, ops, ds))
    if any(o < 1 for o in out) or any(n < 1 for n in size):
        raise ConvShapeError(f"{op}: the output would be empty",
                             expected="(in-1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1 >= 1",
                             got=f"output size {out} from input size {size}",
                             fix="reduce the padding")
    return TransposeSpec(nd, batched, in_channels, out_channels, groups, size, ks, ss, ps, ops, ds, out)


@dataclass(frozen=True)
class PoolSpec:
    """A validated max or average pool."""

    nd: int
    batched: bool
    channels: int
    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]  # (before, after): after includes ceil_mode's overhang
    dilation: tuple[int, ...]
    ceil_mode: bool
    output_size: tuple[int, ...]


@_memoised
def pool_spec(op: str, nd: int, x_shape: tuple[int, ...], kernel_size: IntOrTuple,
              stride: IntOrTuple | None, padding: IntOrTuple, dilation: IntOrTuple,
              ceil_mode: bool) -> PoolSpec:
    if len(x_shape) not in (nd + 1, nd + 2):
        fix = "x[None] adds a channel axis" if len(x_shape) == nd else "reshape the input to the layout above"
        raise (MissingAxisError if len(x_shape) < nd + 1 else ConvShapeError)(
            f"{op}: wrong number of input dimensions",
            expected=f"{nd + 1}-d {_layout(nd, False)} or {nd + 2}-d {_layout(nd)}",
            got=f"{len(x_shape)}-d shape {tuple(x_shape)}", fix=fix)
    batched = len(x_shape) == nd + 2
    ks = to_tuple(kernel_size, nd, "kernel_size")
    no_stride = stride is None or (not isinstance(stride, int) and len(tuple(stride)) == 0)
    ss = ks if no_stride else to_tuple(stride, nd, "stride")  # type: ignore[arg-type]
    ps, ds = to_tuple(padding, nd, "padding"), to_tuple(dilation, nd, "dilation")
    _positive(op, "kernel_size", ks)
    _positive(op, "stride", ss)
    _positive(op, "dilation", ds)
    for k, p in zip(ks, ps):
        if p < 0 or p > k // 2:
            raise ConvParameterError(f"{op}: padding must be between 0 and half the kernel size",
                                     expected=f"0 <= padding <= kernel_size // 2 = {k // 2}",
                                     got=f"padding={p}, kernel_size={k}",
                                     fix="pad the input yourself if you need more border")
    size = tuple(x_shape[-nd:])
    if op.startswith("avg_pool3d") and any(n < k for n, k in zip(size, ks)):
        # torch's avg_pool3d (unlike 1-d and 2-d) ignores padding when it checks the size.
        raise ConvShapeError(f"{op}: the input is smaller than the kernel", expected=f"size >= kernel_size {ks}",
                             got=f"input size {size}", fix="use a smaller kernel_size or a larger input")
    out, pads = [], []
    for n, k, s, p, d in zip(size, ks, ss, ps, ds):
        o = output_size(n, k, s, p, d, ceil_mode)
        if o < 1:
            raise ConvShapeError(f"{op}: the output would be empty", expected="an output size >= 1",
                                 got=f"output size {o} from input size {n}", fix="use a smaller kernel")
        # ceil_mode may need a last, partial window past the right padding.
        needed = (o - 1) * s + effective_kernel(k, d)
        pads.append((p, max(p, needed - n - p)))
        out.append(o)
    channels = x_shape[1] if batched else x_shape[0]
    return PoolSpec(nd, batched, channels, size, ks, ss, tuple(pads), ds, bool(ceil_mode), tuple(out))
