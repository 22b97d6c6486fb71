"""Hypothesis strategies for valid engine configurations (1-3 spatial dims).

Sizes stay small so that the pure-Python reference backend runs each case in
milliseconds; ``_cost`` rejects draws whose loops would be too long.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from math import prod
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

MODES = ("zeros", "reflect", "replicate", "circular")

# The default run draws a few thousand cases in all; CONVSCOPE_TEST_SCALE=10 make test soaks.
SCALE = max(1, int(os.environ.get("CONVSCOPE_TEST_SCALE", "1")))


def examples(n: int) -> int:
    return n * SCALE


def _per_axis(draw, nd: int, elements: st.SearchStrategy[int], allow_int: bool = True) -> Any:
    values = tuple(draw(elements) for _ in range(nd))
    if allow_int and len(set(values)) == 1 and draw(st.booleans()):
        return values[0]  # exercise the int form as well as the tuple form
    return values


def _axes(value: Any, nd: int) -> tuple[int, ...]:
    return value if isinstance(value, tuple) else (value,) * nd


@dataclass
class Case:
    nd: int
    arrays: dict[str, np.ndarray | None]
    kwargs: dict[str, Any]

    def __repr__(self) -> str:  # hypothesis prints this on failure: shapes, not values
        shapes = {k: (None if v is None else v.shape) for k, v in self.arrays.items()}
        return f"Case(nd={self.nd}, shapes={shapes}, kwargs={self.kwargs})"


def _data(draw, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@st.composite
def conv_cases(draw, nd: int, kernel: tuple[int, ...] | None = None, stride: Any = None, dilation: Any = None,
               max_size: int | None = None, budget: int = 3000) -> Case:
    """A valid convolution; ``kernel``, ``stride`` and ``dilation`` pin those parameters
    (an algorithm's domain), ``max_size`` and ``budget`` (reference-loop work) bound the draw."""
    dtype = draw(st.sampled_from([np.float32, np.float32, np.float64]))
    depthwise = draw(st.booleans())
    groups = draw(st.integers(1, 3))
    cin_g = 1 if depthwise else draw(st.integers(1, 2))
    cout_g = draw(st.integers(1, 2))
    kernel = kernel or tuple(draw(st.integers(1, 4 if nd == 1 else 3)) for _ in range(nd))
    stride = stride or _per_axis(draw, nd, st.integers(1, 3))
    dilation = dilation or _per_axis(draw, nd, st.integers(1, 2))
    mode = draw(st.sampled_from(MODES))
    form = draw(st.sampled_from(["int", "tuple", "valid", "same"]))
    if form == "same":
        stride = 1  # torch allows "same" only at stride 1 (the rejection tests cover the rest)
        padding: Any = "same"
        pads = [(d * (k - 1)) - (d * (k - 1)) // 2 for k, d in zip(kernel, _axes(dilation, nd))]
    elif form == "valid":
        padding, pads = "valid", [0] * nd
    else:
        padding = _per_axis(draw, nd, st.integers(0, 2), allow_int=form == "int")
        pads = list(_axes(padding, nd))
    size = tuple(draw(st.integers(1, max_size or (7 if nd < 3 else 4))) for _ in range(nd))
    for n, p, k, d in zip(size, pads, kernel, _axes(dilation, nd)):
        assume(n + 2 * p >= d * (k - 1) + 1)  # the kernel fits the padded input
        assume(not (mode == "reflect" and p >= n) and not (mode == "circular" and p > n))
    batch = draw(st.sampled_from([None, 1, 2]))
    cin, cout = cin_g * groups, cout_g * groups
    out = [(n + 2 * p - d * (k - 1) - 1) // s + 1
           for n, p, k, d, s in zip(size, pads, kernel, _axes(dilation, nd), _axes(stride, nd))]
    assume((batch or 1) * cout * cin_g * prod(out) * prod(kernel) <= budget)  # reference loop budget
    x_shape = ((batch,) if batch else ()) + (cin,) + size
    bias = _data(draw, (cout,), dtype) if draw(st.booleans()) else None
    return Case(nd, {"input": _data(draw, x_shape, dtype), "weight": _data(draw, (cout, cin_g) + kernel, dtype),
                     "bias": bias},
                dict(stride=stride, padding=padding, dilation=dilation, groups=groups, padding_mode=mode,
                     flip=draw(st.booleans())))


@st.composite
def transpose_cases(draw, nd: int) -> Case:
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    groups = draw(st.integers(1, 2))
    cin_g, cout_g = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = _per_axis(draw, nd, st.integers(1, 3))
    dilation = _per_axis(draw, nd, st.integers(1, 2))
    padding = _per_axis(draw, nd, st.integers(0, 2))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1))
                           for s, d in zip(_axes(stride, nd), _axes(dilation, nd)))
    size = tuple(draw(st.integers(1, 4 if nd < 3 else 3)) for _ in range(nd))
    out = [(n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
           zip(size, _axes(stride, nd), _axes(padding, nd), _axes(dilation, nd), kernel, output_padding)]
    assume(all(o >= 1 for o in out))
    batch = draw(st.sampled_from([None, 1, 2]))
    assume((batch or 1) * cin_g * groups * cout_g * prod(size) * prod(kernel) <= 3000)
    x_shape = ((batch,) if batch else ()) + (cin_g * groups,) + size
    bias = _data(draw, (cout_g * groups,), dtype) if draw(st.booleans()) else None
    return Case(nd, {"input": _data(draw, x_shape, dtype),
                     "weight": _data(draw, (cin_g * groups, cout_g) + kernel, dtype), "bias": bias},
                dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                     dilation=dilation))


@st.composite
def pool_cases(draw, nd: int, kind: str) -> Case:
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    kernel = _per_axis(draw, nd, st.integers(1, 3))
    stride = draw(st.one_of(st.none(), _per_axis_strategy(nd, st.integers(1, 3))))
    padding = _per_axis(draw, nd, st.integers(0, 1))
    assume(all(p <= k // 2 for p, k in zip(_axes(padding, nd), _axes(kernel, nd))))
    kwargs: dict[str, Any] = dict(kernel_size=kernel, stride=stride, padding=padding,
                                  ceil_mode=draw(st.booleans()))
    dilation = (1,) * nd
    if kind == "max":
        dilation = _axes(_per_axis(draw, nd, st.integers(1, 2)), nd)
        kwargs["dilation"] = dilation
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
        if nd > 1 and draw(st.booleans()):
            kwargs["divisor_override"] = draw(st.integers(1, 5))
    size = tuple(draw(st.integers(1, 7 if nd < 3 else 4)) for _ in range(nd))
    for n, k, p, d in zip(size, _axes(kernel, nd), _axes(padding, nd), dilation):
        assume((n + 2 * p - d * (k - 1) - 1) >= 0)  # at least one window, whatever the stride
        assume(not (kind == "avg" and nd == 3 and n < k))  # torch's avg_pool3d rule; see test_rejections
    batch = draw(st.sampled_from([None, 1, 2]))
    x_shape = ((batch,) if batch else ()) + (draw(st.integers(1, 3)),) + size
    return Case(nd, {"input": _data(draw, x_shape, dtype)}, kwargs)


def _per_axis_strategy(nd: int, elements: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    return st.one_of(elements, st.tuples(*[elements] * nd))
