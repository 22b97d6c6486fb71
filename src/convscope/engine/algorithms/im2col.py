"""im2col + GEMM, chunked over the batch so the column matrix fits the workspace budget.

The lesson's "conv becomes a giant matrix multiply": copy every window into a column,
then one GEMM per group. It handles every configuration (any stride, dilation, groups
and number of dimensions), so it is the fallback the cost model can always choose.
"""

from __future__ import annotations

import numpy as np

from .. import numpy_backend
from ..workspace import chunks
from . import Problem, machine

NAME = "im2col"
SUMMARY = "copy every window into a column, then one matrix multiply (chunked to the budget)"


def unsupported(problem: Problem) -> str | None:
    return None


def _column_bytes_per_image(p: Problem) -> int:
    return p.nbytes(p.in_channels, p.taps, *p.out_size)


def cost(p: Problem) -> float:
    cols = p.batch * _column_bytes_per_image(p)
    k = (p.in_channels // p.groups) * p.taps
    rate = machine.GEMM_FLOPS if k >= 64 and p.out_channels // p.groups >= 16 else machine.SMALL_GEMM_FLOPS
    return cols / machine.COPY_BYTES + p.flops / rate + 20 * machine.CALL * p.groups ** 0.5


def scratch(p: Problem) -> int:
    """Bytes of scratch if run in one piece: the column matrix."""
    return p.batch * _column_bytes_per_image(p)


def conv_valid(xp: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
               groups: int, out_size: tuple[int, ...]) -> np.ndarray:
    p = Problem.of(xp, w, stride, dilation, groups, out_size)
    parts = [numpy_backend.conv_valid(xp[batch], w, stride, dilation, groups, out_size)
             for batch in chunks(p.batch, _column_bytes_per_image(p))]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
