"""The shape calculator: a layer stack written as text, its shape after every layer, the
``?`` it leaves open solved, and the same stack as PyTorch code.

>>> report = shape_stack("Conv2d(3,16,3,padding=1) -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(?,10)",
...                      (1, 3, 32, 32))
>>> [row.output_shape for row in report.rows]
[(1, 16, 32, 32), (1, 16, 32, 32), (1, 16, 16, 16), (1, 4096), (1, 10)]
>>> report.solved
{'Linear(?,10) in_features': 4096}
"""

from __future__ import annotations

import ast
import inspect as pyinspect
from dataclasses import dataclass, field
from math import prod
from typing import Any

from ..engine.arithmetic import (
    output_size,
    resolve_padding,
    to_tuple,
    transposed_output_size,
)
from ..engine.errors import ConvScopeError, ConvShapeError
from .layer_rules import Unknown, check_layer, check_unknowns

UNKNOWN = "?"
SAME_SHAPE = {"ReLU", "ReLU6", "LeakyReLU", "GELU", "SiLU", "ELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
              "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "Identity", "Hardswish", "Mish"}
WINDOWS = {f"{kind}{nd}d": (kind, nd) for nd in (1, 2, 3)
           for kind in ("Conv", "ConvTranspose", "MaxPool", "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool",
                        "BatchNorm")}
SUPPORTED = sorted(SAME_SHAPE | set(WINDOWS) | {"Flatten", "Linear"})


class StackError(ConvScopeError):
    """A layer stack that does not parse, or a layer whose shapes do not fit."""


@dataclass
class StackRow:
    text: str                       # as written
    code: str                       # as PyTorch code, with every ? solved
    output_shape: tuple[int, ...]
    params: int
    layer: tuple[str, list[Any], dict[str, Any]] = field(repr=False, default=("Identity", [], {}))  # ? solved


@dataclass
class StackReport:
    input_shape: tuple[int, ...]
    rows: list[StackRow]
    solved: dict[str, int] = field(default_factory=dict)

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    def code(self) -> str:
        layers = "".join(f"    {row.code},\n" for row in self.rows)
        return (f"import torch\nfrom torch import nn\n\nmodel = nn.Sequential(\n{layers})\n"
                f"x = torch.randn{self.input_shape}\nprint(model(x).shape)  # {self.rows[-1].output_shape}\n")

    def model(self) -> Any:
        """The stack as an ``nn.Sequential`` on torch's meta device: shapes without memory, at any size."""
        return _meta_model([row.layer for row in self.rows])

    def to_dict(self) -> dict[str, Any]:
        return {"input_shape": list(self.input_shape), "solved": self.solved, "total_params": self.total_params,
                "layers": [{"text": r.text, "code": r.code, "output_shape": list(r.output_shape), "params": r.params}
                           for r in self.rows], "code": self.code()}


def _parse(text: str, index: int) -> tuple[str, list[Any], dict[str, Any]]:
    """``"Conv2d(3, 16, 3, padding=1)"`` -> ("Conv2d", [3, 16, 3], {"padding": 1}); ``?`` -> Unknown."""
    source = text.strip().replace(UNKNOWN, "__unknown__")
    try:
        node = ast.parse(source, mode="eval").body
    except SyntaxError as error:
        raise StackError(f"layer {index} does not parse", expected="Name or Name(args), e.g. Conv2d(3, 16, 3)",
                         got=repr(text.strip()), fix="separate layers with ->") from error
    call = node if isinstance(node, ast.Call) else ast.Call(func=node, args=[], keywords=[])
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
    if name not in SUPPORTED:
        raise StackError(f"layer {index} is not a layer the calculator knows", expected=", ".join(SUPPORTED),
                         got=repr(text.strip()), fix="write it as in torch.nn, e.g. MaxPool2d(2)")

    def value(item: ast.expr) -> Any:
        if isinstance(item, ast.Name) and item.id == "__unknown__":
            return Unknown()
        try:
            return ast.literal_eval(item)
        except ValueError as error:
            raise StackError(f"layer {index} has an argument that is not a number, string or tuple",
                             got=ast.unparse(item), fix="use literal values, or ? for the one to solve") from error
    return name, [value(a) for a in call.args], {k.arg: value(k.value) for k in call.keywords if k.arg}


def _bind(name: str, args: list[Any], kwargs: dict[str, Any], text: str) -> dict[str, Any]:
    from torch import nn

    signature = pyinspect.signature(getattr(nn, name).__init__)
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError as error:
        raise StackError(f"{text.strip()}: the arguments do not fit nn.{name}", got=str(error),
                         fix=f"nn.{name}{str(signature).replace('(self, ', '(')}") from error
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k != "self"}


def _code(name: str, args: list[Any], kwargs: dict[str, Any], fill: dict[int | str, Any]) -> str:
    parts = [repr(fill.get(i, a)) for i, a in enumerate(args)]
    parts += [f"{k}={fill.get(k, v)!r}" for k, v in kwargs.items()]
    return f"nn.{name}({', '.join(parts)})"


def _solve(value: Any, actual: int, label: str, solved: dict[str, int], text: str, what: str) -> int:
    if isinstance(value, Unknown):
        solved[f"{text.strip()} {label}"] = actual
        return actual
    if value != actual:
        raise StackError(f"{text.strip()} expects {label}={value}", expected=f"{what} {value}",
                         got=f"{actual}", fix=f"write {label}={actual} (or ? to have it solved)")
    return actual


def _layer(name: str, p: dict[str, Any], shape: tuple[int, ...], text: str, solved: dict[str, int]
           ) -> tuple[tuple[int, ...], int, dict[str, int]]:
    """Output shape, parameter count, and the solved values (by argument name) of one layer."""
    fills: dict[str, int] = {}
    if name in SAME_SHAPE:
        return shape, 0, fills
    if name == "Flatten":
        start, end = p["start_dim"] % len(shape), p["end_dim"] % len(shape)
        return shape[:start] + (prod(shape[start:end + 1]),) + shape[end + 1:], 0, fills
    if name == "Linear":
        fills["in_features"] = _solve(p["in_features"], shape[-1], "in_features", solved, text,
                                      "an input whose last axis is")
        return shape[:-1] + (p["out_features"],), fills["in_features"] * p["out_features"] + \
            (p["out_features"] if p["bias"] else 0), fills
    kind, nd = WINDOWS[name]
    if len(shape) != nd + 2:
        raise StackError(f"{text.strip()} needs a batched {nd}-d map", expected=f"{nd + 2} axes (N, C, *spatial)",
                         got=f"shape {shape}", fix="check the input shape, or a Flatten placed too early")
    channels, sizes = shape[1], shape[2:]
    if kind == "BatchNorm":
        fills["num_features"] = _solve(p["num_features"], channels, "num_features", solved, text, "channels")
        return shape, 2 * channels if p["affine"] else 0, fills
    if kind.startswith("Adaptive"):
        target = p["output_size"]
        if isinstance(target, (tuple, list)):
            target = tuple(target) * (nd if len(target) == 1 else 1)
        else:
            target = (target,) * nd
        return shape[:2] + tuple(s if t is None else t for s, t in zip(sizes, target)), 0, fills
    kernel = to_tuple(p["kernel_size"], nd, "kernel_size")
    if kind in ("MaxPool", "AvgPool"):
        stride = kernel if p["stride"] is None else to_tuple(p["stride"], nd, "stride")
        dilation = to_tuple(p.get("dilation", 1), nd, "dilation")
        out = output_size(sizes, kernel, stride, p["padding"], dilation, p["ceil_mode"])
        return shape[:2] + tuple(out), 0, fills
    fills["in_channels"] = _solve(p["in_channels"], channels, "in_channels", solved, text, "input channels")
    out_channels, groups = p["out_channels"], p["groups"]
    if channels % groups:
        raise StackError(f"{text.strip()}: the incoming channels are not divisible by groups",
                         expected=f"channels divisible by groups={groups}", got=f"{channels} channels",
                         fix="change groups, or the layer before")
    stride, dilation = to_tuple(p["stride"], nd, "stride"), to_tuple(p["dilation"], nd, "dilation")
    params = out_channels * (channels // groups) * prod(kernel) + (out_channels if p["bias"] else 0)
    if kind == "ConvTranspose":
        padding = to_tuple(p["padding"], nd, "padding")
        extra = to_tuple(p["output_padding"], nd, "output_padding")
        out = tuple(transposed_output_size(n, k, s, q, e, d)
                    for n, k, s, q, e, d in zip(sizes, kernel, stride, padding, extra, dilation))
        return (shape[0], out_channels) + out, params, fills
    pads = resolve_padding(p["padding"], kernel, stride, dilation)
    out = tuple(output_size(n, k, s, a, d) if a == b else output_size(n + a + b, k, s, 0, d)
                for n, k, s, (a, b), d in zip(sizes, kernel, stride, pads, dilation))
    return (shape[0], out_channels) + out, params, fills


def shape_stack(text: str, input_shape: tuple[int, ...]) -> StackReport:
    """Shapes after each layer of ``"Layer(args) -> Layer -> ..."`` for an input of ``input_shape``."""
    pieces = text.split("->")
    if not text.strip() or any(not piece.strip() for piece in pieces):
        raise StackError("an empty layer in the stack", expected="layers separated by ->", got=repr(text),
                         fix='e.g. "Conv2d(3,16,3) -> ReLU -> Flatten"')
    shape, rows, solved = tuple(input_shape), list[StackRow](), dict[str, int]()
    for index, piece in enumerate(pieces, start=1):
        name, args, kwargs = _parse(piece, index)
        bound = _bind(name, args, kwargs, piece)
        try:
            check_unknowns(bound)
            check_layer(name, bound, len(shape))
            shape, params, fills = _layer(name, bound, shape, piece, solved)
        except StackError:
            raise
        except ConvScopeError as error:
            raise StackError(f"layer {index} {piece.strip()} on shape {shape}: {error.what}",
                             expected=error.expected, got=error.got, fix=error.fix) from error
        positions = {k: i for i, k in enumerate(list(bound)[:len(args)])}
        fill = {positions.get(k, k): v for k, v in fills.items()}
        layer = (name, [fill.get(i, a) for i, a in enumerate(args)], {k: fill.get(k, v) for k, v in kwargs.items()})
        rows.append(StackRow(piece.strip(), _code(name, args, kwargs, fill), shape, params, layer))
    report = StackReport(tuple(input_shape), rows, solved)
    _agree_with_torch(report)
    return report


def _meta_module(name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    import torch
    from torch import nn

    with torch.device("meta"):
        return getattr(nn, name)(*args, **kwargs)


def _meta_model(layers: list[tuple[str, list[Any], dict[str, Any]]]) -> Any:
    from torch import nn

    return nn.Sequential(*(_meta_module(*layer) for layer in layers))


def _agree_with_torch(report: StackReport) -> None:
    """Run the stack on the meta device (shapes only: no memory, no arithmetic): torch must accept
    every layer and give the shapes the calculator computed."""
    import torch

    if prod(report.input_shape) >= 2**62:
        raise StackError("the input shape is too large", expected="fewer than 2**62 elements",
                         got=f"{report.input_shape}", fix="use a smaller batch or image")
    x = torch.empty(report.input_shape, device="meta")
    for index, row in enumerate(report.rows, start=1):
        try:
            x = _meta_module(*row.layer)(x)
        except Exception as error:  # torch's own refusal of something the rules let through
            raise StackError(f"layer {index} {row.text}: torch refuses it",
                             got=f"{type(error).__name__}: {error}".splitlines()[0],
                             fix="change that layer's arguments") from error
        if tuple(x.shape) != row.output_shape:
            raise StackError(f"layer {index} {row.text}: convscope's arithmetic and torch disagree",
                             expected=f"torch's shape {tuple(x.shape)}", got=f"{row.output_shape}",
                             fix="please report this stack; torch's shape is the right one")


def parse_shape(text: str) -> tuple[int, ...]:
    """``"1,3,32,32"`` -> (1, 3, 32, 32), with an error that shows the expected form."""
    parts = text.replace("x", ",").replace(" ", "").strip("()[]").split(",")
    try:
        if not all(part.isascii() for part in parts):
            raise ValueError("digits other than 0-9")
        shape = tuple(int(part) for part in parts)
    except ValueError as error:
        raise ConvShapeError("the input shape does not parse", expected="comma-separated positive ints, e.g. "
                             "1,3,32,32", got=repr(text), fix="--input 1,3,32,32") from error
    if not shape or any(n < 1 for n in shape):
        raise ConvShapeError("the input shape must be positive", expected="ints >= 1", got=repr(text),
                             fix="--input 1,3,32,32")
    return shape
