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
from typing import Any, cast

import numpy as np

from .. import filters, images
from ..engine.arithmetic import (
    Padding,
    explain_output_size,
    output_size,
    resolve_padding,
    same_padding,
    window_positions,
)
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


def check_cost(what: str, shape: tuple[int, ...], kernel: tuple[int, ...], stride: int = 1, padding: Padding = 0,
               dilation: int = 1) -> None:
    """Refuse a convolution of ``shape`` (C, H, W) with ``kernel`` (C, kh, kw) over the lab's budget."""
    size = output_size(shape[1:], kernel[1:], stride, padding, dilation)   # (out_h, out_w): the engine's rule
    pads = resolve_padding(padding, kernel[1:], (stride,) * 2, (dilation,) * 2, size=shape[1:])
    elements = prod(shape[:1] + tuple(n + a + b for n, (a, b) in zip(shape[1:], pads))) + prod(size)
    mult_adds = prod(size) * prod(kernel)
    if elements > MAX_ELEMENTS or mult_adds > MAX_MULT_ADDS:
        raise RequestError(f"the {what} is too large for the lab", got=f"{elements:,} values, {mult_adds:,} mult-adds",
                           expected=f"at most {MAX_ELEMENTS:,} values and {MAX_MULT_ADDS:,} mult-adds",
                           fix="use a smaller image or kernel")


def _f32(values: Any) -> Any:
    """Numbers as float32 shows them: each rounded to float32 and written with the fewest digits that
    read back as that float32 (5.2, not 5.199999809265137), so a page prints exactly what it gets."""
    array = np.asarray(values, dtype=np.float32)
    if array.ndim == 0:
        return float(str(array + np.float32(0)))  # + 0 turns -0.0 into 0.0
    return [_f32(v) for v in array]


def _holds_a_number(value: Any) -> bool:
    return not isinstance(value, list) or any(_holds_a_number(v) for v in value)


def _stepper_arrays(request: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The input and the kernel (C, kh, kw), each channel's own convolution (C, oh, ow) and the output:
    the channels' subtotals summed, plus the bias. Computed in float64 and rounded to float32 only when
    shown, so 1.1 + 2.2 shows as 3.3 (float32 sums would show 3.3000002)."""
    for name in ("input", "kernel"):
        if not _holds_a_number(getattr(request, name)):
            # said here, in the page's words: an empty box is the likeliest cause
            raise RequestError(f"the {name} is empty",
                               expected="rows of numbers, e.g. 1 2 on one line, 3 4 on the next", got="no numbers",
                               fix=f"type at least one number into the {name} box")
    x = _grid(request.input, "input", MAX_GRID)
    w = _grid(request.kernel, "kernel", MAX_KERNEL)
    check_cost("stepper input", x.shape, w.shape, request.stride, request.padding, request.dilation)
    if w.shape[0] != x.shape[0]:
        if w.shape[0] == 1:
            w = np.repeat(w, x.shape[0], axis=0)  # one 2-D kernel for every channel, as the page's editor sends
        else:
            raise RequestError("the kernel's channels do not match the input's", expected=f"{x.shape[0]}",
                               got=f"{w.shape[0]}", fix="give the kernel as many channels as the input")
    # groups=C: every channel convolved with its own slice of the kernel, kept apart (the subtotals)
    subtotals = conv2d(x[None], w[:, None], stride=request.stride, padding=request.padding, dilation=request.dilation,
                       padding_mode=request.padding_mode, flip=request.flip, groups=x.shape[0])[0]   # (C, oh, ow)
    y = subtotals.sum(axis=0) + request.bias
    return x, w, subtotals, y


def _sides(request: Any, x: np.ndarray, w: np.ndarray) -> tuple[tuple[int, int], ...]:
    """((top, bottom), (left, right)): what the stepper's padding adds on each side of (C, H, W)."""
    return resolve_padding(request.padding, w.shape[1:], (request.stride,) * 2, (request.dilation,) * 2,
                           size=x.shape[1:])


def _plain(value: Any) -> Any:
    """A NumPy or torch scalar as the Python number the schema's strict fields take; the rest kept."""
    import numbers

    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def _plain_grid(value: Any, name: str, limit: int) -> Any:
    """An array's values as nested lists, refused by its shape first: a huge array is never copied."""
    shape = tuple(getattr(value, "shape", ()))
    if len(shape) in (2, 3) and (max(shape[-2:]) > limit or (len(shape) == 3 and shape[0] > 3)):
        raise RequestError(f"the {name} is too large", expected=f"1-3 channels of at most {limit}x{limit}",
                           got=f"shape {shape}", fix=f"use at most {limit} rows and columns")
    return np.asarray(value).tolist() if shape else value


def stepper_request(input: Any, kernel: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                    padding_mode: Any = "zeros", flip: Any = False, bias: Any = 0.0, index: Any = 0) -> Any:
    """The stepper's request from plain values (lists, NumPy arrays, torch tensors, NumPy scalars), as
    the notebook widget makes it: checked by the API's own schema, so both take the same settings, and
    a refusal said as a :class:`RequestError` (what was expected, what came) instead of pydantic's."""
    from pydantic import ValidationError

    from .schemas import FrameRequest

    values = dict(input=_plain_grid(input, "input", MAX_GRID), kernel=_plain_grid(kernel, "kernel", MAX_KERNEL),
                  stride=_plain(stride), padding=_plain(padding), dilation=_plain(dilation),
                  padding_mode=padding_mode, flip=_plain(flip), bias=_plain(bias), index=_plain(index))
    try:
        return FrameRequest(**values)
    except ValidationError as error:
        first = error.errors()[0]
        name = cast(str, first["loc"][0])  # a field of FrameRequest: its loc starts with the name
        wanted = [e["msg"].removeprefix("Input should be ") for e in error.errors() if e["loc"][0] == name]
        raise RequestError(f"the stepper's {name} is not one it takes", expected=" or ".join(dict.fromkeys(wanted)),
                           got=repr(values[name])[:80], fix=f"e.g. {name}={_EXAMPLES.get(name, '1')}") from None


_EXAMPLES = {"input": "[[1, 2], [3, 4]]", "kernel": "[[1, 0], [0, -1]]", "padding": "1 or padding='same_upper'",
             "padding_mode": "'zeros'", "flip": "True", "bias": "0.5", "index": "0"}


def _stepper_code(request: Any, x: np.ndarray, w: np.ndarray, sides: tuple[tuple[int, int], ...], bias: float) -> str:
    """The PyTorch lines that compute the same output; torch has no "same" at a stride, so F.pad does it."""
    (top, bottom), (left, right) = sides
    padding = request.padding
    prelude = ""
    if isinstance(padding, str):
        mode = "constant" if request.padding_mode == "zeros" else request.padding_mode
        prelude = (f"x = torch.nn.functional.pad(x, ({left}, {right}, {top}, {bottom}), mode='{mode}')  "
                   f"# TensorFlow's \"same\" ({padding})\n")
        padding = 0
    return (prelude + f"conv = nn.Conv2d({x.shape[0]}, 1, kernel_size=({w.shape[1]}, {w.shape[2]}), "
            f"stride={request.stride}, padding={padding}, dilation={request.dilation}, "
            f"padding_mode='{request.padding_mode}', bias={bool(bias)})\nwith torch.no_grad():\n"
            "    conv.weight[0] = torch.tensor(kernel)"
            + (".flip(-1, -2)  # true convolution" if request.flip else "")
            + (f"\n    conv.bias[0] = {bias}" if bias else "") + "\ny = conv(x[None])[0, 0]")


def stepper(request: Any) -> dict[str, Any]:
    """The padded input per channel, the kernel as typed and as it slides, the output, the size
    formula with its numbers, the PyTorch code."""
    x, w, _, y = _stepper_arrays(request)
    sides = _sides(request, x, w)
    padded = pad(x, sides, request.padding_mode)
    window = dict(stride=request.stride, padding=request.padding, dilation=request.dilation)
    explain_h = explain_output_size(x.shape[1], w.shape[1], **window)
    explain_w = explain_output_size(x.shape[2], w.shape[2], **window)
    bias = _f32(request.bias)
    return {"padded": _f32(padded), "kernel": _f32(w), "weights": _f32(w[:, ::-1, ::-1] if request.flip else w),
            "output": _f32(y), "frames": int(y.size), "padding": [list(pair) for pair in sides], "bias": bias,
            "input_shape": list(x.shape), "output_shape": list(y.shape),
            "explain": {"height": explain_h, "width": explain_w}, "code": _stepper_code(request, x, w, sides, bias),
            "channels": x.shape[0]}


def stepper_frame(request: Any) -> dict[str, Any]:
    """One step: the window on the padded input, every product, each channel's subtotal (its own
    convolution at this cell) and the total = the subtotals + the bias = the output cell."""
    x, w, subtotals, y = _stepper_arrays(request)
    if request.index >= y.size:
        raise RequestError("no such step", expected=f"an index below {y.size}", got=str(request.index),
                           fix="start again from 0")
    padded = pad(x, _sides(request, x, w), request.padding_mode)
    i, j = divmod(request.index, y.shape[1])
    kernel = w[:, ::-1, ::-1] if request.flip else w
    rows = window_positions(i, w.shape[1], request.stride, request.dilation)
    cols = window_positions(j, w.shape[2], request.stride, request.dilation)
    cells = [{"channel": c, "row": r, "col": col, "value": _f32(padded[c, r, col]), "weight": _f32(kernel[c, u, v]),
              "product": _f32(padded[c, r, col] * kernel[c, u, v])}
             for c in range(x.shape[0]) for u, r in enumerate(rows) for v, col in enumerate(cols)]
    return {"row": i, "col": j, "cells": cells, "subtotals": _f32(subtotals[:, i, j]), "bias": _f32(request.bias),
            "total": _f32(y[i, j])}


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
RESPONSES = Store(24 * MiB)   # the magnifier's filter responses and padded photos, as arrays
CACHE_BYTES = sum(store.max_bytes for store in (IMAGES, FILTERED, UPLOADS, SAMPLES, RESPONSES))


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
    scale = size / max(photo.shape[:2])
    if scale >= 1:
        return photo
    return resize(photo, max(1, round(photo.shape[0] * scale)), max(1, round(photo.shape[1] * scale)))


def resize(photo: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W) or (H, W, C) float32 resized to (height, width), each channel bilinear."""
    from PIL import Image

    channels = [Image.fromarray(np.ascontiguousarray(photo[..., c] if photo.ndim == 3 else photo, np.float32),
                                mode="F").resize((width, height), Image.Resampling.BILINEAR)
                for c in range(photo.shape[2] if photo.ndim == 3 else 1)]
    planes = [np.asarray(c, np.float32) for c in channels]
    return planes[0] if photo.ndim == 2 else np.stack(planes, axis=-1)


UPLOAD_LIMITS = "at most 4 megapixels / 8 MB"   # MAX_UPLOAD_PIXELS and MAX_UPLOAD_BYTES, as a person reads them


def _upload_refusal(error: images.ImageError) -> RequestError:
    """The library's refusal reworded for someone at a browser: its messages are the CLI's and the
    Python API's (a file path, ``max_pixels=...``), neither of which a web user can act on."""
    if error.what.endswith("too large"):
        return RequestError("the upload is too large", got=f"{error.got} pixels",
                            fix=f"choose a smaller image ({UPLOAD_LIMITS})")
    if error.what.endswith("too small to filter"):
        return RequestError("the upload is too small to filter", expected=error.expected, got=error.got,
                            fix="choose a larger image")
    if error.what.endswith("holds NaN or infinite pixels"):
        return RequestError("the upload holds pixels that are not numbers (NaN or infinity)", got=error.got,
                            fix="choose another image")
    return RequestError("the upload is not an image the lab can read", expected="a PNG, JPEG, BMP or TIFF file",
                        fix="choose a photo saved as PNG or JPEG")


def add_upload(data: bytes, filename: str | None = None) -> dict[str, Any]:
    """Decode an uploaded image (every check of :func:`convscope.images.decode`, a 4-megapixel cap),
    shrink it to the largest size a filter may ask for, and keep it in the upload cache. ``filename`` gives
    what the photo menu lists: the file's own name, never a path."""
    import uuid
    from pathlib import PureWindowsPath

    from .schemas import MAX_FILTER_SIZE

    try:
        image = images.decode(data, "the upload", max_pixels=MAX_UPLOAD_PIXELS)
    except images.ImageError as error:
        raise _upload_refusal(error) from error
    ident = "upload-" + uuid.uuid4().hex[:12]
    UPLOADS.put(ident, _shrink(image, MAX_FILTER_SIZE))
    name = PureWindowsPath(filename or "").name.strip()[:60] or "your image"  # old browsers send a full Windows path
    return {"id": ident, "name": name, "width": image.shape[1], "height": image.shape[0]}


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


def _filter_source(request: Any) -> np.ndarray:
    """The photo a filter request names, at its size: (H, W) or (H, W, 3), longer side <= size."""
    if not request.image.startswith("upload-"):
        return _sample(request.image, request.size)
    source = UPLOADS.get(request.image)
    if source is None:
        raise RequestError("that upload is gone", expected="an id from /api/upload", got=request.image,
                           fix="upload the image again")
    return _shrink(source, request.size)


def _filter_kernel(request: Any) -> filters.Kernel:
    """A named kernel, or custom weights checked as the page's editor makes them (3x3, 5x5, 7x7)."""
    if (request.kernel is None) == (request.weights is None):
        raise RequestError("say which kernel", expected="a kernel name or custom weights", got="both or neither",
                           fix='send {"kernel": "sobel_x"}')
    if request.weights is None:
        return filters.get(request.kernel)
    if not any(request.weights):  # [] or [[]]: an empty editor, not a kernel of zeros
        raise RequestError("the custom kernel is empty", expected="3x3, 5x5 or 7x7 weights", got="no weights",
                           fix="pick a preset, or type a number into every cell")
    weights = _grid(request.weights, "kernel", MAX_KERNEL)[0]
    if weights.shape[0] != weights.shape[1] or weights.shape[0] % 2 == 0 or weights.shape[0] < 3:
        raise RequestError("a custom kernel must be square with an odd side", expected="3x3, 5x5 or 7x7",
                           got=f"{weights.shape[0]}x{weights.shape[1]}", fix="add or remove a row or column")
    return filters.as_kernel(weights)


def _filtered(request: Any) -> tuple[np.ndarray, filters.Kernel]:
    """The photo and the kernel a filter request names, within the lab's budget."""
    source, kernel = _filter_source(request), _filter_kernel(request)
    channels = source.shape[2] if source.ndim == 3 else 1
    check_cost("photo", (channels,) + source.shape[:2], (channels,) + kernel.weights.shape,
               padding=kernel.weights.shape[0] // 2)
    return source, kernel


def _filter_image(request: Any) -> dict[str, Any]:
    source, kernel = _filtered(request)
    shown = filters.show(source, kernel, request.padding_mode)
    # the colours the output uses at -1, 0, +1 of its scale: the page's colour bar draws exactly these
    ends = images.to_display(np.array([[-1.0, 0.0, 1.0]]), signed=True).rgb[0].tolist()
    return {"kernel": {"name": kernel.name, "weights": kernel.weights.tolist(), "responds_to": kernel.responds_to,
                       "signed": kernel.signed, "sum": float(kernel.weights.astype(np.float64).sum())},
            **_photo_views(request, source), "output": _image_url(shown.display.rgb),
            "range": [shown.low, shown.high], "signed": shown.display.signed, "scale": shown.display.scale,
            "colours": {"below": ends[0], "zero": ends[1], "above": ends[2]},
            "colour": shown.response.ndim == 3,
            "width": int(source.shape[1]), "height": int(source.shape[0])}


def filter_pixel(request: Any) -> dict[str, Any]:
    """The magnifier: the padded input patch under the kernel at (row, col), the weights, every
    product and their sum, beside the output pixel the engine computed for the whole photo.

    A detector runs on the grey photo (one channel), an image-like kernel on each colour channel
    (as filters.show): one entry per channel either way."""
    key = request.model_dump_json(exclude={"row", "col"})
    cached = RESPONSES.get(key)
    if cached is None:
        source, kernel = _filtered(request)
        source = filters.luma(source) if kernel.signed else source   # what filters.show runs a detector on
        response = filters.apply(source, kernel, request.padding_mode)
        pads = tuple(same_padding(n) for n in kernel.weights.shape)   # where filters.apply centres the kernel
        cached = (filters.padded(source, kernel, request.padding_mode), response, kernel, pads)
        RESPONSES.put(key, cached)
    padded, response, kernel, pads = cached
    height, width = response.shape[:2]
    if request.row >= height or request.col >= width:
        raise RequestError("that pixel is outside the output", expected=f"row < {height} and col < {width}",
                           got=f"row {request.row}, col {request.col}", fix="pick a pixel inside the picture")
    kh, kw = kernel.weights.shape
    weights = kernel.weights.astype(np.float64)
    out = response.reshape(height, width, -1)[request.row, request.col]
    rows = np.arange(request.row - pads[0][0], request.row - pads[0][0] + kh)
    cols = np.arange(request.col - pads[1][0], request.col - pads[1][0] + kw)
    inside = ((rows >= 0) & (rows < height))[:, None] & ((cols >= 0) & (cols < width))[None, :]
    names = ["grey"] if padded.shape[0] == 1 else ["red", "green", "blue"]
    channels = []
    for c, name in enumerate(names):
        patch = padded[c, request.row:request.row + kh, request.col:request.col + kw].astype(np.float64)
        products = patch * weights
        channels.append({"name": name, "patch": patch.tolist(), "products": products.tolist(),
                         "sum": float(products.sum()), "output": float(out[c])})
    return {"row": request.row, "col": request.col, "weights": kernel.weights.tolist(), "inside": inside.tolist(),
            "patch_rows": rows.tolist(), "patch_cols": cols.tolist(), "channels": channels,
            "signed": kernel.signed, "padding_mode": request.padding_mode}
