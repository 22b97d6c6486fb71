"""What each page asks for, computed by the library: the API only validates and routes here.

Every number a page shows comes from these functions (and through them from the engine);
the pages' JavaScript only draws.
"""

from __future__ import annotations

import base64
import io
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import numpy as np

from .. import filters, images
from ..engine.arithmetic import explain_output_size, window_positions
from ..engine.conv import conv2d
from ..engine.errors import ConvScopeError
from ..engine.padding import pad
from .schemas import MAX_GRID, MAX_KERNEL, MAX_UPLOAD_PIXELS


class RequestError(ConvScopeError):
    """A request the lab refuses (answered with 400 and this message)."""


def _grid(value: Any, name: str, limit: int) -> np.ndarray:
    """A rectangular (C, H, W) float array with 1-3 channels, every value finite, sides <= limit."""
    try:
        array = np.array(value, dtype=np.float64)
    except (ValueError, TypeError) as error:
        raise RequestError(f"the {name} is not a rectangular grid of numbers", expected="rows of equal length",
                           got="ragged rows", fix="give every row the same number of values") from error
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.size == 0:
        raise RequestError(f"the {name} must be a non-empty grid", expected="rows of numbers (or 1-3 channels of them)",
                           got=f"shape {array.shape}", fix="send at least one row with one value")
    if not 1 <= array.shape[0] <= 3 or max(array.shape[1:]) > limit:
        raise RequestError(f"the {name} is too large", expected=f"1-3 channels of at most {limit}x{limit}",
                           got=f"{array.shape[0]} channel(s) of {array.shape[1]}x{array.shape[2]}",
                           fix=f"use at most {limit} rows and columns")
    if not np.isfinite(array).all():
        raise RequestError(f"the {name} holds NaN or infinity", expected="finite numbers",
                           got=f"{int((~np.isfinite(array)).sum())} non-finite value(s)", fix="replace them")
    return array


def _stepper_arrays(request: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = _grid(request.input, "input", MAX_GRID)
    w = _grid(request.kernel, "kernel", MAX_KERNEL)
    if w.shape[0] != x.shape[0]:
        if w.shape[0] == 1:
            w = np.repeat(w, x.shape[0], axis=0)  # one 2-D kernel for every channel, as the page's editor sends
        else:
            raise RequestError("the kernel's channels do not match the input's", expected=f"{x.shape[0]}",
                               got=f"{w.shape[0]}", fix="give the kernel as many channels as the input")
    y = conv2d(x[None], w[None], stride=request.stride, padding=request.padding, dilation=request.dilation,
               padding_mode=request.padding_mode, flip=request.flip)[0, 0]       # (oh, ow)
    return x, w, y


def stepper(request: Any) -> dict[str, Any]:
    """The padded input, the output, the size formula with its numbers, the PyTorch code."""
    x, w, y = _stepper_arrays(request)
    padded = pad(x, ((request.padding,) * 2,) * 2, request.padding_mode)
    window = dict(kernel_size=w.shape[1], stride=request.stride, padding=request.padding, dilation=request.dilation)
    explain_h = explain_output_size(x.shape[1], **window)
    explain_w = explain_output_size(x.shape[2], **{**window, "kernel_size": w.shape[2]})
    code = (f"conv = nn.Conv2d({x.shape[0]}, 1, kernel_size=({w.shape[1]}, {w.shape[2]}), stride={request.stride}, "
            f"padding={request.padding}, dilation={request.dilation}, padding_mode='{request.padding_mode}', "
            f"bias=False)\nwith torch.no_grad():\n    conv.weight[0] = torch.tensor(kernel)"
            + (".flip(-1, -2)  # true convolution" if request.flip else "") + "\ny = conv(x[None])[0, 0]")
    return {"padded": padded.tolist(), "output": y.tolist(), "frames": int(y.size), "padding": request.padding,
            "explain": {"height": explain_h, "width": explain_w}, "code": code, "channels": x.shape[0]}


def stepper_frame(request: Any) -> dict[str, Any]:
    """One step: the window on the padded input, every product and their sum (= the output cell)."""
    x, w, y = _stepper_arrays(request)
    if request.index >= y.size:
        raise RequestError("no such step", expected=f"an index below {y.size}", got=str(request.index),
                           fix="start again from 0")
    padded = pad(x, ((request.padding,) * 2,) * 2, request.padding_mode)
    i, j = divmod(request.index, y.shape[1])
    kernel = w[:, ::-1, ::-1] if request.flip else w
    rows = window_positions(i, w.shape[1], request.stride, request.dilation)
    cols = window_positions(j, w.shape[2], request.stride, request.dilation)
    cells = []
    for c in range(x.shape[0]):
        for u, r in enumerate(rows):
            for v, col in enumerate(cols):
                cells.append({"channel": c, "row": r, "col": col, "value": float(padded[c, r, col]),
                              "weight": float(kernel[c, u, v]), "product": float(padded[c, r, col] * kernel[c, u, v])})
    return {"row": i, "col": j, "cells": cells, "sum": float(y[i, j])}


def _png_bytes(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _png(rgb: np.ndarray) -> str:
    """A small image inline, as a data: URL."""
    return "data:image/png;base64," + base64.b64encode(_png_bytes(rgb)).decode("ascii")


class Store:
    """At most ``capacity`` values by key, the least recently used dropped first."""

    def __init__(self, capacity: int) -> None:
        self.capacity, self._items = capacity, OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def get(self, key: str) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value


IMAGES = Store(256)        # PNG bytes by content hash, served by /api/image/<key>.png
FILTERED = Store(128)      # whole /api/filter answers by request: a gallery revisits the same kernels


def _image_url(rgb: np.ndarray) -> str:
    """Encode once, keep the PNG in memory, answer with its URL: a response stays small and the
    browser fetches (and caches) the picture separately."""
    import hashlib

    data = _png_bytes(rgb)
    key = hashlib.sha1(data).hexdigest()[:20]
    IMAGES.put(key, data)
    return f"/api/image/{key}.png"


def add_upload(data: bytes) -> dict[str, Any]:
    """Decode an uploaded image (every check of :func:`convscope.images.load`, a 4-megapixel cap)
    and keep it among the last 16 uploads."""
    import tempfile
    import uuid

    with tempfile.NamedTemporaryFile(suffix=".img") as handle:
        handle.write(data)
        handle.flush()
        image = images.load(handle.name, max_pixels=MAX_UPLOAD_PIXELS)
    ident = "upload-" + uuid.uuid4().hex[:12]
    UPLOADS.put(ident, image)
    return {"id": ident, "width": image.shape[1], "height": image.shape[0]}


UPLOADS = Store(16)


@lru_cache(maxsize=64)
def _sample(name: str, size: int) -> np.ndarray:
    from PIL import Image

    photo = images.sample(name)
    scale = size / max(photo.shape[:2])
    if scale < 1:
        shape = (max(1, round(photo.shape[1] * scale)), max(1, round(photo.shape[0] * scale)))
        pixels = Image.fromarray((photo * 255).round().astype(np.uint8)).resize(shape, Image.BILINEAR)
        photo = np.asarray(pixels, np.float32) / 255
    return photo


def filter_image(request: Any) -> dict[str, Any]:
    """Input and output side by side (signed output centred on grey), ranges, gradient magnitude;
    the pictures as URLs of PNGs kept in memory."""
    key = request.model_dump_json()
    cached = FILTERED.get(key)
    if cached is not None and all(IMAGES.get(url.rsplit("/", 1)[1][:-4]) is not None
                                  for url in (cached["input"], cached["output"], cached["gradient"])):
        return cached
    result = _filter_image(request)
    FILTERED.put(key, result)
    return result


def _filter_image(request: Any) -> dict[str, Any]:
    source = UPLOADS.get(request.image) if request.image.startswith("upload-") else None
    if source is None:
        if request.image.startswith("upload-"):
            raise RequestError("that upload is gone", expected="an id from /api/upload", got=request.image,
                               fix="upload the image again")
        source = _sample(request.image, request.size)
    if (request.kernel is None) == (request.weights is None):
        raise RequestError("say which kernel", expected="a kernel name or custom weights", got="both or neither",
                           fix='send {"kernel": "sobel_x"}')
    if request.weights is not None:
        weights = _grid(request.weights, "kernel", MAX_KERNEL)[0]
        if weights.shape[0] != weights.shape[1] or weights.shape[0] % 2 == 0:
            raise RequestError("a custom kernel must be square with an odd side", expected="3x3, 5x5 or 7x7",
                               got=f"{weights.shape[0]}x{weights.shape[1]}", fix="add or remove a row or column")
        kernel = filters.as_kernel(weights)
    else:
        kernel = filters.get(request.kernel)
    shown = filters.show(source, kernel, request.padding_mode)
    magnitude = filters.gradient(source, padding_mode=request.padding_mode).magnitude
    return {"kernel": {"name": kernel.name, "weights": kernel.weights.tolist(), "responds_to": kernel.responds_to},
            "input": _image_url(images.to_display(source, signed=False).rgb), "output": _image_url(shown.display.rgb),
            "range": [shown.low, shown.high], "signed": shown.display.signed,
            "gradient": _image_url(images.to_display(magnitude, signed=False).rgb),
            "width": int(source.shape[1]), "height": int(source.shape[0])}
