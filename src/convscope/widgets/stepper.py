"""The stepper as a notebook widget: the kernel sliding over the input, each product and the sum.

Python holds the state (``index``) and computes every number through the same service functions as
the web lab's /api/stepper and /api/stepper/frame (and through them the engine); the front end only
draws, with the lab page's own drawing code (web/static/stepper-draw.js), shipped in the package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from ..engine.errors import ConvScopeError
from ..web import services

HERE = Path(__file__).resolve().parent
STATIC = HERE.parent / "web" / "static"


def stepper_esm() -> str:
    """The widget's ES module: the lab's drawing script, then the widget's glue (one module, no CDN)."""
    return (STATIC / "stepper-draw.js").read_text(encoding="utf-8") + "\n" + \
        (HERE / "stepper_widget.js").read_text(encoding="utf-8")


class Stepper(anywidget.AnyWidget):
    """Step through a 2-D convolution (cross-correlation, as ``torch.nn.Conv2d``) one output cell at a time.

    Parameters
    ----------
    image
        (H, W) or (C, H, W) with 1-3 channels, at most 32 x 32: a list, NumPy array or torch tensor.
    kernel
        (kH, kW), shared by every channel, or (C, kH, kW); at most 7 x 7.
    stride, padding, dilation, padding_mode, flip, bias
        As the web lab's stepper takes them: stride 1-4, padding 0-3 or "same_upper"/"same_lower",
        dilation 1-3, padding_mode "zeros"/"reflect"/"replicate"/"circular", ``flip=True`` for a true
        convolution (the kernel turned 180 degrees), ``bias`` added to every output cell.

    Set ``index`` (or call :meth:`step`, :meth:`back`, :meth:`go`, :meth:`play`) and ``frame`` follows:
    the window's cells with their value, weight and product, each channel's subtotal, the bias and the
    total. An index outside ``0 .. frames - 1`` is refused (a :class:`ConvScopeError`), never clamped:
    ``step`` and ``back`` stop at the ends instead.

    >>> s = Stepper([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], [[1, 0], [0, -1]])
    >>> s.frames, s.frame["total"], [c["product"] for c in s.frame["cells"]]
    (9, -2.0, [1.0, 0.0, 0.0, -3.0])
    """

    _esm = stepper_esm()
    _css = (HERE / "stepper.css").read_text(encoding="utf-8")

    setup = traitlets.Dict().tag(sync=True)      # services.stepper's answer, plus "flip"
    frames = traitlets.Int(1).tag(sync=True)     # output cells, in reading order
    index = traitlets.Int(0).tag(sync=True)      # the current step
    frame = traitlets.Dict().tag(sync=True)      # services.stepper_frame's answer for index, plus "index"
    playing = traitlets.Bool(False).tag(sync=True)
    interval = traitlets.Int(950).tag(sync=True)  # milliseconds a step while playing

    def __init__(self, image: Any, kernel: Any, stride: int = 1, padding: int | str = 0, dilation: int = 1,
                 padding_mode: str = "zeros", flip: bool = False, bias: float = 0.0, **kwargs: Any) -> None:
        # every check (sizes, limits, the cost) before anything is drawn or sent
        request = services.stepper_request(image, kernel, stride=stride, padding=padding, dilation=dilation,
                                           padding_mode=padding_mode, flip=flip, bias=bias)
        setup = services.stepper(request)
        self._request = request
        super().__init__(setup={**setup, "flip": request.flip}, frames=setup["frames"], **kwargs)
        self.frame = self._frame(self.index)

    def _frame(self, index: int) -> dict[str, Any]:
        return {**services.stepper_frame(self._request.model_copy(update={"index": index})), "index": index}

    @traitlets.validate("index")
    def _check_index(self, proposal: Any) -> int:
        index = proposal["value"]
        if not 0 <= index < self.frames:
            raise ConvScopeError("no such step", expected=f"an index from 0 to {self.frames - 1}", got=str(index),
                                 fix=f"go({min(max(index, 0), self.frames - 1)}), or step() / back(), "
                                     "which stop at the ends")
        return index

    @traitlets.observe("index")
    def _index_changed(self, change: Any) -> None:
        self.frame = self._frame(change["new"])

    def step(self) -> int:
        """One step forward (staying on the last); the index now."""
        self.index = min(self.index + 1, self.frames - 1)
        return self.index

    def back(self) -> int:
        """One step back (staying on the first); the index now."""
        self.index = max(self.index - 1, 0)
        return self.index

    def go(self, index: int) -> int:
        """Jump to output cell ``index`` (reading order); outside the grid is refused."""
        self.index = int(index)
        return self.index

    def play(self) -> None:
        """Start the front end's timer (from the first step when on the last); it stops at the end."""
        if self.index == self.frames - 1:
            self.index = 0
        self.playing = True

    def pause(self) -> None:
        self.playing = False

    @property
    def output(self) -> np.ndarray:
        """The whole output (oh, ow), as float32 shows it."""
        return np.array(self.setup["output"], dtype=np.float32)
