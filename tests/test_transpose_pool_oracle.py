"""Transposed convolutions and pools, forward and backward, every backend against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings

import convscope as cs

from oracle import BACKENDS, assert_matches, run_torch, torch_conv_transpose, torch_pool
from strategies import examples, pool_cases, transpose_cases


@pytest.mark.parametrize("nd,count", [(1, 200), (2, 250), (3, 100)])
def test_conv_transpose_matches_torch(nd: int, count: int) -> None:
    @settings(max_examples=examples(count))
    @given(case=transpose_cases(nd))
    def run(case) -> None:
        a, kw = case.arrays, case.kwargs
        want, gy, grads = run_torch(torch_conv_transpose(nd, **kw), a)
        for backend in BACKENDS:
            name = f"conv_transpose{nd}d[{backend}]"
            got = getattr(cs, f"conv_transpose{nd}d")(a["input"], a["weight"], a["bias"], backend=backend, **kw)
            assert_matches(got, want, f"{name} forward")
            gx, gw, gb = getattr(cs, f"conv_transpose{nd}d_backward")(gy, a["input"], a["weight"],
                                                                      backend=backend, **kw)
            assert_matches(gx, grads["input"], f"{name} grad_input")
            assert_matches(gw, grads["weight"], f"{name} grad_weight")
            if a["bias"] is not None:
                assert_matches(gb, grads["bias"], f"{name} grad_bias")

    run()


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("nd,count", [(1, 200), (2, 250), (3, 100)])
def test_pools_match_torch(kind: str, nd: int, count: int) -> None:
    @settings(max_examples=examples(count))
    @given(case=pool_cases(nd, kind))
    def run(case) -> None:
        x, kw = case.arrays["input"], case.kwargs
        pool = torch_pool(kind, nd, **kw)
        with torch.no_grad():
            want = pool(torch.from_numpy(x)).numpy()
        # A dilated max window can hold only padding (output -inf). torch's backward then writes
        # outside the tensor and can abort the process, so compare the forward pass only.
        pure_padding = bool(np.isneginf(want).any())
        if not pure_padding:
            want, gy, grads = run_torch(pool, {"input": x})
        for backend in BACKENDS:
            name = f"{kind}_pool{nd}d[{backend}]"
            got = getattr(cs, f"{kind}_pool{nd}d")(x, backend=backend, **kw)
            assert_matches(got, want, f"{name} forward")
            if pure_padding:
                continue
            gx = getattr(cs, f"{kind}_pool{nd}d_backward")(gy, x, backend=backend, **kw)
            assert_matches(gx, grads["input"], f"{name} grad_input")

    run()


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_pool_indices_match_torch(backend: str) -> None:
    import torch

    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    values, where = cs.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, return_indices=True, backend=backend)
    want_v, want_i = torch.nn.functional.max_pool2d(torch.from_numpy(x), 3, 2, 1, ceil_mode=True,
                                                    return_indices=True)
    assert_matches(values, want_v, "values")
    np.testing.assert_array_equal(where, want_i.numpy())


def test_max_pool_ties_go_to_the_first_maximum_like_torch() -> None:
    import torch

    x = np.ones((1, 1, 4, 4), np.float32)
    xt = torch.ones(1, 1, 4, 4, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, 2, stride=1).backward(torch.ones(1, 1, 3, 3))
    for backend in BACKENDS:
        assert_matches(cs.max_pool2d_backward(np.ones((1, 1, 3, 3)), x, 2, stride=1, backend=backend), xt.grad,
                       f"ties [{backend}]")


def test_max_pool_propagates_nan_like_torch() -> None:
    import torch

    x = np.array([[[1.0, np.nan, 3.0, 2.0]]], np.float32)
    want = torch.nn.functional.max_pool1d(torch.from_numpy(x), 2).numpy()
    for backend in BACKENDS:
        np.testing.assert_array_equal(cs.max_pool1d(x, 2, backend=backend), want)


def test_max_pool_window_of_pure_padding() -> None:
    """torch returns index 1 for a 1-pixel plane here and moves channel 0's gradient into channel 1;
    convscope returns -inf with index -1, and that window's gradient goes nowhere."""
    x = np.array([[[5.0]], [[7.0]]], np.float32)
    for backend in BACKENDS:
        values, where = cs.max_pool2d(x, (3, 2), padding=1, dilation=(1, 2), return_indices=True, backend=backend)
        assert np.isneginf(values).all() and (where == -1).all()
        grad = cs.max_pool2d_backward(np.ones((2, 1, 1)), x, (3, 2), padding=1, dilation=(1, 2), backend=backend)
        np.testing.assert_array_equal(grad, np.zeros_like(x))
