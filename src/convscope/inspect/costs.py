"""Mult-adds per layer and per tensor op: torchinfo's conventions where torchinfo is right, per
output position where it is not (a Linear on (B, T, D), matmul, einsum, attention), as
``torch.utils.flop_counter.FlopCounterMode`` counts them, divided by 2."""

from __future__ import annotations

from math import prod
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from .recorder import Recorder


def mult_adds(module: torch.nn.Module, output_shape: tuple[int, ...] | None,
              input_shapes: list[tuple[int, ...]] | None = None) -> int:
    """Mult-adds of one call of ``module`` producing ``output_shape`` (from ``input_shapes``).

    Convolutions: weight and bias elements times output positions (batch included), as
    torchinfo. ``nn.Linear`` (and any module named like one, e.g. ``NonDynamicallyQuantizableLinear``):
    weight and bias elements times the output's positions, every axis but the last (torchinfo
    counts the batch only). ``nn.MultiheadAttention``: its q, k, v and output projections and
    the two attention products. Any other module: its parameters times the batch size (torchinfo).
    """
    if not output_shape:
        return 0
    if isinstance(module, torch.nn.MultiheadAttention):
        return _attention_module(module, output_shape, input_shapes or [])
    linear = isinstance(module, torch.nn.Linear) or type(module).__name__.endswith("Linear")
    total = 0
    for name, param in module.named_parameters(recurse=False):
        if name in ("weight", "bias"):
            if "Conv" in type(module).__name__:
                positions = prod(output_shape[:1] + output_shape[2:])
            elif linear:
                positions = prod(output_shape[:-1])
            else:
                positions = output_shape[0]
            total += param.numel() * positions
        elif "weight" in name or "bias" in name:
            total += prod(output_shape[:2]) * param.numel()
    return total


def _attention_module(module: torch.nn.MultiheadAttention, output_shape: tuple[int, ...],
                      input_shapes: list[tuple[int, ...]]) -> int:
    """q, k, v projections (weights and biases), q.k and attention.v, the output projection."""
    if len(input_shapes) < 3:
        return 0
    query, key = input_shapes[:2]
    sequence = 1 if module.batch_first else 0
    batch = prod(query[:-2]) if len(query) == 3 else 1     # unbatched: (L, E)
    lq = query[sequence] if len(query) == 3 else query[0]
    lk = key[sequence] if len(key) == 3 else key[0]
    e = module.embed_dim
    total = batch * (lq * e * e + lk * e * module.kdim + lk * e * module.vdim)   # in-projections
    if module.in_proj_bias is not None:
        total += batch * (lq + 2 * lk) * e
    total += 2 * batch * lq * lk * e                                           # q.k and attention.v, all heads
    total += batch * lq * e * e + (batch * lq * e if module.out_proj.bias is not None else 0)
    return total


def _shape_of(value: Any) -> tuple[int, ...]:
    return tuple(value.shape) if isinstance(value, torch.Tensor) else ()


def op_mult_adds(name: str, args: tuple, kwargs: dict, output: Any) -> int:
    """Mult-adds of one tensor op called in a module's forward (0 for any op not counted):
    products by their operands, as ``FlopCounterMode`` / 2, and a bias's adds for ``linear``."""
    out = _shape_of(output)
    if name in ("matmul", "__matmul__", "__rmatmul__", "mm", "bmm"):
        first = args[1] if name == "__rmatmul__" else args[0]
        return prod(out) * _shape_of(first)[-1] if _shape_of(first) else 0
    if name in ("addmm", "baddbmm", "addbmm", "addmv"):
        operand = _shape_of(args[1]) if len(args) > 1 else _shape_of(kwargs.get("mat1", kwargs.get("batch1")))
        return prod(out) * operand[-1] if operand else 0
    if name == "linear":
        weight = _shape_of(args[1] if len(args) > 1 else kwargs.get("weight"))
        bias = args[2] if len(args) > 2 else kwargs.get("bias")
        return prod(out) * (weight[-1] if weight else 0) + (prod(out) if isinstance(bias, torch.Tensor) else 0)
    if name == "scaled_dot_product_attention":
        query, key = _shape_of(args[0]), _shape_of(args[1] if len(args) > 1 else kwargs.get("key"))
        if not query or not key or not out:
            return 0
        return prod(out[:-1]) * key[-2] * (query[-1] + out[-1])
    if name == "einsum":
        return _einsum(args)
    if name in ("conv1d", "conv2d", "conv3d"):
        weight = _shape_of(args[1] if len(args) > 1 else kwargs.get("weight"))
        bias = args[2] if len(args) > 2 else kwargs.get("bias")
        return (prod(out) * prod(weight[1:]) if weight else 0) + (prod(out) if isinstance(bias, torch.Tensor) else 0)
    return 0


def _einsum(args: tuple) -> int:
    """Two operands: the product of every index's size (pairwise, left to right, for more)."""
    if not args or not isinstance(args[0], str):
        return 0
    operands = list(args[1][0] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:])
    spec = args[0].replace(" ", "")
    inputs = spec.split("->")[0].split(",")
    if len(operands) < 2 or len(inputs) != len(operands) or "." in spec:
        return 0
    sizes: dict[str, int] = {}
    for letters, operand in zip(inputs, operands):
        for letter, size in zip(letters, _shape_of(operand)):
            sizes[letter] = max(sizes.get(letter, 1), size)
    output = spec.split("->")[1] if "->" in spec else "".join(sorted(c for c in set("".join(inputs))
                                                                     if "".join(inputs).count(c) == 1))
    total, current = 0, set(inputs[0])
    for index, letters in enumerate(inputs[1:], start=1):
        both = current | set(letters)
        total += prod(sizes[c] for c in both)
        later = set(output) | set("".join(inputs[index + 1:]))
        current = {c for c in both if c in later}
    return total


class _Costs(TorchFunctionMode):
    """Counts the mult-adds of the products a forward calls outside the modules whose rule already
    counts them (convolutions, Linear, MultiheadAttention), for the innermost module call running."""

    COUNTED = (torch.nn.modules.conv._ConvNd, torch.nn.Linear, torch.nn.MultiheadAttention)

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder
        self.adds: dict[int, int] = {}   # id(Call) -> mult-adds

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        running = self.recorder._open[-1] if self.recorder._open else None
        if running is not None and not isinstance(running.module, self.COUNTED) \
                and not type(running.module).__name__.endswith("Linear"):
            name = getattr(func, "__name__", "")
            adds = op_mult_adds(name, args, kwargs, out)
            if adds:
                self.adds[id(running)] = self.adds.get(id(running), 0) + adds
        return out
