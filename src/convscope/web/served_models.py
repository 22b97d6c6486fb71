"""The models the lab shows: the user's own (``convscope serve --model``), loaded and checked once
before the server listens, and the built-in trained CNNs (digits, shapes). The lab never loads code
or weights from an upload: a model comes only from a file named on the command line, on the user's
own machine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..engine.errors import ConvScopeError

UPLOADS = "the lab never loads code or weights from an upload: only the file named on the command line"


@dataclass(frozen=True)
class ServedModel:
    name: str
    module: Any            # the nn.Module, in eval mode
    input_shape: tuple[int, ...]
    source: str            # "your file models.py" or "built-in"
    weights: str | None    # the weights file, or None (the constructor's own initial weights)
    description: str = ""  # one line: the class's docstring, or what it is and where it came from

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "weights": self.weights, "input": list(self.input_shape),
                **_size(self.module), "ready": True, "description": self.description, "labels": None}


def _size(module: Any) -> dict[str, int]:
    """How /api/models sizes a model: its leaf layers and its parameters."""
    return {"layers": sum(1 for m in module.modules() if not list(m.children())),
            "parameters": sum(p.numel() for p in module.parameters())}


def load(spec: str, weights: str | None, input_text: str | None) -> ServedModel:
    """The user's model, built, its weights loaded and one forward pass on ``--input`` checked (the
    memory estimated first, on the meta device); every problem is a ConvScopeError."""
    from ..inspect import doctor, load_model, parse_shape
    from ..inspect.loading import load_weights
    from ..inspect.trace import MEMORY_BUDGET, MemoryBudgetError, check_memory

    if not input_text:
        raise ConvScopeError("--model needs --input", expected="the shape of one input, e.g. --input 1,3,224,224",
                             got="no --input", fix=f"convscope serve --model {spec} --input 1,C,H,W")
    shape = parse_shape(input_text)
    if len(shape) < 3 or shape[0] != 1:
        raise ConvScopeError("the lab shows one input at a time", expected="--input 1,C,L or 1,C,H,W",
                             got=f"--input {input_text}", fix="make the first number 1")
    model = load_model(spec)
    if weights:
        load_weights(model, weights)
    try:
        check_memory(model, shape, False)   # on the meta device: nothing allocated yet
    except MemoryBudgetError as error:      # the same refusal as trace's, in serve's words
        raise MemoryBudgetError(f"--input {input_text} needs too much memory for the lab",
                                expected=f"at most {MEMORY_BUDGET / 2**30:.0f} GiB for one forward pass",
                                got=error.got, fix=error.fix) from error
    diagnosis = doctor(model, shape, max_bytes=None)
    if not diagnosis.ok:
        raise ConvScopeError(f"{spec} does not run on --input {input_text}: it fails at {diagnosis.layer} "
                             f"({diagnosis.layer_type}): {diagnosis.problem or 'see torch'}",
                             got=f"torch says {diagnosis.error}", fix=diagnosis.fix or "check --input")
    model.eval()
    name, where = spec.rpartition(":")[2], spec.rpartition(":")[0]
    return ServedModel(name, model, shape, f"your file {where}", weights, _description(model, where, weights))


def _description(model: Any, where: str, weights: str | None) -> str:
    """The first line of the model class's own docstring, else what it is and where it came from."""
    doc = (type(model).__doc__ or "").strip()   # a class's __doc__ is its own, never nn.Module's
    if doc:
        return doc.splitlines()[0][:200]
    return f"{type(model).__name__} from {where}, " + (f"weights from {weights}" if weights else
                                                        "with its constructor's initial weights")


def builtins() -> tuple[Any, ...]:
    """The lab's own trained models (:class:`~convscope.web.trained_models.TrainedOnStart`)."""
    from .digits import DIGITS
    from .trained_models import SHAPES

    return (DIGITS, SHAPES)


def catalogue(models: tuple[ServedModel, ...]) -> dict[str, Any]:
    """What /api/models answers: the user's models, then the built-in ones, each with its state."""
    listed = [model.describe() for model in models]
    for builtin in builtins():
        status = builtin.status()
        network = builtin.ready()   # still training: its size is told once it is ready
        listed.append({"name": builtin.name, "source": "built-in", "weights": status.get("source"),
                       "input": list(builtin.input_shape), "ready": network is not None,
                       **(_size(network) if network is not None else {"layers": None, "parameters": None}),
                       "description": builtin.description, "labels": list(builtin.labels),
                       "status": status["message"]})
    from .model_page import PHOTOS

    return {"models": listed, "uploads": UPLOADS, "photos": list(PHOTOS)}
