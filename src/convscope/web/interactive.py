"""The shapes calculator with receptive fields, the equivariance slider and the quiz: library calls
behind the lab's other pages (the feature-maps page's are in digits.py)."""

from __future__ import annotations

from math import prod
from typing import Any

import numpy as np

from .. import filters
from ..data import SHAPES
from ..engine.conv import conv2d
from ..engine.errors import ConvScopeError
from .schemas import MAX_SHAPE_ELEMENTS
from .services import RequestError


def _axis(value: Any, n: int) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _size_arithmetic(module: Any, in_shape: tuple[int, ...]) -> list[str] | None:
    """Per spatial axis, the output-size formula with this layer's numbers (None: a layer that
    keeps the size, or one whose size has another rule: transposed, adaptive)."""
    import torch

    from ..engine.arithmetic import explain_output_size

    windows = tuple(getattr(torch.nn, f"{kind}{nd}d") for kind in ("Conv", "MaxPool", "AvgPool") for nd in (1, 2, 3))
    if not isinstance(module, windows):
        return None
    sizes = in_shape[2:]
    n = len(sizes)
    paddings = (module.padding,) * n if isinstance(module.padding, str) else _axis(module.padding, n)
    return [explain_output_size(size, k, s, p, d, bool(getattr(module, "ceil_mode", False)))
            for size, k, s, p, d in zip(sizes, _axis(module.kernel_size, n), _axis(module.stride, n), paddings,
                                        _axis(getattr(module, "dilation", 1), n))]


def _field_text(layer: str, unit: list[int], start: list[int], size: list[int], shape: tuple[int, ...]) -> str:
    """The field in words, with its last row/column, and which part of it is zero padding."""
    axes = {1: ["positions"], 2: ["rows", "columns"]}.get(len(unit), ["depths", "rows", "columns"])
    spans = [f"{name} {a}..{a + s - 1}" for name, a, s in zip(axes, start, size)]
    text = (f"Output unit ({', '.join(map(str, unit))}) after layer {layer} sees input {' and '.join(spans)}: "
            f"{'x'.join(map(str, size))} pixels.")
    if any(a < 0 or a + s > n for a, s, n in zip(start, size, shape[2:])):
        inside = ", ".join(f"{name} 0..{n - 1}" for name, n in zip(axes, shape[2:]))
        text += f" The part outside the image ({inside}) is zero padding: it adds nothing."
    return text


def shape_report(request: Any) -> dict[str, Any]:
    """The calculator's table and code, the size arithmetic of each window layer, the receptive
    field per layer and, for ``unit`` (default: the centre), the input region that unit sees."""
    import torch

    from ..inspect import shape_stack, trace
    from ..inspect.stack import parse_shape

    if isinstance(request.input, str):
        try:
            shape = parse_shape(request.input)
        except ConvScopeError as error:
            raise RequestError("the input shape does not read as sizes", expected="whole numbers >= 1 separated by "
                               "commas, e.g. 1,3,32,32 (batch, channels, height, width)", got=repr(request.input),
                               fix="write it like 1,3,32,32") from error
    else:
        shape = tuple(request.input)
    if not 2 <= len(shape) <= 5:
        raise RequestError("the input shape needs 2 to 5 sizes", expected="batch, channels and 0-3 spatial sizes, "
                           "e.g. 1,3,32,32", got=f"{len(shape)} size(s)", fix="write it like 1,3,32,32")
    if min(shape) < 1 or prod(shape) > MAX_SHAPE_ELEMENTS:
        raise RequestError("the input shape is out of the lab's range",
                           expected=f"sizes >= 1 and at most {MAX_SHAPE_ELEMENTS:,} values in all",
                           got=f"{list(shape)}", fix="use a smaller batch or image, e.g. 1,3,32,32")
    report = shape_stack(request.stack, shape)
    result = report.to_dict()
    model = report.model()
    incoming = [shape] + [row.output_shape for row in report.rows[:-1]]
    for row, module, before in zip(result["layers"], model, incoming):
        row["arithmetic"] = _size_arithmetic(module, before)
    # On the meta device: shapes and fields for any size, with no memory and no arithmetic.
    table = trace(model, torch.empty(shape, device="meta"), measure=False, max_bytes=None)
    layers = [row for row in table.rows if row.depth > 0]
    result["trace"] = [{"name": r.name, "type": r.type, "output": list(r.output_shape or ()), "rf": r.rf_text(),
                        "jump": [f.jump for f in r.rf] if r.rf else None} for r in layers]
    spatial = [r for r in layers if r.rf is not None and r.output_shape and len(r.output_shape) == len(shape)]
    if spatial:
        last = spatial[-1]
        assert last.output_shape is not None and last.rf is not None  # the filter above kept only these
        unit = request.unit or [n // 2 for n in last.output_shape[2:]]
        if len(unit) != len(last.rf) or any(not 0 <= u < n for u, n in zip(unit, last.output_shape[2:])):
            raise RequestError("no such output unit", expected=f"{len(last.rf)} indices below "
                               f"{list(last.output_shape[2:])} (the last map's size)",
                               got=str(unit), fix="pick a unit inside the last map")
        start, size = [f.first(u) for f, u in zip(last.rf, unit)], [f.size for f in last.rf]
        result["field"] = {"layer": last.name, "unit": unit, "output_size": list(last.output_shape[2:]),
                           "start": start, "size": size}
        result["field_text"] = _field_text(last.name, unit, start, size, shape)
    return result


PEAK_TOLERANCE = 1e-5  # values this close to the maximum are ties: which one argmax names is an accident


def _sobel_map(position: int, stride: int, side: int) -> tuple[np.ndarray, np.ndarray]:
    canvas = np.zeros((side, side), np.float32)
    top = side // 2 - 2
    canvas[top:top + 5, position:position + 5] = SHAPES["corner"]  # position <= 24: it fits
    return canvas, conv2d(canvas[None, None], filters.SOBEL_X.weights[None, None], stride=stride, padding=1)[0, 0]


def _peaks(y: np.ndarray) -> list[list[int]]:
    """Every position within PEAK_TOLERANCE of the maximum, in reading order."""
    return [[int(i), int(j)] for i, j in np.argwhere(y >= y.max() - PEAK_TOLERANCE)]


def equivariance(request: Any, side: int = 32) -> dict[str, Any]:
    """A corner pattern at column ``position``; the Sobel-x feature map at stride 1 or 2, its peak
    (the first maximum in reading order), every tied maximum, the input window behind the peak,
    and in words why the peak is where it is. With ``previous``: how far pattern and peak moved."""
    stride = request.stride
    canvas, y = _sobel_map(request.position, stride, side)
    peaks = _peaks(y)
    peak = peaks[0]
    value = float(y[tuple(peak)])
    top = side // 2 - 2
    # padding 1, 3x3 kernel: map cell (i, j) reads input rows stride*i-1 .. stride*i+1 (likewise columns)
    window = {"start": [stride * peak[0] - 1, stride * peak[1] - 1], "size": [3, 3]}
    tied = f"{len(peaks)} positions tie at {value:g} ({', '.join(f'({i}, {j})' for i, j in peaks)}): " \
           "the peak named is the first of them in reading order. " if len(peaks) > 1 else ""
    if stride == 1 and peak[1] == request.position - 1:
        why = (f"{tied}The strongest response, {value:g}, is at column {peak[1]}: the window centred there has "
               f"the corner's bright left edge (input column {request.position}) on its right-hand side.")
    elif stride == 1:
        why = (f"{tied}The window that sees the corner's left edge best would be centred on column "
               f"{request.position - 1}, off the map: at the border the map cannot follow the pattern, and the "
               f"strongest window left is weaker ({value:g} at column {peak[1]}).")
    else:
        _, full = _sobel_map(request.position, 1, side)
        best = _peaks(full)
        kept = [p for p in best if p[0] % stride == 0 and p[1] % stride == 0]
        why = (f"{tied}Stride 2 keeps only every second window: map cell (i, j) is stride-1 cell (2i, 2j). "
               f"At stride 1 the strongest response is {float(full[tuple(best[0])]):g} in column {best[0][1]}, ")
        why += (f"an even column, so it is kept: {value:g} at row {peak[0]}, column {peak[1]}." if kept else
                f"an odd column, so stride 2 skips it; the strongest window it keeps is weaker ({value:g}, "
                f"stride-1 row {stride * peak[0]}, column {stride * peak[1]}, on the corner's top bar), "
                f"so the peak jumps to row {peak[0]}.")
    result = {"input": canvas.tolist(), "output": y.tolist(), "peak": peak, "peak_value": value, "peaks": peaks,
              "tolerance": PEAK_TOLERANCE, "window": window, "pattern": {"start": [top, request.position],
                                                                          "size": [5, 5]},
              "stride": stride, "position": request.position, "why": why}
    if request.previous is not None:
        _, before = _sobel_map(request.previous, stride, side)
        earlier = _peaks(before)[0]
        result["moved"] = {"from": request.previous, "pattern": request.position - request.previous,
                           "peak": [peak[0] - earlier[0], peak[1] - earlier[1]], "previous_peak": earlier}
    return result


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
