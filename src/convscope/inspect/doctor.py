"""``doctor(model, input)``: when the forward pass fails, say where, why, and how to fix it.

The trace runs up to the failing layer (so you see every shape that led there); the
failing call's input shape and the layer's settings are then checked by the engine's
own validation, whose errors name the fix: the ``in_features`` a ``Linear`` needs after
a ``Flatten`` (computed from the traced shape), ``permute(0, 3, 1, 2)`` for a
channels-last image, the ``in_channels`` that would fit, a missing batch or channel
axis, a kernel in TensorFlow's (kH, kW, in, out) order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from math import prod
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from ..engine.errors import ConvScopeError
from .recorder import Call, ModelExit, Recorder
from .trace import (
    MEMORY_BUDGET,
    LayerRow,
    Trace,
    as_example,
    build_rows,
    check_memory,
    preserved_state,
    trace,
)


@dataclass
class Remedy:
    """One concrete fix. ``kind`` "module": ``code`` builds the module to put at ``target`` (a
    dotted module path); "tensor": ``code`` is an expression on ``x``, the tensor ``target`` names
    (for "input", the model's input)."""

    text: str
    code: str
    target: str
    kind: str


@dataclass
class Diagnosis:
    """The outcome: ``ok`` (the pass ran; ``trace`` is complete) or the failing layer explained."""

    ok: bool
    trace: Trace
    layer: str = ""
    layer_type: str = ""
    input_shape: tuple[int, ...] | None = None
    error: str = ""          # what torch said (first line)
    problem: str = ""        # what convscope says is wrong, with the numbers
    fix: str = ""
    remedies: list[Remedy] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.ok:
            return [f"the forward pass runs: input {self.trace.input_shape} -> output {self.trace.output_shape}"]
        shape = "?" if self.input_shape is None else str(tuple(self.input_shape))
        return [f"fails at {self.layer} ({self.layer_type}) with input {shape}",
                f"torch says: {self.error}", f"problem: {self.problem}", f"fix: {self.fix}"]

    def _repr_html_(self) -> str:
        """In a notebook: the verdict, :meth:`lines` (what torch said, the problem, the fix), each
        remedy's code, and the trace (up to the failing layer when the pass failed)."""
        from ..display import block, code, details, escape

        if self.ok:
            return block("diagnosis", f"<div class='convscope-ok'><b>{escape(self.lines()[0])}</b></div>"
                                      f"{details('the trace', self.trace.to_html(styled=False))}")
        headline, *rest = self.lines()
        items = "".join(f"<li>{escape(line)}</li>" for line in rest)
        remedies = "".join(f"<li>{escape(r.text)} <span class='convscope-muted'>({escape(r.kind)} at "
                           f"<code>{escape(r.target)}</code>)</span>{code(r.code)}</li>" for r in self.remedies)
        remedies = f"<div><b>remedies</b></div><ul>{remedies}</ul>" if remedies else ""
        partial = details("the trace up to the failure", self.trace.to_html(styled=False))
        return block("diagnosis", f"<div class='convscope-bad'><b>{escape(headline)}</b></div><ul>{items}</ul>"
                                  f"{remedies}{partial}")

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "layer": self.layer, "layer_type": self.layer_type,
                "input_shape": None if self.input_shape is None else list(self.input_shape), "error": self.error,
                "problem": self.problem, "fix": self.fix, "remedies": [asdict(r) for r in self.remedies],
                "trace": self.trace.to_dict()}


def _tensorflow_kernel(module: Any, channels: int) -> bool:
    """The weight was replaced by one in TensorFlow's (kH, kW, in, out) order: its shape is the
    layer's declared kernel, in-channels and out-channels in that order (or, for a layer whose
    declared sizes were changed too, square leading axes with the input's channels next)."""
    shape, nd = tuple(module.weight.shape), len(module.kernel_size)
    declared = (*module.kernel_size, module.in_channels // module.groups, module.out_channels)
    looks = len(shape) == nd + 2 and len(set(shape[:nd])) == 1 and shape[-2] == channels \
        and len(set(shape[2:])) > 1
    return shape == declared or looks


Explained = tuple[str, str, list[Remedy]]
NONE: Explained = ("", "", [])


def _compact(value: Any) -> Any:
    """``(3, 3)`` -> ``3``; ``(1, 2)`` stays."""
    if isinstance(value, (tuple, list)):
        return value[0] if len(set(value)) == 1 else tuple(value)
    return value


def _conv_code(module: Any, **changes: Any) -> str:
    """The constructor call that rebuilds ``module`` (a convolution) with ``changes``."""
    nd, transposed = len(module.kernel_size), module.transposed
    settings = {"in_channels": module.in_channels, "out_channels": module.out_channels,
                "kernel_size": _compact(module.kernel_size), "stride": _compact(module.stride),
                "padding": module.padding if isinstance(module.padding, str) else _compact(module.padding),
                "dilation": _compact(module.dilation), "groups": module.groups, "bias": module.bias is not None}
    if transposed:
        settings["output_padding"] = _compact(module.output_padding)
    settings.update(changes)
    defaults = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True, "output_padding": 0}
    args = [str(settings.pop("in_channels")), str(settings.pop("out_channels"))]
    order = ("kernel_size", "stride", "padding", "output_padding", "dilation", "groups", "bias")
    args += [f"{key}={settings[key]!r}" for key in order if key in settings and
             (key == "kernel_size" or settings[key] != defaults[key] or key in changes)]
    if not transposed and module.padding_mode != "zeros":
        args.append(f"padding_mode={module.padding_mode!r}")
    return f"nn.{'ConvTranspose' if transposed else 'Conv'}{nd}d({', '.join(args)})"


def _explain_conv(call: Call, module: Any, x: torch.Tensor, previous: list[Any]) -> Explained:
    from ..engine.errors import ChannelMismatchError
    from ..engine.validate import conv_spec

    nd = len(module.kernel_size)
    name = type(module).__name__
    channels = x.shape[1] if x.dim() == nd + 2 else x.shape[0]
    if _tensorflow_kernel(module, channels):
        order = ", ".join(map(str, (nd + 1, nd, *range(nd))))
        return ((f"{name}'s weight has shape {tuple(module.weight.shape)}: TensorFlow's (kH, kW, in, out) order, "
                 f"where PyTorch wants (out, in // groups, kH, kW)"),
                f"weight.permute({order}) (for example conv.weight = nn.Parameter(tf_kernel.permute({order})))", [])
    bias = None if module.bias is None else tuple(module.bias.shape)
    try:
        conv_spec(f"{name}", nd, tuple(x.shape), tuple(module.weight.shape), bias, module.stride, module.padding,
                  module.dilation, module.groups, module.padding_mode)
    except ConvScopeError as error:
        problem = error.what + (f"; expected {error.expected}" if error.expected else "") + \
            (f"; got {error.got}" if error.got else "")
        remedies = []
        fix = error.fix
        if isinstance(error, ChannelMismatchError) and channels % module.groups == 0:
            code = _conv_code(module, in_channels=channels)
            fix = f"build {call.name} with in_channels={channels}: {call.name} = {code}"
            remedies.append(Remedy(f"rebuild {call.name} for {channels} input channels", code, call.name, "module"))
        elif "channels-last" in error.what:
            remedies.append(Remedy("move the channels first", f"x.permute(0, {x.dim() - 1}, "
                                   f"{', '.join(map(str, range(1, x.dim() - 1)))})", "input", "tensor"))
        return problem, fix, remedies
    return NONE


def _next_linear(model: torch.nn.Module, done: set[int], features: int | None) -> tuple[str, Any] | None:
    """The first Linear that has not run yet (the one taking ``features`` inputs, if any does)."""
    pending = [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and id(m) not in done]
    return next((p for p in pending if p[1].in_features == features), pending[0] if pending else None)


def _explain_linear(call: Call, module: Any, x: torch.Tensor, previous: list[Any]) -> Explained:
    got = x.shape[-1]
    if got == module.in_features:
        return NONE
    problem = (f"Linear(in_features={module.in_features}) receives {got} features: the tensor reaching it has "
               f"shape {tuple(x.shape)}")
    flatten = next((r for r in reversed(previous) if r.type == "Flatten"), None)
    if flatten is not None and flatten.input_shapes:
        source = flatten.input_shapes[0]
        problem += f", because Flatten turns {source} into {' * '.join(map(str, source[1:]))} = {prod(source[1:])}"
    code = f"nn.Linear({got}, {module.out_features}{'' if module.bias is not None else ', bias=False'})"
    return problem, code, [Remedy(f"rebuild {call.name} for {got} features", code, call.name, "module")]


def _explain_norm(call: Call, module: Any, x: torch.Tensor, previous: list[Any]) -> Explained:
    channels = x.shape[1] if x.dim() > 1 else None
    if channels is None or channels == module.num_features:
        return NONE
    code = f"nn.{type(module).__name__}({channels})"
    return ((f"{type(module).__name__}(num_features={module.num_features}) receives {channels} channels "
             f"(input {tuple(x.shape)})"), code, [Remedy(f"rebuild {call.name}", code, call.name, "module")])


def _explain_pool(call: Call, module: Any, x: torch.Tensor, previous: list[Any]) -> Explained:
    from ..engine.validate import pool_spec

    nd = int(type(module).__name__[-2])
    try:
        pool_spec(type(module).__name__, nd, tuple(x.shape), module.kernel_size, module.stride, module.padding,
                  getattr(module, "dilation", 1), module.ceil_mode)
    except ConvScopeError as error:
        return error.what + (f"; expected {error.expected}" if error.expected else "") + \
            (f"; got {error.got}" if error.got else ""), error.fix, []
    return NONE


def _explain(call: Call, previous: list[Any]) -> Explained:
    module, x = call.module, (call.inputs[0] if call.inputs else None)
    if x is None:
        return NONE
    if isinstance(module, torch.nn.modules.conv._ConvNd) and not module.transposed:
        return _explain_conv(call, module, x, previous)
    if isinstance(module, torch.nn.Linear):
        return _explain_linear(call, module, x, previous)
    if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
        return _explain_norm(call, module, x, previous)
    if isinstance(module, (torch.nn.MaxPool1d, torch.nn.MaxPool2d, torch.nn.MaxPool3d, torch.nn.AvgPool1d,
                           torch.nn.AvgPool2d, torch.nn.AvgPool3d)):
        return _explain_pool(call, module, x, previous)
    return NONE


# --- the tensor op that failed inside a forward() -----------------------------------------------

@dataclass
class FailedOp:
    name: str
    args: tuple
    kwargs: dict
    error: BaseException


class _OpWatch(TorchFunctionMode):
    """Remembers the last torch op that raised (its arguments kept for the explanation)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed: FailedOp | None = None

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        try:
            return func(*args, **(kwargs or {}))
        except Exception as error:
            self.failed = FailedOp(getattr(func, "__name__", str(func)).strip("_"), args, kwargs or {}, error)
            raise


ELEMENTWISE = {"add", "add_", "iadd", "radd", "sub", "sub_", "isub", "rsub", "mul", "mul_", "imul", "rmul",
               "div", "div_", "truediv", "itruediv"}
AXIS_NAMES = {1: {2: "length"}, 2: {2: "height", 3: "width"}, 3: {2: "depth", 3: "height", 4: "width"}}


class _Names:
    """Names the tensors of a failed op by the module calls that produced them."""

    def __init__(self, recorder: Recorder, where: Call) -> None:
        self.recorder, self.where = recorder, where

    def producer(self, tensor: torch.Tensor) -> Call | None:
        found = [c for c in self.recorder.calls if c.finished and any(t is tensor for t in c.outputs)]
        return min(found, key=lambda c: (c.depth, c.started)) if found else None

    def name(self, tensor: torch.Tensor) -> str:
        if any(t is tensor for t in self.where.inputs):
            return f"{self.place}'s input"
        call = self.producer(tensor)
        return f"{call.name}'s output" if call is not None else f"a tensor computed in {self.place}'s forward"

    @property
    def place(self) -> str:
        return type(self.where.module).__name__ if self.where.depth == 0 else self.where.name

    def within(self) -> list[Call]:
        prefix = "" if self.where.depth == 0 else self.where.name + "."
        return [c for c in self.recorder.calls if c.finished and c.name.startswith(prefix) and c is not self.where]


def _axis(ndim: int, axis: int) -> str:
    named = AXIS_NAMES.get(ndim - 2, {}).get(axis)
    return f"axis {axis} ({named})" if named else f"axis {axis}"


def _explain_merge(op: FailedOp, names: _Names) -> Explained:
    tensors = [a for a in op.args if isinstance(a, torch.Tensor)]
    if len(tensors) != 2 or tensors[0].dim() != tensors[1].dim() or tensors[0].dim() < 3:
        return NONE
    a, b = tensors
    if a.shape == b.shape:
        return NONE
    inputs = [t for t in tensors if any(t is i for i in names.where.inputs)]
    if inputs:
        shortcut = inputs[0]
    else:
        shortcut = a if prod(a.shape[2:]) > prod(b.shape[2:]) else b
    main = b if shortcut is a else a
    place, nd = names.place, a.dim() - 2
    strides = []
    for big, small in zip(shortcut.shape[2:], main.shape[2:]):
        fitting = [s for s in range(1, big + 1) if -(-big // s) == small]
        strides.append(fitting[0] if fitting else None)
    problem = (f"the residual {op.name} in {place} ({type(names.where.module).__name__}) adds {names.name(main)} "
               f"{tuple(main.shape)} and {names.name(shortcut)} {tuple(shortcut.shape)}")
    if None in strides or (strides == [1] * nd and main.shape[1] == shortcut.shape[1]):
        return problem + ": their shapes differ", "make both operands the same shape before the add", []
    stride = _compact(strides)
    strided = [c for c in names.within() if any(s > 1 for s in _tuple(getattr(c.module, "stride", 1)))]
    path = f"stride {stride}" + (f" (at {strided[0].name})" if strided else "")
    problem += (f": the main path has {path} and {main.shape[1]} channels, the shortcut passes {names.name(shortcut)} "
                f"unchanged ({shortcut.shape[1]} channels, {' x '.join(map(str, shortcut.shape[2:]))}): "
                "the block has no downsample")
    in_c, out_c = shortcut.shape[1], main.shape[1]
    conv = f"nn.Conv{nd}d({in_c}, {out_c}, kernel_size=1, stride={stride}, bias=False)"
    norm = any(isinstance(c.module, torch.nn.modules.batchnorm._BatchNorm) for c in names.within())
    code = f"nn.Sequential({conv}, nn.BatchNorm{nd}d({out_c}))" if norm else conv
    target = "downsample" if names.where.depth == 0 else f"{names.where.name}.downsample"
    fix = (f"give {place} a 1x1 stride-{stride} downsample on the shortcut: {target} = {code}, and in its forward "
           f"add self.downsample(x) instead of x (identity = self.downsample(x))")
    return problem, fix, [Remedy(f"the shortcut's downsample for {place}", code, target, "module")]


def _tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _explain_cat(op: FailedOp, names: _Names) -> Explained:
    sequence = op.args[0] if op.args else op.kwargs.get("tensors", ())
    tensors = [t for t in sequence if isinstance(t, torch.Tensor)]
    dim = op.kwargs.get("dim", op.args[1] if len(op.args) > 1 else 0)
    if len(tensors) < 2 or not isinstance(dim, int) or len({t.dim() for t in tensors}) != 1:
        return NONE
    ndim = tensors[0].dim()
    dim %= ndim
    first = tensors[0]
    other = next((t for t in tensors[1:] if any(x != y for i, (x, y) in enumerate(zip(first.shape, t.shape))
                                                if i != dim)), None)
    if other is None:
        return NONE
    axes = [i for i, (x, y) in enumerate(zip(first.shape, other.shape)) if i != dim and x != y]
    sizes = "; ".join(f"{_axis(ndim, i)}: {first.shape[i]} vs {other.shape[i]}" for i in axes)
    problem = (f"torch.{op.name} along dim {dim} in {names.place} joins {names.name(first)} {tuple(first.shape)} and "
               f"{names.name(other)} {tuple(other.shape)}: every other axis must match, and {sizes}")
    smaller = first if first.shape[axes[0]] < other.shape[axes[0]] else other
    larger = other if smaller is first else first
    if any(smaller.shape[i] > larger.shape[i] for i in axes):
        return problem, "make the maps the same size on every axis but the cat's", []
    diff = {i: larger.shape[i] - smaller.shape[i] for i in axes}
    pads = [n for i in range(ndim - 1, min(axes) - 1, -1) for n in (0, diff.get(i, 0))]
    pad = f"F.pad(x, {tuple(pads)})"
    crop = "x[" + ", ".join(f":{smaller.shape[i]}" if i in diff else ":" for i in range(max(axes) + 1)) + "]"
    how = " and ".join(f"{d} at the end of {_axis(ndim, i)}" for i, d in diff.items())
    small_name, large_name = names.name(smaller), names.name(larger)
    remedies = [Remedy(f"pad {small_name} by {how}", pad, small_name.removesuffix("'s output"), "tensor"),
                Remedy(f"crop {large_name} to {tuple(smaller.shape[i] for i in axes)}", crop,
                       large_name.removesuffix("'s output"), "tensor")]
    fix = f"pad {small_name} by {how}: x = {pad}; or crop {large_name} by as much: x = {crop}"
    upstream = _transpose_upstream(names, smaller)
    if upstream is not None:
        module: Any = upstream.module  # a ConvTranspose layer: torch types its attributes loosely
        extra = list(_tuple(module.output_padding)) * (1 if len(_tuple(module.output_padding)) > 1 else
                                                       len(module.kernel_size))
        for i, d in diff.items():
            if i >= 2:
                extra[i - 2] += d
        limits = [max(s, d) for s, d in zip(module.stride, module.dilation)]
        if all(0 <= e < lim for e, lim in zip(extra, limits)) and all(i >= 2 for i in diff):
            code = _conv_code(module, output_padding=_compact(extra))
            fix += f"; or build {upstream.name} with output_padding={_compact(extra)}: {upstream.name} = {code}"
            remedies.append(Remedy(f"output_padding on {upstream.name}", code, upstream.name, "module"))
    return problem, fix, remedies


def _transpose_upstream(names: _Names, tensor: torch.Tensor) -> Call | None:
    """The ConvTranspose whose output became ``tensor`` (directly, or as a container's last one)."""
    call = names.producer(tensor)
    if call is None:
        return None
    candidates = [c for c in names.recorder.calls if c.finished and (c is call or c.name.startswith(call.name + "."))
                  and isinstance(c.module, torch.nn.modules.conv._ConvTransposeNd)
                  and c.outputs and tuple(c.outputs[0].shape[2:]) == tuple(tensor.shape[2:])]
    return max(candidates, key=lambda c: c.order) if candidates else None


def _explain_view(op: FailedOp, names: _Names, model: torch.nn.Module) -> Explained:
    if not op.args or not isinstance(op.args[0], torch.Tensor):
        return NONE
    x, rest = op.args[0], op.args[1:]
    if "not compatible with input tensor's size and stride" in str(op.error):
        return ((f"{op.name} in {names.place} on {tuple(x.shape)}: the tensor is not contiguous (a permute or "
                 "transpose came before)"), "x.reshape(...) instead of x.view(...), or x.contiguous().view(...)", [])
    requested = rest[0] if len(rest) == 1 and isinstance(rest[0], (tuple, list, torch.Size)) else rest
    requested = op.kwargs.get("shape", op.kwargs.get("size", requested))
    try:
        requested = tuple(int(n) for n in requested)
    except (TypeError, ValueError):
        return NONE
    per = prod(x.shape[1:])
    known = prod(n for n in requested if n != -1)
    factors = " * ".join(map(str, x.shape[1:]))
    problem = (f"{op.name}({', '.join(map(str, requested))}) in {names.place} on {names.name(x)} {tuple(x.shape)}: "
               f"{x.numel():,} values, {factors} = {per} per sample, ")
    problem += (f"which {op.name} cannot split into rows of {known}" if -1 in requested
                else f"but the shape asks for {prod(requested):,}")
    if x.dim() < 2:
        return problem, "print x.shape before the view and pick sizes whose product is x.numel()", []
    flat = (x.shape[0], per)
    fix = f"x.flatten(1) gives {flat} (whatever the batch size)"
    remedies = [Remedy("flatten each sample", "x.flatten(1)", f"{op.name} in {names.place}", "tensor")]
    done = {id(c.module) for c in names.recorder.calls if c.finished}
    linear = _next_linear(model, done, requested[-1] if requested else None)
    if linear is not None and linear[1].in_features != per:
        name, module = linear
        code = f"nn.Linear({per}, {module.out_features}{'' if module.bias is not None else ', bias=False'})"
        fix += f"; then {name} needs in_features={per}: {name} = {code}"
        remedies.append(Remedy(f"rebuild {name} for {per} features", code, name, "module"))
    return problem, fix, remedies


def _explain_op(op: FailedOp | None, names: _Names, model: torch.nn.Module) -> Explained:
    if op is None:
        return NONE
    if op.name in ELEMENTWISE:
        return _explain_merge(op, names)
    if op.name in ("cat", "concat", "concatenate"):
        return _explain_cat(op, names)
    if op.name in ("view", "reshape"):
        return _explain_view(op, names, model)
    return NONE


# --- the pass --------------------------------------------------------------------------------------

def _missing_batch(model: torch.nn.Module, example: torch.Tensor) -> str:
    first = next((m for m in model.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)), None)
    if first is not None and example.dim() == len(first.kernel_size) + 1:
        return (f"the model's input {tuple(example.shape)} has no batch axis: the convolutions accept it "
                "(as one unbatched image), but Flatten then folds the channels into the features")
    return ""


def _runs(model: torch.nn.Module, example: torch.Tensor) -> tuple[int, ...] | None:
    """The output shape when ``model`` runs on ``example``, None when it fails."""
    try:
        with torch.no_grad():
            out = model(example)
    except Exception:  # noqa: BLE001 - a fix that does not run is not claimed
        return None
    return tuple(out.shape) if isinstance(out, torch.Tensor) else None


def _partial_rows(recorder: Recorder) -> list[LayerRow]:
    """The finished calls' rows, and the containers the failure is inside (their output: none)."""
    finished = sorted((c for c in recorder.calls if c.finished), key=lambda c: c.started)
    rows = build_rows(recorder)
    seen = {id(p) for c in finished for p in c.module.parameters(recurse=False)}
    open_calls = [c for c in recorder.calls if not c.finished and any(True for _ in c.module.children())]
    merged = list(zip((c.started for c in finished), rows))
    for call in open_calls:
        own = [p for p in call.module.parameters(recurse=False) if id(p) not in seen]
        seen.update(id(p) for p in own)
        merged.append((call.started, LayerRow(
            name=call.name, type=type(call.module).__name__, depth=call.depth, leaf=False,
            input_shapes=[tuple(t.shape) for t in call.inputs], output_shapes=[], window={},
            params=sum(p.numel() for p in own), trainable=sum(p.numel() for p in own if p.requires_grad),
            mult_adds=0, rf=None, rf_note="did not finish")))
    merged.sort(key=lambda pair: pair[0])
    rows = [row for _, row in merged]
    for i, row in enumerate(rows):
        if row.rf_note == "did not finish":
            inside = [r for r in rows[i + 1:] if r.name.startswith(row.name + ".") or row.depth == 0]
            row.subtree_params = row.params + sum(r.params for r in inside)
            row.subtree_mult_adds = sum(r.mult_adds for r in inside)
    return rows


def doctor(model: torch.nn.Module, input_shape_or_example: Any, measure: bool = False,
           max_bytes: int | None = MEMORY_BUDGET) -> Diagnosis:
    """Run the model; if it fails, explain the failing layer (the trace up to it included).

    ``measure``: when the pass runs, the full trace measures receptive fields too (off by default:
    the measurement costs many times the trace). ``max_bytes``: as for
    :func:`~convscope.inspect.trace.trace`, a pass estimated above it is refused with a
    :class:`~convscope.inspect.trace.MemoryBudgetError` before anything is allocated.
    """
    check_memory(model, input_shape_or_example, measure, max_bytes)
    example = as_example(input_shape_or_example)
    recorder = Recorder(model)
    watch = _OpWatch()
    try:
        with preserved_state(model), torch.no_grad(), watch:
            recorder.run(example)
    except Exception as error:  # noqa: BLE001 - any failure of the user's model is what we explain
        with preserved_state(model):
            return _diagnose(model, example, recorder, watch, error)
    with preserved_state(model):
        return Diagnosis(True, trace(model, example, measure=measure, max_bytes=None))


def _diagnose(model: torch.nn.Module, example: torch.Tensor, recorder: Recorder, watch: _OpWatch,
              error: Exception) -> Diagnosis:
    rows = _partial_rows(recorder)
    finished = [r for r in rows if r.rf_note != "did not finish"]
    partial = Trace(type(model).__name__, tuple(example.shape), rows, sum(r.params for r in rows),
                    sum(r.trainable for r in rows), sum(r.mult_adds for r in rows), None,
                    error=f"{type(error).__name__}: {error}")
    failing = recorder.failing
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if isinstance(error, ModelExit):  # sys.exit() or KeyboardInterrupt in the user's code
        where = failing or Call("(model)", model, 0, [example])
        exits = isinstance(error.__cause__, SystemExit)
        return Diagnosis(False, partial, where.name, type(where.module).__name__,
                         tuple(where.inputs[0].shape) if where.inputs else None, message,
                         "the model's code tried to end the program" if exits else
                         "the pass was interrupted (KeyboardInterrupt)",
                         "remove the sys.exit() or exit() call from the model's code (raise an exception instead)"
                         if exits else "remove the code that raises KeyboardInterrupt, or let the pass finish")
    if failing is None:
        return Diagnosis(False, partial, "(outside any module)", "", None, message,
                         "the forward code failed between layers", "read the traceback's last line in forward()")
    problem, fix, remedies = _explain(failing, finished)
    op = watch.failed if watch.failed is not None and (watch.failed.error is error or
                                                       str(watch.failed.error) == str(error)) else None
    if not problem:
        problem, fix, remedies = _explain_op(op, _Names(recorder, failing), model)
    problem = problem or f"{type(failing.module).__name__} refused its input"
    fix = fix or "print(x.shape) before this layer and compare it with what the layer expects"
    unbatched = _missing_batch(model, example)
    if unbatched:  # the root cause: every later shape is one axis short; the one fix is the batch axis
        batched = (1, *example.shape)
        problem, fix = unbatched, f"x.unsqueeze(0) gives {batched} (x[None] is the same)"
        output = _runs(model, example.unsqueeze(0))
        if output is not None:
            fix += f": the model then runs, output {output}"
        remedies = [Remedy("add the batch axis", "x.unsqueeze(0)", "input", "tensor")]
    return Diagnosis(False, partial, failing.name, type(failing.module).__name__,
                     tuple(failing.inputs[0].shape) if failing.inputs else None, message, problem, fix, remedies)
