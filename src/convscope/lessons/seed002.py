"""Labs retold from seed 002, "Convolution Basics": by hand, edges, then shapes.

The first two labs slide a tiny kernel over a tiny image and print the feature map;
the last three print the shapes a ``Conv2d`` layer produces. Every printed number comes
from :func:`convscope.conv2d`; torch only checks it.
"""

from __future__ import annotations

from typing import Any

from ..engine import conv2d
from ._kit import (
    Check,
    LabResult,
    Stdout,
    compare,
    conv_params,
    lab,
    nchw,
    randn,
    torch_conv2d,
    torch_conv2d_fn,
    verify,
)

_F_CONV2D = "engine == torch.nn.functional.conv2d"


def _feature_map_lab(name: str, image: list[list[int]], kernel: list[list[int]], backend: str) -> LabResult:
    """Slide ``kernel`` over ``image`` (no padding, stride 1); print the name and the map."""
    x, w = nchw(image), nchw(kernel)
    y = conv2d(x, w, backend=backend)
    out = Stdout()
    out(name)
    out(y[0, 0])
    return LabResult(out.text, verify(lambda torch: [compare(_F_CONV2D, y, torch_conv2d_fn(torch, x, w))]))


def _shape_lab(name: str, x_shape: tuple[int, int, int, int], out_channels: int, backend: str, *,
               stride: int = 1, padding: int = 0, show_params: bool = True) -> LabResult:
    """Run a ``Conv2d(C, out_channels, 3, stride, padding)``-shaped layer; print the shapes."""
    x = randn(x_shape)
    weight, bias = conv_params(x_shape[1], out_channels, 3)
    y = conv2d(x, weight, bias, stride=stride, padding=padding, backend=backend)
    out = Stdout()
    out(name)
    out("input:", tuple(x.shape))
    out("output:", tuple(y.shape))
    if show_params:
        out("weight:", tuple(weight.shape))
        out("bias:", tuple(bias.shape))

    def build(torch: Any) -> list[Check]:
        layer, shapes = torch_conv2d(torch, weight, bias, stride=stride, padding=padding)
        layer_call = f"nn.Conv2d({x_shape[1]}, {out_channels}, 3, stride={stride}, padding={padding})"
        return [shapes, compare(f"engine == torch.{layer_call}", y, layer(torch.from_numpy(x)))]
    return LabResult(out.text, verify(build))


@lab("002", "compute a 3x3 feature map by hand: 4x4 image, 2x2 kernel")
def manual_conv_lab(backend: str) -> LabResult:
    """Lab 1: every output is ``sum(patch * kernel)`` over one 2x2 window.

    >>> print(manual_conv_lab("reference").text.splitlines()[1])
    [[-2.  2. -4.]
    """
    return _feature_map_lab("manual_conv_lab", [[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]],
                            [[1, 0], [0, -1]], backend)


@lab("002", "a [-1, 1] kernel fires where the image steps from 0 to 1")
def edge_lab(backend: str) -> LabResult:
    """Lab 2: a 1x2 left-to-right difference over a 5x5 image gives a 5x4 edge map."""
    return _feature_map_lab("edge_lab", [[0, 0, 0, 0, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 1, 1, 1],
                                         [0, 0, 0, 0, 0]], [[-1, 1]], backend)


@lab("002", "stride 2 and padding 1 take a 6x6 input to 3x3")
def size_lab(backend: str) -> LabResult:
    """``Conv2d(1, 2, 3, stride=2, padding=1)`` on a random (1, 1, 6, 6) input."""
    return _shape_lab("size_lab", (1, 1, 6, 6), 2, backend, stride=2, padding=1, show_params=False)


@lab("002", "RGB in, 8 feature maps out: the weight is (8, 3, 3, 3)")
def channel_lab(backend: str) -> LabResult:
    """``Conv2d(3, 8, 3, padding=1)`` on a random (2, 3, 32, 32) batch."""
    return _shape_lab("channel_lab", (2, 3, 32, 32), 8, backend, padding=1)


@lab("002", "the Conv2d checklist: input, output, weight and bias shapes")
def conv2d_lab(backend: str) -> LabResult:
    """``Conv2d(1, 4, 3, padding=1)`` on a random (1, 1, 8, 8) input."""
    return _shape_lab("conv2d_lab", (1, 1, 8, 8), 4, backend, padding=1)
