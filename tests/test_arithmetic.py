"""Output-size arithmetic against torch's shapes and the lessons' worked examples."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convscope as cs

from strategies import examples


@pytest.mark.parametrize("size,k,s,p,expected", [
    (28, 3, 1, 1, 28),  # seed 003: "same"
    (28, 3, 1, 0, 26),  # "valid"
    (28, 3, 2, 1, 14),  # stride-2 downsample
    (28, 3, 2, 0, 13),  # the floor: 13, not 13.5
    (6, 3, 2, 1, 3),    # seed 002 size_lab
    (5, 3, 1, 0, 3),    # seed 000 quiz question 3
])
def test_lesson_examples(size, k, s, p, expected) -> None:
    assert cs.output_size(size, k, s, p) == expected
    shape = F.conv1d(torch.ones(1, 1, size), torch.ones(1, 1, k), stride=s, padding=p).shape
    assert shape[-1] == expected  # torch agrees with the lesson


@settings(max_examples=examples(400))
@given(size=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 4), p=st.integers(0, 3),
       d=st.integers(1, 3), ceil=st.booleans())
def test_output_size_equals_torch_pool_and_conv_shapes(size, k, s, p, d, ceil) -> None:
    assume(not ceil or p <= k // 2)  # ceil_mode is pooling's, and pooling caps padding at k // 2
    x = torch.ones(1, 1, size)
    try:
        want = F.max_pool1d(x, k, s, p, d, ceil_mode=ceil).shape[-1] if p <= k // 2 else None
    except RuntimeError:
        want = None
    if not ceil:
        try:
            conv = F.conv1d(x, torch.ones(1, 1, k), stride=s, padding=p, dilation=d).shape[-1]
        except RuntimeError:
            conv = None
        if want is not None:
            assert conv == want
        want = conv
    if want is None:
        with pytest.raises(cs.ConvScopeError):
            cs.output_size(size, k, s, p, d, ceil)
    else:
        assert cs.output_size(size, k, s, p, d, ceil) == want


def test_transposed_output_size_matches_torch() -> None:
    for size, k, s, p, op, d in [(3, 3, 2, 1, 1, 1), (7, 4, 3, 0, 2, 2), (1, 1, 1, 0, 0, 1)]:
        y = F.conv_transpose1d(torch.ones(1, 1, size), torch.ones(1, 1, k), stride=s, padding=p,
                               output_padding=op, dilation=d)
        assert cs.transposed_output_size(size, k, s, p, op, d) == y.shape[-1]


def test_explain_shows_formula_numbers_floor_and_uncovered_rows() -> None:
    text = cs.explain_output_size(28, 3, stride=2, padding=0)
    assert "floor((28 + 2*0 - 3) / 2) + 1" in text and "floor(12.5)" in text and "= 12 + 1 = 13" in text
    assert "input position 27 is never covered" in text
    assert "never covered" not in cs.explain_output_size(28, 3, stride=1, padding=1)


def test_explain_same_padding_even_kernel_and_dilation() -> None:
    text = cs.explain_output_size(10, 4, padding="same")
    assert 'pads 1 before and 2 after' in text and "= 10" in text
    dilated = cs.explain_output_size(10, 3, dilation=2)
    assert "dilation*(kernel_size - 1) - 1" in dilated and "= 6" in dilated


def test_explain_ceil_mode_drops_a_window_starting_in_padding() -> None:
    # in=5, k=2, s=2, p=1, ceil: ceil((5+2-2)/2)+1 = 4, but the 4th window starts at 5 >= in + p... torch says 3
    assert F.max_pool1d(torch.ones(1, 1, 5), 2, 2, 1, ceil_mode=True).shape[-1] == 3
    text = cs.explain_output_size(5, 2, stride=2, padding=1, ceil_mode=True)
    assert "ceil_mode drops the last window" in text and "out = 3" in text


def test_output_size_errors() -> None:
    with pytest.raises(cs.KernelTooLargeError):
        cs.output_size(2, 5)
    with pytest.raises(cs.ConvParameterError, match="stride must be positive"):
        cs.output_size(5, 3, stride=0)
