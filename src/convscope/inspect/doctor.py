"""``doctor(model, input)``: when the forward pass fails, say where, why, and how to fix it.

The trace runs up to the failing layer (so you see every shape that led there); the
failing call's input shape and the layer's settings are then checked by the engine's
own validation, whose errors name the fix: the ``in_features`` a ``Linear`` needs after
a ``Flatten`` (computed from the traced shape), ``permute(0, 3, 1, 2)`` for a
channels-last image, the ``in_channels`` that would fit, a missing batch or channel
axis, a kernel in TensorFlow's (kH, kW, in, out) order.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any

import torch

from ..engine.errors import ConvScopeError
from .recorder import Call, ModelExit, Recorder
from .trace import MEMORY_BUDGET, Trace, as_example, build_rows, check_memory, trace


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

    def lines(self) -> list[str]:
        if self.ok:
            return [f"the forward pass runs: input {self.trace.input_shape} -> output {self.trace.output_shape}"]
        shape = "?" if self.input_shape is None else str(tuple(self.input_shape))
        return [f"fails at {self.layer} ({self.layer_type}) with input {shape}",
                f"torch says: {self.error}", f"problem: {self.problem}", f"fix: {self.fix}"]

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "layer": self.layer, "layer_type": self.layer_type,
                "input_shape": None if self.input_shape is None else list(self.input_shape), "error": self.error,
                "problem": self.problem, "fix": self.fix, "trace": self.trace.to_dict()}


def _tensorflow_kernel(module: Any, channels: int) -> bool:
    """The weight was replaced by one in TensorFlow's (kH, kW, in, out) order: its shape is the
    layer's declared kernel, in-channels and out-channels in that order (or, for a layer whose
    declared sizes were changed too, square leading axes with the input's channels next)."""
    shape, nd = tuple(module.weight.shape), len(module.kernel_size)
    declared = (*module.kernel_size, module.in_channels // module.groups, module.out_channels)
    looks = len(shape) == nd + 2 and len(set(shape[:nd])) == 1 and shape[-2] == channels \
        and len(set(shape[2:])) > 1
    return shape == declared or looks


def _explain_conv(module: Any, x: torch.Tensor, previous: list[Any]) -> tuple[str, str]:
    from ..engine.validate import conv_spec

    nd = len(module.kernel_size)
    name = type(module).__name__
    channels = x.shape[1] if x.dim() == nd + 2 else x.shape[0]
    if _tensorflow_kernel(module, channels):
        order = ", ".join(map(str, (nd + 1, nd, *range(nd))))
        return (f"{name}'s weight has shape {tuple(module.weight.shape)}: TensorFlow's (kH, kW, in, out) order, "
                f"where PyTorch wants (out, in // groups, kH, kW)",
                f"weight.permute({order}) (for example conv.weight = nn.Parameter(tf_kernel.permute({order})))")
    bias = None if module.bias is None else tuple(module.bias.shape)
    try:
        conv_spec(f"{name}", nd, tuple(x.shape), tuple(module.weight.shape), bias, module.stride, module.padding,
                  module.dilation, module.groups, module.padding_mode)
    except ConvScopeError as error:
        problem = error.what + (f"; expected {error.expected}" if error.expected else "") + \
            (f"; got {error.got}" if error.got else "")
        return problem, error.fix
    return "", ""


def _explain_linear(module: Any, x: torch.Tensor, previous: list[Any]) -> tuple[str, str]:
    got = x.shape[-1]
    if got == module.in_features:
        return "", ""
    problem = (f"Linear(in_features={module.in_features}) receives {got} features: the tensor reaching it has "
               f"shape {tuple(x.shape)}")
    flatten = next((r for r in reversed(previous) if r.type == "Flatten"), None)
    if flatten is not None and flatten.input_shapes:
        source = flatten.input_shapes[0]
        problem += f", because Flatten turns {source} into {' * '.join(map(str, source[1:]))} = {prod(source[1:])}"
    return problem, f"nn.Linear({got}, {module.out_features})"


def _explain_norm(module: Any, x: torch.Tensor, previous: list[Any]) -> tuple[str, str]:
    channels = x.shape[1] if x.dim() > 1 else None
    if channels is None or channels == module.num_features:
        return "", ""
    return (f"{type(module).__name__}(num_features={module.num_features}) receives {channels} channels "
            f"(input {tuple(x.shape)})", f"nn.{type(module).__name__}({channels})")


def _explain_pool(module: Any, x: torch.Tensor, previous: list[Any]) -> tuple[str, str]:
    from ..engine.validate import pool_spec

    nd = int(type(module).__name__[-2])
    try:
        pool_spec(type(module).__name__, nd, tuple(x.shape), module.kernel_size, module.stride, module.padding,
                  getattr(module, "dilation", 1), module.ceil_mode)
    except ConvScopeError as error:
        return error.what + (f"; expected {error.expected}" if error.expected else "") + \
            (f"; got {error.got}" if error.got else ""), error.fix
    return "", ""


def _explain(call: Call, previous: list[Any]) -> tuple[str, str]:
    module, x = call.module, (call.inputs[0] if call.inputs else None)
    if x is None:
        return "", ""
    if isinstance(module, torch.nn.modules.conv._ConvNd) and not module.transposed:
        return _explain_conv(module, x, previous)
    if isinstance(module, torch.nn.Linear):
        return _explain_linear(module, x, previous)
    if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
        return _explain_norm(module, x, previous)
    if isinstance(module, (torch.nn.MaxPool1d, torch.nn.MaxPool2d, torch.nn.MaxPool3d, torch.nn.AvgPool1d,
                           torch.nn.AvgPool2d, torch.nn.AvgPool3d)):
        return _explain_pool(module, x, previous)
    return "", ""


def _missing_batch(model: torch.nn.Module, example: torch.Tensor) -> str:
    first = next((m for m in model.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)), None)
    if first is not None and example.dim() == len(first.kernel_size) + 1:
        return (f"the model's input {tuple(example.shape)} has no batch axis: the convolutions accept it "
                "(as one unbatched image), but Flatten then folds the channels into the features")
    return ""


def doctor(model: torch.nn.Module, input_shape_or_example: Any, measure: bool = True,
           max_bytes: int | None = MEMORY_BUDGET) -> Diagnosis:
    """Run the model; if it fails, explain the failing layer (the trace up to it included).

    ``measure``: when the pass runs, the full trace measures receptive fields too. ``max_bytes``:
    as for :func:`~convscope.inspect.trace.trace`, a pass estimated above it is refused with a
    :class:`~convscope.inspect.trace.MemoryBudgetError` before anything is allocated.
    """
    check_memory(model, input_shape_or_example, measure, max_bytes)
    example = as_example(input_shape_or_example)
    recorder = Recorder(model)
    try:
        with torch.no_grad():
            recorder.run(example)
    except Exception as error:  # noqa: BLE001 - any failure of the user's model is what we explain
        rows = build_rows(recorder)
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
        problem, fix = _explain(failing, rows)
        problem = problem or f"{type(failing.module).__name__} refused its input"
        fix = fix or "print(x.shape) before this layer and compare it with what the layer expects"
        unbatched = _missing_batch(model, example)
        if unbatched:  # the root cause: every later shape is one axis short
            problem, fix = unbatched, f"x.unsqueeze(0) gives {(1, *example.shape)} (without it: {fix})"
        return Diagnosis(False, partial, failing.name, type(failing.module).__name__,
                         tuple(failing.inputs[0].shape) if failing.inputs else None, message, problem, fix)
    return Diagnosis(True, trace(model, example, measure=measure, max_bytes=None))
