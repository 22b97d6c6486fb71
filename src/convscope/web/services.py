"""What each page asks for, computed by the library: the API only validates and routes here.

Every number a page shows comes from these functions (and through them from the engine);
the pages' JavaScript only draws.
"""

from __future__ import annotations

import base64
import io
import threading
from collections import OrderedDict
from math import prod
from typing import Any

import numpy as np

from .. import filters, images
from ..engine.arithmetic import explain_output_size, output_size, window_positions
from ..engine.conv import conv2d
from ..engine.errors import ConvScopeError
from ..engine.padding import pad
from .schemas import MAX_GRID, MAX_KERNEL, MAX_UPLOAD_PIXELS, MAX_VALUE


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
    if np.abs(array).max() > MAX_VALUE:
        # 1e308 is finite, but its products are not: the sums the stepper shows would be infinite
        raise RequestError(f"the {name} holds a value too large to show", expected=f"values within ±{MAX_VALUE:,.0f}",
                           got=f"{np.abs(array).max():.3g}", fix="use smaller numbers")
    return array


# What one request may cost, checked from the engine's arithmetic before anything runs. The
# schema's caps keep every endpoint far below (the largest filter: 512 x 512 x 3 with 7x7, about
# 40 M mult-adds); the check keeps it so when a cap is raised.
MAX_MULT_ADDS = 200_000_000
MAX_ELEMENTS = 16_000_000


def check_cost(what: str, shape: tuple[int, ...], kernel: tuple[int, ...], stride: int = 1, padding: int = 0,
               dilation: int = 1) -> None:
    """Refuse a convolution of ``shape`` (C, H, W) with ``kernel`` (C, kh, kw) over the lab's budget."""
    size = output_size(shape[1:], kernel[1:], stride, padding, dilation)   # (out_h, out_w): the engine's rule
    elements = prod(shape[:1] + tuple(n + 2 * padding for n in shape[1:])) + prod(size)
    mult_adds = prod(size) * prod(kernel)
    if elements > MAX_ELEMENTS or mult_adds > MAX_MULT_ADDS:
        raise RequestError(f"the {what} is too large for the lab", got=f"{elements:,} values, {mult_adds:,} mult-adds",
                           expected=f"at most {MAX_ELEMENTS:,} values and {MAX_MULT_ADDS:,} mult-adds",
                           fix="use a smaller image or kernel")


def _stepper_arrays(request: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = _grid(request.input, "input", MAX_GRID)
    w = _grid(request.kernel, "kernel", MAX_KERNEL)
    check_cost("stepper input", x.shape, w.shape, request.stride, request.padding, request.dilation)
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


def _nbytes(value: Any) -> int:
    """What a cached value costs: its arrays' and strings' bytes, through dicts and lists."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (bytes, str)):
        return len(value)
    if isinstance(value, dict):
        return sum(_nbytes(k) + _nbytes(v) for k, v in value.items()) + 64
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value) + 64
    return 32


class Store:
    """Values by key within ``max_bytes`` in all, the least recently used dropped first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes, self.nbytes = max_bytes, 0
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: str, value: Any) -> None:
        size = _nbytes(value) + _nbytes(key)
        with self._lock:
            if key in self._items:
                self.nbytes -= self._items.pop(key)[1]
            if size > self.max_bytes:
                return  # larger than the whole cache: computed, answered, not kept
            self._items[key] = (value, size)
            self.nbytes += size
            while self.nbytes > self.max_bytes:
                self.nbytes -= self._items.popitem(last=False)[1][1]

    def get(self, key: str) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]


MiB = 2**20
# The lab's caches, by bytes (CACHE_BYTES in all): a server's memory after any number of requests
# is its start-up size plus these.
IMAGES = Store(64 * MiB)      # PNG bytes by content hash, served by /api/image/<key>.png
FILTERED = Store(4 * MiB)     # whole /api/filter answers (URLs and numbers) by request
UPLOADS = Store(48 * MiB)     # uploads, already shrunk to the largest size a filter may ask for
SAMPLES = Store(32 * MiB)     # sample photos at the sizes asked for
CACHE_BYTES = sum(store.max_bytes for store in (IMAGES, FILTERED, UPLOADS, SAMPLES))


def _image_url(rgb: np.ndarray) -> str:
    """Encode once, keep the PNG in memory, answer with its URL: a response stays small and the
    browser fetches (and caches) the picture separately."""
    import hashlib

    data = _png_bytes(rgb)
    key = hashlib.sha1(data).hexdigest()[:20]
    IMAGES.put(key, data)
    return f"/api/image/{key}.png"


def _shrink(photo: np.ndarray, size: int) -> np.ndarray:
    """The photo with its longer side at most ``size`` pixels (bilinear, as a browser would show it)."""
    from PIL import Image

    scale = size / max(photo.shape[:2])
    if scale >= 1:
        return photo
    shape = (max(1, round(photo.shape[1] * scale)), max(1, round(photo.shape[0] * scale)))
    channels = [Image.fromarray(np.ascontiguousarray(photo[..., c] if photo.ndim == 3 else photo), mode="F")
                .resize(shape, Image.BILINEAR) for c in range(photo.shape[2] if photo.ndim == 3 else 1)]
    planes = [np.asarray(c, np.float32) for c in channels]
    return planes[0] if photo.ndim == 2 else np.stack(planes, axis=-1)


def add_upload(data: bytes) -> dict[str, Any]:
    """Decode an uploaded image (every check of :func:`convscope.images.decode`, a 4-megapixel cap),
    shrink it to the largest size a filter may ask for, and keep it in the upload cache."""
    import uuid

    from .schemas import MAX_FILTER_SIZE

    image = images.decode(data, "the upload", max_pixels=MAX_UPLOAD_PIXELS)
    ident = "upload-" + uuid.uuid4().hex[:12]
    UPLOADS.put(ident, _shrink(image, MAX_FILTER_SIZE))
    return {"id": ident, "width": image.shape[1], "height": image.shape[0]}


def _sample(name: str, size: int) -> np.ndarray:
    key = f"{name}@{size}"
    photo = SAMPLES.get(key)
    if photo is None:
        photo = _shrink(images.sample(name), size)
        SAMPLES.put(key, photo)
    return photo


def _still_served(answer: dict[str, Any], *fields: str) -> bool:
    """Every picture a cached answer links to is still in the image cache."""
    return all(IMAGES.get(answer[f].rsplit("/", 1)[1][:-4]) is not None for f in fields)


def filter_image(request: Any) -> dict[str, Any]:
    """Input and output side by side (signed output centred on grey), ranges, gradient magnitude;
    the pictures as URLs of PNGs kept in memory."""
    key = request.model_dump_json()
    cached = FILTERED.get(key)
    if cached is not None and _still_served(cached, "input", "output", "gradient"):
        return cached
    result = _filter_image(request)
    FILTERED.put(key, result)
    return result


def _photo_views(request: Any, source: np.ndarray) -> dict[str, Any]:
    """The photo and its gradient magnitude as PNG URLs: the same for every kernel on this photo, size
    and padding mode, so computed (two convolutions, two PNGs: half a filter's work) once."""
    key = f"views/{request.image}@{request.size}/{request.padding_mode}"
    views = FILTERED.get(key)
    if views is None or not _still_served(views, "input", "gradient"):
        magnitude = filters.gradient(source, padding_mode=request.padding_mode).magnitude
        views = {"input": _image_url(images.to_display(source, signed=False).rgb),
                 "gradient": _image_url(images.to_display(magnitude, signed=False).rgb)}
        FILTERED.put(key, views)
    return views


def _filter_image(request: Any) -> dict[str, Any]:
    if request.image.startswith("upload-"):
        source = UPLOADS.get(request.image)
        if source is None:
            raise RequestError("that upload is gone", expected="an id from /api/upload", got=request.image,
                               fix="upload the image again")
        source = _shrink(source, request.size)  # (H, W) or (H, W, 3), longer side <= size
    else:
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
    channels = source.shape[2] if source.ndim == 3 else 1
    check_cost("photo", (channels,) + source.shape[:2], (channels,) + kernel.weights.shape,
               padding=kernel.weights.shape[0] // 2)
    shown = filters.show(source, kernel, request.padding_mode)
    return {"kernel": {"name": kernel.name, "weights": kernel.weights.tolist(), "responds_to": kernel.responds_to},
            **_photo_views(request, source), "output": _image_url(shown.display.rgb),
            "range": [shown.low, shown.high], "signed": shown.display.signed,
            "width": int(source.shape[1]), "height": int(source.shape[0])}
