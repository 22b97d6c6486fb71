"""Labs retold from seed 003, "Convolution Operation": one operation, three implementations.

The lesson writes the convolution three times (pure Python loops, NumPy, PyTorch) and
animates it in a widget. Each lab prints what the lesson's program prints, with the
numbers computed by the engine. ``sobel_lab`` runs on the engine's "reference" backend
by default, since that backend *is* the pure-Python layer of the lesson.

Note: the lesson's own stdout for the Sobel example shows an output that no
convolution of its grid produces; the labs print what the program really computes,
and torch agrees (see the checks).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine import conv2d, explain_output_size, output_size
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
    torch_size,
    verify,
)

GRID = [[1, 2, 3, 0, 1],
        [0, 1, 2, 3, 4],
        [2, 1, 0, 1, 2],
        [3, 0, 1, 2, 3],
        [1, 2, 3, 4, 0]]

SOBEL_X = [[-1, 0, 1],
           [-2, 0, 2],
           [-1, 0, 1]]

WIDGET_INPUT = [[0, 0, 0, 1, 0, 0, 0],
                [0, 0, 1, 1, 1, 0, 0],
                [0, 1, 1, 0, 1, 1, 0],
                [1, 1, 0, 0, 0, 1, 1],
                [0, 1, 1, 0, 1, 1, 0],
                [0, 0, 1, 1, 1, 0, 0],
                [0, 0, 0, 1, 0, 0, 0]]

WIDGET_KERNEL = [[-1, 0, 1]] * 3

_F_CONV2D = "engine == torch.nn.functional.conv2d"


def _integral(y: np.ndarray) -> np.ndarray:
    """``y`` as integers when every value is whole (to print like the lesson's int rows)."""
    return y.astype(np.int64) if np.array_equal(y, np.rint(y)) else y


# What the lesson shows as its program's stdout for the Sobel grid: no reading of the program gives it.
LESSON_SOBEL_OUTPUT = [[-3, 1, 1], [5, 1, -3], [-5, 1, 3]]


def _slashed(rows: Any) -> str:
    return " / ".join(str(row) for row in rows)


@lab("003", "Sobel-x over a 5x5 grid with four nested Python loops", default_backend="reference")
def sobel_lab(backend: str) -> LabResult:
    """The pure-Python layer, printed as its program prints (its rows are Python lists, of floats
    for the output: ``s = 0.0``); then what the lesson shows instead, and why they differ.

    >>> print(sobel_lab("reference").text.splitlines()[7])
     [4.0, 2.0, 4.0]
    """
    x, k = nchw(GRID), nchw(SOBEL_X)
    y = conv2d(x, k, backend=backend)[0, 0]
    flipped = conv2d(x, k, flip=True, backend=backend)[0, 0]                  # true convolution
    sobel_y = conv2d(x, np.ascontiguousarray(k.transpose(0, 1, 3, 2)), backend=backend)[0, 0]
    out = Stdout()
    out(f"input  ({len(GRID)}x{len(GRID[0])}):")
    for row in GRID:
        out("", row)
    out(f"output ({y.shape[0]}x{y.shape[1]}):")
    for row in y.tolist():
        out("", [float(v) for v in row])
    out(f"# the lesson prints: {_slashed(np.array(LESSON_SOBEL_OUTPUT))} (rows shown as NumPy arrays)")
    out("# the program prints the rows above, and torch agrees (the check below)")
    out("# why: no reading of the code gives the lesson's rows:")
    out("#   cross-correlation (the code, as PyTorch): the rows above")
    out(f"#   true convolution (the kernel flipped):    {_slashed(_integral(flipped))}")
    out(f"#   Sobel-y (the kernel transposed):          {_slashed(_integral(sobel_y))}")

    def build(torch: Any) -> list[Check]:
        kt = torch.from_numpy(k)
        return [compare(_F_CONV2D, y, torch_conv2d_fn(torch, x, k)[0, 0]),
                compare(f"{_F_CONV2D}, kernel flipped", flipped,
                        torch.nn.functional.conv2d(torch.from_numpy(x), torch.flip(kt, (2, 3)))[0, 0]),
                compare(f"{_F_CONV2D}, Sobel-y", sobel_y,
                        torch.nn.functional.conv2d(torch.from_numpy(x), kt.transpose(2, 3))[0, 0])]
    return LabResult(out.text, verify(build))


@lab("003", "the NumPy layer: a 28x28 input gives 26x26, and the Sobel grid again")
def numpy_lab(backend: str) -> LabResult:
    """The NumPy layer's stdout: a valid 3x3 convolution shrinks 28x28 to 26x26."""
    big, x, k = randn((1, 1, 28, 28)), nchw(GRID), nchw(SOBEL_X)
    y_big = conv2d(big, k, backend=backend)
    y_small = conv2d(x, k, backend=backend)
    out = Stdout()
    out("output shape:", y_big.shape)
    out("top-left 3x3 of output:\n", y_small[0, 0])
    return LabResult(out.text, verify(lambda torch: [
        compare(f"{_F_CONV2D} on the random 28x28 input", y_big, torch_conv2d_fn(torch, big, k)),
        compare(f"{_F_CONV2D} on the 5x5 grid", y_small, torch_conv2d_fn(torch, x, k))]))


@lab("003", "the widget: a vertical-edge kernel on a 7x7 diamond, output[0][0] by hand")
def widget_lab(backend: str) -> LabResult:
    """The interactive widget, frozen: input, kernel, 5x5 output and the 9 products of ``output[0][0]``.

    >>> print(widget_lab("numpy").text.splitlines()[-1][-6:])
    = 2.00
    """
    x, k = nchw(WIDGET_INPUT), nchw(WIDGET_KERNEL)
    y = conv2d(x, k, backend=backend)
    size, ksize = len(WIDGET_INPUT), len(WIDGET_KERNEL)
    n = output_size(size, ksize)
    window = x[0, 0, :ksize, :ksize]
    products = window * k[0, 0]
    out = Stdout()
    out("widget_lab")
    out(f"input ({size}x{size}):")
    out(x[0, 0])
    out(f"kernel ({ksize}x{ksize}):")
    out(k[0, 0])
    out(explain_output_size(size, ksize))  # the engine's own step-by-step, not a copy of the formula
    out(f"output ({y.shape[2]}x{y.shape[3]}):")
    out(y[0, 0])
    terms = " + ".join(f"{a:.1f} · {b:.1f}" for a, b in zip(window.ravel(), k[0, 0].ravel()))
    out(f"output[0][0] = {terms} = {y[0, 0, 0, 0]:.2f}")

    def build(torch: Any) -> list[Check]:
        theirs = torch_conv2d_fn(torch, x, k)
        width = int(theirs.shape[-1])
        return [compare(_F_CONV2D, y, theirs),
                compare("sum of the 9 products shown == torch's output[0][0]",
                        np.array(products.sum(dtype=np.float64)), theirs[0, 0, 0, 0]),
                Check(f"output_size({size}, {ksize}) == torch's output width", float(abs(n - width)), n == width)]
    return LabResult(out.text, verify(build))


@lab("003", "nn.Conv2d(3, 16, 3, padding=1): shapes and the 448 parameters")
def pytorch_lab(backend: str) -> LabResult:
    """The PyTorch layer's stdout, then the parameter count the lesson works out in comments."""
    x = randn((8, 3, 32, 32))
    weight, bias = conv_params(3, 16, 3)
    y = conv2d(x, weight, bias, stride=1, padding=1, backend=backend)
    count = weight.size + bias.size
    out = Stdout()
    out("weight shape:", torch_size(weight.shape))
    out("bias shape:  ", torch_size(bias.shape))
    out("input shape: ", torch_size(x.shape))
    out("output shape:", torch_size(y.shape))
    out(f"parameters: {'*'.join(map(str, weight.shape))} + {bias.size} = {count}")
    out(f"each is reused at all {y.shape[2]}*{y.shape[3]} = {y.shape[2] * y.shape[3]} positions of every image")

    def build(torch: Any) -> list[Check]:
        layer, shapes = torch_conv2d(torch, weight, bias, stride=1, padding=1)
        theirs = sum(p.numel() for p in layer.parameters())
        return [shapes, compare("engine == torch.nn.Conv2d(3, 16, 3, stride=1, padding=1)", y,
                                layer(torch.from_numpy(x))),
                Check("parameter count == sum(p.numel() for p in conv.parameters())",
                      float(abs(count - theirs)) if theirs else math.inf, count == theirs)]
    return LabResult(out.text, verify(build))
