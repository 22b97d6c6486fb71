"""Images in and out: load a file or an offline sample photo, convert layouts, show signed maps.

Images here are NumPy float32 arrays with values in [0, 1], laid out as image files
and plotting libraries expect: (H, W) for grey, (H, W, 3) for colour. The engine
wants (N, C, H, W); :func:`nhwc_to_nchw` and friends convert, and name the layout in
their names so a reader never has to guess.

Signed responses (an edge detector's output) are drawn with :func:`to_display`:
zero is mid-grey, negative values turn blue and positive ones red, with the scale
symmetric about zero, so a negative edge is seen, never clamped to black.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .engine.errors import ConvScopeError

MAX_PIXELS = 50_000_000  # the default limit on width * height of a file we decode
MIN_SIDE = 2             # an image must be at least 2 x 2 to have a neighbourhood
LUMA = np.array([0.2125, 0.7154, 0.0721], np.float32)  # ITU-R 709 weights of R, G, B (as scikit-image)

# scikit-image's sample photos that ship inside its wheel (no download): name -> loader name.
SAMPLES: dict[str, str] = {name: name for name in (
    "astronaut", "brick", "camera", "cat", "cell", "checkerboard", "chelsea", "clock", "coffee",
    "coins", "colorwheel", "grass", "gravel", "horse", "hubble_deep_field", "immunohistochemistry",
    "logo", "microaneurysms", "moon", "page", "retina", "rocket", "shepp_logan_phantom", "text")}
SAMPLES.update({"motorcycle_left": "stereo_motorcycle", "motorcycle_right": "stereo_motorcycle",
                "binary_blobs": "binary_blobs"})


class ImageError(ConvScopeError):
    """A file that cannot be used as an image: missing, not an image, too small or too large."""


def _as_float(array: np.ndarray) -> np.ndarray:
    """Integers scaled to [0, 1] by their type's range, bools to 0/1, floats kept; float32."""
    if array.dtype == bool:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer):
        return (array.astype(np.float64) / np.iinfo(array.dtype).max).astype(np.float32)
    return array.astype(np.float32)


def _check_size(height: int, width: int, source: str, max_pixels: int) -> None:
    if height < MIN_SIDE or width < MIN_SIDE:
        raise ImageError(f"{source} is too small to filter", expected=f"at least {MIN_SIDE} x {MIN_SIDE} pixels",
                         got=f"{width} x {height}", fix="use a larger image")
    if height * width > max_pixels:
        raise ImageError(f"{source} is too large", expected=f"at most {max_pixels:,} pixels",
                         got=f"{width} x {height} = {width * height:,}",
                         fix="downscale it first, or raise the limit (max_pixels=...) if you trust the file")


def _pil_to_array(image: Any, mode: str) -> np.ndarray:
    """A decoded Pillow image as float32 (H, W) or (H, W, 3) in [0, 1]."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        array = np.asarray(image).astype(np.float32) / 65535.0  # 16-bit grey keeps its depth
    elif image.mode == "I":  # 32-bit integers, usually 16-bit data widened: scale by that range if it fits
        raw = np.asarray(image)
        array = (raw.astype(np.float64) / (65535 if raw.max() <= 65535 else 2**31 - 1)).astype(np.float32)
    elif image.mode == "F":
        array = np.asarray(image).astype(np.float32)  # floats have no nominal range: kept as they are
    else:
        if image.mode in ("P", "PA"):  # palettes may carry transparency; resolve them to colours first
            image = image.convert("RGBA")
        if image.mode in ("RGBA", "LA", "RGBa", "La"):  # composite onto white, as a viewer shows it
            from PIL import Image

            background = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
        if image.mode not in ("L", "RGB", "1"):
            image = image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, ...
        array = _as_float(np.asarray(image))
    return _convert_mode(array, mode)


def load(path: str | os.PathLike[str], mode: str = "auto", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read a PNG, JPEG, BMP, TIFF (or any format Pillow reads) as float32 in [0, 1].

    Integer pixels are divided by their type's maximum (255, or 65535 for 16-bit files);
    a floating-point TIFF keeps its values.

    Parameters
    ----------
    path
        The file.
    mode
        ``"grey"`` (H, W), ``"rgb"`` (H, W, 3), or ``"auto"``: grey files stay grey, the rest
        become RGB. Transparency is composited onto white; 16-bit files keep their depth.
    max_pixels
        Refuse files with more pixels than this (checked from the header, before decoding).
        Pillow's own decompression-bomb guard stays on.

    Raises
    ------
    ImageError
        A missing file, a file that is not an image, one smaller than 2 x 2 or above ``max_pixels``.
    """
    _check_mode(mode)
    path = Path(path)
    if not path.is_file():
        what = "nothing there" if not path.exists() else "a directory" if path.is_dir() else \
            "a device, pipe or socket, not a file"
        raise ImageError(f"no image file at {str(path)!r}", expected="an existing PNG, JPEG, BMP or TIFF file",
                         got=what, fix=f"check the path, or use a sample photo: {', '.join(sorted(SAMPLES)[:6])}, ...")
    return _decode(path, repr(str(path)), repr(path.name), mode, max_pixels)


def decode(data: bytes, label: str = "the image", mode: str = "auto", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """As :func:`load`, from a file's bytes (an upload); messages call it ``label``, never a path.

    >>> import io; from PIL import Image
    >>> buffer = io.BytesIO(); Image.new("L", (4, 3), 255).save(buffer, "PNG")
    >>> decode(buffer.getvalue()).shape
    (3, 4)
    """
    import io

    _check_mode(mode)
    return _decode(io.BytesIO(data), label, label, mode, max_pixels)


def _decode(source: Any, label: str, short: str, mode: str, max_pixels: int) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                _check_size(image.height, image.width, short, max_pixels)
                image.load()
                array = _pil_to_array(image, mode)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(f"{label} is not an image convscope can read", expected="a PNG, JPEG, BMP or TIFF file",
                         got=_reason(error, source), fix="convert it to PNG first") from error
    except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt data
        if isinstance(error, ConvScopeError):
            raise
        raise ImageError(f"{label} could not be decoded", expected="a complete image file",
                         got=f"{type(error).__name__}: {_reason(error, source)}"[:160],
                         fix="re-export the image") from error
    if not np.isfinite(array).all():  # a float TIFF may hold NaN or infinity: no filter output means anything
        raise ImageError(f"{label} holds NaN or infinite pixels", expected="finite pixel values",
                         got=f"{int((~np.isfinite(array)).sum()):,} non-finite pixel(s)",
                         fix="replace them (e.g. np.nan_to_num) and save it again")
    return array


def _reason(error: Exception, source: Any) -> str:
    """Pillow's reason without the file name it puts in (a server's temporary path, say)."""
    text = str(error).split(" (")[0][:120]
    name = getattr(source, "name", None)
    if isinstance(name, str):
        return text.replace(str(name), "the file")
    return text.replace("<_io.BytesIO object", "<data")


def _check_mode(mode: str) -> None:
    if mode not in ("auto", "grey", "rgb"):
        raise ImageError("unknown image mode", expected="'auto', 'grey' or 'rgb'", got=repr(mode),
                         fix="use mode='grey' for filtering one channel")


def sample(name: str, mode: str = "auto") -> np.ndarray:
    """One of scikit-image's sample photos that ship with it (no download), as float32 in [0, 1].

    >>> sample("camera").shape, sample("coins", mode="rgb").shape
    ((512, 512), (303, 384, 3))
    """
    _check_mode(mode)
    if name not in SAMPLES:
        raise ImageError("unknown sample photo", expected=f"one of {', '.join(sorted(SAMPLES))}",
                         got=repr(name), fix="pass a file path, or one of the names above")
    from skimage import data

    loaded = getattr(data, SAMPLES[name])()
    if name.startswith("motorcycle_"):
        loaded = loaded[0 if name.endswith("left") else 1]
    array = _as_float(np.asarray(loaded))
    if array.ndim == 3 and array.shape[-1] == 4:
        array = array[..., :3]  # the logo's alpha: drop it (its colours are already premultiplied)
    return _convert_mode(array, mode)


def _convert_mode(array: np.ndarray, mode: str) -> np.ndarray:
    """(H, W) or (H, W, 3) float32 as ``mode`` asks: grey by ITU-R 709 luma (as scikit-image), or RGB."""
    if mode == "grey" and array.ndim == 3:
        array = array @ LUMA
    elif mode == "rgb" and array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    return np.ascontiguousarray(array, dtype=np.float32)


def load_any(source: str, mode: str = "auto", max_pixels: int = MAX_PIXELS) -> tuple[np.ndarray, str]:
    """A sample name or a file path, whichever ``source`` is: (image, a label for it)."""
    if source in SAMPLES and not Path(source).exists():
        return sample(source, mode), source
    return load(source, mode, max_pixels), Path(source).name


# --- layouts ----------------------------------------------------------------------------------

def nhwc_to_nchw(images: np.ndarray) -> np.ndarray:
    """(N, H, W, C) -> (N, C, H, W): the layout image files use to the one the engine uses.

    >>> nhwc_to_nchw(np.zeros((2, 5, 7, 3))).shape
    (2, 3, 5, 7)
    """
    return np.ascontiguousarray(np.moveaxis(np.asarray(images), -1, 1))


def nchw_to_nhwc(images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, H, W, C).

    >>> nchw_to_nhwc(np.zeros((2, 3, 5, 7))).shape
    (2, 5, 7, 3)
    """
    return np.ascontiguousarray(np.moveaxis(np.asarray(images), 1, -1))


def hwio_to_oihw(kernel: np.ndarray) -> np.ndarray:
    """A TensorFlow kernel (kH, kW, in, out) as PyTorch's (out, in, kH, kW).

    >>> hwio_to_oihw(np.zeros((3, 5, 2, 8))).shape
    (8, 2, 3, 5)
    """
    return np.ascontiguousarray(np.asarray(kernel).transpose(3, 2, 0, 1))


def oihw_to_hwio(kernel: np.ndarray) -> np.ndarray:
    """PyTorch's (out, in, kH, kW) as TensorFlow's (kH, kW, in, out).

    >>> oihw_to_hwio(np.zeros((8, 2, 3, 5))).shape
    (3, 5, 2, 8)
    """
    return np.ascontiguousarray(np.asarray(kernel).transpose(2, 3, 1, 0))


# --- display ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Display:
    """An array made viewable: ``rgb`` (H, W, 3) uint8 and how values map to colours.

    ``signed`` displays put 0 at mid-grey and +-``scale`` at the ends of a blue-grey-red
    scale; unsigned ones map [``low``, ``high``] to black-white. ``low`` and ``high`` are the
    array's full range.
    """

    rgb: np.ndarray
    low: float
    high: float
    signed: bool
    scale: float

    @property
    def range_text(self) -> str:
        """``"range -4.00 ... 4.00"``, for a caption."""
        return f"range {self.low:.3g} \u2026 {self.high:.3g}"


_NEGATIVE, _ZERO, _POSITIVE = np.array([33, 102, 172.0]), np.array([128, 128, 128.0]), np.array([178, 24, 43.0])


def to_display(array: np.ndarray, signed: bool | None = None) -> Display:
    """Map a filter response to colours, so that negative values stay visible.

    Parameters
    ----------
    array
        (H, W) response, or (H, W, 3) colour image (shown as it is, clipped to [0, 1]).
    signed
        Centre zero on mid-grey (blue below, red above, symmetric scale up to the 99.5th
        percentile of |value|; the rarer extremes saturate). ``None``: signed when the array
        has negative values. The reported range is always the full one.

    >>> d = to_display(np.array([[-2.0, 0.0, 1.0]]))
    >>> d.rgb[0, 1].tolist(), d.signed, d.range_text
    ([128, 128, 128], True, 'range -2 … 1')
    """
    values = np.asarray(array, dtype=np.float64)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    values = np.nan_to_num(values, nan=0.0, posinf=high, neginf=low)
    if values.ndim == 3:
        rgb = np.clip(values, 0, 1) * 255
        return Display(rgb.round().astype(np.uint8), low, high, False, 1.0)
    if signed is None:
        signed = low < 0
    if signed:
        # the 99.5th percentile of |value|, not the maximum: a handful of extreme pixels would
        # otherwise wash every other response out to grey (those few saturate instead)
        magnitudes = np.abs(finite)
        scale = float(np.percentile(magnitudes, 99.5)) if magnitudes.size else 0.0
        scale = scale or float(magnitudes.max(initial=0.0)) or 1.0
        t = np.clip(values / scale, -1.0, 1.0)[..., None]                # (H, W, 1) in [-1, 1]
        rgb = np.where(t < 0, _ZERO + (-t) * (_NEGATIVE - _ZERO), _ZERO + t * (_POSITIVE - _ZERO))
        return Display(rgb.round().astype(np.uint8), low, high, True, scale)
    span = (high - low) or 1.0
    grey = (values - low) / span * 255
    return Display(np.repeat(grey[..., None], 3, axis=-1).round().astype(np.uint8), low, high, False, span)


# --- writing ----------------------------------------------------------------------------------

def atomic_write(path: str | os.PathLike[str], write: Any) -> Path:
    """Call ``write(temporary_path)``, then move the result onto ``path``: a failure never
    leaves a half-written file at ``path``."""
    path = Path(path)
    if path.parent and not path.parent.is_dir():
        raise ImageError(f"cannot write {str(path)!r}", expected="an existing folder",
                         got=f"no folder {str(path.parent)!r}", fix="create the folder first")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    try:
        write(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual mode
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def save(path: str | os.PathLike[str], image: np.ndarray | Display) -> Path:
    """Write an image (a :class:`Display`, a uint8 array, or floats in [0, 1]) as PNG/JPEG/...

    The file appears only once it is complete.
    """
    from PIL import Image

    if isinstance(image, Display):
        pixels = image.rgb
    else:
        array = np.asarray(image)
        pixels = array if array.dtype == np.uint8 else (np.clip(array, 0, 1) * 255).round().astype(np.uint8)
    suffix = Path(path).suffix.lower()
    if suffix not in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"):
        raise ImageError(f"cannot write {str(path)!r}", expected="a .png, .jpg, .bmp or .tif name",
                         got=repr(suffix or "no extension"), fix="name the output something.png")
    return atomic_write(path, lambda temporary: Image.fromarray(pixels).save(temporary))
