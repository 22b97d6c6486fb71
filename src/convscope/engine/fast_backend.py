"""The "auto" backend and one backend per fast algorithm.

Forward convolutions go to an algorithm from :mod:`algorithms` (chosen by the cost
model for "auto", or named); the gradients and pooling primitives come from the NumPy
backend until faster ones exist.
"""

from __future__ import annotations

from itertools import product
from math import prod
from types import ModuleType

import numpy as np

from . import gradients, numpy_backend
from .algorithms import ALGORITHMS, Problem, choose, machine
from .errors import BackendError

# The split's estimate includes its two copies, but its smaller grids run less efficiently
# than the model assumes; it must promise a clear saving.
POLYPHASE_MARGIN = 0.85


class AlgorithmBackend:
    """A backend whose forward convolution is one algorithm (or the cost model's choice)."""

    accepts_bias = True  # conv_valid takes bias= (the other backends leave it to the caller)

    conv_weight_grad = staticmethod(gradients.weight_grad)
    window_max = staticmethod(numpy_backend.window_max)

    _instances: dict[str, AlgorithmBackend] = {}

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def named(cls, name: str) -> AlgorithmBackend:
        if name not in cls._instances:
            cls._instances[name] = cls(name)
        return cls._instances[name]

    def algorithm(self, problem: Problem) -> ModuleType:
        if self.name == "auto":
            return ALGORITHMS[choose(problem)]
        algo = ALGORITHMS[self.name]
        reason = algo.unsupported(problem)
        if reason:
            raise BackendError(f'backend="{self.name}" cannot run this convolution', expected=algo.SUMMARY,
                               got=reason, fix='use backend="auto", which picks an algorithm that can')
        return algo

    def conv_valid(self, xp: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
                   groups: int, out_size: tuple[int, ...], bias: np.ndarray | None = None) -> np.ndarray:
        """``bias`` (optional): fused into the algorithm's output pass where it can be."""
        problem = Problem.of(xp, w, stride, dilation, groups, out_size)
        if self.name == "auto" and any(d > 1 for d in dilation) and problem.unit_stride \
                and _polyphase_cost(problem) < POLYPHASE_MARGIN * ALGORITHMS[choose(problem)].cost(problem):
            return self._polyphase(xp, w, bias, dilation, groups, out_size)
        algo = self.algorithm(problem)
        if getattr(algo, "FUSES_BIAS", False):
            return algo.conv_valid(xp, w, stride, dilation, groups, out_size, bias=bias)
        y = algo.conv_valid(xp, w, stride, dilation, groups, out_size)
        if bias is not None:
            y += bias.reshape((1, -1) + (1,) * problem.nd)
        return y

    def conv_input_grad(self, gy: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
                        groups: int, in_size: tuple[int, ...]) -> np.ndarray:
        """The adjoint as a forward convolution, so the same algorithms (and choice) apply."""
        if self.name != "auto":
            return numpy_backend.conv_input_grad(gy, w, stride, dilation, groups, in_size)
        return gradients.input_grad(self.conv_valid, gy, w, stride, dilation, groups, in_size)

    def _polyphase(self, xp: np.ndarray, w: np.ndarray, bias: np.ndarray | None, dilation: tuple[int, ...],
                   groups: int, out_size: tuple[int, ...]) -> np.ndarray:
        """A dilated stride-1 convolution is prod(dilation) undilated ones, one per polyphase sub-grid.

        Output position i only reads input rows i, i + d, i + 2d, ...: all congruent to
        i mod d. So the rows (and columns, ...) with phase r form an ordinary input for an
        ordinary kernel, and the fast undilated algorithms (Winograd, the 3x3 direct loop)
        apply. The sub-grids are stacked along the batch axis, so that is one convolution;
        a phase with fewer rows is zero-extended, and the extra output rows are dropped.
        """
        batch, channels, nd = xp.shape[0], xp.shape[1], len(dilation)
        sub_out = tuple(-(-o // d) for o, d in zip(out_size, dilation))
        sub_in = tuple(o + k - 1 for o, k in zip(sub_out, w.shape[2:]))
        phases = list(product(*map(range, dilation)))
        stacked = np.zeros((len(phases), batch, channels) + sub_in, xp.dtype)  # (D, N, C, *sub_in)
        for index, phase in enumerate(phases):
            grid = xp[(slice(None), slice(None)) + tuple(slice(r, None, d) for r, d in zip(phase, dilation))]
            stacked[(index, slice(None), slice(None)) + tuple(slice(0, n) for n in grid.shape[2:])] = grid
        sub = self.conv_valid(stacked.reshape((-1, channels) + sub_in), w, (1,) * nd, (1,) * nd, groups,
                              sub_out, bias).reshape((len(phases), batch, w.shape[0]) + sub_out)
        y = np.empty((batch, w.shape[0]) + tuple(out_size), dtype=xp.dtype)
        for index, phase in enumerate(phases):
            dest = (slice(None), slice(None)) + tuple(slice(r, None, d) for r, d in zip(phase, dilation))
            counts = tuple(-(-(o - r) // d) for o, r, d in zip(out_size, phase, dilation))
            y[dest] = sub[(index, slice(None), slice(None)) + tuple(slice(0, c) for c in counts)]
        return y


def _polyphase_cost(p: Problem) -> float:
    """The cost model's estimate for the polyphase split: the best algorithm on the stacked sub-grids,
    two copies (in and out) of the data, and the two NumPy copies per phase (a huge dilation
    means that many phases: their calls must count, or the split would loop over them all)."""
    sub_out = tuple(-(-o // d) for o, d in zip(p.out_size, p.dilation))
    sub_in = tuple(o + k - 1 for o, k in zip(sub_out, p.kernel_size))
    phases = prod(p.dilation)
    sub = Problem(p.batch * phases, p.in_channels, p.out_channels, p.groups, sub_in, p.kernel_size, p.stride,
                  (1,) * p.nd, sub_out, p.itemsize)
    copies = 2 * (sub.nbytes(sub.batch, p.in_channels, *sub_in) + sub.nbytes(sub.batch, p.out_channels, *sub_out))
    return ALGORITHMS[choose(sub)].cost(sub) + copies / machine.STREAM_BYTES + 2 * phases * machine.CALL
