"""Run a model once and record every module call and every tensor's receptive field.

Module hooks give the rows of the trace (name, type, shapes, parameters); a torch
function mode sees every operation in between, so functional calls (``F.relu``,
``x + y``, ``torch.flatten``) keep the data flow, and with it the analytic receptive
fields (:mod:`.geometry`), intact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

from .geometry import Geometry, propagate


class ModelExit(RuntimeError):
    """The model's own code raised ``SystemExit`` (``sys.exit()``, ``exit()``) or ``KeyboardInterrupt``
    during the forward pass: a failure of the model, reported like any other, not the end of the
    program that inspects it."""


def model_exit(error: BaseException) -> ModelExit:
    if isinstance(error, SystemExit):
        return ModelExit(f"SystemExit({error.code!r}): the model's code called sys.exit() or exit()")
    return ModelExit("KeyboardInterrupt: raised in the model's code (or Ctrl+C was pressed while it ran)")


def tensors_in(value: Any) -> list[torch.Tensor]:
    leaves, _ = tree_flatten(value)
    return [leaf for leaf in leaves if isinstance(leaf, torch.Tensor)]


def _name(func: Any) -> str:
    name = getattr(func, "__name__", str(func))
    return name.lstrip("_") if name.startswith("_max_pool") else name


class Flow(TorchFunctionMode):
    """Gives each tensor produced during the forward pass a :class:`Geometry`."""

    def __init__(self) -> None:
        super().__init__()
        self.geometry: dict[int, Geometry | None] = {}
        self.keep: list[torch.Tensor] = []  # keeps ids unique while the pass runs

    def mark(self, tensor: torch.Tensor, geometry: Geometry | None) -> None:
        self.geometry[id(tensor)] = geometry
        self.keep.append(tensor)

    def of(self, tensor: torch.Tensor) -> Geometry | None:
        return self.geometry.get(id(tensor))

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        outputs = tensors_in(out)
        if not outputs:
            return out
        inputs = [(t, self.of(t)) for t in tensors_in((args, kwargs))]
        geometry = propagate(_name(func), args, kwargs, inputs, tuple(outputs[0].shape))
        for tensor in outputs:  # an in-place op returns its input: its field is the new one
            self.mark(tensor, geometry)
        return out


@dataclass
class Call:
    """One module call: what went in and came out, in the order calls finished."""

    name: str
    module: torch.nn.Module
    depth: int
    inputs: list[torch.Tensor]
    outputs: list[torch.Tensor] = field(default_factory=list)
    order: int = -1          # position among finished calls (-1: it did not finish)
    started: int = 0         # position among started calls

    @property
    def finished(self) -> bool:
        return self.order >= 0


class Recorder:
    """Hooks on every module of ``model`` and a :class:`Flow` for the pass."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.calls: list[Call] = []
        self.flow = Flow()
        self._open: list[Call] = []
        self._finished = 0
        self._handles: list[Any] = []
        self._names = {id(m): name for name, m in model.named_modules()}

    def _pre(self, module: torch.nn.Module, args: tuple, kwargs: dict) -> None:
        name = self._names.get(id(module), type(module).__name__)
        depth = 0 if name == "" else name.count(".") + 1
        call = Call(name or "(model)", module, depth, tensors_in((args, kwargs)), started=len(self.calls))
        self.calls.append(call)
        self._open.append(call)

    def _post(self, module: torch.nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        call = next(c for c in reversed(self._open) if c.module is module)
        self._open.remove(call)
        call.outputs = tensors_in(output)
        call.order = self._finished
        self._finished += 1

    def run(self, example: torch.Tensor) -> Any:
        """The forward pass; the model's exception, if any, propagates (the calls stay recorded),
        a ``SystemExit`` or ``KeyboardInterrupt`` as :class:`ModelExit`."""
        for module in self.model.modules():
            self._handles.append(module.register_forward_pre_hook(self._pre, with_kwargs=True))
            self._handles.append(module.register_forward_hook(self._post, with_kwargs=True))
        try:
            self.flow.mark(example, Geometry(None) if example.dim() < 3 else _identity(example))
            with self.flow:
                return self.model(example)
        except (SystemExit, KeyboardInterrupt) as error:
            raise model_exit(error) from error
        finally:
            for handle in self._handles:
                handle.remove()
            self._handles.clear()

    @property
    def failing(self) -> Call | None:
        """The innermost call that started and did not finish (after an exception)."""
        unfinished = [c for c in self.calls if not c.finished]
        return max(unfinished, key=lambda c: c.started) if unfinished else None


def _identity(example: torch.Tensor) -> Geometry:
    from ..engine.arithmetic import ReceptiveField

    return Geometry(tuple(ReceptiveField() for _ in example.shape[2:]))
