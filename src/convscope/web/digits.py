"""The feature-maps page: a small digit CNN, trained in the background when the lab starts (or loaded
from a cache of that training), then read by drawings; each map with its kernels and the input
region its strongest unit sees."""

from __future__ import annotations

import hashlib
import inspect
import os
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from . import background
from .guards import Busy
from .services import RequestError, _png

SIDE = 8        # the training digits are 8x8: the drawing is shrunk to that
MIN_INK = 12.0  # total ink of a 32x32 drawing (1.0 a full cell) below which it is not a digit: one dab is ~10


class StillTraining(Busy):
    """The digit model is not ready yet (answered 503, like a busy lab)."""


def cache_dir() -> Path:
    """Where the trained model is kept between runs: $CONVSCOPE_CACHE, else the user's cache folder."""
    if os.environ.get("CONVSCOPE_CACHE"):
        return Path(os.environ["CONVSCOPE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "convscope"


class DigitModel:
    """A small CNN trained on scikit-learn's 8x8 digits by the project's own training loop.

    ``start()`` trains it in a thread (a few seconds) unless a cache file of the same training is
    found; ``status()`` says how far it is; ``model()`` returns it, or raises StillTraining at once,
    so no request waits for the training.
    """

    def __init__(self, steps: int = 400, seed: int = 0, channels: int = 8, cache: Path | None = None) -> None:
        self.steps, self.seed, self.channels, self._cache = steps, seed, channels, cache
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._model: Any = None
        self.state, self.progress, self.accuracy, self.source = "idle", 0.0, None, None
        self.failure = ""

    def cache_file(self) -> Path:
        """The cache's name holds everything that decides the weights: the code that builds, feeds
        and trains the model, torch's version, the seed, the steps and the width."""
        import torch

        from .. import __version__, models, train
        from ..data import sources

        code = "".join(inspect.getsource(m) for m in (models, train, sources))
        key = hashlib.sha256(f"{__version__}|{torch.__version__}|{self.seed}|{self.steps}|{self.channels}|{code}"
                             .encode()).hexdigest()[:16]
        return (self._cache or cache_dir()) / f"digits-{key}.pt"

    def start(self) -> None:
        """Begin training (or loading) in a thread; nothing happens if it is under way or done."""
        with self._lock:
            if self.state != "idle":
                return
            self.state = "training"
            self._thread = background.start(self._prepare, "digit-model")

    def wait(self, timeout: float | None = None) -> None:
        """Block until the model is ready (tests and benchmarks; requests never wait)."""
        self.start()
        if self._thread is not None:
            self._thread.join(timeout)

    def status(self) -> dict[str, Any]:
        self.start()
        with self._lock:
            return {"state": self.state, "progress": round(self.progress, 3), "accuracy": self.accuracy,
                    "source": self.source, "message": self._message()}

    def _message(self) -> str:
        if self.state == "ready":
            how = "loaded from the cache of an earlier training" if self.source == "cache" else "trained just now"
            return f"model ready ({how}): {self.accuracy * 100:.1f}% right on held-out digits"
        if self.state == "failed":
            return f"the digit model could not be trained ({self.failure}); restart the lab"
        return f"training the digit model... {self.progress * 100:.0f}%"

    def model(self) -> Any:
        self.start()
        with self._lock:
            if self.state != "ready":
                if self.state == "failed":
                    raise StillTraining(self._message())
                raise StillTraining(f"the digit model is still training ({self.progress * 100:.0f}% done)",
                                    fix="wait a few seconds; the page reads your drawing when the model is ready")
            return self._model

    def _prepare(self) -> None:
        try:
            model, accuracy, source = self._load() or (*self._train(), "training")
        except background.Stopped:
            return
        except Exception as error:  # a bug, not bad input: the status says so instead of hanging at n%
            with self._lock:
                self.state, self.failure = "failed", f"{type(error).__name__}: {error}"
            return
        with self._lock:
            self._model, self.accuracy, self.source = model, accuracy, source
            self.progress, self.state = 1.0, "ready"

    def _build(self) -> Any:
        from .. import models

        return models.cnn2d((1, SIDE, SIDE), 10, channels=self.channels)

    def _load(self) -> tuple[Any, float, str] | None:
        """The cached model, or None when there is none or it cannot be read (then it is retrained)."""
        import torch

        try:
            saved = torch.load(self.cache_file(), map_location="cpu", weights_only=True)
            model = self._build()
            model.load_state_dict(saved["weights"])
            return model.eval(), float(saved["accuracy"]), "cache"
        except Exception:  # missing, truncated, corrupt or from another layout: train afresh
            return None

    def _train(self) -> tuple[Any, float]:
        import torch

        from .. import data
        from ..train import train

        def report(step: int) -> None:
            background.check()  # the process is exiting: stop here, not inside torch at shutdown
            self.progress = step / self.steps * 0.99  # the last 1%: the accuracy on held-out digits

        split = data.digits(seed=self.seed)
        # One thread: on a busy 2-core machine two OpenMP threads wait on each other (33 s instead of 2.4 s).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            run = train(self._build, split, self.steps, seed=self.seed, progress=report)
        finally:
            torch.set_num_threads(threads)
        model = run.model.eval()
        self._save(model, run.test_accuracy)
        return model, run.test_accuracy

    def _save(self, model: Any, accuracy: float) -> None:
        """Write the cache atomically (a half-written file is never read); a read-only home only
        means training again next time."""
        import torch

        target = self.cache_file()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as part:
                torch.save({"weights": model.state_dict(), "accuracy": accuracy}, part)
            os.replace(part.name, target)
        except OSError:
            return


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
    maps, field = [], ReceptiveField()
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
