"""Output-size arithmetic: the one place where convscope computes a shape.

Every face of convscope (the labs, the CLI, later the web lab and the quizzes) asks this
module for sizes, so a padding rule or a floor is written exactly once.

Conventions follow PyTorch: ``dilation=1`` means an ordinary kernel, the effective
extent of a kernel of size ``k`` is ``dilation * (k - 1) + 1``, and pooling's
``ceil_mode`` never lets the last window start in the right-hand padding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

from .errors import ConvParameterError, KernelTooLargeError

IntOrTuple = int | Sequence[int]
# padding: an int or one int per axis (both sides), one (before, after) pair per axis, or a string
Padding = int | Sequence[int] | Sequence[Sequence[int]] | str
PADDING_STRINGS = ("valid", "same", "same_upper", "same_lower")


def to_tuple(value: IntOrTuple, nd: int, name: str) -> tuple[int, ...]:
    """Normalise an ``int | tuple`` argument to a tuple of ``nd`` Python ints.

    >>> to_tuple(3, 2, "stride")
    (3, 3)
    >>> to_tuple((1, 2), 2, "padding")
    (1, 2)
    """
    if isinstance(value, bool):
        raise ConvParameterError(f"{name} must be an integer", got=repr(value),
                                 fix=f"pass {name}=1 or a tuple of {nd} integers")
    if isinstance(value, int) or (hasattr(value, "__index__") and not hasattr(value, "__len__")):
        return (int(value),) * nd
    try:
        items = tuple(value)
    except TypeError:
        raise ConvParameterError(f"{name} must be an int or a tuple of {nd} ints",
                                 got=repr(value)) from None
    if len(items) == 1:
        items = items * nd
    if len(items) != nd or not all(isinstance(v, int) or hasattr(v, "__index__") for v in items) \
            or any(isinstance(v, bool) for v in items):
        raise ConvParameterError(f"{name} must be an int or a tuple of {nd} ints",
                                 got=repr(value), fix=f"e.g. {name}={(items[0] if items else 1,) * nd}")
    return tuple(int(v) for v in items)


def effective_kernel(kernel_size: int, dilation: int = 1) -> int:
    """Span of a dilated kernel: ``dilation * (kernel_size - 1) + 1``.

    >>> effective_kernel(3, dilation=2)
    5
    """
    return dilation * (kernel_size - 1) + 1


def same_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """The (before, after) padding of ``padding="same"`` for one axis, as PyTorch pads it.

    The total is ``dilation * (kernel_size - 1)``; an odd total puts the extra row after.

    >>> same_padding(3)
    (1, 1)
    >>> same_padding(4)
    (1, 2)
    >>> same_padding(4, dilation=2)
    (3, 3)
    """
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2


def onnx_same_padding(size: int, kernel_size: int, stride: int = 1, dilation: int = 1,
                      upper: bool = True) -> tuple[int, int]:
    """The (before, after) padding of ONNX's ``auto_pad`` SAME_UPPER (or SAME_LOWER) for one axis.

    The output is ``ceil(size / stride)`` at any stride; the total padding is what the last window
    needs, and an odd total puts the extra position after (upper, as TensorFlow's "same") or before.

    >>> onnx_same_padding(5, 3, stride=2)
    (1, 1)
    >>> onnx_same_padding(6, 3, stride=2), onnx_same_padding(6, 3, stride=2, upper=False)
    ((0, 1), (1, 0))
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + effective_kernel(kernel_size, dilation) - size, 0)
    small, large = total // 2, total - total // 2
    return (small, large) if upper else (large, small)


def _check_positive(name: str, value: int) -> None:
    if value <= 0:
        raise ConvParameterError(f"{name} must be positive", expected=f"{name} >= 1",
                                 got=f"{name}={value}", fix=f"use {name}=1 (the default) or larger")


def _check_non_negative(name: str, value: int) -> None:
    if value < 0:
        raise ConvParameterError(f"{name} must not be negative", expected=f"{name} >= 0",
                                 got=f"{name}={value}",
                                 fix="to shrink the output, use a larger stride or crop the input")


def window_count(padded_size: int, kernel_size: int, stride: int, dilation: int,
                 ceil_mode: bool = False, right_padding: int = 0) -> int:
    """How many windows fit on a padded axis (the core of every output-size formula).

    ``ceil_mode`` keeps a last, partial window as pooling does, unless it would start
    in the right padding (PyTorch's rule, ONNX's since opset 19).
    """
    span = padded_size - effective_kernel(kernel_size, dilation)  # may be negative: rounding decides
    count = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (count - 1) * stride >= padded_size - right_padding:
        count -= 1
    return count


@overload
def output_size(size: int, kernel_size: IntOrTuple, stride: IntOrTuple = 1,
                padding: Padding = 0, dilation: IntOrTuple = 1,
                ceil_mode: bool = False) -> int: ...
@overload
def output_size(size: Sequence[int], kernel_size: IntOrTuple, stride: IntOrTuple = 1,
                padding: Padding = 0, dilation: IntOrTuple = 1,
                ceil_mode: bool = False) -> tuple[int, ...]: ...
def output_size(size: IntOrTuple, kernel_size: IntOrTuple, stride: IntOrTuple = 1,
                padding: Padding = 0, dilation: IntOrTuple = 1,
                ceil_mode: bool = False) -> int | tuple[int, ...]:
    """Output length of a convolution or pooling window along each axis.

    ``out = floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1``
    (``ceil`` instead of ``floor`` when ``ceil_mode``). Arguments may be ints or
    tuples; the result has the same form as ``size``. ``padding`` may also be
    ``"valid"`` (0) or ``"same"`` (output = input, stride 1 only).

    Parameters
    ----------
    size
        Input length(s): H, or (H, W), or (D, H, W).
    kernel_size, stride, padding, dilation
        As in ``torch.nn.Conv2d``; an int ``padding`` is added on both sides. ``padding`` may
        also give each side: ``((top, bottom), (left, right))`` (``((left, right),)`` in 1-d),
        or be a string: "valid", "same" (stride 1, as torch) or "same_upper" / "same_lower"
        (ONNX's auto_pad: ``ceil(size / stride)`` at any stride).
    ceil_mode
        Pooling's rounding up (never used by convolutions).

    Returns
    -------
    int or tuple of int

    Raises
    ------
    ConvParameterError
        Non-positive size, kernel, stride or dilation; negative padding; "same" with stride > 1.
    KernelTooLargeError
        The dilated kernel is larger than the padded input.

    Examples
    --------
    >>> output_size(28, 3, padding=1)
    28
    >>> output_size(28, 3, stride=2)
    13
    >>> output_size((6, 6), 3, stride=2, padding=1)
    (3, 3)
    >>> output_size((6, 6), 3, stride=2, padding=((0, 1), (1, 0)))
    (3, 3)
    >>> output_size(7, 3, stride=3, padding="same_upper")
    3
    """
    nd = 1 if isinstance(size, int) else len(tuple(size))
    sizes = to_tuple(size, nd, "size")
    ks, ss, ds = to_tuple(kernel_size, nd, "kernel_size"), to_tuple(stride, nd, "stride"), \
        to_tuple(dilation, nd, "dilation")
    pads = resolve_padding(padding, ks, ss, ds, size=sizes)
    out = []
    for axis in range(nd):
        for name, value in (("size", sizes[axis]), ("kernel_size", ks[axis]),
                            ("stride", ss[axis]), ("dilation", ds[axis])):
            _check_positive(name, value)
        before, after = pads[axis]
        padded = sizes[axis] + before + after
        span = effective_kernel(ks[axis], ds[axis])
        count = window_count(padded, ks[axis], ss[axis], ds[axis], ceil_mode, after)
        if count < 1:
            raise KernelTooLargeError(
                "the kernel is larger than the padded input",
                expected=f"dilation*(kernel_size-1)+1 = {span} <= size + padding = {padded}",
                got=f"size={sizes[axis]}, padding={before}+{after}, kernel_size={ks[axis]}, "
                    f"dilation={ds[axis]}",
                fix=f"pad by at least {-(-(span - sizes[axis]) // 2)} per side, use a smaller "
                    "kernel or dilation, or feed a larger input")
        out.append(count)
    return out[0] if isinstance(size, int) else tuple(out)


def resolve_padding(padding: Padding, kernel: tuple[int, ...], stride: tuple[int, ...],
                    dilation: tuple[int, ...], allow_negative: bool = False,
                    size: tuple[int, ...] | None = None) -> tuple[tuple[int, int], ...]:
    """Turn ``padding`` into (before, after) pairs per axis.

    ``padding``: an int or one per axis (both sides), one (before, after) pair per axis,
    "valid", "same" (torch's: stride 1) or "same_upper" / "same_lower" (ONNX's, which need the
    input ``size``). ``allow_negative`` lets a negative number crop instead, as
    ``torch.nn.functional.pad`` (and so ``nn.Conv2d`` with a non-zero ``padding_mode``) does.

    >>> resolve_padding("same", (3, 4), (1, 1), (1, 1))
    ((1, 1), (1, 2))
    >>> resolve_padding(2, (3,), (1,), (1,))
    ((2, 2),)
    >>> resolve_padding(((0, 1), (2, 3)), (3, 3), (1, 1), (1, 1))
    ((0, 1), (2, 3))
    >>> resolve_padding("same_lower", (2,), (2,), (1,), size=(5,))
    ((1, 0),)
    """
    nd = len(kernel)
    if isinstance(padding, str):
        return _padding_string(padding, kernel, stride, dilation, size)
    if is_per_side(padding):
        pairs = _pairs(padding, nd)  # type: ignore[arg-type]
    else:
        pairs = tuple((p, p) for p in to_tuple(padding, nd, "padding"))  # type: ignore[arg-type]
    if not allow_negative:
        for pair in pairs:
            for p in pair:
                _check_non_negative("padding", p)
    return pairs


def _padding_string(padding: str, kernel: tuple[int, ...], stride: tuple[int, ...],
                    dilation: tuple[int, ...], size: tuple[int, ...] | None) -> tuple[tuple[int, int], ...]:
    nd = len(kernel)
    if padding == "valid":
        return ((0, 0),) * nd
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ConvParameterError(
                'padding="same" keeps the size only at stride 1', expected="stride=1",
                got=f"stride={stride if nd > 1 else stride[0]}",
                fix='use padding="same_upper" (TensorFlow\'s "same": output = ceil(size / stride)), or give '
                    "the padding as numbers, e.g. padding=(kernel_size - 1) // 2")
        return tuple(same_padding(k, d) for k, d in zip(kernel, dilation))
    if padding in ("same_upper", "same_lower"):
        if size is None:  # only a caller without an input (a layer's description) gets here
            raise ConvParameterError(f'padding="{padding}" depends on the input size', expected="an input size",
                                     got="none", fix="compute the padding for one input size and pass numbers")
        return tuple(onnx_same_padding(n, k, s, d, upper=padding == "same_upper")
                     for n, k, s, d in zip(size, kernel, stride, dilation))
    raise ConvParameterError("unknown padding string", expected=" / ".join(f'"{p}"' for p in PADDING_STRINGS)
                             + ", an int, a tuple or (before, after) pairs",
                             got=repr(padding), fix='use padding="same" or an integer')


def is_per_side(padding: object) -> bool:
    """Whether ``padding`` is given per side: a sequence whose items are sequences."""
    try:
        return any(hasattr(item, "__len__") and not isinstance(item, str) for item in padding)  # type: ignore
    except TypeError:
        return False


def _pairs(padding: Sequence[Sequence[int]], nd: int) -> tuple[tuple[int, int], ...]:
    example = ", ".join(["(0, 1)"] * nd)
    wanted = f"{nd} (before, after) pair{'s' if nd > 1 else ''}, e.g. padding=({example}{',' if nd == 1 else ''})"
    items = tuple(padding)
    if len(items) != nd or not all(hasattr(item, "__len__") and len(item) == 2 for item in items):
        raise ConvParameterError("padding per side needs one (before, after) pair per axis", expected=wanted,
                                 got=repr(padding), fix="give one pair per spatial axis, or an int for both sides")
    pairs = []
    for item in items:
        if not all(isinstance(v, int) or hasattr(v, "__index__") for v in item) or \
                any(isinstance(v, bool) for v in item):
            raise ConvParameterError("padding per side must be integers", expected=wanted, got=repr(padding),
                                     fix="round the padding to whole positions")
        pairs.append((int(item[0]), int(item[1])))
    return tuple(pairs)


def window_positions(index: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> list[int]:
    """The positions (on the padded axis) that output ``index``'s window reads, one per tap.

    >>> window_positions(2, 3, stride=2, dilation=2)
    [4, 6, 8]
    """
    return [index * stride + tap * dilation for tap in range(kernel_size)]


@dataclass(frozen=True)
class ReceptiveField:
    """Where one output unit looks, along one axis (Araujo, Norris & Sim, Distill 2019).

    ``size``: how many input positions the unit's value depends on (at most); ``jump``:
    how far apart, in input positions, two neighbouring output units are (the product of
    the strides so far); ``start``: the first input position the *first* output unit
    reads (negative when it starts in the padding). Output unit ``i`` reads input
    positions ``start + i*jump`` to ``start + i*jump + size - 1``.
    """

    size: int = 1
    jump: int = 1
    start: int = 0

    def then(self, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> ReceptiveField:
        """The receptive field after one more window layer (convolution or pooling) whose
        ``padding`` is the count added *before* the first position.

        ``size' = size + (dilation*(kernel - 1)) * jump``, ``jump' = jump * stride``,
        ``start' = start - padding * jump``.

        >>> rf = ReceptiveField().then(7, 2, 3).then(3, 2, 1).then(3, 2, 1)
        >>> rf.size, rf.jump, rf.start
        (19, 8, -9)
        """
        span = effective_kernel(kernel_size, dilation)
        return ReceptiveField(self.size + (span - 1) * self.jump, self.jump * stride,
                              self.start - padding * self.jump)

    def shifted(self, units: int) -> ReceptiveField:
        """The field after ``units`` positions are added before the first one (a left pad;
        negative: a crop): the new unit ``i`` is the old unit ``i - units``.

        >>> ReceptiveField(7, 2, -3).shifted(1).start
        -5
        """
        return ReceptiveField(self.size, self.jump, self.start - units * self.jump)

    def union(self, other: ReceptiveField) -> ReceptiveField | None:
        """The extent covering both fields, for a unit that reads two aligned maps (a residual
        add, a concatenation): ``start = min``, ``end = max``. None when the jumps differ (the
        maps are not aligned: no single field describes every unit).

        >>> ReceptiveField(5, 4, -2).union(ReceptiveField(1, 4, 0))
        ReceptiveField(size=5, jump=4, start=-2)
        >>> ReceptiveField(3, 2, 0).union(ReceptiveField(9, 2, 1))
        ReceptiveField(size=10, jump=2, start=0)
        >>> ReceptiveField(3, 2, 0).union(ReceptiveField(3, 4, 0)) is None
        True
        """
        if self.jump != other.jump:
            return None
        start = min(self.start, other.start)
        end = max(self.start + self.size, other.start + other.size)
        return ReceptiveField(end - start, self.jump, start)

    def first(self, index: int = 0) -> int:
        """The first input position output unit ``index`` reads.

        >>> ReceptiveField(5, 2, -2).first(3)
        4
        """
        return self.start + index * self.jump

    def center(self, index: int = 0) -> float:
        """The input position at the centre of output unit ``index``'s field."""
        return self.first(index) + (self.size - 1) / 2


def transposed_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                           output_padding: int = 0, dilation: int = 1) -> int:
    """Output length of a transposed convolution along one axis.

    ``out = (size - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1``

    >>> transposed_output_size(3, 3, stride=2, padding=1, output_padding=1)
    6
    """
    return (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


class Explanation(str):
    """The text of :func:`explain_output_size`: a plain ``str`` everywhere (print, ``==``, JSON),
    with the numbers kept as attributes and, in a notebook, the steps as styled HTML.

    ``out``: the output size; ``before``, ``after``: the padding on each side; ``uncovered``:
    how many input positions no window reads. ``roles`` names each line's part: "note" (how a
    padding string resolves), "formula", "step", "result" (the line that gives ``out``),
    "windows" (where the windows start) or "warning".
    """

    # a str subclass cannot have __slots__; the attributes live in __dict__ (pickled with it)
    out: int
    before: int
    after: int
    uncovered: int
    roles: tuple[str, ...]

    def __new__(cls, text: str = "", *, out: int = 0, before: int = 0, after: int = 0, uncovered: int = 0,
                roles: tuple[str, ...] = ()) -> Explanation:
        self = super().__new__(cls, text)
        self.out, self.before, self.after, self.uncovered = out, before, after, uncovered
        self.roles = tuple(roles) or ("step",) * len(text.splitlines())
        return self

    def _repr_html_(self) -> str:
        """The steps as they print, the line giving the output size highlighted, warnings in
        amber. Inline styles only: the engine imports nothing outside the standard library."""
        from html import escape

        styles = {"formula": "font-weight:bold", "result": "font-weight:bold;background:#dff0d8;color:#1b5e20",
                  "note": "color:#555", "windows": "color:#555",
                  "warning": "display:inline-block;white-space:pre-wrap;background:#fff3cd;color:#7a4b00;"
                             "border-left:3px solid #e0a800;padding:0 .4em"}
        body = "\n".join(f"<span class='convscope-{role}' style='{styles.get(role, '')}'>{escape(line)}</span>"
                         for role, line in zip(self.roles, self.splitlines()))
        return (f"<div class='convscope convscope-explanation'><div><b>output size: {self.out}</b></div>"
                f"<pre style='margin:.2em 0;line-height:1.35'>{body}</pre></div>")


def explain_output_size(size: int, kernel_size: int, stride: int = 1,
                        padding: int | str | tuple[int, int] = 0, dilation: int = 1,
                        ceil_mode: bool = False) -> Explanation:
    """Explain, step by step, how one axis's output size comes out.

    ``padding``: an int (both sides), a (before, after) pair, or a string as :func:`output_size`.

    The text gives the formula, the numbers put in, the rounding, and a warning when the
    last rows (or columns) of the input are never covered by any window. It is an
    :class:`Explanation`: a ``str`` that a notebook shows as HTML.

    Examples
    --------
    >>> print(explain_output_size(28, 3, stride=2))
    out = floor((in + 2*padding - kernel_size) / stride) + 1
        = floor((28 + 2*0 - 3) / 2) + 1
        = floor(25 / 2) + 1
        = floor(12.5) + 1
        = 12 + 1 = 13
    The 13 windows start at 0, 2, ..., 24; the last one covers input positions 24..26.
    Warning: input position 27 is never covered by a window: the floor drops 1 position.
    Pad the input or change the stride if it matters.
    """
    per_side = isinstance(padding, (tuple, list))  # one axis's (before, after)
    axis_padding: Padding = ((int(padding[0]), int(padding[1])),) if per_side else padding  # type: ignore[index]
    (before, after), = resolve_padding(axis_padding, (kernel_size,), (stride,), (dilation,), size=(size,))
    out = output_size((size,), kernel_size, stride, ((before, after),), dilation, ceil_mode)[0]
    span = effective_kernel(kernel_size, dilation)
    rounding = "ceil" if ceil_mode else "floor"
    if before == after:
        pad_sym, pad_num = "2*padding", f"2*{before}"
    else:
        pad_sym, pad_num = "pad_before + pad_after", f"{before} + {after}"
    if dilation == 1:
        formula = f"out = {rounding}((in + {pad_sym} - kernel_size) / stride) + 1"
        numbers = f"{rounding}(({size} + {pad_num} - {kernel_size}) / {stride}) + 1"
    else:
        formula = f"out = {rounding}((in + {pad_sym} - dilation*(kernel_size - 1) - 1) / stride) + 1"
        numbers = f"{rounding}(({size} + {pad_num} - {dilation}*({kernel_size} - 1) - 1) / {stride}) + 1"
    numerator = size + before + after - span
    quotient = numerator / stride
    rounded = math.ceil(quotient) if ceil_mode else math.floor(quotient)
    lines = [("formula", formula), ("step", f"    = {numbers}"),
             ("step", f"    = {rounding}({numerator} / {stride}) + 1")]
    if numerator % stride:
        lines.append(("step", f"    = {rounding}({quotient:g}) + 1"))
    lines.append(("result", f"    = {rounded} + 1 = {rounded + 1}"))
    if rounded + 1 != out:
        lines[-1] = ("step", lines[-1][1])  # not the answer after all: the next line is
        lines.append(("result", f"ceil_mode drops the last window because it would start in the right "
                                f"padding: out = {out}"))
    if padding == "same":
        lines.insert(0, ("note", f'padding="same" pads {before} before and {after} after '
                                 f"(total dilation*(kernel_size-1) = {before + after})."))
    elif padding in ("same_upper", "same_lower"):
        extra = "after" if padding == "same_upper" else "before"
        lines.insert(0, ("note", f'padding="{padding}" (TensorFlow\'s "same" is same_upper): ceil({size} / {stride}) '
                                 f"= {-(-size // stride)} outputs need {before + after} padding: {before} before, "
                                 f"{after} after (an odd total puts the extra one {extra})."))
    # Window positions in input coordinates (negative = left padding).
    first, last_start = -before, (out - 1) * stride - before
    starts = f"{first}" if out == 1 else (f"{first}, {first + stride}" if out == 2 else
                                          f"{first}, {first + stride}, ..., {last_start}")
    last_end = last_start + span - 1
    padded_note = f" (positions below 0 or above {size - 1} are padding)" if before or after else ""
    lines.append(("windows", f"The {out} window{'s' if out > 1 else ''} start at {starts}; the last one "
                             f"covers input positions {last_start}..{last_end}{padded_note}."))
    uncovered = size - 1 - last_end
    if uncovered > 0:
        where = (f"position {size - 1}" if uncovered == 1 else f"positions {last_end + 1}..{size - 1}")
        lines.append(("warning", f"Warning: input {where} {'is' if uncovered == 1 else 'are'} never covered by a "
                                 f"window: the {rounding} drops {uncovered} position{'s' if uncovered > 1 else ''}. "
                                 "Pad the input or change the stride if it matters."))
    return Explanation("\n".join(line for _, line in lines), out=out, before=before, after=after,
                       uncovered=max(uncovered, 0), roles=tuple(role for role, _ in lines))
