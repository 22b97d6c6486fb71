"""Row bands: run a large convolution in horizontal strips so memory stays bounded.

A convolution's scratch (the padded copy, im2col columns, Winograd tiles, partial sums)
grows with the image. For an image too large for the workspace budget, the output is
computed band by band along the first spatial axis: each band pads and reads only the
input rows its windows need (its halo included), so the peak is the input, the output,
and one band's scratch.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from math import prod

import numpy as np

from .padding import NO_SOURCE, pad, source_index
from .validate import ConvSpec
from .workspace import workspace_budget

ValidConv = Callable[[np.ndarray, np.ndarray, tuple[int, ...], tuple[int, ...], int, tuple[int, ...]], np.ndarray]


def _scratch_per_output_row(batch: int, itemsize: int, spec: ConvSpec, backend: str) -> int:
    """Bytes one output row (of the first axis) costs: its input rows (gathered and padded), its
    output row, and its share of the scratch of the algorithm that will run (the cost model's
    pick for "auto")."""
    from .algorithms import ALGORITHMS, Problem, choose

    problem = Problem.from_spec(spec, batch, itemsize)
    padded = problem.padded_size
    name = choose(problem) if backend == "auto" else backend if backend in ALGORITHMS else "im2col"
    padded_in = batch * spec.in_channels * prod(padded[1:]) * spec.stride[0] * itemsize
    band_out = batch * spec.out_channels * prod(spec.output_size[1:]) * itemsize
    algo = ALGORITHMS[name]
    scratch = algo.scratch(problem) if hasattr(algo, "scratch") else 3 * problem.nbytes(
        problem.batch, problem.out_channels, *problem.out_size)  # an algorithm that does not say
    # The band's rows are gathered, then padded (two copies), and its output is written
    # into the result after the algorithm returns it.
    return 2 * padded_in + band_out + scratch // spec.output_size[0]


def band_rows(x: np.ndarray, spec: ConvSpec, backend: str, budget: int | None = None) -> int:
    """Output rows per band (the whole first axis when everything fits the budget)."""
    return _band_rows(x.shape[0], x.dtype.itemsize, spec, backend, budget or workspace_budget())


@lru_cache(maxsize=4096)
def _band_rows(batch: int, itemsize: int, spec: ConvSpec, backend: str, budget: int) -> int:
    per_row = _scratch_per_output_row(batch, itemsize, spec, backend)
    return max(1, min(spec.output_size[0], budget // max(1, per_row)))


def _padded_rows(x: np.ndarray, spec: ConvSpec, start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) of the padded input, padded on the other axes, without padding the rest."""
    before, after = spec.padding[0]
    index = source_index(spec.input_size[0], before, after, spec.padding_mode)[start:stop]
    valid = index != NO_SOURCE
    rows = np.take(x, np.where(valid, index, 0), axis=2)                 # (N, C, rows, ...)
    if not valid.all():
        rows[:, :, ~valid] = 0
    return pad(rows, spec.padding[1:], spec.padding_mode)


def banded(conv_valid: ValidConv, x: np.ndarray, w: np.ndarray, spec: ConvSpec, rows: int) -> np.ndarray:
    """The convolution computed ``rows`` output rows at a time into one preallocated output."""
    y = np.empty((x.shape[0], spec.out_channels) + spec.output_size, dtype=x.dtype)
    stride, span = spec.stride[0], spec.dilation[0] * (spec.kernel_size[0] - 1) + 1
    for first in range(0, spec.output_size[0], rows):
        last = min(spec.output_size[0], first + rows)
        band = _padded_rows(x, spec, first * stride, (last - 1) * stride + span)
        y[:, :, first:last] = conv_valid(band, w, spec.stride, spec.dilation, spec.groups,
                                         (last - first,) + spec.output_size[1:])
    return y
