"""The lab retold from seed 000, "Why CNNs detect spatial patterns": one hand-set Conv2d.

The lesson's ``SimpleCNN`` is a single ``nn.Conv2d(1, 1, 3, padding=1)`` whose kernel is
set by hand to a horizontal-edge detector (-1 on the row above, +1 on the row below)
and pressed on a 5x5 image of a square ring. The lab computes the feature map with the
engine and checks it against that very ``nn.Module``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import conv2d
from ._kit import Check, LabResult, Stdout, compare, lab, nchw, torch_repr, verify

RING = [[0, 0, 0, 0, 0],
        [0, 1, 1, 1, 0],
        [0, 1, 0, 1, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 0, 0, 0]]

HORIZONTAL_EDGE = [[-1, -1, -1],
                   [0, 0, 0],
                   [1, 1, 1]]


def _simple_cnn(torch: Any) -> Any:
    """The lesson's model, built only once torch has been imported."""

    class SimpleCNN(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x: Any) -> Any:
            return self.conv(x)

    model = SimpleCNN()
    model.conv.weight[:] = torch.tensor([[HORIZONTAL_EDGE]], dtype=torch.float32)
    model.conv.bias[:] = 0
    return model


@lab("000", "a hand-set SimpleCNN finds the top and bottom edges of a ring")
def simple_cnn_lab(backend: str) -> LabResult:
    """``output[0, 0]`` of the seed's SimpleCNN: positive under a top edge, negative above a bottom one.
    Printed as the lesson's program prints it: a tensor that came out of the module (its grad_fn).

    >>> print(simple_cnn_lab("numpy").text.splitlines()[-1])
            [-1., -2., -3., -2., -1.]], grad_fn=<SelectBackward0>)
    """
    image, kernel = nchw(RING), nchw(HORIZONTAL_EDGE)
    bias = np.zeros(1, dtype=np.float32)
    y = conv2d(image, kernel, bias, padding=1, backend=backend)
    out = Stdout()
    out(torch_repr(y[0, 0], "SelectBackward0"))   # print(output[0,0]) in the lesson

    def build(torch: Any) -> list[Check]:
        model = _simple_cnn(torch)
        return [compare("engine == the lesson's SimpleCNN (torch nn.Module)", y, model(torch.from_numpy(image)))]
    return LabResult(out.text, verify(build))
