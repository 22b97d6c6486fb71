"""One fair timer, the contenders it times, and peak memory in a fresh process.

Every contender (convscope auto, each algorithm, torch, SciPy, the reference loops) goes
through :func:`time_call` with the same settings: one untimed warm-up call, then timed
calls until about ``target_s`` of samples or ``max_reps`` calls (never fewer than
``min_reps``); the minimum and the median are reported. When the warm-up alone took
``slow_s`` or more, one timed call follows (no more); at ``single_s``
or more, the warm-up is the only sample. The rules are the same whoever is timed, and
:func:`prewarm` first runs a tiny case of the same kind, so that a JIT compilation does
not land in the warm-up.
torch is imported only when it is timed, and runs with 2 threads, as the goal says.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from statistics import median
from time import perf_counter, sleep
from typing import Any

import numpy as np

from ..engine.algorithms import ALGORITHMS
from .suite import Case, get_case, scipy_conv2d

TORCH_THREADS = 2


@dataclass(frozen=True)
class TimerSettings:
    target_s: float = 0.3   # keep timing until the samples add up to this ...
    max_reps: int = 50      # ... or this many calls
    min_reps: int = 3       # but never fewer than this
    slow_s: float = 5.0     # after a warm-up at least this slow, one timed call is enough
    single_s: float = 60.0  # a warm-up at least this slow is the only sample (prewarm JITs first)


FULL = TimerSettings()
QUICK = TimerSettings(target_s=0.05, max_reps=50, min_reps=3, slow_s=0.5, single_s=1.0)


@dataclass(frozen=True)
class Timing:
    """Milliseconds of one contender: the minimum (used for ratios) and the median."""

    min_ms: float
    median_ms: float
    reps: int
    estimated: bool = False
    note: str = ""

    def scaled(self, factor: float, note: str) -> Timing:
        return replace(self, min_ms=self.min_ms * factor, median_ms=self.median_ms * factor, estimated=True,
                       note=note)


SETTLE_S = 0.15  # OpenBLAS, GOMP (torch) and numba threads spin for ~0.1 s after a call


def time_call(fn: Callable[[], Any], settings: TimerSettings = FULL,
              setup: Callable[[], Any] | None = None) -> Timing:
    """Time ``fn()``; ``setup()`` (untimed) runs before every call, warm-up included.

    It first sleeps :data:`SETTLE_S`: the previous contender's thread pool busy-waits for a
    while after its last call, and on 2 cores those spinning threads would steal this
    contender's time (measured: torch's 0.2 ms case b took 3 ms right after a NumPy GEMM).
    """
    sleep(SETTLE_S)
    gc.collect()
    if setup:
        setup()
    start = perf_counter()
    fn()
    warm = perf_counter() - start
    if warm >= settings.single_s:
        return Timing(warm * 1e3, warm * 1e3, 1, note=f"warm-up only (>= {settings.single_s:g} s)")
    slow = warm >= settings.slow_s
    samples: list[float] = []
    while not samples or not slow and (len(samples) < settings.min_reps or (
            sum(samples) < settings.target_s and len(samples) < settings.max_reps)):
        if setup:
            setup()
        start = perf_counter()
        fn()
        samples.append(perf_counter() - start)
    note = f"warm-up >= {settings.slow_s:g} s: one timed call" if slow else ""
    return Timing(min(samples) * 1e3, median(samples) * 1e3, len(samples), note=note)


# --- contenders ---------------------------------------------------------------------------------

def torch_module() -> Any:
    import torch

    torch.set_num_threads(TORCH_THREADS)
    return torch


def tiny_torch_call_ms() -> float:
    """The fastest of 20 torch calls on a 5x5 image (normally a few microseconds). Where it
    takes milliseconds, waking torch's second thread is slow on this machine (a busy or
    virtual CPU), and every multi-threaded call carries that floor: small cases' ratios
    then say little."""
    torch = torch_module()
    x, w = torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 3, 3)
    samples = []
    with torch.no_grad():
        for _ in range(23):
            start = perf_counter()
            torch.nn.functional.conv2d(x, w)
            samples.append(perf_counter() - start)
    return min(samples[3:]) * 1e3


def prewarm_case(case: Case) -> Case:
    """A tiny case of the same kind (channels, groups, kernel, stride, dilation): one call on it
    compiles whatever a JIT compiles, before the real case is timed."""
    keff = case.dilation * (case.k - 1) + 1
    side = max(keff + case.stride + 1 - 2 * case.padding, 8)
    return replace(case, N=1, H=min(case.H, side), W=min(case.W, side))


def prewarm(case: Case, backend: str) -> None:
    """Run ``backend`` once on :func:`prewarm_case` (``auto``: every algorithm, and auto)."""
    import convscope
    from convscope.engine.algorithms import direct

    direct.compile_all()
    tiny = prewarm_case(case)
    x, w, b = tiny.data()
    if backend == "torch":
        torch_forward(tiny, x, w, b)()
        return
    for name in [*ALGORITHMS, "auto"] if backend == "auto" else [backend]:
        try:
            convscope.conv2d(x, w, b, *tiny.conv_args, backend=name)
        except convscope.ConvScopeError:
            pass  # the tiny case may not suit this algorithm; the real call warms it up instead


def auto_trace(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> dict[str, int]:
    """Which algorithms one ``backend="auto"`` call really ran, and how many times each.

    The engine may split a convolution before it asks the cost model (row bands for a
    large image, polyphase sub-grids for a dilated one), so the pick is observed, not
    predicted: each registered algorithm's ``conv_valid`` is wrapped for one call, and
    only the outermost calls count."""
    import convscope

    calls: dict[str, int] = {}
    depth = [0]
    originals = {name: module.conv_valid for name, module in ALGORITHMS.items()}

    def spy(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            if depth[0] == 0:
                calls[name] = calls.get(name, 0) + 1
            depth[0] += 1
            try:
                return original(*args, **kwargs)
            finally:
                depth[0] -= 1
        return run
    try:
        for name, module in ALGORITHMS.items():
            module.conv_valid = spy(name, originals[name])
        convscope.conv2d(x, w, b, *case.conv_args, backend="auto")
    finally:
        for name, module in ALGORITHMS.items():
            module.conv_valid = originals[name]
    return calls


def engine_forward(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray, backend: str) -> Callable[[], Any]:
    import convscope

    return lambda: convscope.conv2d(x, w, b, *case.conv_args, backend=backend)


def torch_forward(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> Callable[[], Any]:
    torch = torch_module()
    xt, wt, bt = (torch.from_numpy(a) for a in (x, w, b))

    def run() -> Any:
        with torch.no_grad():
            return torch.nn.functional.conv2d(xt, wt, bt, *case.conv_args)
    return run


def prewarm_backward(case: Case) -> None:
    """Run the engine's gradients once on :func:`prewarm_case`."""
    import convscope

    tiny = prewarm_case(case)
    x, w, _ = tiny.data()
    convscope.conv2d_backward(tiny.grad_output(), x, w, *tiny.conv_args, backend="auto")


def engine_backward(case: Case, x: np.ndarray, w: np.ndarray, gy: np.ndarray) -> Callable[[], Any]:
    """Gradients of input, weight and bias by the engine (backend auto)."""
    import convscope

    return lambda: convscope.conv2d_backward(gy, x, w, *case.conv_args, backend="auto")


def torch_backward(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray, gy: np.ndarray
                   ) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(setup, backward): setup runs the autograd forward (untimed), backward is ``.backward(grad)``."""
    torch = torch_module()
    leaves = [torch.from_numpy(a.copy()).requires_grad_(True) for a in (x, w, b)]
    grad = torch.from_numpy(gy)
    graph: dict[str, Any] = {}

    def setup() -> None:
        for leaf in leaves:
            leaf.grad = None
        graph["y"] = torch.nn.functional.conv2d(*leaves, *case.conv_args)

    def backward() -> None:
        graph.pop("y").backward(grad)
    return setup, backward


def time_scipy(case: Case, x: np.ndarray, w: np.ndarray, settings: TimerSettings) -> tuple[Timing, str]:
    """The faster of ``fftconvolve`` and ``oaconvolve`` (one trial call each), then timed."""
    trials = {}
    for method in ("fftconvolve", "oaconvolve"):
        scipy_conv2d(x, w, case, method)  # first call: SciPy's own set-up
        start = perf_counter()
        scipy_conv2d(x, w, case, method)
        trials[method] = perf_counter() - start
    method = min(trials, key=trials.__getitem__)
    return time_call(lambda: scipy_conv2d(x, w, case, method), settings), method


# --- peak memory in a fresh process -------------------------------------------------------------

def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def memory_child(case_name: str, contender: str) -> None:
    """Run in a fresh interpreter: one ``contender`` call on the case; print the peak as JSON."""
    case = get_case(case_name)
    x, w, b = case.data()
    if contender == "torch":
        call = torch_forward(case, x, w, b)
    else:
        call = engine_forward(case, x, w, b, contender)
    prewarm(case, contender)  # imports and JIT compilation are not part of the convolution
    gc.collect()
    baseline = _status_kb("VmRSS")
    if baseline is not None and _reset_peak():
        method = "VmHWM"
    else:
        method, baseline = "ru_maxrss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    y = call()
    peak = _status_kb("VmHWM") if method == "VmHWM" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del y
    print(json.dumps({"baseline_kb": baseline, "peak_kb": peak, "method": method}))


def peak_memory_mib(case: Case, contender: str, timeout_s: float = 300) -> float | None:
    """Peak RSS of one ``contender`` call (``"auto"``, an algorithm or ``"torch"``) above the RSS
    after imports and data, in MiB, measured in a fresh process; None if that process failed."""
    code = f"from convscope.bench.timing import memory_child; memory_child({case.name!r}, {contender!r})"
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout_s,
                              env=env, check=False)
        report = json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError):
        return None
    return max(0, report["peak_kb"] - report["baseline_kb"]) / 1024
