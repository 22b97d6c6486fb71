"""The gallery as a notebook widget: one photo, a menu of hand-designed kernels, input and output side
by side with the output's range. Python filters (:func:`convscope.filters.show`, as the web lab's
gallery and the CLI do) and sends PNGs as data: URLs; the front end only shows them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from .. import filters, images
from ..web import services

HERE = Path(__file__).resolve().parent
MAX_PIXELS = 4_000_000   # as the lab's uploads: a photo larger than this is refused before any work


def _photo(image: Any, size: int | None) -> np.ndarray:
    """The image as float32 (H, W) or (H, W, 3), checked, its longer side at most ``size``."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 4:
        array = array[..., :3]                      # alpha dropped: the filters see colour only
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (1, 3)):
        raise filters.FilterError("not an image", expected="(H, W) grey or (H, W, 3) colour",
                                  got=f"shape {array.shape}", fix="for a (C, H, W) array pass np.moveaxis(x, 0, -1)")
    if array.shape[0] * array.shape[1] > MAX_PIXELS or min(array.shape[:2]) < images.MIN_SIDE:
        raise filters.FilterError("the image is too large or too small for the gallery",
                                  expected=f"{images.MIN_SIDE} x {images.MIN_SIDE} to {MAX_PIXELS:,} pixels",
                                  got=f"{array.shape[0]} x {array.shape[1]}", fix="crop or shrink it first")
    if np.issubdtype(array.dtype, np.integer):
        array = array / np.iinfo(array.dtype).max   # as images.load reads 8- and 16-bit pixels: 0 .. 1
    array = np.asarray(array, dtype=np.float32)
    if not np.isfinite(array).all():
        raise filters.FilterError("the image holds NaN or infinite pixels", expected="finite numbers",
                                  got=f"{int((~np.isfinite(array)).sum())} such pixel(s)", fix="np.nan_to_num(image)")
    array = array[..., 0] if array.ndim == 3 and array.shape[-1] == 1 else array
    return services._shrink(array, size) if size else array


class Gallery(anywidget.AnyWidget):
    """A photo filtered by a named kernel (``filters.KERNELS``, or ``gaussian<size>_s<sigma>``).

    Change ``kernel``, ``padding_mode`` or ``flip`` (from the menus or from Python) and the output, its
    range (``low``, ``high``) and the kernel's weights are computed again. ``size`` shrinks the photo's
    longer side as the web lab shows photos (256 px); ``size=None`` keeps every pixel.

    >>> g = Gallery(np.tile([0.0, 0.0, 1.0, 1.0], (4, 1)), kernel="sobel_x", padding_mode="replicate")
    >>> g.low, g.high
    (0.0, 4.0)
    """

    _esm = (HERE / "gallery_widget.js").read_text(encoding="utf-8")
    _css = (HERE / "gallery.css").read_text(encoding="utf-8")

    names = traitlets.List(traitlets.Unicode()).tag(sync=True)   # the kernel menu
    modes = traitlets.List(traitlets.Unicode()).tag(sync=True)   # the padding-mode menu
    kernel = traitlets.Unicode("sobel_x").tag(sync=True)
    padding_mode = traitlets.Unicode("reflect").tag(sync=True)
    flip = traitlets.Bool(False).tag(sync=True)
    input_png = traitlets.Unicode().tag(sync=True)
    result = traitlets.Dict().tag(sync=True)   # the output PNG, range, colour scale and the kernel's weights

    def __init__(self, image: Any, kernel: str = "sobel_x", padding_mode: str = "reflect", flip: bool = False,
                 size: int | None = 256, **kwargs: Any) -> None:
        self._ready = False   # the menus' first values are set below: filter once, after them
        self.source = _photo(image, size)
        channels = self.source.shape[2] if self.source.ndim == 3 else 1
        services.check_cost("photo", (channels,) + self.source.shape[:2], (channels, 7, 7), padding=3)  # largest kernel
        shown = images.to_display(self.source, signed=False)
        super().__init__(names=list(filters.KERNELS), modes=list(filters.PADDING_MODES), kernel=kernel,
                         padding_mode=padding_mode, flip=bool(flip), input_png=services._png(shown.rgb), **kwargs)
        self._ready = True
        self._recompute()

    @traitlets.validate("kernel")
    def _check_kernel(self, proposal: Any) -> str:
        kernel = filters.get(proposal["value"])   # an unknown name: FilterError, naming every kernel there is
        if max(kernel.weights.shape) > services.MAX_KERNEL:
            raise filters.FilterError("that kernel is too large for the gallery", got=f"{kernel.weights.shape}",
                                      expected=f"at most {services.MAX_KERNEL} x {services.MAX_KERNEL}",
                                      fix="gaussian7_s2, for instance")
        return proposal["value"]

    @traitlets.validate("padding_mode")
    def _check_mode(self, proposal: Any) -> str:
        if proposal["value"] not in filters.PADDING_MODES:
            raise filters.FilterError("unknown padding mode", expected=" / ".join(map(repr, filters.PADDING_MODES)),
                                      got=repr(proposal["value"]), fix="'reflect' mirrors the image at its border")
        return proposal["value"]

    @traitlets.observe("kernel", "padding_mode", "flip")
    def _changed(self, change: Any) -> None:
        if self._ready:
            self._recompute()

    def _recompute(self) -> None:
        shown = filters.show(self.source, self.kernel, self.padding_mode, self.flip)
        k = shown.kernel
        # the colours the output uses at -1, 0, +1 of its scale: the colour bar draws exactly these
        ends = images.to_display(np.array([[-1.0, 0.0, 1.0]]), signed=True).rgb[0].tolist()
        self.result = {"output": services._png(shown.display.rgb), "low": shown.low, "high": shown.high,
                       "signed": shown.display.signed, "scale": shown.display.scale,
                       "colours": {"below": ends[0], "zero": ends[1], "above": ends[2]},
                       "colour": shown.response.ndim == 3, "name": k.name, "responds_to": k.responds_to,
                       "weights": k.weights.tolist(), "sum": float(k.weights.astype(np.float64).sum()),
                       "width": int(self.source.shape[1]), "height": int(self.source.shape[0])}

    @property
    def low(self) -> float:
        return self.result["low"]

    @property
    def high(self) -> float:
        return self.result["high"]

    @property
    def response(self) -> np.ndarray:
        """The filter's output as numbers (what the output picture shows)."""
        return filters.show(self.source, self.kernel, self.padding_mode, self.flip).response
