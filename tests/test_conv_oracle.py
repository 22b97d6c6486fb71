"""Every backend's conv1d/2d/3d and its backward against torch's nn.ConvNd and autograd."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import convscope as cs

from oracle import BACKENDS, assert_matches, run_torch, torch_conv
from strategies import conv_cases, examples


def check_conv(case, backend: str) -> None:
    nd, a, kw = case.nd, case.arrays, case.kwargs
    want, gy, grads = run_torch(torch_conv(nd, **kw), a)
    forward = getattr(cs, f"conv{nd}d")
    backward = getattr(cs, f"conv{nd}d_backward")
    got = forward(a["input"], a["weight"], a["bias"], backend=backend, **kw)
    assert_matches(got, want, f"conv{nd}d[{backend}] forward")
    gx, gw, gb = backward(gy, a["input"], a["weight"], backend=backend, **kw)
    assert_matches(gx, grads["input"], f"conv{nd}d[{backend}] grad_input")
    assert_matches(gw, grads["weight"], f"conv{nd}d[{backend}] grad_weight")
    if a["bias"] is not None:
        assert_matches(gb, grads["bias"], f"conv{nd}d[{backend}] grad_bias")


@pytest.mark.parametrize("nd,count", [(1, 300), (2, 400), (3, 150)])
def test_conv_matches_torch_for_every_backend(nd: int, count: int) -> None:
    @settings(max_examples=examples(count))
    @given(case=conv_cases(nd))
    def run(case) -> None:
        for backend in BACKENDS:
            check_conv(case, backend)

    run()


@pytest.mark.parametrize("backend", BACKENDS)
def test_lesson_layer_sizes(backend: str) -> None:
    """Realistic layers (bigger than hypothesis draws) for the fast backends; reference on a small one."""
    rng = np.random.default_rng(1)
    shapes = [((2, 3, 12, 12), (4, 3, 3, 3), dict(padding=1)),
              ((1, 1, 28, 28), (2, 1, 3, 3), dict(stride=2))]
    if backend != "reference":
        shapes.append(((4, 8, 20, 20), (8, 1, 3, 3), dict(groups=8, padding="same")))
    for x_shape, w_shape, kw in shapes:
        x = rng.standard_normal(x_shape).astype(np.float32)
        w = rng.standard_normal(w_shape).astype(np.float32)
        b = rng.standard_normal(w_shape[0]).astype(np.float32)
        full = dict(stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", flip=False) | kw
        case = type("C", (), {"nd": 2, "arrays": {"input": x, "weight": w, "bias": b}, "kwargs": full})
        check_conv(case, backend)


def test_inputs_can_be_tensors_lists_and_ints() -> None:
    import torch

    image = [[[[1, 2, 0], [5, 3, 0], [2, 1, 3]]]]
    kernel = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])
    from_list = cs.conv2d(image, kernel)
    from_tensor = cs.conv2d(torch.tensor(image, dtype=torch.float32), kernel)
    assert from_list.dtype == np.float32 and from_tensor.dtype == np.float32
    np.testing.assert_array_equal(from_list, from_tensor)
    np.testing.assert_array_equal(from_list[0, 0], [[-2.0, 2.0], [4.0, 0.0]])  # by hand: 1-3, 2-0, 5-1, 3-3


def test_float64_stays_float64_and_weight_follows_input() -> None:
    x = np.ones((1, 1, 4, 4))
    assert cs.conv2d(x, np.ones((1, 1, 3, 3), np.float32)).dtype == np.float64
    assert cs.conv2d(x.astype(np.float16), np.ones((1, 1, 3, 3))).dtype == np.float32


def test_flip_is_true_convolution_as_scipy_computes_it() -> None:
    from scipy.signal import convolve2d, correlate2d

    rng = np.random.default_rng(3)
    img, k = rng.standard_normal((7, 9)), rng.standard_normal((3, 2))
    np.testing.assert_allclose(cs.conv2d(img[None, None], k[None, None])[0, 0], correlate2d(img, k, "valid"))
    np.testing.assert_allclose(cs.conv2d(img[None, None], k[None, None], flip=True)[0, 0],
                               convolve2d(img, k, "valid"))


def test_empty_batch_gives_empty_output_like_torch() -> None:
    import torch

    y = cs.conv2d(np.zeros((0, 2, 5, 5), np.float32), np.ones((3, 2, 3, 3), np.float32), padding=1)
    want = torch.nn.functional.conv2d(torch.zeros(0, 2, 5, 5), torch.ones(3, 2, 3, 3), padding=1)
    assert y.shape == tuple(want.shape)
