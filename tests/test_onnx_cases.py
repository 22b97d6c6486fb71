"""ONNX-style cases torch's API cannot express: padding per side, auto_pad SAME_UPPER / SAME_LOWER,
dilated average pooling, Lp pooling of |x|, cropping a transposed convolution unequally, integer max
pooling. Oracles: torch on an input padded beforehand with F.pad (or an output cropped afterwards),
F.unfold for dilated windows, autograd through those for the backward, and NumPy loops written here."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convscope.engine import (
    ConvParameterError,
    avg_pool2d,
    avg_pool2d_backward,
    conv1d,
    conv2d,
    conv2d_backward,
    conv3d,
    conv_transpose2d,
    conv_transpose2d_backward,
    explain_output_size,
    lp_pool1d,
    lp_pool2d,
    lp_pool2d_backward,
    lp_pool3d,
    max_pool2d,
    max_pool2d_backward,
    output_size,
)

BACKENDS = ["reference", "numpy", "auto", "torch"]
RNG = np.random.default_rng(16)


def onnx_pads(size: int, k: int, s: int, d: int, upper: bool) -> tuple[int, int]:
    """ONNX's auto_pad, from its operator spec: the output is ceil(size / stride)."""
    total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
    return (total // 2, total - total // 2) if upper else (total - total // 2, total // 2)


def torch_pad(pairs) -> tuple[int, ...]:
    """(before, after) per axis, first axis first, as F.pad wants them: last axis first."""
    return tuple(v for pair in reversed(pairs) for v in pair)


@pytest.mark.parametrize("backend", BACKENDS)
def test_convolution_padded_per_side_is_torch_on_a_prepadded_input(backend):
    x, w = RNG.normal(size=(2, 3, 9, 8)), RNG.normal(size=(4, 3, 3, 2))
    pairs = ((0, 3), (2, 1))
    got = conv2d(x, w, stride=(2, 1), padding=pairs, dilation=(1, 2), backend=backend)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    want = F.conv2d(F.pad(xt, torch_pad(pairs)), wt, stride=(2, 1), dilation=(1, 2))
    np.testing.assert_allclose(got, want.detach().numpy(), atol=1e-10)
    grad = RNG.normal(size=got.shape)
    want.backward(torch.tensor(grad))
    gx, gw, _ = conv2d_backward(grad, x, w, stride=(2, 1), padding=pairs, dilation=(1, 2), backend=backend)
    np.testing.assert_allclose(gx, xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(gw, wt.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("mode", ["same_upper", "same_lower"])
def test_auto_pad_same_gives_ceil_of_size_over_stride(nd, stride, mode):
    size, k = (7, 6, 5)[:nd], (3, 2, 4)[:nd]
    x, w = RNG.normal(size=(1, 2) + size), RNG.normal(size=(3, 2) + k)
    pairs = tuple(onnx_pads(n, kk, stride, 1, mode == "same_upper") for n, kk in zip(size, k))
    got = (conv1d, conv2d, conv3d)[nd - 1](x, w, stride=stride, padding=mode)
    conv = (F.conv1d, F.conv2d, F.conv3d)[nd - 1]
    want = conv(F.pad(torch.tensor(x), torch_pad(pairs)), torch.tensor(w), stride=stride).numpy()
    assert got.shape[2:] == tuple(math.ceil(n / stride) for n in size)
    np.testing.assert_allclose(got, want, atol=1e-10)
    assert output_size(size, k, stride, mode) == tuple(math.ceil(n / stride) for n in size)
    if nd == 2:
        pooled = max_pool2d(x, k, stride, padding=mode)
        want = F.max_pool2d(F.pad(torch.tensor(x), torch_pad(pairs), value=-math.inf), k, stride).numpy()
        np.testing.assert_array_equal(pooled, want)


def test_a_same_padding_explained_names_its_sides():
    text = explain_output_size(6, 3, stride=2, padding="same_upper")
    assert "0 before, 1 after" in text and "ceil(6 / 2) = 3" in text and text.count("= 3") >= 2
    assert "1 before, 0 after" in explain_output_size(6, 3, stride=2, padding="same_lower")
    assert "(14 + 1 + 0 - 2)" in explain_output_size(14, 2, stride=2, padding=(1, 0))


def test_ceil_mode_keeps_a_last_window_that_starts_on_a_real_pixel():
    # pads (2, 0) on 3 positions, kernel 1, stride 2: windows start at -2, 0, 2; the last is a real pixel
    assert output_size(3, 1, 2, ((2, 0),), ceil_mode=True) == 3
    assert max_pool2d(np.arange(3.0).reshape(1, 1, 3), (1, 1), (1, 2), ((0, 0), (2, 0)), ceil_mode=True).shape[-1] == 3
    # the same numbers with the padding after: the third window starts in the padding, and is dropped
    assert output_size(3, 1, 2, ((0, 2),), ceil_mode=True) == 2


def dilated_average(x, k, s, d, pairs, include_pad, ceil_mode):
    """Average pooling by its definition, one output at a time (2-d)."""
    n = x.shape[-2:]
    outs = [output_size(n[a], k, s, (pairs[a],), d, ceil_mode) for a in range(2)]
    y = np.zeros(x.shape[:2] + tuple(outs))
    for i, j in itertools.product(*map(range, outs)):
        rows = [i * s - pairs[0][0] + t * d for t in range(k)]
        cols = [j * s - pairs[1][0] + t * d for t in range(k)]
        real = [(r, c) for r in rows for c in cols if 0 <= r < n[0] and 0 <= c < n[1]]
        counted = [(r, c) for r in rows for c in cols if r < n[0] + pairs[0][1] and c < n[1] + pairs[1][1]]
        total = sum(x[:, :, r, c] for r, c in real) if real else np.zeros(x.shape[:2])
        y[:, :, i, j] = total / len(counted if include_pad else real) if (counted if include_pad else real) else np.nan
    return y


@pytest.mark.parametrize("include_pad", [True, False])
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("backend", ["reference", "numpy", "auto"])
def test_dilated_average_pooling_against_its_definition(include_pad, ceil_mode, backend):
    x = RNG.normal(size=(2, 3, 9, 10))
    pairs = ((1, 0), (0, 1))
    got = avg_pool2d(x, 3, 2, pairs, ceil_mode, include_pad, dilation=2, backend=backend)
    np.testing.assert_allclose(got, dilated_average(x, 3, 2, 2, pairs, include_pad, ceil_mode), atol=1e-12)


@pytest.mark.parametrize("include_pad", [True, False])
def test_dilated_average_pooling_backward_is_autograd_through_unfold(include_pad):
    x = RNG.normal(size=(1, 2, 8, 7))
    pairs = ((1, 1), (1, 1))
    xt = torch.tensor(x, requires_grad=True)
    sums = F.unfold(F.pad(xt, torch_pad(pairs)), 3, dilation=2, stride=2).view(1, 2, 9, -1).sum(2)
    ones = F.pad(torch.ones_like(xt), torch_pad(pairs), value=1.0 if include_pad else 0.0)
    counts = F.unfold(ones, 3, dilation=2, stride=2).view(1, 2, 9, -1).sum(2)
    want = (sums / counts).view(1, 2, 3, 3)
    got = avg_pool2d(x, 3, 2, pairs, count_include_pad=include_pad, dilation=2)
    np.testing.assert_allclose(got, want.detach().numpy(), atol=1e-12)
    grad = RNG.normal(size=got.shape)
    want.backward(torch.tensor(grad))
    np.testing.assert_allclose(avg_pool2d_backward(grad, x, 3, 2, pairs, count_include_pad=include_pad, dilation=2),
                               xt.grad.numpy(), atol=1e-12)


def torch_lp(xt, p, k, s, d, pairs):
    """(sum over each window of |x|**p) ** (1/p) through F.unfold, in 2-d."""
    cols = F.unfold(F.pad(xt.abs(), torch_pad(pairs)), k, dilation=d, stride=s)  # (N, C*k*k, L)
    n, c = xt.shape[:2]
    size = [(xt.shape[2 + a] + sum(pairs[a]) - d * (k - 1) - 1) // s + 1 for a in range(2)]
    return (cols.view(n, c, k * k, -1) ** p).sum(2).pow(1 / p).view(n, c, *size)


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("backend", BACKENDS)
def test_lp_pooling_forward_and_backward_against_autograd(p, backend):
    x = RNG.normal(size=(2, 3, 9, 8))  # negative values: torch's own lp_pool gives NaN for odd p
    pairs = ((1, 2), (0, 1))
    xt = torch.tensor(x, requires_grad=True)
    want = torch_lp(xt, p, 3, 2, 2, pairs)
    got = lp_pool2d(x, p, 3, 2, padding=pairs, dilation=2, backend=backend)
    np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-10, atol=1e-10)
    grad = RNG.normal(size=got.shape)
    want.backward(torch.tensor(grad))
    np.testing.assert_allclose(lp_pool2d_backward(grad, x, p, 3, 2, padding=pairs, dilation=2, backend=backend),
                               xt.grad.numpy(), rtol=1e-9, atol=1e-10)


def test_lp_pooling_agrees_with_torch_where_torch_can_compute_it():
    x = np.abs(RNG.normal(size=(2, 3, 8, 9)))  # torch raises x (not |x|) to p: agree on x >= 0
    np.testing.assert_allclose(lp_pool2d(x, 2, (2, 3)), F.lp_pool2d(torch.tensor(x), 2, (2, 3)).numpy())
    x1 = RNG.normal(size=(1, 2, 10))
    np.testing.assert_allclose(lp_pool1d(x1, 1, 3, 1), F.lp_pool1d(torch.tensor(np.abs(x1)), 1, 3, 1).numpy(),
                               atol=1e-12)
    x3 = RNG.normal(size=(1, 2, 4, 4, 4))
    np.testing.assert_allclose(lp_pool3d(x3, 3, 2), F.lp_pool3d(torch.tensor(np.abs(x3)), 3, 2).numpy(), atol=1e-12)
    with pytest.raises(ConvParameterError, match="norm_type must be a finite number >= 1"):
        lp_pool2d(x, 0.5, 2)


def test_windows_of_padding_only_have_documented_values_and_pass_no_gradient():
    x = RNG.normal(size=(1, 1, 2, 2))
    pairs = ((3, 0), (0, 0))  # more than half the kernel: allowed per side (ONNX), not as an int (torch)
    values, where = max_pool2d(x, 2, 1, pairs, return_indices=True)
    assert np.isneginf(values[0, 0, 0]).all() and (where[0, 0, 0] == -1).all()
    assert np.isnan(avg_pool2d(x, 2, 1, pairs, count_include_pad=False)[0, 0, 0]).all()
    assert (avg_pool2d(x, 2, 1, pairs)[0, 0, 0] == 0).all()  # the padded zeros, counted
    assert (lp_pool2d(x, 2, 2, 1, padding=pairs)[0, 0, 0] == 0).all()
    grad = np.ones((1, 1, 4, 1))
    for backward in (lambda: max_pool2d_backward(grad, x, 2, 1, pairs),
                     lambda: avg_pool2d_backward(grad, x, 2, 1, pairs, count_include_pad=False),
                     lambda: lp_pool2d_backward(grad, x, 2, 2, 1, padding=pairs)):
        assert np.isfinite(backward()).all()
    with pytest.raises(ConvParameterError, match=r"padding=\(\(2, 2\), \(2, 2\)\)"):
        max_pool2d(x, 3, 1, 2)  # the int form keeps torch's limit, and the message shows the per-side form


@pytest.mark.parametrize("backend", BACKENDS)
def test_transposed_convolution_cropped_unequally_is_torch_cropped_afterwards(backend):
    x, w = RNG.normal(size=(2, 4, 5, 6)), RNG.normal(size=(4, 3, 3, 3))
    pairs = ((0, 2), (3, 1))
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    full = F.conv_transpose2d(xt, wt, stride=2, output_padding=1, dilation=(1, 2))
    want = full[:, :, 0:full.shape[2] - 2, 3:full.shape[3] - 1]
    got = conv_transpose2d(x, w, stride=2, padding=pairs, output_padding=1, dilation=(1, 2), backend=backend)
    np.testing.assert_allclose(got, want.detach().numpy(), atol=1e-10)
    grad = RNG.normal(size=got.shape)
    want.backward(torch.tensor(grad))
    gx, gw, _ = conv_transpose2d_backward(grad, x, w, stride=2, padding=pairs, output_padding=1, dilation=(1, 2),
                                          backend=backend)
    np.testing.assert_allclose(gx, xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(gw, wt.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.int64])
@pytest.mark.parametrize("backend", BACKENDS)
def test_max_pooling_keeps_integer_dtypes_as_torch_does(dtype, backend):
    info = np.iinfo(dtype)
    x = RNG.integers(info.min, info.max, size=(2, 3, 7, 6), dtype=dtype, endpoint=True)
    got, where = max_pool2d(x, 3, 2, 1, return_indices=True, backend=backend)
    want, want_where = F.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want.numpy())
    np.testing.assert_array_equal(where, want_where.numpy())
    assert max_pool2d(torch.tensor(x), 2).dtype == dtype  # a tensor too


def test_integer_max_is_exact_and_bool_is_a_logical_or():
    big = np.array([[[2**62, 2**62 + 1]]], dtype=np.int64)  # equal as float64, where the first would win
    for backend in ("reference", "numpy", "auto"):
        assert max_pool2d(big, (1, 2), backend=backend)[0, 0, 0] == 2**62 + 1
        assert max_pool2d_backward(np.ones((1, 1, 1)), big, (1, 2), backend=backend).tolist() == [[[0.0, 1.0]]]
    b = RNG.random((1, 2, 6, 6)) > 0.8
    got = max_pool2d(b, 2)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, b.reshape(1, 2, 3, 2, 3, 2).any(axis=(3, 5)))
    assert avg_pool2d(np.ones((1, 2, 2), np.uint8), 2).dtype == np.float32  # a mean is not an integer


def test_the_size_command_takes_each_side_and_onnx_same():
    from typer.testing import CliRunner

    from convscope.cli import app

    want = F.conv1d(F.pad(torch.ones(1, 1, 6), (0, 1)), torch.ones(1, 1, 3), stride=2).shape[-1]
    for padding in ("same_upper", "0,1"):
        result = CliRunner().invoke(app, ["size", "6", "-k", "3", "--stride", "2", "--padding", padding])
        assert result.exit_code == 0 and "(6 + 0 + 1 - 3)" in result.output
        assert f"= {want}\n" in result.output
    result = CliRunner().invoke(app, ["size", "6", "-k", "3", "--padding", "1,2,3"])
    assert result.exit_code == 2 and "same_upper" in result.output and "Traceback" not in result.output
