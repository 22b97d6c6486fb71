"""Parity of rejections: whatever torch refuses, convscope refuses (with a ConvScopeError),
and whatever torch accepts, convscope computes, with the same numbers.

Configurations are drawn from ranges that include zeros, negatives, oversize kernels,
mismatched channels and groups, "same" with stride, and over-wide reflect/circular padding.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import convscope as cs

from oracle import assert_matches
from strategies import examples

ACCEPTED = {"conv": 0, "transpose": 0, "pool": 0}


def _torch_outcome(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(), None
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        return None, exc


def _ours_outcome(fn):
    try:
        return fn(), None
    except cs.ConvScopeError as exc:
        assert "expected" in str(exc) or "Fix:" in str(exc), f"unhelpful message: {exc}"
        return None, exc


def _compare(kind: str, theirs, ours, describe: str) -> None:
    (want, torch_err), (got, our_err) = theirs, ours
    if torch_err is not None:
        assert our_err is not None, f"torch rejects {describe} ({torch_err}) but convscope accepted it"
        return
    assert our_err is None, f"torch accepts {describe} but convscope raised: {our_err}"
    ACCEPTED[kind] += 1
    assert_matches(got, want, describe)


@settings(max_examples=examples(500))
@given(nd=st.integers(1, 3), cin=st.integers(1, 4), cout=st.integers(1, 4), groups=st.integers(1, 3),
       wcin=st.integers(1, 4), k=st.integers(1, 4), size=st.integers(1, 5), stride=st.integers(0, 2),
       padding=st.one_of(st.integers(-1, 3), st.sampled_from(["same", "valid"])), dilation=st.integers(0, 2),
       mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]), batched=st.booleans())
def test_conv_rejects_exactly_what_torch_rejects(nd, cin, cout, groups, wcin, k, size, stride, padding,
                                                 dilation, mode, batched) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(((2,) if batched else ()) + (cin,) + (size,) * nd).astype(np.float32)
    w = rng.standard_normal((cout, wcin) + (k,) * nd).astype(np.float32)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)

    def torch_side():
        layer = getattr(torch.nn, f"Conv{nd}d")(wcin * groups, cout, k, padding_mode=mode, bias=False, **kw)
        return layer._conv_forward(torch.from_numpy(x), torch.from_numpy(w), None).numpy()

    ours = _ours_outcome(lambda: getattr(cs, f"conv{nd}d")(x, w, padding_mode=mode, **kw))
    _compare("conv", _torch_outcome(torch_side), ours, f"conv{nd}d x{x.shape} w{w.shape} {kw} {mode}")


@settings(max_examples=examples(300))
@given(nd=st.integers(1, 2), cin=st.integers(1, 4), groups=st.integers(1, 3), k=st.integers(1, 3),
       size=st.integers(1, 4), stride=st.integers(0, 3), padding=st.integers(-1, 3), out_pad=st.integers(-1, 3),
       dilation=st.integers(0, 3))
def test_conv_transpose_rejects_exactly_what_torch_rejects(nd, cin, groups, k, size, stride, padding, out_pad,
                                                           dilation) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, cin) + (size,) * nd).astype(np.float32)
    w = rng.standard_normal((cin, 2) + (k,) * nd).astype(np.float32)
    kw = dict(stride=stride, padding=padding, output_padding=out_pad, groups=groups, dilation=dilation)
    theirs = _torch_outcome(lambda: getattr(F, f"conv_transpose{nd}d")(torch.from_numpy(x), torch.from_numpy(w),
                                                                       **kw).numpy())
    ours = _ours_outcome(lambda: getattr(cs, f"conv_transpose{nd}d")(x, w, **kw))
    if theirs[1] is None and groups > 1 and (dilation == 0 or 0 in theirs[0].shape):
        # The one divergence, kept on purpose: torch's grouped transposed path skips two checks
        # its general path makes (see test_torch_grouped_transpose_skips_checks).
        assert isinstance(ours[1], cs.ConvScopeError)
        return
    _compare("transpose", theirs, ours, f"conv_transpose{nd}d x{x.shape} w{w.shape} {kw}")


@settings(max_examples=examples(400))
@given(nd=st.integers(1, 3), kind=st.sampled_from(["max", "avg"]), k=st.integers(0, 4), size=st.integers(1, 5),
       stride=st.one_of(st.none(), st.integers(0, 3)), padding=st.integers(-1, 3), dilation=st.integers(0, 2),
       ceil_mode=st.booleans(), count_include_pad=st.booleans())
def test_pools_reject_exactly_what_torch_rejects(nd, kind, k, size, stride, padding, dilation, ceil_mode,
                                                 count_include_pad) -> None:
    x = np.random.default_rng(0).standard_normal((1, 2) + (size,) * nd).astype(np.float32)
    kw = dict(kernel_size=k, stride=stride, padding=padding, ceil_mode=ceil_mode)
    if kind == "max":
        kw["dilation"] = dilation
    else:
        kw["count_include_pad"] = count_include_pad
    theirs = _torch_outcome(lambda: getattr(F, f"{kind}_pool{nd}d")(torch.from_numpy(x), **kw).numpy())
    ours = _ours_outcome(lambda: getattr(cs, f"{kind}_pool{nd}d")(x, **kw))
    _compare("pool", theirs, ours, f"{kind}_pool{nd}d x{x.shape} {kw}")


def test_torch_grouped_transpose_skips_checks() -> None:
    """torch's grouped conv_transpose (groups > 1) skips two checks that its groups=1 path makes:
    dilation=0 (meaningless) and an empty output. convscope applies them for every groups.
    If this test fails, torch has closed the gap and the special case above can go."""
    x = torch.randn(1, 2, 3)
    w = torch.randn(2, 1, 1)
    assert F.conv_transpose1d(x, w, groups=2, dilation=0).shape == (1, 2, 3)
    with pytest.raises(RuntimeError, match="dilation should be greater than zero"):
        F.conv_transpose1d(x, torch.randn(2, 2, 1), groups=1, dilation=0)
    with pytest.raises(cs.ConvParameterError, match="dilation must be positive"):
        cs.conv_transpose1d(x, w, groups=2, dilation=0)
    one = torch.ones(1, 2, 1)
    assert F.conv_transpose1d(one, w, stride=2, padding=1, output_padding=1, groups=2).shape == (1, 2, 0)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.conv_transpose1d(one, torch.ones(2, 2, 1), stride=2, padding=1, output_padding=1)
    with pytest.raises(cs.ConvShapeError, match="the output would be empty"):
        cs.conv_transpose1d(one, w, stride=2, padding=1, output_padding=1, groups=2)


def test_negative_padding_crops_in_non_zero_modes_like_torch() -> None:
    x = np.arange(5.0, dtype=np.float32).reshape(1, 1, 5)
    for mode in ("reflect", "replicate", "circular"):
        layer = torch.nn.Conv1d(1, 1, 1, padding=-1, padding_mode=mode, bias=False)
        torch.nn.init.ones_(layer.weight)
        want = layer(torch.from_numpy(x)).detach().numpy()
        assert_matches(cs.conv1d(x, np.ones((1, 1, 1), np.float32), padding=-1, padding_mode=mode), want, mode)
    with pytest.raises(cs.ConvParameterError, match="padding must not be negative"):
        cs.conv1d(x, np.ones((1, 1, 1)), padding=-1)
