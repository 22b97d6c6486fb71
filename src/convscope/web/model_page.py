"""The model page's answers: any served model on a chosen input, through
:func:`convscope.inspect.explore` (one trace per model and input, each layer computed when it is
first clicked). Explorations are kept for the last few (model, input) pairs, so a class clicking
through the same model shares one."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from .services import RequestError, resize

PHOTOS = ("camera", "astronaut", "coins", "coffee", "chelsea")
INPUTS = ("random", *PHOTOS)
KEPT = 2                       # explorations kept: each holds up to 256 MiB of activations (explore's cache)

_lock = threading.Lock()
_kept: OrderedDict[tuple[str, str], Any] = OrderedDict()


def _models(served: tuple[Any, ...]) -> dict[str, tuple[Any, tuple[int, ...]]]:
    """name -> (module, input shape): the user's models, then the digit CNN once it is trained."""
    from .digits import DIGITS

    found = {model.name: (model.module, model.input_shape) for model in served}
    if DIGITS.status().get("state") == "ready":
        found["digit CNN"] = (DIGITS.model(), (1, 1, 8, 8))
    return found


def _input(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A random tensor (seeded), or a sample photo resized to the model's input, grey for one channel."""
    if name == "random":
        return np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    channels, size = shape[1], shape[2:]
    if len(size) != 2 or channels not in (1, 3):
        raise RequestError("a photo needs an image model", expected="an input of shape (1, 1 or 3, H, W)",
                           got=f"the model takes {tuple(shape)}", fix="choose the random input")
    from ..images import sample

    photo = resize(sample(name, mode="grey" if channels == 1 else "rgb"), *size)   # (H, W) or (H, W, 3) in [0, 1]
    return (photo[None] if photo.ndim == 2 else photo.transpose(2, 0, 1))[None]    # (1, C, H, W)


def exploration(served: tuple[Any, ...], model: str, input_name: str) -> Any:
    from ..inspect import explore

    models = _models(served)
    if model not in models:
        raise RequestError("no such model", expected=f"one of: {', '.join(models) or 'none ready yet'}",
                           got=repr(model), fix="pick a model from the list (the digit CNN appears once trained)")
    if input_name not in INPUTS:
        raise RequestError("no such input", expected=f"one of: {', '.join(INPUTS)}", got=repr(input_name),
                           fix="pick an input from the list")
    key = (model, input_name)
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    module, shape = models[model]
    found = explore(module, _input(input_name, shape))
    with _lock:
        _kept[key] = found
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return found


def layers(served: tuple[Any, ...], model: str, input_name: str) -> dict[str, Any]:
    ex = exploration(served, model, input_name)
    rows = [{"name": layer.name, "kind": layer.kind, "shape": list(layer.output_shape or ()), "params": layer.params,
             "field": [size for size, _, _ in layer.field] if layer.field else None, "maps": layer.has_maps}
            for layer in ex.layers]
    checks = ex.engine_checks()
    return {"model": model, "input": input_name, "input_shape": list(ex.example.shape), "image": ex.input_image(),
            "layers": rows, "prediction": ex.prediction, "engine": {"layers": len(checks["checks"]),
                                                                     "max_abs_diff": checks["max_abs_diff"]}}


def maps(served: tuple[Any, ...], model: str, input_name: str, layer: str, start: int, count: int) -> dict[str, Any]:
    return exploration(served, model, input_name).maps(layer, start=start, count=count)


def unit(served: tuple[Any, ...], model: str, input_name: str, layer: str, channel: int) -> dict[str, Any]:
    return exploration(served, model, input_name).unit(layer, channel)
