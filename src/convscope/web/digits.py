"""The feature-maps page: a small digit CNN, trained in the background when the lab starts (or loaded
from a cache of that training), then read by drawings; each map with its kernels and the input
region its strongest unit sees."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .services import RequestError, _png
from .trained_models import TrainedOnStart

SIDE = 8        # the training digits are 8x8: the drawing is shrunk to that
MIN_INK = 12.0  # total ink of a 32x32 drawing (1.0 a full cell) below which it is not a digit: one dab is ~10


class DigitModel(TrainedOnStart):
    """A small CNN trained on scikit-learn's 8x8 digits (a few seconds); see TrainedOnStart."""

    def __init__(self, steps: int = 400, seed: int = 0, channels: int = 8, cache: Path | None = None) -> None:
        from ..data import sources

        self.channels = channels
        super().__init__("digit CNN", "digit", lambda s: sources.digits(seed=s), self._network, (1, 1, SIDE, SIDE),
                         tuple(str(d) for d in range(10)), steps, (sources,), seed=seed, cache=cache,
                         description="a small CNN trained on scikit-learn's 8x8 digits when the lab starts "
                                     "(or loaded from the cache of that training)")

    def _network(self) -> Any:
        from .. import models

        return models.cnn2d((1, SIDE, SIDE), 10, channels=self.channels)


DIGITS = DigitModel()


def _convs(model: Any) -> list[Any]:
    import torch

    return [layer for layer in model[0] if isinstance(layer, torch.nn.Conv2d)]


def read_digit(request: Any) -> dict[str, Any]:
    """The drawing (32x32, shrunk to the 8x8 of the training digits), the prediction, and each
    convolution's feature maps, each with its strongest unit and the input rows and columns that
    unit sees (its receptive field, from convscope's arithmetic)."""
    import torch

    from ..engine.arithmetic import ReceptiveField
    from ..images import to_display

    rows = request.pixels
    if len(rows) != 32 or any(len(row) != 32 for row in rows):
        raise RequestError("the drawing must be a 32x32 grid", expected="32 rows of 32 values",
                           got=f"{len(rows)} rows of {sorted({len(row) for row in rows}) or [0]} values",
                           fix="send the canvas as the page does")
    drawing = np.array(rows, dtype=np.float32)
    if not np.isfinite(drawing).all():
        raise RequestError("the drawing holds NaN or infinity", expected="values in [0, 1]",
                           got=f"{int((~np.isfinite(drawing)).sum())} non-finite value(s)", fix="send the canvas again")
    drawing = np.clip(drawing, 0, 1)
    if drawing.sum() < MIN_INK:
        raise RequestError("draw a digit first: the canvas is (almost) blank",
                           fix="draw a digit with the mouse or a finger, or load a sample digit")
    small = drawing.reshape(SIDE, 4, SIDE, 4).mean(axis=(1, 3))       # 4x4 blocks averaged
    model = DIGITS.model()
    x = torch.from_numpy(small[None, None])
    maps: list[dict[str, Any]] = []
    field = ReceptiveField()
    with torch.no_grad():
        features = x
        for layer in model[0]:
            features = layer(features)
            if isinstance(layer, (torch.nn.Conv2d, torch.nn.MaxPool2d)):
                size, stride, padding = (layer.kernel_size, layer.stride, layer.padding)
                pick = (lambda v: v[0]) if isinstance(size, tuple) else (lambda v: v)  # square windows
                field = field.then(pick(size), pick(stride), pick(padding))
            if isinstance(layer, torch.nn.Conv2d):
                maps.append({"layer": f"conv {len(maps) + 1}", "shape": list(features.shape[1:]),
                             "field": {"size": field.size, "jump": field.jump, "start": field.start},
                             "maps": [_feature_map(m.numpy(), field, to_display) for m in features[0]]})
        probabilities = torch.softmax(model(x), 1)[0].numpy()
    return {"input": small.tolist(), "prediction": int(probabilities.argmax()),
            "probabilities": probabilities.round(4).tolist(), "feature_maps": maps,
            "model_accuracy": DIGITS.accuracy}


def _feature_map(values: np.ndarray, field: Any, to_display: Any) -> dict[str, Any]:
    """One map as a PNG at its own size (the page scales it up, pixelated), its strongest unit and
    the input region that unit sees: ``rows``/``cols`` as the arithmetic gives them (they may start
    in the padding), ``box`` the part inside the 8x8 input."""
    row, col = (int(i) for i in np.unravel_index(int(np.argmax(values)), values.shape))
    rows = [field.first(row), field.first(row) + field.size - 1]
    cols = [field.first(col), field.first(col) + field.size - 1]
    box = [max(rows[0], 0), max(cols[0], 0), min(rows[1], SIDE - 1), min(cols[1], SIDE - 1)]
    return {"image": _png(to_display(values, signed=True).rgb), "peak": [row, col], "value": float(values[row, col]),
            "rows": rows, "cols": cols, "box": box}


def kernel(layer: int, index: int) -> dict[str, Any]:
    """The weights of map ``index`` of convolution ``layer`` (1-based): one kernel per input channel."""
    convs = _convs(DIGITS.model())
    if not 1 <= layer <= len(convs) or not 0 <= index < convs[layer - 1].out_channels:
        sizes = ", ".join(f"conv {i + 1}: maps 0-{c.out_channels - 1}" for i, c in enumerate(convs))
        raise RequestError("no such feature map", expected=sizes, got=f"conv {layer}, map {index}",
                           fix="click one of the maps")
    conv = convs[layer - 1]
    weights, bias = conv.weight.detach()[index].numpy(), float(conv.bias.detach()[index])
    source = "your drawing (8x8)" if layer == 1 else f"the maps of conv {layer - 1}" + (
        " after ReLU and 2x2 max pooling" if layer == 3 else " after ReLU")
    return {"layer": f"conv {layer}", "map": index, "kernels": weights.tolist(), "bias": bias,
            "reads": source}


@lru_cache(maxsize=1)
def _samples() -> dict[int, np.ndarray]:
    from .. import data

    split = data.digits(seed=DIGITS.seed)
    return {d: split.x_test[int(np.argmax(split.y_test == d)), 0] for d in range(10)}


def sample(digit: int) -> dict[str, Any]:
    """A held-out digit of the data set, blown up to the canvas's 32x32 (4x4 cells per pixel)."""
    image = _samples()[digit]
    return {"digit": digit, "pixels": np.kron(image, np.ones((4, 4), np.float32)).round(4).tolist()}
