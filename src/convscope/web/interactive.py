"""The shapes calculator with receptive fields, the digit CNN's feature maps, the equivariance
slider and the quiz: library calls behind the lab's other pages."""

from __future__ import annotations

import threading
from math import prod
from typing import Any

import numpy as np

from .. import filters, images
from ..data import SHAPES
from ..engine.conv import conv2d
from .schemas import MAX_SHAPE_ELEMENTS
from .services import RequestError, _png


def shape_report(request: Any) -> dict[str, Any]:
    """The calculator's table and code; with ``unit``, the input region that unit sees."""
    from ..inspect import shape_stack, trace

    import torch

    shape = tuple(request.input)
    if min(shape) < 1 or prod(shape) > MAX_SHAPE_ELEMENTS:
        raise RequestError("the input shape is out of the lab's range",
                           expected=f"sizes >= 1 and at most {MAX_SHAPE_ELEMENTS:,} values in all",
                           got=f"{list(shape)}", fix="use a smaller batch or image, e.g. [1, 3, 32, 32]")
    report = shape_stack(request.stack, shape)
    result = report.to_dict()
    # On the meta device: shapes and fields for any size, with no memory and no arithmetic.
    table = trace(report.model(), torch.empty(shape, device="meta"), measure=False, max_bytes=None)
    layers = [row for row in table.rows if row.depth > 0]
    result["trace"] = [{"name": r.name, "type": r.type, "output": list(r.output_shape or ()), "rf": r.rf_text(),
                        "jump": [f.jump for f in r.rf] if r.rf else None} for r in layers]
    spatial = [r for r in layers if r.rf is not None and r.output_shape and len(r.output_shape) == len(shape)]
    if spatial:
        last = spatial[-1]
        unit = request.unit or [n // 2 for n in last.output_shape[2:]]
        if len(unit) != len(last.rf) or any(not 0 <= u < n for u, n in zip(unit, last.output_shape[2:])):
            raise RequestError("no such output unit", expected=f"indices below {list(last.output_shape[2:])}",
                               got=str(unit), fix="pick a unit inside the last map")
        result["field"] = {"layer": last.name, "unit": unit, "output_size": list(last.output_shape[2:]),
                           "start": [f.first(u) for f, u in zip(last.rf, unit)],
                           "size": [f.size for f in last.rf]}
    return result


class DigitModel:
    """A small CNN trained on scikit-learn's digits by the project's own training loop, on first
    use (a few seconds), then kept for the life of the server."""

    STEPS = 400

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()
        self.accuracy = 0.0

    def get(self) -> Any:
        with self._lock:
            if self._model is None:
                from .. import data, models
                from ..train import train

                split = data.digits(seed=0)
                run = train(lambda: models.cnn2d(split.input_shape, 10, channels=8), split, self.STEPS, seed=0)
                self._model, self.accuracy = run.model.eval(), run.test_accuracy
            return self._model


DIGITS = DigitModel()


def read_digit(request: Any) -> dict[str, Any]:
    """The drawing (32x32, shrunk to the 8x8 of the training digits), the prediction, and each
    convolution's feature maps."""
    import torch

    rows = request.pixels
    if len(rows) != 32 or any(len(row) != 32 for row in rows):
        raise RequestError("the drawing must be a 32x32 grid", expected="32 rows of 32 values",
                           got=f"{len(rows)} rows of {sorted({len(row) for row in rows}) or [0]} values",
                           fix="send the canvas as the page does")
    drawing = np.array(rows, dtype=np.float32)
    if not np.isfinite(drawing).all():
        raise RequestError("the drawing holds NaN or infinity", expected="values in [0, 1]",
                           got=f"{int((~np.isfinite(drawing)).sum())} non-finite value(s)", fix="send the canvas again")
    small = np.clip(drawing, 0, 1).reshape(8, 4, 8, 4).mean(axis=(1, 3))       # (8, 8): 4x4 blocks averaged
    model = DIGITS.get()
    x = torch.from_numpy(small[None, None])
    maps = []
    with torch.no_grad():
        features = x
        for layer in model[0]:
            features = layer(features)
            if isinstance(layer, torch.nn.Conv2d):
                maps.append({"layer": f"conv {len(maps) + 1}", "shape": list(features.shape[1:]),
                             "maps": [_png(np.kron(images.to_display(m.numpy(), signed=True).rgb,
                                                   np.ones((8, 8, 1), np.uint8))) for m in features[0]]})
        probabilities = torch.softmax(model(x), 1)[0].numpy()
    return {"input": small.tolist(), "prediction": int(probabilities.argmax()),
            "probabilities": probabilities.round(4).tolist(), "feature_maps": maps,
            "model_accuracy": DIGITS.accuracy}


def equivariance(request: Any, side: int = 32) -> dict[str, Any]:
    """A pattern at column ``position``; the Sobel-x feature map at stride 1 or 2 and its peak."""
    canvas = np.zeros((side, side), np.float32)
    top = side // 2 - 2
    canvas[top:top + 5, request.position:request.position + 5] = SHAPES["corner"]  # position <= 24: it fits
    y = conv2d(canvas[None, None], filters.SOBEL_X.weights[None, None], stride=request.stride, padding=1)[0, 0]
    peak = np.unravel_index(int(np.argmax(y)), y.shape)
    return {"input": canvas.tolist(), "output": y.tolist(), "peak": [int(peak[0]), int(peak[1])],
            "stride": request.stride, "position": request.position}


def quiz(difficulty: str, n: int, seed: int) -> list[dict[str, Any]]:
    """Questions without their key (the answer is checked on the server)."""
    from ..lessons.quiz import generate

    return [{"id": q.ident, "question": q.question, "choices": q.choices, "difficulty": q.difficulty,
             "topic": q.topic} for q in generate(difficulty, n, seed)]


def answer(ident: str, choice: int) -> dict[str, Any]:
    from ..lessons.quiz import by_ident, explain

    item = by_ident(ident)
    if choice >= len(item.choices):
        raise RequestError("no such choice", expected=f"0 to {len(item.choices) - 1}", got=str(choice),
                           fix="click one of the choices")
    return {"correct": item.check(choice), "answer_index": item.answer_index, "explanation": explain(item, choice)}
