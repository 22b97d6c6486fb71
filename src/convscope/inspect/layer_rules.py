"""What torch validates for each layer the shape calculator accepts, checked before anything runs.

torch checks some arguments when a layer is built (``groups=0``, ``Dropout(p=2)``), some only
when real data flows (``Softmax(dim=9)``, ``ConvTranspose2d(stride=0)``: a meta-device pass lets
them through), and some with a bare ``ZeroDivisionError`` or ``TypeError``. Here every one is a
:class:`~convscope.engine.errors.ConvParameterError` that names the argument, the rule and a value
that works, so the calculator (CLI and web lab alike) answers a bad layer with a message.

>>> check_layer("Conv2d", {"in_channels": 3, "out_channels": 8, "kernel_size": 3, "stride": 1,
...                         "padding": 0, "dilation": 1, "groups": 0}, 2)
Traceback (most recent call last):
convscope.engine.errors.ConvParameterError: groups must be a positive integer; got groups=0. Fix: use groups=1
"""

from __future__ import annotations

from numbers import Real
from typing import Any, cast

from ..engine.arithmetic import to_tuple
from ..engine.errors import ConvParameterError

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
# Where "?" may stand: the sizes the calculator can read off the incoming shape.
SOLVABLE = {"in_channels", "in_features", "num_features"}


class Unknown:
    """A ``?`` in a layer's arguments: a size to solve from the incoming shape."""

    def __repr__(self) -> str:
        return "?"


def _int(name: str, value: Any, low: int, example: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        rule = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise ConvParameterError(f"{name} must be {rule}", got=f"{name}={value!r}", fix=f"use {name}={example}")
    return value


def _ints(name: str, value: Any, nd: int, low: int) -> tuple[int, ...]:
    values = to_tuple(value, nd, name)
    for v in values:
        _int(name, v, low, max(low, 1) if low else 0)
    return values


def _dim(name: str, value: Any, rank: int) -> int:
    """A dimension index as torch reads it: -rank <= dim < rank, returned as 0..rank-1."""
    if isinstance(value, bool) or not isinstance(value, int) or not -rank <= value < rank:
        raise ConvParameterError(f"{name} is not an axis of the incoming tensor",
                                 expected=f"an integer from {-rank} to {rank - 1} (the tensor has {rank} axes)",
                                 got=f"{name}={value!r}", fix=f"use {name}={rank - 1} (or -1) for the last axis")
    return value % rank


def check_unknowns(params: dict[str, Any]) -> None:
    """``?`` only where the calculator can solve it from the incoming shape."""
    for name, value in params.items():
        if isinstance(value, Unknown) and name not in SOLVABLE:
            raise ConvParameterError(f"? cannot stand for {name}", expected=f"? only for {', '.join(sorted(SOLVABLE))}",
                                     got=f"{name}=?", fix=f"write a number for {name}")


def check_layer(name: str, p: dict[str, Any], rank: int) -> None:
    """Raise :class:`ConvParameterError` for any argument torch would refuse; ``rank``: the incoming tensor's axes."""
    nd = int(name[-2]) if name[-2:-1].isdigit() and name.endswith("d") else 0
    if name.startswith(("Conv", "ConvTranspose")):
        _conv(name, p, nd)
    elif name.startswith(("MaxPool", "AvgPool")):
        kernel = _ints("kernel_size", p["kernel_size"], nd, 1)
        if p["stride"] is not None:
            _ints("stride", p["stride"], nd, 1)
        _ints("dilation", p.get("dilation", 1), nd, 1)
        for k, q in zip(kernel, _ints("padding", p["padding"], nd, 0)):
            half = k // 2  # of the kernel, not of the dilated window: torch's rule for both pools
            if q > half:
                raise ConvParameterError("pool padding must be at most half the window", expected=f"padding <= {half}",
                                         got=f"padding={q} with kernel_size={k}",
                                         fix=f"use padding={half} or less, or pad before the pool")
    elif name.startswith("Adaptive"):
        target = p["output_size"]
        items = target if isinstance(target, (tuple, list)) else (target,) * nd
        if len(items) not in (1, nd) or any(v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1)
                                            for v in items):
            raise ConvParameterError("output_size must be positive sizes (None keeps an axis)",
                                     expected=f"an int >= 1 or a tuple of {nd} such ints or None",
                                     got=f"output_size={target!r}", fix="e.g. output_size=1 for global pooling")
    elif name == "Linear":
        _size("in_features", p["in_features"])
        _size("out_features", p["out_features"])
    elif name.startswith("BatchNorm"):
        _size("num_features", p["num_features"])
    elif name == "Flatten":
        start, end = _dim("start_dim", p["start_dim"], rank), _dim("end_dim", p["end_dim"], rank)
        if start > end:
            raise ConvParameterError("Flatten's start_dim comes after its end_dim",
                                     expected="start_dim <= end_dim (counted from the front)",
                                     got=f"start_dim={p['start_dim']}, end_dim={p['end_dim']} on {rank} axes",
                                     fix="swap them, e.g. Flatten(1, -1)")
    elif name in ("Softmax", "LogSoftmax") and p["dim"] is not None:
        _dim("dim", p["dim"], rank)
    elif name.startswith("Dropout"):
        if isinstance(p["p"], bool) or not isinstance(p["p"], Real) or not 0 <= cast(float, p["p"]) <= 1:
            raise ConvParameterError("a dropout probability is between 0 and 1", got=f"p={p['p']!r}",
                                     fix="use p=0.5")


def _size(name: str, value: Any) -> None:
    if not isinstance(value, Unknown):
        _int(name, value, 1, 16)


def _conv(name: str, p: dict[str, Any], nd: int) -> None:
    _size("in_channels", p["in_channels"])
    _size("out_channels", p["out_channels"])
    groups = _int("groups", p["groups"], 1)
    for key in ("in_channels", "out_channels"):
        if isinstance(p[key], int) and p[key] % groups:
            raise ConvParameterError(f"{key} must be divisible by groups", expected=f"{key} % groups == 0",
                                     got=f"{key}={p[key]}, groups={groups}", fix="pick groups among its divisors")
    _ints("kernel_size", p["kernel_size"], nd, 1)
    stride, dilation = _ints("stride", p["stride"], nd, 1), _ints("dilation", p["dilation"], nd, 1)
    if p.get("padding_mode", "zeros") not in PADDING_MODES:
        raise ConvParameterError("unknown padding_mode", expected=" / ".join(PADDING_MODES),
                                 got=repr(p["padding_mode"]), fix='use padding_mode="zeros"')
    if name.startswith("ConvTranspose"):
        _ints("padding", p["padding"], nd, 0)
        for s, d, o in zip(stride, dilation, _ints("output_padding", p["output_padding"], nd, 0)):
            if o >= max(s, d):
                raise ConvParameterError("output_padding must be smaller than stride or dilation",
                                         expected=f"output_padding < {max(s, d)}", got=f"output_padding={o}",
                                         fix="use output_padding=0, or stride - 1 at most")
    elif not isinstance(p["padding"], str):
        _ints("padding", p["padding"], nd, 0)
