"""Each error class: raised where torch refuses, and its message names the fix."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import convscope as cs


def ones(*shape: int) -> np.ndarray:
    return np.ones(shape, np.float32)


def torch_refuses(fn) -> None:
    """The configuration under test must be one torch refuses too."""
    with pytest.raises((RuntimeError, ValueError)):
        fn()


def test_all_errors_are_value_errors() -> None:
    for cls in (cs.ConvShapeError, cs.MissingAxisError, cs.ChannelsLastError, cs.KernelLayoutError,
                cs.ChannelMismatchError, cs.KernelTooLargeError, cs.ConvParameterError, cs.BackendError):
        assert issubclass(cls, cs.ConvScopeError) and issubclass(cls, ValueError)


def test_missing_batch_and_channel_axes() -> None:
    torch_refuses(lambda: F.conv2d(torch.ones(5, 5), torch.ones(1, 1, 3, 3)))
    with pytest.raises(cs.MissingAxisError, match=r"x\[None, None\] gives shape \(1, 1, 5, 5\)"):
        cs.conv2d(ones(5, 5), ones(1, 1, 3, 3))


def test_channels_last_batch_names_the_permute() -> None:
    torch_refuses(lambda: F.conv2d(torch.ones(8, 32, 32, 3), torch.ones(16, 3, 3, 3)))
    with pytest.raises(cs.ChannelsLastError) as err:
        cs.conv2d(ones(8, 32, 32, 3), ones(16, 3, 3, 3))
    message = str(err.value)
    assert "x.permute(0, 3, 1, 2)" in message and "np.transpose(x, (0, 3, 1, 2))" in message
    assert "(8, 32, 32, 3)" in message  # what came


def test_channels_last_unbatched_and_3d() -> None:
    with pytest.raises(cs.ChannelsLastError, match=r"permute\(2, 0, 1\)"):
        cs.conv2d(ones(32, 32, 3), ones(4, 3, 3, 3))
    with pytest.raises(cs.ChannelsLastError, match=r"permute\(0, 4, 1, 2, 3\)"):
        cs.conv3d(ones(1, 8, 8, 8, 2), ones(4, 2, 3, 3, 3))


def test_tensorflow_ordered_kernel() -> None:
    tf_kernel = ones(3, 3, 1, 16)  # (kH, kW, in, out)
    torch_refuses(lambda: F.conv2d(torch.ones(1, 1, 28, 28), torch.from_numpy(tf_kernel)))
    with pytest.raises(cs.KernelLayoutError, match=r"TensorFlow.*w\.permute\(3, 2, 0, 1\)"):
        cs.conv2d(ones(1, 1, 28, 28), tf_kernel)
    # The suggested permute is the right one: it yields torch's (out, in, kH, kW).
    assert np.transpose(tf_kernel, (3, 2, 0, 1)).shape == (16, 1, 3, 3)


def test_bare_kernel_without_channel_axes() -> None:
    torch_refuses(lambda: F.conv2d(torch.ones(1, 1, 5, 5), torch.ones(3, 3)))
    with pytest.raises(cs.KernelLayoutError, match=r"w\[None, None\] \(shape \(1, 1, 3, 3\)\)"):
        cs.conv2d(ones(1, 1, 5, 5), ones(3, 3))


def test_in_channels_mismatch_from_the_lesson_quiz() -> None:
    # Seed 000, question 4: Conv2d(in_channels=3, ...) fed a 1-channel image.
    torch_refuses(lambda: torch.nn.Conv2d(3, 6, 3)(torch.ones(1, 1, 28, 28)))
    with pytest.raises(cs.ChannelMismatchError) as err:
        cs.conv2d(ones(1, 1, 28, 28), ones(6, 3, 3, 3))
    assert "3 input channels" in str(err.value) and "in_channels=1" in str(err.value)


def test_kernel_larger_than_padded_input_says_how_much_to_pad() -> None:
    torch_refuses(lambda: F.conv2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 5, 5)))
    with pytest.raises(cs.KernelTooLargeError, match="pad by at least 2 per side"):
        cs.conv2d(ones(1, 1, 2, 2), ones(1, 1, 5, 5))
    assert cs.conv2d(ones(1, 1, 2, 2), ones(1, 1, 5, 5), padding=2).shape == (1, 1, 2, 2)


@pytest.mark.parametrize("kwargs,pattern", [
    (dict(stride=0), "stride must be positive"),
    (dict(dilation=0), "dilation must be positive"),
    (dict(padding=-1), "padding must not be negative"),
    (dict(padding="same", stride=2), 'padding="same" keeps the size only at stride 1'),
    (dict(padding="full"), "unknown padding string"),
    (dict(padding_mode="mirror"), "unknown padding_mode"),
    (dict(padding=5, padding_mode="reflect"), "reflect padding must be smaller than the input"),
    (dict(padding=6, padding_mode="circular"), "circular padding can wrap around at most once"),
    (dict(stride=(1, 2, 3)), "stride must be an int or a tuple of 2 ints"),
    (dict(backend="cuda"), "unknown backend"),
])
def test_parameter_errors(kwargs, pattern) -> None:
    with pytest.raises(cs.ConvScopeError, match=pattern) as err:
        cs.conv2d(ones(1, 2, 5, 5), ones(4, 2, 3, 3), **kwargs)
    assert "Fix:" in str(err.value)


def test_groups_must_divide_channels() -> None:
    torch_refuses(lambda: F.conv2d(torch.ones(1, 4, 5, 5), torch.ones(3, 2, 3, 3), groups=2))
    with pytest.raises(cs.ConvParameterError, match="out_channels.*divisible by groups.*divisors of 3"):
        cs.conv2d(ones(1, 4, 5, 5), ones(3, 2, 3, 3), groups=2)


def test_bias_and_grad_output_shapes() -> None:
    with pytest.raises(cs.ConvShapeError, match=r"one value per output channel; expected shape \(4,\)"):
        cs.conv2d(ones(1, 2, 5, 5), ones(4, 2, 3, 3), bias=ones(3))
    with pytest.raises(cs.ConvShapeError, match=r"grad_output.*expected shape \(1, 4, 3, 3\)"):
        cs.conv2d_backward(ones(1, 4, 5, 5), ones(1, 2, 5, 5), ones(4, 2, 3, 3))


def test_transpose_and_pool_errors() -> None:
    torch_refuses(lambda: F.conv_transpose2d(torch.ones(1, 2, 3, 3), torch.ones(2, 1, 3, 3), stride=2,
                                             output_padding=2))
    with pytest.raises(cs.ConvParameterError, match="output_padding must be smaller than stride or dilation"):
        cs.conv_transpose2d(ones(1, 2, 3, 3), ones(2, 1, 3, 3), stride=2, output_padding=2)
    torch_refuses(lambda: F.max_pool2d(torch.ones(1, 1, 4, 4), 2, padding=2))
    with pytest.raises(cs.ConvParameterError, match="half the kernel size"):
        cs.max_pool2d(ones(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(cs.MissingAxisError, match=r"x\[None\]"):
        cs.max_pool2d(ones(4, 4), 2)


@pytest.mark.parametrize("bad,pattern", [
    ([[1, 2], [3]], "not a rectangular array"),
    ("image.png", "must hold real numbers"),
    (np.ones((1, 1, 3, 3), complex), "must hold real numbers"),
])
def test_inputs_that_are_not_arrays_of_reals(bad, pattern) -> None:
    with pytest.raises(cs.ConvShapeError, match=pattern):
        cs.conv2d(bad, ones(1, 1, 1, 1))


def test_counts_read_as_a_person_writes_them():
    """'1 input channel', '3 channels': never '1 channels'."""
    import numpy as np

    import convscope as cs

    with pytest.raises(cs.ChannelMismatchError) as one:
        cs.conv2d(np.ones((1, 3, 5, 5)), np.ones((2, 1, 3, 3)))
    assert "expected 1 input channel (" in str(one.value) and "got 3 channels in" in str(one.value)
    with pytest.raises(cs.ChannelMismatchError) as three:
        cs.conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 3, 3, 3)))
    assert "expected 3 input channels (" in str(three.value) and "got 1 channel in" in str(three.value)
