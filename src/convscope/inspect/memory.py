"""The memory a trace will take, known before it runs: the model is run once on PyTorch's ``meta``
device (shapes without data, so no memory) and the bytes of the input and of every tensor the pass
produces are summed (the trace keeps them all); measuring receptive fields runs it again with
gradients, so that estimate counts :data:`MEASURE_FACTOR` times. Above :data:`MEMORY_BUDGET` the
trace is refused with a :class:`MemoryBudgetError` before anything is allocated. A model that cannot
run on ``meta`` is estimated from its input alone."""

from __future__ import annotations

import contextlib
import copy
import io
import threading
from dataclasses import dataclass
from math import prod
from typing import Any

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

from ..engine.errors import ConvScopeError
from .recorder import tensors_in

MEMORY_BUDGET = 4 * 2**30   # bytes one trace or doctor run may allocate for its input and activations
MEASURE_FACTOR = 4          # measuring receptive fields: the first pass kept, a second one with gradients, what
                            # autograd saves and the gradients (measured: 3.8 times the plain pass for mobilenet_style)


class MemoryBudgetError(ConvScopeError):
    """The forward pass would allocate more than the budget; nothing was allocated."""


@dataclass(frozen=True)
class MemoryEstimate:
    """What one trace (or doctor) run allocates: the input, the tensors the pass produces, the factor."""

    input_shape: tuple[int, ...]
    input_bytes: int
    # None: not estimated (the model does not run on "meta", or the input alone is over)
    activation_bytes: int | None
    factor: int                      # MEASURE_FACTOR when receptive fields are measured, else 1
    reason: str = ""                 # why activation_bytes is None

    @property
    def total(self) -> int:
        return (self.input_bytes + (self.activation_bytes or 0)) * self.factor

    def text(self) -> str:
        parts = [f"input {_bytes(self.input_bytes)}"]
        parts.append(f"activations {_bytes(self.activation_bytes)}" if self.activation_bytes is not None
                     else f"activations not counted ({self.reason})")
        times = f", times {self.factor} to measure receptive fields" if self.factor > 1 else ""
        return f"{'at least ' if self.activation_bytes is None else 'about '}{_bytes(self.total)} " \
               f"({'; '.join(parts)}{times})"


def _bytes(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n} bytes"


class _Produced(TorchFunctionMode):
    """Counts the bytes of every tensor the pass produces (views share their base's memory)."""

    def __init__(self, example: torch.Tensor) -> None:
        super().__init__()
        self.seen: dict[int, torch.Tensor] = {id(example): example}  # kept: ids stay unique during the pass
        self.bytes = 0

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for tensor in tensors_in(out):
            if id(tensor) not in self.seen:
                self.seen[id(tensor)] = tensor
                if not tensor._is_view():
                    self.bytes += tensor.numel() * tensor.element_size()
        return out


def _on_meta(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``model`` whose parameters, buffers and tensor attributes live on "meta": the copy
    costs no memory (the memo hands deepcopy a meta twin for each tensor instead of a real copy)."""
    memo: dict[int, Any] = {}
    for module in model.modules():
        for value in vars(module).values():  # arrays are shared with the original, not copied
            if isinstance(value, np.ndarray):
                memo[id(value)] = value
        tensors = [*module._parameters.values(), *module._buffers.values(),
                   *(v for v in vars(module).values() if isinstance(v, torch.Tensor))]
        for tensor in tensors:
            if tensor is None or id(tensor) in memo:
                continue
            twin = torch.empty_like(tensor, device="meta")
            memo[id(tensor)] = torch.nn.Parameter(twin, requires_grad=tensor.requires_grad) \
                if isinstance(tensor, torch.nn.Parameter) else twin
    return copy.deepcopy(model, memo)


@contextlib.contextmanager
def _quiet() -> Any:
    """The model's prints belong to the real pass, not to the one on meta. sys.stdout is one for
    all threads, so only the main thread (the command line) swaps it; a server's threads do not."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


def _activation_bytes(model: torch.nn.Module, shape: tuple[int, ...], dtype: torch.dtype) -> tuple[int | None, str]:
    """The bytes the pass produces, from a run on "meta"; (None, why) when the model cannot run there."""
    try:
        twin = _on_meta(model)
        example = torch.empty(shape, dtype=dtype, device="meta")
        produced = _Produced(example)
        with _quiet(), torch.no_grad(), torch.device("meta"), produced:
            twin(example)
    except (Exception, SystemExit, KeyboardInterrupt) as error:  # noqa: BLE001 - the real pass reports it
        return None, f"the model does not run on PyTorch's meta device: {type(error).__name__}"
    return produced.bytes, ""


def estimate_memory(model: torch.nn.Module, input_shape_or_example: Any, measure: bool = True,
                    max_bytes: int | None = MEMORY_BUDGET) -> MemoryEstimate:
    """What :func:`trace` (``measure``: with receptive fields measured) would allocate, found without
    allocating it: the input's bytes, and the activations' from a run on the "meta" device (skipped
    when the input alone is over ``max_bytes``)."""
    if isinstance(input_shape_or_example, torch.Tensor):
        shape, dtype = tuple(input_shape_or_example.shape), input_shape_or_example.dtype
    else:
        shape, dtype = tuple(int(n) for n in input_shape_or_example), torch.get_default_dtype()
    factor = MEASURE_FACTOR if measure else 1
    input_bytes = prod(shape) * torch.empty((), dtype=dtype).element_size()
    if max_bytes is not None and input_bytes * factor > max_bytes:  # over already: nothing to run, even on meta
        return MemoryEstimate(shape, input_bytes, None, factor, "the input alone is over the budget")
    activations, reason = _activation_bytes(model, shape, dtype)
    return MemoryEstimate(shape, input_bytes, activations, factor, reason)


def check_memory(model: torch.nn.Module, input_shape_or_example: Any, measure: bool = True,
                 max_bytes: int | None = MEMORY_BUDGET) -> MemoryEstimate | None:
    """Raise :class:`MemoryBudgetError` when the pass would allocate more than ``max_bytes``
    (None: no limit, nothing estimated)."""
    if max_bytes is None:
        return None
    estimate = estimate_memory(model, input_shape_or_example, measure, max_bytes)
    if estimate.total > max_bytes:
        shape = estimate.input_shape
        smaller = "a smaller input (batch 1, smaller images)"
        if len(shape) > 1 and shape[0] > 1 and estimate.total // shape[0] <= max_bytes:
            smaller = f"a smaller input, e.g. batch 1: --input {','.join(map(str, (1, *shape[1:])))}"
        no_measure = estimate.factor > 1 and estimate.total // estimate.factor <= max_bytes
        raise MemoryBudgetError(
            f"the input {shape} needs too much memory to trace",
            expected=f"at most {_bytes(max_bytes)} (convscope's budget for trace and doctor)",
            got=estimate.text(),
            fix=smaller + (", or skip the receptive-field measurement (--no-measure, measure=False)"
                           if no_measure else ""))
    return estimate
