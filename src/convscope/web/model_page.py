"""The model page's answers: any served model on a chosen input, through
:func:`convscope.inspect.explore` (one trace per model and input, each layer computed when it is
first clicked). Explorations are kept for the last few (model, input) pairs, so a class clicking
through the same model shares one."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from .services import UPLOADS, RequestError, resize

PHOTOS = ("camera", "astronaut", "coins", "coffee", "chelsea")
INPUTS = ("random", *PHOTOS)   # and, for a built-in model, example-K; for any, upload-<id> from /api/upload
KEPT = 2                       # explorations kept: each holds up to 256 MiB of activations (explore's cache)

_lock = threading.Lock()
_kept: OrderedDict[tuple[str, str], Any] = OrderedDict()


@dataclass(frozen=True)
class _Model:
    module: Any
    shape: tuple[int, ...]
    labels: tuple[str, ...] | None = None   # the classes' names, for the built-in classifiers
    examples: Any = None                    # the built-in model's held-out data (a Split), for example-K


def _models(served: tuple[Any, ...]) -> dict[str, _Model]:
    """name -> model: the user's models, then each built-in one once it is trained."""
    from .served_models import builtins

    found = {model.name: _Model(model.module, model.input_shape) for model in served}
    for builtin in builtins():
        network = builtin.ready()
        if network is not None:
            found[builtin.name] = _Model(network, builtin.input_shape, builtin.labels, builtin)
    return found


def _picture_input(picture: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
    """A photo or an upload ((H, W) or (H, W, 3) in [0, 1]) resized to the model's input (1, C, H, W)."""
    channels, size = shape[1], shape[2:]
    if len(size) != 2 or channels not in (1, 3):
        raise RequestError(f"{what} needs an image model", expected="an input of shape (1, 1 or 3, H, W)",
                           got=f"the model takes {tuple(shape)}", fix="choose the random input")
    if picture.ndim == 3 and channels == 1:
        picture = picture.mean(axis=2)
    elif picture.ndim == 2 and channels == 3:
        picture = np.repeat(picture[..., None], 3, axis=2)
    picture = resize(np.asarray(picture, np.float32), *size)                       # (H, W) or (H, W, 3)
    return (picture[None] if picture.ndim == 2 else picture.transpose(2, 0, 1))[None].copy()   # (1, C, H, W)


def _input(name: str, model: _Model) -> np.ndarray:
    """A random tensor (seeded), a sample photo, an upload (or drawing), or a built-in's held-out example."""
    if name == "random":
        return np.random.default_rng(0).standard_normal(model.shape).astype(np.float32)
    if name in PHOTOS:
        from ..images import sample

        return _picture_input(sample(name, mode="grey" if model.shape[1] == 1 else "rgb"), model.shape,
                              "a photo")
    if name.startswith("upload-"):
        picture = UPLOADS.get(name)
        if picture is None:
            raise RequestError("that upload is no longer kept", expected="an id from /api/upload",
                               got=repr(name), fix="upload the image (or send the drawing) again")
        return _picture_input(picture, model.shape, "an upload")
    if name.startswith("example-") and model.examples is not None:
        index = name.removeprefix("example-")
        if index.isdigit() and int(index) < len(model.labels or ()):
            return model.examples.example(int(index))
    kinds = INPUTS + (tuple(f"example-{k}" for k in range(len(model.labels or ()))) if model.examples else ())
    raise RequestError("no such input", expected=f"one of: {', '.join(kinds)}, or an upload's id",
                       got=repr(name), fix="pick an input from the list")


def exploration(served: tuple[Any, ...], model: str, input_name: str) -> Any:
    from ..inspect import explore

    models = _models(served)
    if model not in models:
        raise RequestError("no such model", expected=f"one of: {', '.join(models) or 'none ready yet'}",
                           got=repr(model), fix="pick a model from the list (the built-in ones appear once trained)")
    key = (model, input_name)
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    found = explore(models[model].module, _input(input_name, models[model]))
    with _lock:
        _kept[key] = found
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return found


def layers(served: tuple[Any, ...], model: str, input_name: str) -> dict[str, Any]:
    """The layer graph (each row names the layers it read: both branches at a residual add), the
    input as a picture, the prediction, and every convolution recomputed by the engine."""
    ex = exploration(served, model, input_name)
    rows = [{"name": layer.name, "kind": layer.kind, "shape": list(layer.output_shape or ()), "params": layer.params,
             "field": [size for size, _, _ in layer.field] if layer.field else None, "maps": layer.has_maps,
             "inputs": list(layer.inputs)}
            for layer in ex.layers]
    checks = ex.engine_checks()
    labels = _models(served)[model].labels
    return {"model": model, "input": input_name, "input_shape": list(ex.example.shape), "image": ex.input_image(),
            "layers": rows, "prediction": ex.prediction, "labels": list(labels) if labels else None,
            "engine": {"layers": len(checks["checks"]), "max_abs_diff": checks["max_abs_diff"]}}


def maps(served: tuple[Any, ...], model: str, input_name: str, layer: str, start: int, count: int) -> dict[str, Any]:
    return exploration(served, model, input_name).maps(layer, start=start, count=count)


def unit(served: tuple[Any, ...], model: str, input_name: str, layer: str, channel: int) -> dict[str, Any]:
    return exploration(served, model, input_name).unit(layer, channel)
