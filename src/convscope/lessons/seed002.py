"""Labs retold from seed 002, "Convolution Basics": by hand, edges, then shapes.

The first two labs slide a tiny kernel over a tiny image and print the feature map;
the last three print the shapes a ``Conv2d`` layer produces. Every printed number comes
from :func:`convscope.conv2d`; torch only checks it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import conv2d
from ._kit import (
    Check,
    LabParameterError,
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


def _feature_map_lab(name: str, image: list[list[int]], kernel: list[list[float]], backend: str,
                     at: tuple[int, int] | None = None) -> LabResult:
    """Slide ``kernel`` over ``image`` (no padding, stride 1); print the name and the map, and, for
    ``at = (i, j)``, that output worked by hand: the window's products and their sum."""
    x, w = nchw(image), nchw(kernel)
    y = conv2d(x, w, backend=backend)
    out = Stdout()
    out(name)
    out(y[0, 0])
    hand = None
    if at is not None:
        i, j = at
        rows, cols = y.shape[2:]
        if not (0 <= i < rows and 0 <= j < cols):
            raise LabParameterError(f"{name}: out[{i}, {j}] is not in the {rows}x{cols} output",
                                    expected=f"at=i,j with 0 <= i < {rows} and 0 <= j < {cols}", got=f"at={i},{j}",
                                    fix="at=1,0 (the lesson's exercise)")
        kh, kw = w.shape[2:]
        window = x[0, 0, i:i + kh, j:j + kw]
        terms = [(float(window[u, v]), float(w[0, 0, u, v])) for u in range(kh) for v in range(kw)]
        hand = float(sum(a * b for a, b in terms))
        products = " + ".join(f"{a:g}*{b:g}" if b >= 0 else f"{a:g}*({b:g})" for a, b in terms)
        out(f"out[{i}, {j}] by hand: the window at rows {i}-{i + kh - 1}, columns {j}-{j + kw - 1} times the kernel: "
            f"{products} = {hand:g}")

    def build(torch: Any) -> list[Check]:
        theirs = torch_conv2d_fn(torch, x, w)
        checks = [compare(_F_CONV2D, y, theirs)]
        if at is not None and hand is not None:
            checks.append(compare(f"out[{at[0]}, {at[1]}] by hand == torch's", np.array([hand], np.float32),
                                  theirs[0, 0, at[0], at[1]].reshape(1)))
        return checks
    return LabResult(out.text, verify(build))


def _grid(text: str, what: str) -> list[list[float]]:
    """``"1,0/0,-1"``: rows separated by ``/``, values by commas (no spaces or quotes for the shell)."""
    try:
        rows = [[float(v) for v in row.split(",")] for row in text.split("/")]
    except ValueError:
        rows = []
    if not rows or any(len(row) != len(rows[0]) for row in rows):
        raise LabParameterError(f"cannot read the {what} {text!r}", expected="rows of numbers, e.g. 1,0/0,-1",
                                got=repr(text), fix="separate rows with / and values with commas")
    return rows


def _cell(text: str) -> tuple[int, int] | None:
    if not text:
        return None
    parts = text.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise LabParameterError(f"cannot read the output position {text!r}", expected="i,j, e.g. 1,0",
                                got=repr(text), fix="at=1,0 (row 1, column 0)")
    return int(parts[0]), int(parts[1])


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


@lab("002", "compute a 3x3 feature map by hand: 4x4 image, 2x2 kernel", kernel="1,0/0,-1", at="")
def manual_conv_lab(backend: str, kernel: str = "1,0/0,-1", at: str = "") -> LabResult:
    """Lab 1: every output is ``sum(patch * kernel)`` over one 2x2 window. The exercises: another
    ``kernel`` (rows split by ``/``), and ``at="1,0"``: out[1, 0] worked by hand.

    >>> print(manual_conv_lab("reference").text.splitlines()[1])
    [[-2.  2. -4.]
    >>> print(manual_conv_lab("reference", at="1,0").text.splitlines()[-1])
    out[1, 0] by hand: the window at rows 1-2, columns 0-1 times the kernel: 5*1 + 3*0 + 2*0 + 1*(-1) = 4
    """
    return _feature_map_lab("manual_conv_lab", [[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]],
                            _grid(kernel, "kernel"), backend, _cell(at))


@lab("002", "a [-1, 1] kernel fires where the image steps from 0 to 1")
def edge_lab(backend: str) -> LabResult:
    """Lab 2: a 1x2 left-to-right difference over a 5x5 image gives a 5x4 edge map."""
    return _feature_map_lab("edge_lab", [[0, 0, 0, 0, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 1, 1, 1],
                                         [0, 0, 0, 0, 0]], [[-1, 1]], backend)


@lab("002", "stride 2 and padding 1 take a 6x6 input to 3x3", stride=2, padding=1)
def size_lab(backend: str, stride: int = 2, padding: int = 1) -> LabResult:
    """``Conv2d(1, 2, 3, stride=2, padding=1)`` on a random (1, 1, 6, 6) input; the exercise: stride=1."""
    return _shape_lab("size_lab", (1, 1, 6, 6), 2, backend, stride=stride, padding=padding, show_params=False)


@lab("002", "RGB in, 8 feature maps out: the weight is (8, 3, 3, 3)", out_channels=8)
def channel_lab(backend: str, out_channels: int = 8) -> LabResult:
    """``Conv2d(3, 8, 3, padding=1)`` on a random (2, 3, 32, 32) batch; the exercise: out_channels=16."""
    return _shape_lab("channel_lab", (2, 3, 32, 32), out_channels, backend, padding=1)


@lab("002", "the Conv2d checklist: input, output, weight and bias shapes", out_channels=4, stride=1, padding=1)
def conv2d_lab(backend: str, out_channels: int = 4, stride: int = 1, padding: int = 1) -> LabResult:
    """``Conv2d(1, 4, 3, stride=1, padding=1)`` on a random (1, 1, 8, 8) input."""
    return _shape_lab("conv2d_lab", (1, 1, 8, 8), out_channels, backend, stride=stride, padding=padding)


@lab("002", "an image library's (N, H, W, C) batch permuted to PyTorch's (N, C, H, W)", out_channels=8)
def permute_lab(backend: str, out_channels: int = 8) -> LabResult:
    """The exercise after the common mistakes: a channels-last batch (2, 32, 32, 3) made
    channels-first with ``x.permute(0, 3, 1, 2)`` (NumPy: ``np.transpose``), then the RGB layer.

    >>> print(permute_lab("numpy").text)
    permute_lab
    image-like [N, H, W, C]: (2, 32, 32, 3)
    after permute(0, 3, 1, 2): (2, 3, 32, 32)
    output: (2, 8, 32, 32)
    """
    image = randn((2, 32, 32, 3))                                   # (N, H, W, C), as PIL or OpenCV give it
    x = np.ascontiguousarray(np.transpose(image, (0, 3, 1, 2)))      # (N, C, H, W)
    weight, bias = conv_params(3, out_channels, 3)
    y = conv2d(x, weight, bias, padding=1, backend=backend)
    out = Stdout()
    out("permute_lab")
    out("image-like [N, H, W, C]:", tuple(image.shape))
    out("after permute(0, 3, 1, 2):", tuple(x.shape))
    out("output:", tuple(y.shape))

    def build(torch: Any) -> list[Check]:
        permuted = torch.from_numpy(image).permute(0, 3, 1, 2)
        layer, shapes = torch_conv2d(torch, weight, bias, padding=1)
        return [compare("np.transpose(x, (0, 3, 1, 2)) == torch's x.permute(0, 3, 1, 2)", x, permuted), shapes,
                compare(f"engine == torch.nn.Conv2d(3, {out_channels}, 3, padding=1) on the permuted batch", y,
                        layer(permuted.contiguous()))]
    return LabResult(out.text, verify(build))
