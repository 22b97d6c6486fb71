"""Winograd F(2x2, 3x3) and F(4x4, 3x3) (``algorithms/winograd.py``) on their own: against the
NumPy backend and torch on many shapes, their float32 error, their domain, chunking, and a
timing printout against im2col and torch."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import convscope as cs
from convscope.engine import numpy_backend
from convscope.engine.algorithms import Problem, im2col, winograd
from convscope.engine.workspace import workspace

from strategies import examples

ALGOS = [winograd.F2, winograd.F4]
IDS = [a.NAME for a in ALGOS]
ONE = (1, 1)


@st.composite
def valid_cases(draw):
    """(xp, w, groups, out_size): an already padded input and a 3x3 weight, any groups."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    groups = draw(st.integers(1, 3))
    cin = groups * draw(st.integers(1, 5 // groups))
    cout = groups * draw(st.integers(1, 5 // groups))
    batch = draw(st.integers(1, 3))
    height, width = draw(st.integers(3, 17)), draw(st.integers(3, 17))
    full = (height - 2, width - 2)
    if draw(st.booleans()):
        out_size = full
    else:  # fewer windows than fit: the trailing rows/columns of xp are ignored
        out_size = (draw(st.integers(1, full[0])), draw(st.integers(1, full[1])))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    xp = rng.standard_normal((batch, cin, height, width)).astype(dtype)
    w = rng.standard_normal((cout, cin // groups, 3, 3)).astype(dtype)
    return xp, w, groups, out_size


def _check(got: np.ndarray, want: np.ndarray, dtype: type, what: str) -> None:
    """Tolerance relative to the largest |value|, at least 1: the data are N(0, 1), so every
    output sums terms of size ~1 and a lone output can cancel to near 0 (seen: 5e-4)."""
    tol = 1e-4 if dtype == np.float32 else 1e-10
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale, err_msg=what)


def test_two_algorithms_with_the_module_contract() -> None:
    assert [a.NAME for a in ALGOS] == ["winograd2", "winograd4"]
    assert [(a.m, a.alpha) for a in ALGOS] == [(2, 4), (4, 6)]
    for algo in ALGOS:
        assert isinstance(algo.SUMMARY, str) and algo.SUMMARY
        assert all(callable(getattr(algo, f)) for f in ("unsupported", "cost", "conv_valid"))


@pytest.mark.parametrize("algo", ALGOS, ids=IDS)
def test_matches_numpy_backend_and_torch(algo) -> None:
    @settings(max_examples=examples(250))
    @given(case=valid_cases())
    def run(case) -> None:
        xp, w, groups, out_size = case
        got = algo.conv_valid(xp, w, ONE, ONE, groups, out_size)
        assert got.shape == (xp.shape[0], w.shape[0]) + out_size
        assert got.dtype == xp.dtype
        want = numpy_backend.conv_valid(xp, w, ONE, ONE, groups, out_size)
        _check(got, want, xp.dtype.type, f"{algo.NAME} vs numpy backend")
        ho, wo = out_size
        ref = torch.nn.functional.conv2d(torch.from_numpy(np.ascontiguousarray(xp[:, :, :ho + 2, :wo + 2])),
                                         torch.from_numpy(w), groups=groups).numpy()
        _check(got, ref, xp.dtype.type, f"{algo.NAME} vs torch")

    run()


@pytest.mark.parametrize("algo", ALGOS, ids=IDS)
def test_float64_is_computed_in_float64(algo) -> None:
    rng = np.random.default_rng(3)
    xp, w = rng.standard_normal((2, 7, 30, 33)), rng.standard_normal((6, 7, 3, 3))
    got = algo.conv_valid(xp, w, ONE, ONE, 1, (28, 31))
    want = numpy_backend.conv_valid(xp, w, ONE, ONE, 1, (28, 31))
    assert got.dtype == np.float64
    assert np.abs(got - want).max() < 1e-12 * np.abs(want).max()


@pytest.mark.parametrize("algo", ALGOS, ids=IDS)
def test_float32_error_is_within_the_documented_bounds(algo) -> None:
    """The docstring's measurement (seed 0, (8, 64, 56, 56) -> 64, padding 1), held to twice
    the documented max and mean error: BLAS summation order differs between machines."""
    rng = np.random.default_rng(0)
    x64 = rng.standard_normal((8, 64, 56, 56))
    w64 = rng.standard_normal((64, 64, 3, 3))
    ref = cs.conv2d(x64, w64, padding=1, backend="numpy")
    assert ref.dtype == np.float64
    xp32 = np.pad(x64.astype(np.float32), ((0, 0), (0, 0), (1, 1), (1, 1)))
    err = np.abs(algo.conv_valid(xp32, w64.astype(np.float32), ONE, ONE, 1, (56, 56)) - ref)
    max_abs, mean_abs = algo.FLOAT32_ERROR
    assert err.max() <= 2 * max_abs, f"max abs error {err.max():.3g}, documented {max_abs:.3g}"
    assert err.mean() <= 2 * mean_abs, f"mean abs error {err.mean():.3g}, documented {mean_abs:.3g}"


def _problem(nd=2, kernel=3, stride=1, dilation=1) -> Problem:
    size = (12,) * nd
    return Problem(2, 4, 4, 1, size, (kernel,) * nd, (stride,) * nd, (dilation,) * nd,
                   tuple(s - dilation * (kernel - 1) for s in size))


@pytest.mark.parametrize("algo", ALGOS, ids=IDS)
def test_unsupported_names_a_reason(algo) -> None:
    assert algo.unsupported(_problem()) is None
    for problem, word in [(_problem(kernel=5), "3x3"), (_problem(stride=2), "stride"),
                          (_problem(dilation=2), "dilation"), (_problem(nd=1), "2-D"), (_problem(nd=3), "2-D")]:
        reason = algo.unsupported(problem)
        assert isinstance(reason, str) and word in reason, (problem, reason)


@pytest.mark.parametrize("algo", ALGOS, ids=IDS)
def test_a_small_workspace_chunks_the_batch_and_gives_the_same_numbers(algo) -> None:
    rng = np.random.default_rng(1)
    xp = rng.standard_normal((7, 16, 42, 39)).astype(np.float32)
    w = rng.standard_normal((12, 8, 3, 3)).astype(np.float32)
    p = Problem.of(xp, w, ONE, ONE, 2, (40, 37))
    whole = algo.conv_valid(xp, w, ONE, ONE, 2, (40, 37))
    assert len(winograd._Plan(algo.m, p).parts(p)) == 1
    with workspace(2**20):
        assert len(winograd._Plan(algo.m, p).parts(p)) > 1
        chunked = algo.conv_valid(xp, w, ONE, ONE, 2, (40, 37))
    np.testing.assert_array_equal(chunked, whole)
    _check(whole, numpy_backend.conv_valid(xp, w, ONE, ONE, 2, (40, 37)), np.float32, algo.NAME)


@pytest.mark.parametrize("algo", ALGOS, ids=IDS)
def test_one_gemm_group_per_chunk_gives_the_same_numbers(algo, monkeypatch) -> None:
    """Chunks are whole groups of images whose BLAS calls keep their shapes, so even the
    smallest chunks (a budget of 1 byte) reproduce the unchunked result bit for bit."""
    @settings(max_examples=examples(60))
    @given(case=valid_cases(), extra=st.integers(0, 4))
    def run(case, extra) -> None:
        xp, w, groups, out_size = case
        xp = np.concatenate([xp] + [xp[:1] * (k + 2) for k in range(extra)])  # up to 7 images
        whole = algo.conv_valid(xp, w, ONE, ONE, groups, out_size)
        with monkeypatch.context() as patch:
            patch.setattr(winograd, "workspace_budget", lambda: 1)
            chunked = algo.conv_valid(xp, w, ONE, ONE, groups, out_size)
        np.testing.assert_array_equal(chunked, whole)

    run()


def test_the_cost_model_ranks_winograd_against_im2col() -> None:
    big = Problem(8, 64, 64, 1, (58, 58), (3, 3), ONE, ONE, (56, 56))
    tiny = Problem(1, 1, 1, 1, (5, 5), (3, 3), ONE, ONE, (3, 3))
    assert winograd.F4.cost(big) < winograd.F2.cost(big) < im2col.cost(big)
    assert im2col.cost(tiny) < min(winograd.F2.cost(tiny), winograd.F4.cost(tiny))


def _best_ms(fn, repeats: int = 5) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def test_benchmark_prints_times() -> None:
    """(8, 64, 56, 56) -> 64, 3x3, padding 1, float32: best of 5 after a warm-up (printed only)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 64, 56, 56), dtype=np.float32)
    w = rng.standard_normal((64, 64, 3, 3), dtype=np.float32)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    args = (ONE, ONE, 1, (56, 56))
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        tx, tw = torch.from_numpy(x), torch.from_numpy(w)
        times = {
            "winograd2": _best_ms(lambda: winograd.F2.conv_valid(xp, w, *args)),
            "winograd4": _best_ms(lambda: winograd.F4.conv_valid(xp, w, *args)),
            "im2col": _best_ms(lambda: im2col.conv_valid(xp, w, *args)),
            "torch (2 threads)": _best_ms(lambda: torch.nn.functional.conv2d(tx, tw, padding=1)),
        }
    finally:
        torch.set_num_threads(threads)
    print("\n(8, 64, 56, 56) -> 64, 3x3: " + ", ".join(f"{k} {v:.2f} ms" for k, v in times.items()))
