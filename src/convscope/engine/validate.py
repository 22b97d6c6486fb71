"""Check a request against PyTorch's rules and normalise it into a spec.

Each public operation turns its arguments into one frozen spec here (every int|tuple
normalised, padding as (before, after) pairs, output size computed by
:mod:`arithmetic`). Backends receive only specs, never raw user arguments. Anything
PyTorch rejects is rejected here, with the fix spelled out.

Two more rules are convscope's own, checked here so that nothing is allocated first:

* every array an operation holds (its padded input and its output) must fit the array
  limit, :func:`~convscope.engine.workspace.max_array_bytes` (4 GiB by default), and
  even an empty one must be describable by NumPy (its dimensions' product within int64);
* empty tensors follow torch: a zero batch (or, for a convolution, zero input channels)
  gives an empty result, an empty spatial axis is refused unless the batch or the
  channels are empty too, and the layer itself (weight channels, kernel) may not be empty.

The spec builders are memoised on the shapes; the size guard is not (the limit can
change between calls, and per thread), and costs a few integer products.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, wraps
from math import prod
from typing import Any, TypeVar

from .arithmetic import (
    IntOrTuple,
    Padding,
    effective_kernel,
    is_per_side,
    output_size,
    resolve_padding,
    to_tuple,
    transposed_output_size,
)
from .errors import ArrayTooLargeError, ConvParameterError, ConvShapeError, KernelTooLargeError, MissingAxisError
from .layout import _check_channels, _check_rank, _layout
from .workspace import MAX_BYTES, human_bytes, max_array_bytes

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


def _check_groups(op: str, groups: int, channels: int, role: str) -> None:
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ConvParameterError(f"{op}: groups must be a positive integer", got=f"groups={groups!r}",
                                 fix="use groups=1 (the default)")
    if channels < groups:  # torch: "expected weight to be at least <groups> at dimension 0"
        raise ConvShapeError(f"{op}: the weight has fewer {role} than groups",
                             expected=f"at least one per group: {role} >= {groups}", got=f"{role}={channels}",
                             fix=f"make weight.shape[0] at least {groups}: a layer without channels computes "
                                 "nothing")
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

    @property
    def result_channels(self) -> int:
        """Channels of the computed output: ``out_channels``, but 0 for an input with no channels.

        torch 2.13 returns (N, 0, *out) for an input with zero channels, whatever the
        weight's (and the bias's) output channels; its gradients still have the weight's shapes.
        """
        return self.out_channels if self.in_channels else 0


def conv_spec(op: str, nd: int, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
              b_shape: tuple[int, ...] | None, stride: IntOrTuple, padding: Padding,
              dilation: IntOrTuple, groups: int, padding_mode: str, *, itemsize: int = 8) -> ConvSpec:
    """Validate a convolution and normalise it into a :class:`ConvSpec`.

    Parameters
    ----------
    op
        The operation's name for messages, e.g. ``"conv2d"``.
    nd
        Spatial dimensions (1, 2 or 3).
    x_shape, w_shape, b_shape
        Shapes of the input, the weight and the bias (None: no bias).
    stride, padding, dilation, groups, padding_mode
        As given to ``conv{nd}d``.
    itemsize
        Bytes per element of the arrays that will be computed (4 for float32); the default,
        8, is the widest the engine computes in, so leaving it out never under-counts.

    Returns
    -------
    ConvSpec

    Raises
    ------
    ConvScopeError
        Whatever torch refuses, and :class:`ArrayTooLargeError` when the padded input or
        the output would exceed the array limit.
    """
    spec, arrays, sizes = _conv_measured(op, nd, x_shape, w_shape, b_shape, stride, padding, dilation, groups,
                                         padding_mode, itemsize)
    batch = x_shape[0] if spec.batched else 1
    _check_sizes(op, itemsize, arrays, sizes,
                 lambda: (f"check the sizes: input {spec.input_size}, padding {_pads(spec.padding)}, dilation "
                          f"{spec.dilation}, stride {spec.stride}, batch {batch}, channels {spec.in_channels} -> "
                          f"{spec.out_channels} (a padding or dilation typed too large is the usual cause)"))
    return spec


@_memoised
def _conv_spec(op: str, nd: int, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
               b_shape: tuple[int, ...] | None, stride: IntOrTuple, padding: Padding,
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
    _positive(op, "kernel_size", ks)  # weight.shape[2:]
    if padding_mode not in PADDING_MODES:
        raise ConvParameterError(f"{op}: unknown padding_mode", expected=" / ".join(PADDING_MODES),
                                 got=repr(padding_mode), fix='use padding_mode="zeros"')
    # torch pads reflect/replicate/circular with F.pad, where a negative padding crops.
    size = tuple(x_shape[-nd:])
    pads = resolve_padding(padding, ks, ss, ds, allow_negative=padding_mode != "zeros", size=size)
    batch = x_shape[0] if batched else 1
    _check_empty_axes(op, padding_mode, tuple(x_shape), batch, w_shape[1] * groups, size)
    _check_mode_fits(op, padding_mode, pads, size)
    for n, (before, after), k, d in zip(size, pads, ks, ds):
        if n + before + after < 1:
            if before + after < 0:
                raise ConvShapeError(f"{op}: the negative padding crops away the whole input",
                                     expected="size + padding >= 1",
                                     got=f"size {n} with padding {before}, {after}",
                                     fix="use a padding closer to 0")
            raise KernelTooLargeError(f"{op}: the padded input is empty, so no window fits",
                                      expected=f"size + padding >= dilation*(kernel_size-1)+1 = {d * (k - 1) + 1}",
                                      got=f"size {n} with padding {before}, {after}",
                                      fix=f"pad by at least {-(-(d * (k - 1) + 1 - n) // 2)} per side")
    out = _conv_out(size, ks, ss, pads, ds)
    return ConvSpec(nd, batched, w_shape[1] * groups, out_channels, groups, size, ks, ss, pads, ds,
                    padding_mode, out)


def _conv_out(size: tuple[int, ...], ks: tuple[int, ...], ss: tuple[int, ...],
              pads: tuple[tuple[int, int], ...], ds: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for n, k, s, (before, after), d in zip(size, ks, ss, pads, ds):
        # output_size validates and raises KernelTooLargeError with the fix.
        out.append(output_size(n + before + after, k, s, 0, d))
    return tuple(out)


def _check_empty_axes(op: str, mode: str, x_shape: tuple[int, ...], batch: int, channels: int,
                      size: tuple[int, ...]) -> None:
    """torch's rules for empty inputs: an empty batch or channel axis gives an empty result; an
    empty spatial axis is refused otherwise (there is nothing to slide over), and reflect and
    replicate padding (F.pad) refuse any empty axis but the batch."""
    if mode in ("reflect", "replicate") and (channels == 0 or 0 in size):
        raise ConvShapeError(f"{op}: {mode} padding needs a non-empty input",
                             expected="at least one channel and one position per spatial axis "
                                      "(only the batch may be 0)",
                             got=f"input shape {x_shape}",
                             fix='use padding_mode="zeros" or "circular", or skip the layer for an empty input')
    if 0 in size and batch and channels:
        raise ConvShapeError(f"{op}: an empty spatial axis is allowed only with an empty batch or no channels",
                             expected="every spatial size >= 1", got=f"input shape {x_shape}",
                             fix="check the code that produced the input (a crop or a slice that kept nothing?)")


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

    padding: tuple[tuple[int, int], ...]  # (before, after) cropped from the full output
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    output_size: tuple[int, ...]


def transpose_spec(op: str, nd: int, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                   b_shape: tuple[int, ...] | None, stride: IntOrTuple, padding: Padding,
                   output_padding: IntOrTuple, groups: int, dilation: IntOrTuple, *,
                   itemsize: int = 8) -> TransposeSpec:
    """Validate a transposed convolution and normalise it into a :class:`TransposeSpec`.

    Parameters
    ----------
    op, nd, x_shape, w_shape, b_shape
        As for :func:`conv_spec`; the weight is (in_channels, out_channels // groups, *kernel).
    stride, padding, output_padding, groups, dilation
        As given to ``conv_transpose{nd}d``.
    itemsize
        Bytes per element of the arrays that will be computed (default 8, as for :func:`conv_spec`).

    Returns
    -------
    TransposeSpec

    Raises
    ------
    ConvScopeError
        Whatever torch refuses, and :class:`ArrayTooLargeError` when the input or the output
        before its crop (``padding`` on both sides) would exceed the array limit.
    """
    spec, arrays, sizes = _transpose_measured(op, nd, x_shape, w_shape, b_shape, stride, padding, output_padding,
                                              groups, dilation, itemsize)
    batch = x_shape[0] if spec.batched else 1
    _check_sizes(op, itemsize, arrays, sizes,
                 lambda: (f"check the sizes: input {spec.input_size}, stride {spec.stride}, kernel "
                          f"{spec.kernel_size}, dilation {spec.dilation}, batch {batch}, channels "
                          f"{spec.in_channels} -> {spec.out_channels} (each output axis is "
                          "(in - 1)*stride + dilation*(kernel - 1) + 1 before the crop)"))
    return spec


@_memoised
def _transpose_spec(op: str, nd: int, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                    b_shape: tuple[int, ...] | None, stride: IntOrTuple, padding: Padding,
                    output_padding: IntOrTuple, groups: int, dilation: IntOrTuple) -> TransposeSpec:
    batched = _check_rank(op, nd, x_shape, w_shape, "(in_channels, out_channels // groups, *kernel)")
    in_channels = w_shape[0]
    _check_groups(op, groups, in_channels, "in_channels (weight.shape[0])")
    _check_channels(op, nd, x_shape, w_shape, batched, in_channels, groups, transposed=True)
    out_channels = w_shape[1] * groups
    if out_channels == 0:  # torch: "non-empty weight tensor expected"
        raise ConvShapeError(f"{op}: the weight has no output channels",
                             expected="weight (in_channels, out_channels // groups, *kernel) with out_channels >= 1",
                             got=f"weight shape {tuple(w_shape)}",
                             fix="make weight.shape[1] at least 1: a layer without channels computes nothing")
    _check_bias(op, b_shape, out_channels)
    if isinstance(padding, str):
        raise ConvParameterError(f"{op}: padding must be numbers for a transposed convolution",
                                 expected="an int, a tuple or (before, after) pairs", got=repr(padding),
                                 fix="compute the padding: (kernel_size - 1) // 2 undoes a 'same' conv")
    ks = tuple(w_shape[2:])
    ss, ds = to_tuple(stride, nd, "stride"), to_tuple(dilation, nd, "dilation")
    ops = to_tuple(output_padding, nd, "output_padding")
    pairs = resolve_padding(padding, ks, ss, ds, allow_negative=True)  # the sign is checked here, with the name
    _positive(op, "stride", ss)
    _positive(op, "dilation", ds)
    _positive(op, "kernel_size", ks)  # weight.shape[2:]
    for name, values in (("padding", tuple(v for pair in pairs for v in pair)), ("output_padding", ops)):
        if any(v < 0 for v in values):
            shown = padding if name == "padding" else values
            raise ConvParameterError(f"{op}: {name} must not be negative", got=f"{name}={shown}",
                                     fix=f"use {name}=0")
    for s, d, o in zip(ss, ds, ops):
        if o >= s and o >= d:
            raise ConvParameterError(f"{op}: output_padding must be smaller than stride or dilation",
                                     expected=f"output_padding < max(stride, dilation) = {max(s, d)}",
                                     got=f"output_padding={o}",
                                     fix="output_padding only picks among the sizes a stride makes ambiguous; "
                                         "use a value below the stride")
    size = tuple(x_shape[-nd:])
    # per side: (in-1)*stride - before - after + dilation*(k-1) + output_padding + 1
    out = tuple(transposed_output_size(n, k, s, 0, o, d) - before - after
                for n, k, s, (before, after), o, d in zip(size, ks, ss, pairs, ops, ds))
    # torch computes an empty batch however small its axes (an empty output included); any
    # other input needs every axis, and every output axis, non-empty.
    batch = x_shape[0] if batched else 1
    _check_empty_axes(op, "zeros", tuple(x_shape), batch, in_channels, size)
    if any(o < (0 if batch == 0 else 1) for o in out):
        raise ConvShapeError(f"{op}: the output would be empty",
                             expected="(in-1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1 >= 1",
                             got=f"output size {out} from input size {size}",
                             fix="reduce the padding")
    return TransposeSpec(nd, batched, in_channels, out_channels, groups, size, ks, ss, pairs, ops, ds, out)


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
    asked_padding: tuple[tuple[int, int], ...]  # (before, after) as given: what average pooling counts
    dilation: tuple[int, ...]
    ceil_mode: bool
    output_size: tuple[int, ...]


def pool_spec(op: str, nd: int, x_shape: tuple[int, ...], kernel_size: IntOrTuple,
              stride: IntOrTuple | None, padding: Padding, dilation: IntOrTuple,
              ceil_mode: bool, *, itemsize: int = 8) -> PoolSpec:
    """Validate a max or average pool and normalise it into a :class:`PoolSpec`.

    Parameters
    ----------
    op, nd
        The operation's name for messages and its spatial dimensions.
    x_shape
        The input's shape, (N, C, *spatial) or (C, *spatial).
    kernel_size, stride, padding, dilation, ceil_mode
        As given to ``max_pool{nd}d`` (average pooling passes dilation 1).
    itemsize
        Bytes per element of the arrays that will be computed (default 8, as for :func:`conv_spec`).

    Returns
    -------
    PoolSpec

    Raises
    ------
    ConvScopeError
        Whatever torch refuses, and :class:`ArrayTooLargeError` when the padded input or
        the output would exceed the array limit.
    """
    spec, arrays, sizes = _pool_measured(op, nd, x_shape, kernel_size, stride, padding, dilation, ceil_mode,
                                         itemsize)
    batch = x_shape[0] if spec.batched else 1
    _check_sizes(op, itemsize, arrays, sizes,
                 lambda: (f"check the sizes: input {spec.input_size}, kernel_size {spec.kernel_size}, "
                          f"stride {spec.stride}, dilation {spec.dilation}, batch {batch}, channels {spec.channels}"))
    return spec


@_memoised
def _pool_spec(op: str, nd: int, x_shape: tuple[int, ...], kernel_size: IntOrTuple,
               stride: IntOrTuple | None, padding: Padding, dilation: IntOrTuple,
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
    ds = to_tuple(dilation, nd, "dilation")
    _positive(op, "kernel_size", ks)
    _positive(op, "stride", ss)
    _positive(op, "dilation", ds)
    size = tuple(x_shape[-nd:])  # the rank was checked above
    asked = _pool_padding(op, padding, ks, ss, ds, size)
    if 0 in tuple(x_shape[-nd - 1:]):  # torch pools an empty batch, never an empty channel or spatial axis
        raise ConvShapeError(f"{op}: only the batch axis may be empty",
                             expected=f"at least one channel and one position per axis of {_layout(nd, batched)}",
                             got=f"input shape {tuple(x_shape)}",
                             fix="check the code that produced the input (a crop or a slice that kept nothing?)")
    if op.startswith("avg_pool3d") and any(n < k for n, k in zip(size, ks)):
        # torch's avg_pool3d (unlike 1-d and 2-d) ignores padding when it checks the size.
        raise ConvShapeError(f"{op}: the input is smaller than the kernel", expected=f"size >= kernel_size {ks}",
                             got=f"input size {size}", fix="use a smaller kernel_size or a larger input")
    out, pads = [], []
    for n, k, s, (before, after), d in zip(size, ks, ss, asked, ds):
        o = output_size((n,), k, s, ((before, after),), d, ceil_mode)[0]
        if o < 1:
            raise ConvShapeError(f"{op}: the output would be empty", expected="an output size >= 1",
                                 got=f"output size {o} from input size {n}", fix="use a smaller kernel")
        # ceil_mode may need a last, partial window past the right padding.
        needed = (o - 1) * s + effective_kernel(k, d)
        pads.append((before, max(after, needed - n - before)))
        out.append(o)
    channels = x_shape[1] if batched else x_shape[0]
    return PoolSpec(nd, batched, channels, size, ks, ss, tuple(pads), asked, ds, bool(ceil_mode), tuple(out))


def _pool_padding(op: str, padding: Padding, ks: tuple[int, ...], ss: tuple[int, ...], ds: tuple[int, ...],
                  size: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """torch's rule for an int padding (at most half the kernel); ONNX's for pairs and strings (any
    non-negative padding, so a window may hold only padding: see the pooling functions for its value)."""
    if isinstance(padding, str) or is_per_side(padding):
        return resolve_padding(padding, ks, ss, ds, size=size)
    ps = to_tuple(padding, len(ks), "padding")  # type: ignore[arg-type]
    for k, p in zip(ks, ps):
        if p < 0 or p > k // 2:
            raise ConvParameterError(f"{op}: padding must be between 0 and half the kernel size",
                                     expected=f"0 <= padding <= kernel_size // 2 = {k // 2}",
                                     got=f"padding={p}, kernel_size={k}",
                                     fix=f"pad the input yourself, or give the padding per side, "
                                         f"padding={((p, p),) * len(ks)} (ONNX's rule: any size)")
    return tuple((p, p) for p in ps)


Arrays = tuple[tuple[str, tuple[int, ...]], ...]  # (name, shape) of each array an operation holds
Sizes = tuple[tuple[int, int], ...]  # (bytes, extent) of each


def _measure(arrays: Arrays, itemsize: int) -> Sizes:
    """(bytes, extent) per array: its data, and what NumPy multiplies out (zero dimensions skipped)."""
    return tuple((prod(shape) * itemsize, prod(max(1, n) for n in shape) * itemsize) for _, shape in arrays)


# The spec and its arrays' sizes, memoised on the raw arguments: the guard then costs one cache
# lookup and a comparison per call (the limit itself is read fresh each time: it can change).
@_memoised
def _conv_measured(op: str, nd: int, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                   b_shape: tuple[int, ...] | None, stride: IntOrTuple, padding: Padding,
                   dilation: IntOrTuple, groups: int, padding_mode: str, itemsize: int
                   ) -> tuple[ConvSpec, Arrays, Sizes]:
    spec = _conv_spec(op, nd, x_shape, w_shape, b_shape, stride, padding, dilation, groups, padding_mode)
    batch = x_shape[0] if spec.batched else 1
    padded = tuple(n + before + after for n, (before, after) in zip(spec.input_size, spec.padding))
    arrays = (("padded input", (batch, spec.in_channels) + padded),
              ("output", (batch, spec.result_channels) + spec.output_size))
    return spec, arrays, _measure(arrays, itemsize)


@_memoised
def _transpose_measured(op: str, nd: int, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                        b_shape: tuple[int, ...] | None, stride: IntOrTuple, padding: Padding,
                        output_padding: IntOrTuple, groups: int, dilation: IntOrTuple, itemsize: int
                        ) -> tuple[TransposeSpec, Arrays, Sizes]:
    spec = _transpose_spec(op, nd, x_shape, w_shape, b_shape, stride, padding, output_padding, groups, dilation)
    batch = x_shape[0] if spec.batched else 1
    full = tuple(o + before + after for o, (before, after) in zip(spec.output_size, spec.padding))  # then cropped
    arrays = (("input", (batch, spec.in_channels) + spec.input_size),
              ("output before the crop", (batch, spec.out_channels) + full))
    return spec, arrays, _measure(arrays, itemsize)


@_memoised
def _pool_measured(op: str, nd: int, x_shape: tuple[int, ...], kernel_size: IntOrTuple,
                   stride: IntOrTuple | None, padding: Padding, dilation: IntOrTuple, ceil_mode: bool,
                   itemsize: int) -> tuple[PoolSpec, Arrays, Sizes]:
    spec = _pool_spec(op, nd, x_shape, kernel_size, stride, padding, dilation, ceil_mode)
    batch = x_shape[0] if spec.batched else 1
    padded = tuple(n + before + after for n, (before, after) in zip(spec.input_size, spec.padding))
    arrays = (("padded input", (batch, spec.channels) + padded), ("output", (batch, spec.channels) + spec.output_size))
    return spec, arrays, _measure(arrays, itemsize)


def _check_sizes(op: str, itemsize: int, arrays: Arrays, sizes: Sizes, culprits: Callable[[], str]) -> None:
    """Refuse an operation whose arrays exceed the array limit.

    Sizes are Python ints, so a padding of 2**62 is measured exactly, not wrapped around in
    int64. An empty array holds nothing, but NumPy still refuses a shape whose non-zero
    dimensions multiply past 2**63 bytes, so that is refused too (torch's empty result
    for it cannot be represented). The message names the largest offender: the array the
    mistyped parameter blew up. This runs on every call, so the sizes come memoised with
    the spec and ``culprits`` (the parameters to check, for the fix) runs only on a refusal.
    """
    limit = max_array_bytes()
    if all(nbytes <= limit and extent <= MAX_BYTES for nbytes, extent in sizes):
        return
    over = [(extent, nbytes, name, shape) for (name, shape), (nbytes, extent) in zip(arrays, sizes)
            if nbytes > limit or extent > MAX_BYTES]
    extent, nbytes, name, shape = max(over)
    if extent > MAX_BYTES:
        raise ArrayTooLargeError(
            f"{op}: the {name} would be larger than any array can be",
            expected=f"dimensions that multiply to at most 2**63 - 1 bytes (and at most the array limit, "
                     f"{human_bytes(limit)}, of data)",
            got=f"{name} shape {shape} of {itemsize}-byte values: {human_bytes(extent)}",
            fix=f"{culprits()}; no limit allows this size, so one of them is probably a typo")
    raise ArrayTooLargeError(
        f"{op}: the {name} would exceed the array limit",
        expected=f"at most {human_bytes(limit)} per array (convscope.engine.workspace.max_array_bytes())",
        got=f"{name} shape {shape} of {itemsize}-byte values: {human_bytes(nbytes)}",
        fix=f"{culprits()}; if this size is intended and the memory is there, raise the limit: "
            f"with convscope.engine.workspace.array_limit({nbytes}): ...")


def _pads(pads: tuple[tuple[int, int], ...]) -> str:
    """(before, after) pairs for a message, as one number per axis when they are symmetric."""
    return str(tuple(b for b, _ in pads)) if all(b == a for b, a in pads) else str(pads)
