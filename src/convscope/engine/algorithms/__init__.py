"""The fast forward algorithms and the cost model that chooses among them.

Every algorithm computes the same primitive as the backends' ``conv_valid``: a
convolution of an already padded, batched input with stride, dilation and groups.
Each module defines

* ``NAME`` and a one-line ``SUMMARY`` (a step of the performance lesson);
* ``unsupported(problem) -> str | None``: why it cannot run this problem (None: it can);
* ``cost(problem) -> float``: estimated seconds on this kind of machine (the cost model);
* ``scratch(problem) -> int``: bytes of scratch if run in one piece (row bands use it);
* ``conv_valid(xp, w, stride, dilation, groups, out_size) -> y``; an algorithm that sets
  ``FUSES_BIAS = True`` also takes ``bias=`` and adds it while the output is in cache
  (a separate pass over a large output costs as much as a small convolution).

``choose(problem)`` picks the cheapest supported algorithm; ``backend="auto"`` uses it.
Each algorithm is also a backend name of its own, so the oracle tests can hold every
one of them to torch directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import prod
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Problem:
    """The shape of one ``conv_valid`` call: what the cost model looks at."""

    batch: int
    in_channels: int
    out_channels: int
    groups: int
    padded_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    out_size: tuple[int, ...]
    itemsize: int = 4

    @classmethod
    def of(cls, xp: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
           groups: int, out_size: tuple[int, ...]) -> Problem:
        return cls(xp.shape[0], xp.shape[1], w.shape[0], groups, tuple(xp.shape[2:]), tuple(w.shape[2:]),
                   tuple(stride), tuple(dilation), tuple(out_size), xp.dtype.itemsize)

    @classmethod
    def from_spec(cls, spec: Any, batch: int, itemsize: int) -> Problem:
        """The problem a validated :class:`~convscope.engine.validate.ConvSpec` poses, without padding data."""
        padded = tuple(n + b + a for n, (b, a) in zip(spec.input_size, spec.padding))
        return cls(batch, spec.in_channels, spec.out_channels, spec.groups, padded, spec.kernel_size,
                   spec.stride, spec.dilation, spec.output_size, itemsize)

    @property
    def nd(self) -> int:
        return len(self.kernel_size)

    @property
    def taps(self) -> int:
        return prod(self.kernel_size)

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the direct method."""
        return self.batch * self.out_channels * (self.in_channels // self.groups) * self.taps * prod(self.out_size)

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def unit_stride(self) -> bool:
        return all(s == 1 for s in self.stride)

    def nbytes(self, *shape: int) -> int:
        return prod(shape) * self.itemsize


def _registry() -> dict[str, Any]:
    from . import direct, fft, im2col, implicit, winograd

    modules: list[Any] = [im2col, implicit, winograd.F2, winograd.F4, fft, direct]
    return {m.NAME: m for m in modules}


ALGORITHMS: dict[str, Any] = _registry()  # modules, or objects with the same attributes


def supported(problem: Problem) -> list[str]:
    return [name for name, algo in ALGORITHMS.items() if algo.unsupported(problem) is None]


@lru_cache(maxsize=4096)
def choose(problem: Problem) -> str:
    """The supported algorithm with the lowest estimated cost (im2col always qualifies).

    A problem without work (no channels, an empty batch) gets im2col at once: the engine
    answers those before planning, and a rate per channel would divide by zero.
    """
    if problem.macs == 0:
        return "im2col"
    return min(supported(problem), key=lambda name: ALGORITHMS[name].cost(problem))
