"""The benchmark suite: eight 2-d convolutions, from the lesson's 5x5 example to a 1024x1024 blur.

Each :class:`Case` knows its shapes, its output size (by :func:`convscope.output_size`,
the same arithmetic the engine uses), its FLOP count and how to make seeded float32
data. This module also holds the two non-engine routes the harness times against the
engine: the cost model's pick (:func:`chosen_algorithm`) and the best SciPy route
(:func:`scipy_conv2d`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from math import log2, prod

import numpy as np

from ..engine import output_size
from ..engine.algorithms import Problem, choose
from ..engine.errors import ConvScopeError
from ..engine.validate import conv_spec

SEED = 0
SCIPY_MAX_BYTES = 2**30  # the broadcast product the SciPy route may hold
SCIPY_FFT_POINTS = 300e6  # batched real FFT points (times log2 of the size) per second, 2-core machine
SCIPY_BYTES = 2e9         # bytes per second through the spectra's multiply, inverse and channel sum


class UnknownCaseError(ConvScopeError):
    """A benchmark case name that is not in the suite."""


@dataclass(frozen=True)
class Case:
    """One convolution of the suite: ``conv2d(x (N, Cin, H, W), w (Cout, Cin/groups, k, k))``."""

    name: str
    N: int
    Cin: int
    H: int
    W: int
    Cout: int
    k: int
    stride: int
    padding: int
    dilation: int
    groups: int
    note: str

    @property
    def out_size(self) -> tuple[int, int]:
        size = output_size((self.H, self.W), self.k, self.stride, self.padding, self.dilation)
        return size  # type: ignore[return-value]

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.N, self.Cin, self.H, self.W)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.Cout, self.Cin // self.groups, self.k, self.k)

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        return (self.N, self.Cout) + self.out_size

    @property
    def flops(self) -> int:
        """2 * N * Cout * (Cin / groups) * k * k * Hout * Wout (one multiply and one add per tap)."""
        return 2 * self.N * self.Cout * (self.Cin // self.groups) * self.k * self.k * prod(self.out_size)

    @property
    def conv_args(self) -> tuple[int, int, int, int]:
        """(stride, padding, dilation, groups), in ``conv2d``'s order."""
        return (self.stride, self.padding, self.dilation, self.groups)

    @property
    def shape_text(self) -> str:
        extra = "".join(f" {key}={value}" for key, value, default in
                        (("stride", self.stride, 1), ("pad", self.padding, 0), ("dil", self.dilation, 1),
                         ("groups", self.groups, 1)) if value != default)
        return f"{self.N}x{self.Cin}x{self.H}x{self.W} * {self.Cout}x{self.Cin // self.groups}x{self.k}x{self.k}{extra}"

    def data(self, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Seeded float32 input, weight and bias."""
        rng = np.random.default_rng(seed)
        x = rng.standard_normal(self.input_shape, dtype=np.float32)
        w = rng.standard_normal(self.weight_shape, dtype=np.float32) / np.float32(np.sqrt(prod(self.weight_shape[1:])))
        b = rng.standard_normal(self.Cout, dtype=np.float32)
        return x, w, b

    def grad_output(self, seed: int = SEED) -> np.ndarray:
        return np.random.default_rng(seed + 1).standard_normal(self.output_shape, dtype=np.float32)

    def crop(self, max_flops: float) -> Case:
        """A smaller case of the same kind (N=1, then fewer channels, then a smaller image)
        whose FLOP count is at most ``max_flops``; the case itself when it already fits."""
        if self.flops <= max_flops:
            return self
        case = replace(self, N=1)
        while case.flops > max_flops:
            if case.groups == 1 and max(case.Cin, case.Cout) > 1:
                case = replace(case, Cin=max(1, case.Cin // 2), Cout=max(1, case.Cout // 2))
            elif case.groups > 1 and case.groups == case.Cin == case.Cout:
                case = replace(case, Cin=max(1, case.Cin // 2), Cout=max(1, case.Cout // 2),
                               groups=max(1, case.groups // 2))
            elif case.groups > 1:  # general grouping: keep the per-group shape, fewer groups
                g = max(1, case.groups // 2)
                case = replace(case, Cin=case.Cin // case.groups * g, Cout=case.Cout // case.groups * g, groups=g)
            else:
                smaller = replace(case, H=max(case.H // 2, 1), W=max(case.W // 2, 1))
                if smaller.H == case.H or not _fits(smaller):
                    break
                case = smaller
        return replace(case, name=f"{self.name}~", note=f"cropped {self.name}")


def _fits(case: Case) -> bool:
    try:
        return bool(case.out_size)
    except ConvScopeError:
        return False


SUITE: tuple[Case, ...] = (
    Case("a", 1, 1, 5, 5, 1, 3, 1, 0, 1, 1, "lesson example"),
    Case("b", 64, 1, 28, 28, 32, 3, 1, 1, 1, 1, "MNIST first layer"),
    Case("c", 32, 3, 32, 32, 64, 3, 1, 1, 1, 1, "CIFAR"),
    Case("d", 8, 64, 56, 56, 64, 3, 1, 1, 1, 1, "ResNet stage"),
    Case("e", 8, 3, 224, 224, 64, 7, 2, 3, 1, 1, "ResNet stem"),
    Case("f", 8, 128, 56, 56, 128, 3, 1, 1, 1, 128, "depthwise"),
    Case("g", 1, 1, 1024, 1024, 1, 31, 1, 15, 1, 1, "large blur"),
    Case("h", 8, 32, 64, 64, 32, 3, 1, 2, 2, 1, "dilated"),
)
CASES: dict[str, Case] = {case.name: case for case in SUITE}


def get_case(name: str) -> Case:
    try:
        return CASES[name.strip()]
    except KeyError:
        raise UnknownCaseError("unknown benchmark case", expected="one of " + ", ".join(CASES),
                               got=repr(name), fix="--cases a,b,c (see benchmarks/README.md)") from None


def select_cases(names: str | Iterable[str] | None = None) -> list[Case]:
    """The cases named (comma-separated text or a list), in the order given; all if None."""
    if names is None:
        return list(SUITE)
    if isinstance(names, str):
        names = [part for part in names.split(",") if part.strip()]
    cases = [get_case(name) for name in names]
    if not cases:
        raise UnknownCaseError("no benchmark case selected", expected="one of " + ", ".join(CASES),
                               got="an empty list", fix="--cases a,b,c")
    return list(dict.fromkeys(cases))


# --- the cost model's pick ---------------------------------------------------------------------

def padded(case: Case, x: np.ndarray) -> np.ndarray:
    p = case.padding
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x


def problem(case: Case, x: np.ndarray | None = None, w: np.ndarray | None = None) -> Problem:
    """The :class:`Problem` the engine hands the cost model for this case (zero padding applied)."""
    if x is None or w is None:
        x, w, _ = case.data()
    spec = conv_spec("conv2d", 2, x.shape, w.shape, None, case.stride, case.padding, case.dilation, case.groups,
                     "zeros")
    return Problem.from_spec(spec, x.shape[0], x.dtype.itemsize)


def chosen_algorithm(case: Case, x: np.ndarray | None = None, w: np.ndarray | None = None) -> str:
    """The algorithm ``backend="auto"`` runs for this case."""
    return choose(problem(case, x, w))


# --- the best SciPy route ----------------------------------------------------------------------

def _fft_len(n: int) -> int:
    from scipy.fft import next_fast_len

    return next_fast_len(n, real=True)


def scipy_plan(case: Case) -> tuple[int, float]:
    """(bytes of the broadcast product, estimated seconds) of :func:`scipy_conv2d` on ``case``."""
    keff = case.dilation * (case.k - 1) + 1
    hp, wp = case.H + 2 * case.padding, case.W + 2 * case.padding
    points = _fft_len(hp + keff - 1) * (_fft_len(wp + keff - 1) // 2 + 1)
    cin_g = case.Cin // case.groups
    products = case.N * case.Cout * cin_g
    nbytes = products * points * 8  # complex64 spectra of every (n, o, c) product
    transforms = products + case.N * case.Cin + case.Cout * cin_g
    seconds = transforms * points * log2(max(points, 2)) / SCIPY_FFT_POINTS + nbytes / SCIPY_BYTES
    return nbytes, seconds


def scipy_skip_reason(case: Case, max_seconds: float) -> str | None:
    """Why the SciPy route is not run on ``case`` (None: it is)."""
    nbytes, seconds = scipy_plan(case)
    if nbytes > SCIPY_MAX_BYTES:
        return f"broadcast product {nbytes / 2**30:.1f} GiB > {SCIPY_MAX_BYTES / 2**30:.0f} GiB"
    if seconds > max_seconds:
        return f"estimated {seconds:.1f} s > {max_seconds:g} s budget"
    return None


def scipy_conv2d(x: np.ndarray, w: np.ndarray, case: Case, method: str = "fftconvolve") -> np.ndarray:
    """``conv2d`` (cross-correlation) through ``scipy.signal.fftconvolve`` or ``oaconvolve``.

    The input (N, G, 1, Cin/G, H, W) and the flipped weight (1, G, Cout/G, Cin/G, k, k)
    broadcast against each other; SciPy convolves over the last two axes ("valid"), then
    the channel axis is summed. Dilation spreads the kernel with zeros; stride keeps every
    ``stride``-th output of the stride-1 result.
    """
    import scipy.signal

    convolve = {"fftconvolve": scipy.signal.fftconvolve, "oaconvolve": scipy.signal.oaconvolve}[method]
    g, n = case.groups, x.shape[0]
    xp = padded(case, x)
    kernel = np.flip(w, axis=(2, 3))
    if case.dilation > 1:
        keff = case.dilation * (case.k - 1) + 1
        spread = np.zeros(w.shape[:2] + (keff, keff), dtype=w.dtype)
        spread[:, :, ::case.dilation, ::case.dilation] = kernel
        kernel = spread
    xs = xp.reshape((n, g, 1, case.Cin // g) + xp.shape[2:])
    ks = kernel.reshape((1, g, case.Cout // g, case.Cin // g) + kernel.shape[2:])
    y = convolve(xs, ks, mode="valid", axes=(4, 5)).sum(axis=3)
    y = y[..., ::case.stride, ::case.stride]
    y = y.reshape((n, case.Cout) + y.shape[-2:])
    return np.ascontiguousarray(y, dtype=x.dtype)
