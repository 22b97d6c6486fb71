"""The classic hand-designed kernels, and applying them to photos through the engine.

Before networks learned their kernels, people wrote them: a blur is a local average,
Sobel is a smoothed difference, a Laplacian a second difference. Each named kernel
here is a :class:`Kernel` with a one-line description of what it responds to, and
:func:`apply` runs it over a grey or colour image with the engine's ``conv2d``.

Like every deep-learning library, the engine computes cross-correlation: the kernel
is laid on the image as written, not flipped. So ``SOBEL_X`` (``-1`` on the left
column, ``+1`` on the right) gives a *positive* response where the image gets
brighter to the right. That is what ``scipy.ndimage.sobel(image, axis=1)`` computes
too (it also correlates). ``scipy.signal.convolve2d`` flips the kernel and returns the
negated edge map; :func:`apply` with ``flip=True`` does the same.

Borders: the engine's padding modes are PyTorch's, and their SciPy names differ.

=============  ===============================  =====================================
``padding_mode``  what lies beyond the border   ``scipy.ndimage`` ``mode=``
=============  ===============================  =====================================
"zeros"        zeros                            "constant" (``cval=0``)
"reflect"      mirror without the edge (d c b | a b c d)   "mirror"
"symmetric"    mirror with the edge (c b a | a b c d)       "reflect" (SciPy's default)
"replicate"    the edge pixel repeated          "nearest"
"circular"     the opposite side                "wrap"
=============  ===============================  =====================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .engine.arithmetic import same_padding
from .engine.conv import conv2d
from .engine.errors import ConvScopeError
from .engine.padding import pad
from .images import LUMA, Display, to_display

PADDING_MODES = ("zeros", "reflect", "symmetric", "replicate", "circular")
SCIPY_MODE = {"zeros": "constant", "reflect": "mirror", "symmetric": "reflect", "replicate": "nearest",
              "circular": "wrap"}


class FilterError(ConvScopeError):
    """An unknown kernel name, a malformed kernel or image, or an unknown padding mode."""


@dataclass(frozen=True)
class Kernel:
    """A named kernel: its weights (kH, kW), kept as a read-only float32 copy, and what it responds to."""

    name: str
    weights: np.ndarray
    responds_to: str

    def __post_init__(self) -> None:
        weights = np.array(self.weights, dtype=np.float32)
        weights.setflags(write=False)
        object.__setattr__(self, "weights", weights)

    @property
    def signed(self) -> bool:
        """Whether it is a detector whose response is centred on zero (its weights sum to 0:
        edges, Laplacians), rather than an image-like filter (blur, sharpen, emboss)."""
        return bool(abs(float(self.weights.sum())) < 1e-6 * max(1.0, float(np.abs(self.weights).sum())))

    def __repr__(self) -> str:
        return f"Kernel({self.name!r}, {self.weights.shape[0]}x{self.weights.shape[1]}: {self.responds_to})"


def _outer(column: Sequence[float] | np.ndarray, row: Sequence[float] | np.ndarray) -> np.ndarray:
    """A separable kernel from its 1-D parts: ``column`` down the rows, ``row`` across."""
    return np.outer(column, row)


def _binomial(size: int) -> np.ndarray:
    """Normalised binomial weights, e.g. [1, 2, 1] / 4: the smallest Gaussian-like blur."""
    row = np.array([1.0])
    for _ in range(size - 1):
        row = np.convolve(row, [1.0, 1.0])
    return row / row.sum()


def gaussian_weights(size: int = 5, sigma: float = 1.0) -> np.ndarray:
    """A (size, size) Gaussian kernel, the outer product of two normalised 1-D Gaussians.

    The 1-D weights are ``exp(-x**2 / (2 sigma**2))`` at ``x = -r ... r`` (``r = size // 2``),
    divided by their sum: the same weights ``scipy.ndimage.gaussian_filter`` uses when
    ``size = 2 * int(truncate * sigma + 0.5) + 1``.

    >>> float(gaussian_weights(3, 1.0).sum().round(6))
    1.0
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1 or size % 2 == 0:
        raise FilterError("a Gaussian kernel needs an odd size", expected="an odd int >= 1", got=repr(size),
                          fix="use size=2*round(3*sigma)+1, e.g. 7 for sigma=1")
    if not np.isfinite(sigma) or sigma <= 0:
        raise FilterError("a Gaussian kernel needs a positive sigma", expected="sigma > 0", got=repr(sigma),
                          fix="sigma=1.0 is a mild blur")
    x = np.arange(size) - size // 2
    line = np.exp(-0.5 * (x / sigma) ** 2)
    line /= line.sum()
    return np.outer(line, line)


def gaussian(size: int = 5, sigma: float = 1.0) -> Kernel:
    """A named Gaussian :class:`Kernel` of any odd size and sigma."""
    return Kernel(f"gaussian{size}_s{sigma:g}", gaussian_weights(size, sigma),
                  f"a weighted local average (sigma {sigma:g} px): smooths noise and fine texture")


_DIFF, _SMOOTH3 = [-1.0, 0.0, 1.0], [1.0, 2.0, 1.0]
_IDENTITY3 = np.pad([[1.0]], 1)
_BOX = {n: np.full((n, n), 1.0 / n**2) for n in (3, 5)}

IDENTITY = Kernel("identity", _IDENTITY3, "nothing: the output is the input (a sanity check)")
BOX3 = Kernel("box3", _BOX[3], "the plain average of the 3x3 neighbourhood: a blur")
BOX5 = Kernel("box5", _BOX[5], "the plain average of the 5x5 neighbourhood: a stronger blur")
GAUSSIAN5 = gaussian(5, 1.0)
SHARPEN = Kernel("sharpen", 2 * _IDENTITY3 - _BOX[3],
                 "detail: the image plus its difference from the local average (2 x identity - box blur)")
UNSHARP = Kernel("unsharp", 2 * np.pad([[1.0]], 2) - _outer(_binomial(5), _binomial(5)),
                 "detail at a coarser scale: image + (image - 5x5 binomial blur), the darkroom's unsharp mask")
EMBOSS = Kernel("emboss", np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
                "brightness rising towards the lower right: a relief lit from the top left")
LAPLACIAN4 = Kernel("laplacian4", np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
                    "curvature: a pixel unlike its 4 neighbours (blobs, thin lines, both sides of an edge)")
LAPLACIAN8 = Kernel("laplacian8", np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]]),
                    "curvature against all 8 neighbours, diagonals included")
SOBEL_X = Kernel("sobel_x", _outer(_SMOOTH3, _DIFF),
                 "vertical edges: positive where brightness rises left to right (smoothed [1, 2, 1] down)")
SOBEL_Y = Kernel("sobel_y", _outer(_DIFF, _SMOOTH3),
                 "horizontal edges: positive where brightness rises top to bottom")
PREWITT_X = Kernel("prewitt_x", _outer([1.0, 1.0, 1.0], _DIFF),
                   "vertical edges, with a plain (unweighted) average of three rows")
PREWITT_Y = Kernel("prewitt_y", _outer(_DIFF, [1.0, 1.0, 1.0]),
                   "horizontal edges, with a plain average of three columns")
SCHARR_X = Kernel("scharr_x", _outer([3.0, 10.0, 3.0], _DIFF),
                  "vertical edges, with weights [3, 10, 3] that make the gradient's direction more exact")
SCHARR_Y = Kernel("scharr_y", _outer(_DIFF, [3.0, 10.0, 3.0]),
                  "horizontal edges, Scharr's weights")
HORIZONTAL_EDGE = Kernel("horizontal_edge", np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
                         "the lessons' horizontal-edge kernel: darker above, brighter below")
VERTICAL_EDGE = Kernel("vertical_edge", np.array([[-1, 0, 1]] * 3),
                       "the lessons' vertical-edge kernel: darker left, brighter right")
EDGE_1x2 = Kernel("edge_1x2", np.array([[-1, 1]]),
                  "the lessons' [-1, 1] detector: the step from each pixel to its right neighbour")

KERNELS: dict[str, Kernel] = {k.name: k for k in (
    IDENTITY, BOX3, BOX5, GAUSSIAN5, SHARPEN, UNSHARP, EMBOSS, LAPLACIAN4, LAPLACIAN8, SOBEL_X, SOBEL_Y,
    PREWITT_X, PREWITT_Y, SCHARR_X, SCHARR_Y, HORIZONTAL_EDGE, VERTICAL_EDGE, EDGE_1x2)}


def get(name: str) -> Kernel:
    """The named kernel (``KERNELS``), or ``gaussian<size>_s<sigma>`` for any Gaussian.

    >>> get("sobel_x").weights.tolist()
    [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]
    >>> get("gaussian7_s2").weights.shape
    (7, 7)
    """
    if name in KERNELS:
        return KERNELS[name]
    if name.startswith("gaussian") and "_s" in name:
        size, _, sigma = name[len("gaussian"):].partition("_s")
        try:
            return gaussian(int(size), float(sigma))
        except ValueError:
            pass
    raise FilterError("unknown kernel", expected=f"one of {', '.join(KERNELS)} or gaussian<size>_s<sigma>",
                      got=repr(name), fix="`convscope gallery` shows them all")


def as_kernel(kernel: Kernel | str | np.ndarray | list) -> Kernel:
    """A :class:`Kernel` from a name, an array or nested lists (checked: 2-D, finite, non-empty)."""
    if isinstance(kernel, Kernel):
        return kernel
    if isinstance(kernel, str):
        return get(kernel)
    try:
        weights = np.array(kernel, dtype=np.float64)
    except (ValueError, TypeError) as error:
        raise FilterError("the kernel is not a rectangular array of numbers", expected="rows of equal length",
                          got=type(kernel).__name__, fix="give every row the same number of values") from error
    if weights.ndim != 2 or weights.size == 0:
        raise FilterError("the kernel must be a non-empty 2-D array", expected="shape (kH, kW)",
                          got=f"shape {weights.shape}", fix="write the kernel as rows, e.g. [[-1, 0, 1]]")
    if not np.isfinite(weights).all():
        raise FilterError("the kernel holds a NaN or an infinity", expected="finite numbers",
                          got=f"{int((~np.isfinite(weights)).sum())} non-finite value(s)", fix="replace them")
    return Kernel("custom", weights, "a kernel you supplied")


def _as_image(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (1, 3, 4)):
        raise FilterError("not an image", expected="(H, W) grey or (H, W, 3) colour",
                          got=f"shape {array.shape}",
                          fix="for a (C, H, W) array pass np.moveaxis(x, 0, -1); for a batch use convscope.conv2d")
    if not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
        raise FilterError("the image must hold numbers", got=f"dtype {array.dtype}", fix="convert it to float")
    return array.astype(np.float32, copy=False)


def apply(image: np.ndarray, kernel: Kernel | str | np.ndarray | list, padding_mode: str = "reflect",
          flip: bool = False, backend: str = "auto") -> np.ndarray:
    """Filter a grey (H, W) or colour (H, W, C) image; the output has the input's shape.

    Each colour channel is filtered on its own (a depthwise convolution: ``groups=C``).
    The kernel is centred (for an even size the extra row or column is on the far side,
    as PyTorch's ``padding="same"`` does).

    Parameters
    ----------
    image
        (H, W) or (H, W, C) array.
    kernel
        A :class:`Kernel`, its name (``"sobel_x"``), or a 2-D array.
    padding_mode
        How the border is extended: "zeros", "reflect", "symmetric", "replicate", "circular"
        (see the module's table for SciPy's names).
    flip
        Flip the kernel first: true convolution (``scipy.signal.convolve2d``), not correlation.

    Examples
    --------
    A step from 0 to 1 between columns 1 and 2: Sobel-x answers 4 (= 1 + 2 + 1) on both
    columns beside the step and 0 elsewhere.

    >>> step = np.repeat([[0, 0, 1, 1]], 3, axis=0)
    >>> apply(step, "sobel_x", padding_mode="replicate")[1].tolist()
    [0.0, 4.0, 4.0, 0.0]
    """
    array, k = _as_image(image), as_kernel(kernel)
    if padding_mode not in PADDING_MODES:
        raise FilterError("unknown padding mode", expected=" / ".join(map(repr, PADDING_MODES)),
                          got=repr(padding_mode), fix="'reflect' mirrors the image at its border")
    grey = array.ndim == 2
    chw = array[None] if grey else np.moveaxis(array, -1, 0)                  # (C, H, W)
    channels = chw.shape[0]
    weights = np.broadcast_to(k.weights, (channels, 1) + k.weights.shape)     # (C, 1, kH, kW)
    if padding_mode == "symmetric":  # not one of the engine's modes: pad here, then convolve "valid"
        out = conv2d(padded(array, k, padding_mode)[None], weights, groups=channels, flip=flip,
                     backend=backend)[0]
    else:
        out = conv2d(chw[None], weights, padding="same", groups=channels, padding_mode=padding_mode,
                     flip=flip, backend=backend)[0]
    return out[0] if grey else np.moveaxis(out, 0, -1)


def padded(image: np.ndarray, kernel: Kernel | str | np.ndarray | list, padding_mode: str = "reflect"
           ) -> np.ndarray:
    """The image as (C, H + kH - 1, W + kW - 1), its border extended as :func:`apply` extends it:
    ``apply(image, kernel)[i, j]`` (per channel) is ``(padded[:, i:i+kH, j:j+kW] * weights).sum()``.

    >>> padded(np.arange(4.0).reshape(2, 2), "box3", "zeros")[0]
    array([[0., 0., 0., 0.],
           [0., 0., 1., 0.],
           [0., 2., 3., 0.],
           [0., 0., 0., 0.]], dtype=float32)
    """
    array, k = _as_image(image), as_kernel(kernel)
    chw = array[None] if array.ndim == 2 else np.moveaxis(array, -1, 0)       # (C, H, W)
    pads = tuple(same_padding(n) for n in k.weights.shape)                    # centred, as padding="same"
    if padding_mode == "symmetric":
        return np.pad(chw, ((0, 0),) + pads, mode="symmetric")
    return pad(chw, pads, padding_mode)


@dataclass(frozen=True)
class Gradient:
    """The image gradient: its two components, magnitude and orientation (radians, in
    (-pi, pi], 0 pointing right and pi/2 pointing *down*, the way image rows grow)."""

    dx: np.ndarray
    dy: np.ndarray

    @property
    def magnitude(self) -> np.ndarray:
        return np.hypot(self.dx, self.dy)

    @property
    def orientation(self) -> np.ndarray:
        return np.arctan2(self.dy, self.dx)

    def _panels(self) -> list[tuple[str, Display, bool]]:
        return [("dx", to_display(self.dx, signed=True), False), ("dy", to_display(self.dy, signed=True), False),
                ("magnitude", to_display(self.magnitude, signed=False), False)]

    def _repr_png_(self) -> bytes:
        from .display import figure_png

        return figure_png(_panels_figure(self._panels()))

    def _repr_html_(self) -> str:
        """In a notebook: dx, dy (0 = grey) and the magnitude side by side, each with its range."""
        from .display import block, escape, img

        ranges = "".join(f"<li>{escape(name)}: {escape(shown.range_text)}</li>" for name, shown, _ in self._panels())
        return block("gradient", f"{img(self._repr_png_(), 'gradient: dx, dy, magnitude')}<ul>{ranges}</ul>")


def gradient(image: np.ndarray, operator: str = "sobel", padding_mode: str = "reflect") -> Gradient:
    """The brightness gradient by Sobel, Prewitt or Scharr (grey images; colour is turned to grey).

    >>> g = gradient(np.repeat([[0, 0, 1, 1]], 3, axis=0), padding_mode="replicate")
    >>> g.magnitude[1].tolist(), float(g.orientation[1, 1])
    ([0.0, 4.0, 4.0, 0.0], 0.0)
    """
    if operator not in ("sobel", "prewitt", "scharr"):
        raise FilterError("unknown gradient operator", expected="'sobel', 'prewitt' or 'scharr'",
                          got=repr(operator), fix="operator='sobel'")
    array = luma(image)
    return Gradient(apply(array, f"{operator}_x", padding_mode), apply(array, f"{operator}_y", padding_mode))


def luma(image: np.ndarray) -> np.ndarray:
    """A colour (H, W, 3+) image as grey by ITU-R 709 weights (as scikit-image); grey stays grey."""
    array = _as_image(image)
    if array.ndim == 2:
        return array
    if array.shape[-1] == 1:
        return array[..., 0]
    return np.ascontiguousarray(array[..., :3] @ LUMA)


@dataclass(frozen=True)
class Filtered:
    """One kernel on one image, as the gallery, the CLI and the web lab show it.

    ``source``: the image the kernel ran on (:func:`show` fills it: the grey version of a colour
    image for a detector), so a notebook can show input and output side by side; None when not
    known. It is left out of ``repr`` and ``==``, which stay as they were.
    """

    kernel: Kernel
    response: np.ndarray   # (H, W), or (H, W, C) for an image-like kernel on a colour image
    display: Display
    source: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def low(self) -> float:
        return self.display.low

    @property
    def high(self) -> float:
        return self.display.high

    def _panels(self) -> list[tuple[str, Display, bool]]:
        """(title, display, whether it is a colour image) for the input, if known, and the response."""
        panels = [] if self.source is None else [("input", to_display(self.source, signed=False),
                                                  self.source.ndim == 3)]
        return panels + [(self.kernel.name, self.display, self.response.ndim == 3)]

    def _repr_png_(self) -> bytes:
        """The input (when known) and the response, each with its colour bar and range."""
        from .display import figure_png

        return figure_png(_panels_figure(self._panels()))

    def figure(self, flipped: bool = False) -> Any:
        """What ``convscope filter --out`` saves: the input (when known) and the response, each with
        its colour bar and range, and the kernel's weights (turned 180 degrees when ``flipped``, as
        true convolution uses them), numbered when it is 7x7 or smaller."""
        weights = self.kernel.weights[::-1, ::-1] if flipped else self.kernel.weights
        title = f"{self.kernel.name} kernel" + (" (flipped)" if flipped else "")
        return _panels_figure(self._panels(), (title, np.asarray(weights, np.float64)))

    def _repr_html_(self) -> str:
        """In a notebook: the kernel's weights, the picture of :meth:`_repr_png_` and the range."""
        from .display import block, escape, img, table

        k = self.kernel
        if k.weights.size <= 15 * 15:
            columns = [str(j) for j in range(k.weights.shape[1])]
            weights = table(columns, [[f"{v:.4g}" for v in row] for row in k.weights], numeric=columns)
        else:
            weights = f"<div>{k.weights.shape[0]}x{k.weights.shape[1]} weights</div>"
        d = self.display
        scale = (f"; colours: 0 = grey, blue down to -{d.scale:.3g}, red up to +{d.scale:.3g} (the 99.5th "
                 "percentile of |value|; the rarer extremes saturate)") if d.signed else ""
        return block("filtered", f"<div><b>{escape(k.name)}</b>: {escape(k.responds_to)}</div>"
                                 f"<div style='display:flex;gap:1.5em;align-items:flex-start;flex-wrap:wrap'>"
                                 f"<div>{weights}</div>{img(self._repr_png_(), f'{k.name} response')}</div>"
                                 f"<div class='convscope-range'>{escape(d.range_text)}{escape(scale)}</div>")


def _panels_figure(panels: list[tuple[str, Display, bool]], kernel: tuple[str, np.ndarray] | None = None) -> Any:
    """Panels side by side, each titled with its range and given a colour bar: a signed map's
    blue-grey-red scale from -scale to +scale, an unsigned one's black-white from low to high (a
    colour image has none); then, if given, the kernel's weights on the same signed colours. The
    figure is not pyplot's (:func:`convscope.plots.new_figure`): nothing to close, nothing kept
    once it is dropped."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import LinearSegmentedColormap, Normalize

    from .images import _NEGATIVE, _POSITIVE, _ZERO
    from .plots import subplots

    count = len(panels) + (kernel is not None)
    figure, axes = subplots(1, count, figsize=(4.2 * count, 3.9), squeeze=False)
    signed_map = LinearSegmentedColormap.from_list("convscope-signed", [_NEGATIVE / 255, _ZERO / 255,
                                                                        _POSITIVE / 255])
    if kernel is not None:
        title, weights = kernel
        axis, reach = axes[0][-1], max(float(np.abs(weights).max()), 1e-12)
        axis.imshow(weights, cmap=signed_map, vmin=-reach, vmax=reach)
        axis.set_title(f"{title}\n{weights.shape[0]}x{weights.shape[1]} weights", fontsize=9)
        axis.set_xticks([])
        axis.set_yticks([])
        if weights.size <= 49:   # 7x7 or smaller: each weight written on its cell
            for (i, j), value in np.ndenumerate(weights):
                axis.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=8)
    for axis, (title, shown, colour) in zip(axes[0], panels):
        axis.imshow(shown.rgb)
        axis.set_title(f"{title}\n{shown.range_text}", fontsize=9)
        axis.set_xticks([])
        axis.set_yticks([])
        if shown.signed:
            bar = ScalarMappable(Normalize(-shown.scale, shown.scale), signed_map)
        elif not colour:  # black at low, white at high (to_display's grey; a flat image spans 1)
            bar = ScalarMappable(Normalize(shown.low, shown.low + shown.scale), "gray")
        else:
            continue
        figure.colorbar(bar, ax=axis, fraction=0.046, pad=0.04)
    return figure


def show(image: np.ndarray, kernel: Kernel | str | np.ndarray | list, padding_mode: str = "reflect",
         flip: bool = False) -> Filtered:
    """Apply ``kernel`` and make the result viewable.

    A detector (weights summing to zero) runs on the grey version of a colour image and is
    drawn centred on grey (blue below zero, red above); an image-like kernel (blur,
    sharpen) keeps the colours and is drawn as an image, clipped to [0, 1].
    """
    k = as_kernel(kernel)
    source = luma(image) if k.signed else _as_image(image)
    response = apply(source, k, padding_mode, flip)
    return Filtered(k, response, to_display(response, signed=k.signed), source)


def read_kernel_file(path: str) -> Kernel:
    """A kernel written as text: one row per line, numbers separated by spaces or commas,
    ``#`` starting a comment.

    Raises
    ------
    FilterError
        A missing or empty file, a value that is not a number, a row of another length
        than the first (the error names the line), or a NaN or infinity.
    """
    from pathlib import Path

    file = Path(path)
    if not file.is_file():
        raise FilterError(f"no kernel file at {str(path)!r}", expected="a text file of rows of numbers",
                          got="nothing there" if not file.exists() else "a directory", fix="check the path")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise FilterError(f"{str(path)!r} is not a text file", expected="rows of numbers as text",
                          got="binary data", fix="write the kernel as text, e.g. '-1 0 1' per row") from error
    rows: list[list[float]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#", 1)[0].replace(",", " ").split()
        if not fields:
            continue
        try:
            row = [float(field) for field in fields]
        except ValueError as error:
            raise FilterError(f"{str(path)!r} line {number} holds something that is not a number",
                              expected="numbers separated by spaces or commas", got=repr(line.strip()[:60]),
                              fix="write one kernel row per line") from error
        if rows and len(row) != len(rows[0]):
            raise FilterError(f"{str(path)!r} line {number} is a ragged row",
                              expected=f"{len(rows[0])} values, as in the first row", got=f"{len(row)} values",
                              fix="give every row the same number of values")
        if not all(np.isfinite(row)):
            raise FilterError(f"{str(path)!r} line {number} holds a NaN or an infinity", expected="finite numbers",
                              got=repr(line.strip()[:60]), fix="replace it with a number")
        rows.append(row)
    if not rows:
        raise FilterError(f"{str(path)!r} holds no kernel", expected="at least one row of numbers",
                          got="an empty file", fix="write the kernel as rows, e.g. '-1 0 1'")
    return Kernel(file.stem, np.array(rows), f"the kernel in {file.name}")
