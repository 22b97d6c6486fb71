"""The lab's built-in models: small CNNs trained in the background when the lab starts (a few
seconds each, by the project's own training loop), or loaded from a cache of that same training,
so their feature maps mean something. A request never waits for a training: until a model is
ready, asking for it answers 503 at once."""

from __future__ import annotations

import hashlib
import inspect
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from . import background
from .guards import Busy

# One training at a time: each sets torch's thread count for the whole process while it runs.
_TRAINING = threading.Lock()


class StillTraining(Busy):
    """A built-in model is not ready yet (answered 503, like a busy lab)."""


def cache_dir() -> Path:
    """Where trained models are kept between runs: $CONVSCOPE_CACHE, else the user's cache folder."""
    if os.environ.get("CONVSCOPE_CACHE"):
        return Path(os.environ["CONVSCOPE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "convscope"


class TrainedOnStart:
    """One built-in model: ``start()`` trains it in a thread unless a cache file of the same training
    is found; ``status()`` says how far it is; ``model()`` returns it, or raises StillTraining at once.

    ``data(seed)`` gives the Split it learns from, ``build()`` the untrained network; ``code`` are the
    modules whose source decides the weights (a change to any of them retrains instead of loading).
    """

    def __init__(self, name: str, noun: str, data: Callable[[int], Any], build: Callable[[], Any],
                 input_shape: tuple[int, ...], labels: tuple[str, ...], steps: int, code: tuple[ModuleType, ...],
                 description: str, seed: int = 0, cache: Path | None = None) -> None:
        self.name, self.noun, self._data, self._build = name, noun, data, build
        self.input_shape, self.labels, self.description = input_shape, labels, description
        self.steps, self.seed, self._cache, self._code = steps, seed, cache, code
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._model: Any = None
        self.state, self.progress = "idle", 0.0
        self.accuracy: float | None = None
        self.source: str | None = None
        self.failure = ""
        self._examples: dict[int, Any] | None = None

    def cache_file(self) -> Path:
        """The cache's name holds everything that decides the weights: the code that builds, feeds
        and trains the model, torch's version, the seed and the steps."""
        import torch

        from .. import __version__, models, train

        code = "".join(inspect.getsource(m) for m in (models, train, *self._code))
        key = hashlib.sha256(f"{__version__}|{torch.__version__}|{self.seed}|{self.steps}|{self._build_key()}|{code}"
                             .encode()).hexdigest()[:16]
        return (self._cache or cache_dir()) / f"{self.noun}s-{key}.pt"

    def _build_key(self) -> str:
        return repr(self._build())   # the layers and their sizes, as torch prints them

    def start(self) -> None:
        """Begin training (or loading) in a thread; nothing happens if it is under way or done."""
        with self._lock:
            if self.state != "idle":
                return
            self.state = "training"
            self._thread = background.start(self._prepare, f"{self.name}-model")

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
            assert self.accuracy is not None  # set together with state "ready"
            return f"model ready ({how}): {self.accuracy * 100:.1f}% right on held-out {self.noun}s"
        if self.state == "failed":
            return f"the {self.noun} model could not be trained ({self.failure}); restart the lab"
        return f"training the {self.noun} model... {self.progress * 100:.0f}%"

    def model(self) -> Any:
        self.start()
        with self._lock:
            if self.state != "ready":
                if self.state == "failed":
                    raise StillTraining(self._message())
                raise StillTraining(f"the {self.noun} model is still training ({self.progress * 100:.0f}% done)",
                                    fix="wait a few seconds; the page can use the model when it is ready")
            return self._model

    def ready(self) -> Any:
        """The model if it is ready, else None (starting its training if need be)."""
        return self.model() if self.status()["state"] == "ready" else None

    def example(self, label: int) -> Any:
        """The first held-out example of class ``label``, as the model reads it: (1, C, H, W)."""
        with self._lock:
            if self._examples is None:
                split = self._data(self.seed)
                self._examples = {int(k): split.x_test[int(np.argmax(split.y_test == k))] for k in set(split.y_test)}
        return self._examples[label][None].copy()

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

        from ..train import train

        def report(step: int) -> None:
            background.check()  # the process is exiting: stop here, not inside torch at shutdown
            self.progress = step / self.steps * 0.99  # the last 1%: the accuracy on held-out examples

        split = self._data(self.seed)
        # One thread: on a busy 2-core machine two OpenMP threads wait on each other (33 s instead of 2.4 s).
        with _TRAINING:
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


SHAPES_SIDE = 24


def _shapes_data(seed: int) -> Any:
    """The shapes data set, its training images each blurred (sigma up to 0.9 pixel) and brightened
    or dimmed (x0.6 to x1.6): a shape drawn on the page is a soft line of any brightness, off the
    pixel grid. Without this the CNN, 99.9% right on the data, named 25% of drawn vertical bars and
    5% of drawn corners (100 drawings rendered as the page's canvas makes them); with it, 95-100%."""
    from scipy.ndimage import gaussian_filter

    from ..data import Split, shapes

    split = shapes(canvas=SHAPES_SIDE, seed=seed)
    rng = np.random.default_rng(seed)
    train = split.x_train.copy()                                    # (N, 1, 24, 24)
    for image, sigma, gain in zip(train, rng.uniform(0, 0.9, len(train)), rng.uniform(0.6, 1.6, len(train))):
        image[0] = gaussian_filter(image[0], sigma) * gain if sigma > 0.1 else image[0]
    return Split(split.name, train, split.y_train, split.x_test, split.y_test, split.classes)


def _shapes_cnn() -> Any:
    from .. import models

    return models.cnn2d((1, SHAPES_SIDE, SHAPES_SIDE), 5, channels=8)


def _shapes_model() -> TrainedOnStart:
    import sys

    from ..data import synthetic

    return TrainedOnStart(
        "shapes CNN", "shape", _shapes_data, _shapes_cnn, (1, 1, SHAPES_SIDE, SHAPES_SIDE), tuple(synthetic.SHAPES),
        steps=300, code=(synthetic, sys.modules[__name__]),
        description=f"a small CNN trained when the lab starts to tell 5 shapes (bars, a corner, a cross, a ring) "
                    f"anywhere on a noisy {SHAPES_SIDE}x{SHAPES_SIDE} canvas")


SHAPES = _shapes_model()
