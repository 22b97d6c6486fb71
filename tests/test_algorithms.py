"""Every fast algorithm on its own against torch, over the configurations it supports,
and the cost model's choices."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_conv_oracle import check_conv

import convscope as cs
from convscope.engine.algorithms import ALGORITHMS, Problem, choose
from convscope.engine.workspace import workspace

from oracle import assert_matches
from strategies import conv_cases, examples

# Where each algorithm applies; one not listed here is drawn from every 1-3 d configuration.
DOMAINS: dict[str, dict] = {
    "implicit": dict(stride=1),
    "direct": dict(nds=(2,)),
    "winograd2": dict(nds=(2,), kernel=(3, 3), stride=1, dilation=1, max_size=13, budget=20000),
    "winograd4": dict(nds=(2,), kernel=(3, 3), stride=1, dilation=1, max_size=15, budget=20000),
}


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_algorithm_matches_torch_on_its_own(name: str) -> None:
    domain = dict(DOMAINS.get(name, {}))
    nds = domain.pop("nds", (1, 2, 3))

    @settings(max_examples=examples(150))
    @given(case=st.sampled_from(nds).flatmap(lambda nd: conv_cases(nd, **domain)))
    def run(case) -> None:
        check_conv(case, name)

    run()


@pytest.mark.parametrize("out_channels,groups,dilation", [(8, 1, 1), (6, 1, (1, 3)), (8, 2, 2), (4, 4, 1)])
@pytest.mark.parametrize("width", [5, 1500])  # one band of many rows; a row wider than a band
def test_direct_three_by_three_paths_match_torch(out_channels, groups, dilation, width) -> None:
    """The flat 3x3 loops: four output channels per pass (per-group counts divisible by 4)
    or one (the rest, depthwise included), any dilation, bands of rows of any width."""
    import torch

    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 4, 9, width), dtype=np.float32)
    w = rng.standard_normal((out_channels, 4 // groups, 3, 3), dtype=np.float32)
    b = rng.standard_normal(out_channels, dtype=np.float32)
    y = cs.conv2d(x, w, b, padding=2, dilation=dilation, groups=groups, backend="direct")
    expected = torch.nn.functional.conv2d(*map(torch.from_numpy, (x, w, b)), padding=2, dilation=dilation,
                                          groups=groups).numpy()
    assert_matches(y, expected, "direct 3x3")


def test_an_algorithm_refuses_what_it_cannot_do_and_auto_does_not() -> None:
    x, w = np.ones((1, 2, 9, 9), np.float32), np.ones((3, 2, 3, 3), np.float32)
    with pytest.raises(cs.BackendError, match='backend="implicit" cannot run this convolution.*stride 1'):
        cs.conv2d(x, w, stride=2, backend="implicit")
    np.testing.assert_allclose(cs.conv2d(x, w, stride=2), cs.conv2d(x, w, stride=2, backend="torch"))


def test_chunking_to_a_small_workspace_gives_the_same_numbers() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 8, 40, 40)).astype(np.float32)
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    for name in ALGORITHMS:
        whole = cs.conv2d(x, w, padding=1, backend=name)
        with workspace(2**20):
            # Chunks and row bands change BLAS's blocking (and Winograd's tiling), so float32
            # sums differ within each algorithm's own rounding error: the oracle's tolerance.
            assert_matches(cs.conv2d(x, w, padding=1, backend=name), whole, f"{name} in a 1 MiB workspace")


def _problem(n, c, h, o, k, s=1, p=0, d=1, g=1) -> Problem:
    out = cs.output_size((h, h), k, s, p, d)
    return Problem(n, c, o, g, (h + 2 * p,) * 2, (k, k), (s, s), (d, d), out)


def test_cost_model_picks_the_lesson_algorithms() -> None:
    assert choose(_problem(1, 1, 1024, 1, 31, p=15)) == "fft"                 # a large blur
    assert choose(_problem(8, 128, 56, 128, 3, p=1, g=128)) == "direct"       # depthwise
    assert choose(_problem(1, 1, 5, 1, 3)) == "direct"                        # the lesson's 5x5
    assert choose(_problem(8, 3, 224, 64, 7, s=2, p=3)) == "im2col"           # strided stem


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("stride,padding,dilation", [(1, 1, 1), (2, 2, 1), (1, 3, 2), (3, 0, 1)])
def test_row_bands_give_the_same_numbers(mode, stride, padding, dilation) -> None:
    from convscope.engine.banding import banded
    from convscope.engine.fast_backend import AlgorithmBackend
    from convscope.engine.validate import conv_spec

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 17, 11)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    spec = conv_spec("conv2d", 2, x.shape, w.shape, None, stride, padding, dilation, 1, mode)
    want = cs.conv2d(x, w, None, stride, padding, dilation, padding_mode=mode, backend="torch")
    for rows in (1, 2, 5, spec.output_size[0]):
        got = banded(AlgorithmBackend.named("auto").conv_valid, x, w, spec, rows)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_peak_memory_is_output_plus_budget() -> None:
    """A convolution whose scratch would exceed the budget runs in bands: the peak of what it
    allocates (NumPy reports to tracemalloc) stays within output + budget + a small constant."""
    import tracemalloc

    x = np.random.default_rng(0).standard_normal((1, 16, 512, 512), dtype=np.float32)  # 16 MiB
    w = np.random.default_rng(1).standard_normal((16, 16, 3, 3), dtype=np.float32)
    budget = 4 * 2**20
    with workspace(budget):
        cs.conv2d(x[:, :, :8], w, padding=1)  # compile and warm up outside the measurement
        tracemalloc.start()
        y = cs.conv2d(x, w, padding=1)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak <= y.nbytes + budget + 2**20, f"peak {peak / 2**20:.1f} MiB for a {y.nbytes / 2**20:.0f} MiB output"


@pytest.mark.parametrize("channels,out_channels,dilation,size", [
    (6, 6, 1, (13, 21)), (4, 8, (2, 1), (13, 21)), (3, 3, 2, (13, 21)),
    (16, 16, 1, (64, 64)),  # enough work for the parallel copy of the loops
])
def test_depthwise_three_by_three_weight_gradient_matches_autograd(channels, out_channels, dilation, size) -> None:
    """The flat-run loops for 3x3 stride-1 weight gradients with one input channel per group
    (channel multiplier 2 included), on rows that do not fill a vector."""
    import torch

    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, channels) + size, dtype=np.float32)
    w = rng.standard_normal((out_channels, 1, 3, 3), dtype=np.float32)
    xt, wt = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(w).requires_grad_(True)
    y = torch.nn.functional.conv2d(xt, wt, padding=1, dilation=dilation, groups=channels)
    gy = rng.standard_normal(tuple(y.shape), dtype=np.float32)
    y.backward(torch.from_numpy(gy))
    gx, gw, _ = cs.conv2d_backward(gy, x, w, padding=1, dilation=dilation, groups=channels)
    assert_matches(gw, wt.grad.numpy(), "depthwise weight gradient")
    assert_matches(gx, xt.grad.numpy(), "depthwise input gradient")
