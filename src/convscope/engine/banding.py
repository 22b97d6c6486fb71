"""Row bands: run a large convolution in horizontal strips so memory stays bounded.

A convolution's scratch (the padded copy, im2col columns, Winograd tiles, partial sums)
grows with the image. For an image too large for the workspace budget, the output is
computed band by band along the first spatial axis: each band pads and reads only the
input rows its windows need (its halo included), so the peak is the input, the output,
and one band's scratch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .padding import NO_SOURCE, pad, source_index
from .validate import ConvSpec
from .workspace import workspace_budget

ValidConv = Callable[[np.ndarray, np.ndarray, tuple[int, ...], tuple[int, ...], int, tuple[int, ...]], np.ndarray]


def _scratch_per_output_row(x: np.ndarray, spec: ConvSpec) -> int:
    """Bytes one output row of the first axis costs: its padded input rows, columns, partial sums."""
    batch, item = x.shape[0], x.itemsize
    rest_in = int(np.prod([n + b + a for n, (b, a) in zip(spec.input_size[1:], spec.padding[1:])]))
    rest_out = int(np.prod(spec.output_size[1:]))
    taps = int(np.prod(spec.kernel_size))
    padded_in = batch * spec.in_channels * rest_in * spec.stride[0]
    columns = batch * (spec.in_channels // spec.groups) * taps * rest_out
    partial_sums = 3 * batch * spec.out_channels * rest_in
    return (padded_in + columns + partial_sums) * item


def band_rows(x: np.ndarray, spec: ConvSpec, budget: int | None = None) -> int:
    """Output rows per band (the whole first axis when everything fits the budget)."""
    per_row = _scratch_per_output_row(x, spec)
    return max(1, min(spec.output_size[0], (budget or workspace_budget()) // max(1, per_row)))


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
