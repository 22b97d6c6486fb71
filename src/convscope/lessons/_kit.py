"""What every lab is built from: the result types, the registry and the torch checks.

The lab modules (``seed002``, ``seed000``, ``seed003``) register their functions here with
:func:`lab`; :mod:`convscope.lessons.labs` is the public face. torch is imported only
inside :func:`verify`, so importing convscope never imports torch.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine.errors import ConvScopeError

#: Largest |engine - torch| a check accepts, relative to the largest |value| (at least 1):
#: float32 rounding grows with the values, and the fast algorithms (Winograd F(4x4, 3x3))
#: round differently from torch within this bound.
TOLERANCE = 1e-5

LabFunc = Callable[..., "LabResult"]   # (backend, **parameters)


@dataclass(frozen=True)
class Check:
    """One comparison of the engine with torch.

    Parameters
    ----------
    description
        What was compared, e.g. ``"engine == torch.nn.functional.conv2d"``.
    max_abs_diff
        Largest absolute difference: ``inf`` when the shapes differ, ``nan`` when nothing
        could be compared.
    ok
        Whether ``max_abs_diff <= limit``.
    limit
        ``TOLERANCE * max(1, largest |value|)``.
    """

    description: str
    max_abs_diff: float
    ok: bool
    limit: float = TOLERANCE


@dataclass(frozen=True)
class LabResult:
    """The outcome of one lab.

    Parameters
    ----------
    text
        What the lab's program prints, without the final newline.
    checks
        The comparisons with torch that back every number in ``text``.
    """

    text: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(check.ok for check in self.checks)

    def _repr_html_(self) -> str:
        """In a notebook: the program's output as it prints, then each check against torch."""
        from html import escape

        items = "".join(
            f"<li>{'&#10003;' if check.ok else '&#10007; FAILED:'} {escape(check.description)} "
            f"<span style='opacity:.7'>(max |diff| {check.max_abs_diff:.3g})</span></li>" for check in self.checks)
        verdict = ("no checks ran (is torch installed?)" if not self.checks else
                   "every number checked against torch" if self.ok else "a check failed")
        return (f"<div class='convscope-lab'><pre style='margin:0 0 .4em'>{escape(self.text)}</pre>"
                f"<div><b>{verdict}</b></div><ul style='margin:.2em 0'>{items}</ul></div>")


@dataclass(frozen=True)
class Lab:
    """A registered lab.

    Parameters
    ----------
    name, seed, title
        Registry key, the lesson it retells (e.g. ``"002"``) and a one-line summary.
    func
        ``func(backend) -> LabResult``; ``backend`` is an engine backend name.
    default_backend
        The engine backend that ``backend="auto"`` means for this lab.
    params
        The knobs of the lesson's exercises and their values in the lesson (``stride=2``): a
        change is passed to ``func`` by name.
    """

    name: str
    seed: str
    title: str
    func: LabFunc
    default_backend: str = "auto"
    params: dict[str, int | str] = field(default_factory=dict, hash=False)

    def run(self, backend: str = "auto", **changes: int | str) -> LabResult:
        """Run the lab on the engine ``backend`` ("auto" means :attr:`default_backend`), with the
        lesson's values of its parameters except those in ``changes``.

        Raises
        ------
        LabParameterError
            A parameter this lab does not take, or a value of the wrong kind.
        """
        for key, value in changes.items():
            if key not in self.params:
                takes = ", ".join(f"{k}={v!r}" for k, v in self.params.items()) or "no parameters"
                raise LabParameterError(f"{self.name} has no parameter {key!r}", expected=takes, got=f"{key}={value!r}",
                                        fix="leave it out, or pick the lab whose exercise changes it")
            kind = type(self.params[key])
            if isinstance(value, bool) or not isinstance(value, kind):
                raise LabParameterError(f"{self.name}'s {key} must be {'an integer' if kind is int else 'text'}",
                                        expected=f"e.g. {key}={self.params[key]!r}", got=repr(value),
                                        fix=f"pass {key}={self.params[key]!r} or another value of that kind")
        return self.func(self.default_backend if backend == "auto" else backend, **{**self.params, **changes})


class LabParameterError(ConvScopeError):
    """A lab parameter the lab does not take, or a value of the wrong kind."""


#: Every lab, by name, in tour order (the order the lab modules register them).
LABS: dict[str, Lab] = {}


def lab(seed: str, title: str, default_backend: str = "auto", **params: int | str) -> Callable[[LabFunc], LabFunc]:
    """Decorator: register ``func`` in :data:`LABS` under its own name; ``params`` are the exercise's
    knobs with the lesson's values (``func`` takes them as keyword arguments)."""
    def register(func: LabFunc) -> LabFunc:
        LABS[func.__name__] = Lab(func.__name__, seed, title, func, default_backend, dict(params))
        return func
    return register


class Stdout:
    """Collects what ``print`` would write, with NumPy's default print options.

    >>> out = Stdout()
    >>> out("shape:", (1, 2))
    >>> out.text
    'shape: (1, 2)'
    """

    def __init__(self) -> None:
        self._buffer = io.StringIO()

    def __call__(self, *values: object) -> None:
        with np.printoptions(precision=8, threshold=1000, edgeitems=3, linewidth=75, suppress=False,
                             nanstr="nan", infstr="inf", sign="-", floatmode="maxprec", legacy=False):
            print(*values, file=self._buffer)

    @property
    def text(self) -> str:
        """Everything printed so far, without the final newline."""
        return self._buffer.getvalue().rstrip("\n")


def nchw(image: Any) -> np.ndarray:
    """A 2-d image or kernel as a (1, 1, H, W) float32 array."""
    return np.asarray(image, dtype=np.float32)[None, None]


def randn(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Seeded standard-normal float32 data (the labs' stand-in for ``torch.randn``)."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def conv_params(in_channels: int, out_channels: int, kernel_size: int, seed: int = 1
                ) -> tuple[np.ndarray, np.ndarray]:
    """Weight and bias shaped and initialised like a fresh ``nn.Conv2d``.

    Both are drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), ``fan_in = in * k * k``, which
    is what torch's default initialisation amounts to.

    >>> w, b = conv_params(3, 8, 3)
    >>> w.shape, b.shape
    ((8, 3, 3, 3), (8,))
    """
    rng = np.random.default_rng(seed)
    bound = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
    weight = rng.uniform(-bound, bound, (out_channels, in_channels, kernel_size, kernel_size))
    return weight.astype(np.float32), rng.uniform(-bound, bound, out_channels).astype(np.float32)


def torch_size(shape: tuple[int, ...]) -> str:
    """How torch prints ``tensor.shape``, without importing torch.

    >>> torch_size((16,))
    'torch.Size([16])'
    """
    return f"torch.Size([{', '.join(map(str, shape))}])"


def torch_repr(values: np.ndarray, grad_fn: str | None = None) -> str:
    """How ``print(tensor)`` shows a 2-d float tensor, without importing torch: every value in one
    width, whole numbers as ``1.``, others with 4 decimals, and the ``grad_fn`` of a tensor that
    came out of a module.

    >>> print(torch_repr(np.array([[1.0, -2.0], [0.0, 3.0]]), "SelectBackward0"))
    tensor([[ 1., -2.],
            [ 0.,  3.]], grad_fn=<SelectBackward0>)
    """
    whole = bool(np.all(values == np.rint(values)))
    cells = [[f"{v:.0f}." if whole else f"{v:.4f}" for v in row] for row in values.tolist()]
    width = max(len(cell) for row in cells for cell in row)
    rows = ",\n        ".join("[" + ", ".join(cell.rjust(width) for cell in row) + "]" for row in cells)
    return f"tensor([{rows}]" + (f", grad_fn=<{grad_fn}>)" if grad_fn else ")")


def compare(description: str, ours: np.ndarray, theirs: Any) -> Check:
    """A :class:`Check` of the engine's array against torch's tensor (or any array)."""
    theirs = np.asarray(theirs.detach().numpy() if hasattr(theirs, "detach") else theirs)
    if ours.shape != theirs.shape:
        return Check(f"{description} (shape {ours.shape} != {theirs.shape})", math.inf, False)
    diff = float(np.max(np.abs(ours.astype(np.float64) - theirs.astype(np.float64)), initial=0.0))
    limit = TOLERANCE * max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
    return Check(description, diff, diff <= limit, limit)


def verify(build: Callable[[Any], list[Check]]) -> list[Check]:
    """Run ``build(torch)`` under ``torch.no_grad()``.

    Without torch, the result is one failed check that says how to install it: the
    lab's text is still shown, but nothing was proved.
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - the test environment has torch
        return [Check("torch is not installed, so nothing was compared "
                      "(pip install -c constraints.txt 'convscope[torch]')", math.nan, False)]
    with torch.no_grad():
        return build(torch)


def torch_conv2d(torch: Any, weight: np.ndarray, bias: np.ndarray, **kwargs: Any) -> tuple[Any, Check]:
    """A real ``nn.Conv2d`` holding ``weight`` and ``bias``, and a check of its parameter shapes.

    The layer is built from the hyper-parameters alone; the check proves that torch
    gives it parameters of exactly our arrays' shapes before they are copied in.
    """
    out_channels, in_channels, kernel_size, _ = weight.shape
    layer = torch.nn.Conv2d(in_channels, out_channels, kernel_size, **kwargs)
    shapes = (tuple(layer.weight.shape), tuple(layer.bias.shape))
    same = shapes == (weight.shape, bias.shape)
    check = Check(f"weight {weight.shape} and bias {bias.shape} == nn.Conv2d's parameter shapes",
                  0.0 if same else math.inf, same)
    if same:
        layer.weight.copy_(torch.from_numpy(weight))
        layer.bias.copy_(torch.from_numpy(bias))
    return layer, check


def torch_conv2d_fn(torch: Any, x: np.ndarray, weight: np.ndarray, **kwargs: Any) -> Any:
    """``torch.nn.functional.conv2d`` on NumPy inputs."""
    return torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(weight), **kwargs)
