"""``convscope bench``: the engine against torch and SciPy on eight convolutions, and the ladder.

:func:`run_bench` measures the suite (:data:`~convscope.bench.suite.SUITE`) and writes
``results.json`` and ``results.md``; :func:`ladder` runs one case through every
contender, from the reference loops to torch. The algorithms are discovered from
:data:`convscope.engine.algorithms.ALGORITHMS` at run time, so a new one is measured
as soon as it is registered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from ..engine.algorithms import ALGORITHMS, choose
from .report import (
    CaseResult,
    LadderRow,
    cpu_times,
    ladder_rows,
    ladder_table,
    load_info,
    noise_warning,
    summary,
    summary_lines,
    table,
    write_ladder,
    write_results,
)
from .suite import (
    SUITE,
    Case,
    UnknownCaseError,
    get_case,
    problem,
    scipy_skip_reason,
    select_cases,
)
from .timing import (
    FULL,
    QUICK,
    TimerSettings,
    Timing,
    auto_trace,
    engine_backward,
    engine_forward,
    peak_memory_mib,
    prewarm,
    prewarm_backward,
    time_call,
    time_scipy,
    tiny_torch_call_ms,
    torch_backward,
    torch_forward,
)

__all__ = [
    "SUITE",
    "BenchSettings",
    "Case",
    "CaseResult",
    "LadderRow",
    "UnknownCaseError",
    "bench_command",
    "ladder",
    "measure_case",
    "run_bench",
    "run_ladder",
    "select_cases",
    "summary",
]

REFERENCE_FLOPS = 0.4e6  # the pure-Python reference loops, measured on the 2-core machine
DEFAULT_OUT = Path("bench-results")


@dataclass(frozen=True)
class BenchSettings:
    timer: TimerSettings
    scipy_budget_s: float      # skip the SciPy route when its estimate exceeds this
    algorithm_budget_s: float  # skip an algorithm (never auto's pick) the cost model says is slower than this
    memory_cases: int | None   # measure peak memory on this many cases (None: all)
    reference_budget_s: float  # ladder: run the reference loops on the whole case below this estimate

    @classmethod
    def of(cls, quick: bool) -> BenchSettings:
        return QUICK_SETTINGS if quick else FULL_SETTINGS


FULL_SETTINGS = BenchSettings(FULL, scipy_budget_s=2.0, algorithm_budget_s=60.0, memory_cases=None,
                              reference_budget_s=20.0)
QUICK_SETTINGS = BenchSettings(QUICK, scipy_budget_s=0.5, algorithm_budget_s=1.0, memory_cases=2,
                               reference_budget_s=1.0)

Step = Callable[[str], None]


def _no_step(text: str) -> None:
    pass


@contextmanager
def _progress(total: int, console: Console | None) -> Iterator[tuple[Step, Callable[[], None]]]:
    """(describe, advance) for a rich progress bar on stderr (nothing when there is no console)."""
    if console is None:
        yield _no_step, lambda: None
        return
    bar = Progress(TextColumn("[progress.description]{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    with bar:
        task = bar.add_task("bench", total=total)
        yield (lambda text: bar.update(task, description=text)), (lambda: bar.advance(task))


def measure_case(case: Case, settings: BenchSettings = FULL_SETTINGS, *, backward: bool = True,
                 step: Step = _no_step) -> CaseResult:
    """Time every contender on ``case`` (forward; and the gradients when ``backward``)."""
    x, w, b = case.data()
    p = problem(case, x, w)
    step(f"{case.name} · auto")
    prewarm(case, "auto")
    ran = auto_trace(case, x, w, b)  # also auto's first call: any JIT compilation happens here
    result = CaseResult(case.name, case.note, case.shape_text, case.flops, _ran_text(ran) or choose(p),
                        time_call(engine_forward(case, x, w, b, "auto"), settings.timer), cost_model_pick=choose(p))
    for name, algo in ALGORITHMS.items():
        reason = algo.unsupported(p)
        if reason is None and name not in ran and name != result.cost_model_pick \
                and algo.cost(p) > settings.algorithm_budget_s:
            reason = f"cost model estimate {algo.cost(p):.1f} s > {settings.algorithm_budget_s:g} s budget"
        if reason is not None:
            result.algorithms_skipped[name] = reason
            continue
        step(f"{case.name} · {name}")
        prewarm(case, name)
        result.algorithms[name] = time_call(engine_forward(case, x, w, b, name), settings.timer)
    step(f"{case.name} · torch")
    prewarm(case, "torch")
    result.torch = time_call(torch_forward(case, x, w, b), settings.timer)
    result.scipy_skipped = scipy_skip_reason(case, settings.scipy_budget_s)
    if result.scipy_skipped is None:
        step(f"{case.name} · SciPy")
        result.scipy, result.scipy_method = time_scipy(case, x, w, settings.timer)
    if backward:
        gy = case.grad_output()
        step(f"{case.name} · backward")
        prewarm_backward(case)
        result.backward = time_call(engine_backward(case, x, w, gy), settings.timer)
        step(f"{case.name} · torch backward")
        setup, run = torch_backward(case, x, w, b, gy)
        result.torch_backward = time_call(run, settings.timer, setup=setup)
    return result


def _ran_text(ran: dict[str, int]) -> str:
    """{"fft": 15, "direct": 1} -> "fft x15 + direct" (most calls first)."""
    parts = sorted(ran.items(), key=lambda item: -item[1])
    return " + ".join(name if count == 1 else f"{name} x{count}" for name, count in parts)


def _memory_cases(cases: list[Case], limit: int | None) -> list[Case]:
    """All cases, or the ``limit`` with the most data (input + output), in suite order."""
    if limit is None or limit >= len(cases):
        return cases
    big = sorted(cases, key=lambda c: -(c.N * c.Cin * c.H * c.W + c.N * c.Cout * c.out_size[0] * c.out_size[1]))
    keep = {c.name for c in big[:limit]}
    return [c for c in cases if c.name in keep]


def bench_command(cases: Iterable[str] | str | None = None, *, quick: bool = False, out: Path | str = DEFAULT_OUT,
                  memory: bool = True, backward: bool = True, ladder: str | None = None) -> str:
    """The command line that reproduces a run (written into the results)."""
    parts = ["convscope bench"]
    if quick:
        parts.append("--quick")
    if ladder:
        parts.append(f"--ladder {ladder}")
    elif cases is not None:
        parts.append("--cases " + (cases if isinstance(cases, str) else ",".join(cases)))
    if not ladder:
        parts += [] if memory else ["--no-memory"]
        parts += [] if backward else ["--no-backward"]
    if Path(out) != DEFAULT_OUT:
        parts.append(f"--out {out}")
    return " ".join(parts)


def run_bench(cases: Iterable[str] | str | None = None, *, quick: bool = False, out: Path | str = DEFAULT_OUT,
              memory: bool = True, backward: bool = True, console: Console | None = None,
              command: str | None = None, settings: BenchSettings | None = None
              ) -> tuple[list[CaseResult], dict[str, Path]]:
    """Measure the suite (or the ``cases`` named), write results.json and results.md into ``out``,
    and print the table and the summary lines on ``console`` (if given)."""
    selected = select_cases(cases)
    settings = settings or BenchSettings.of(quick)
    command = command or bench_command(cases, quick=quick, out=out, memory=memory, backward=backward)
    memory_cases = _memory_cases(selected, settings.memory_cases) if memory else []
    results: list[CaseResult] = []
    before = cpu_times()
    with _progress(len(selected) + len(memory_cases), console) as (describe, advance):
        for case in selected:
            results.append(measure_case(case, settings, backward=backward, step=describe))
            advance()
        by_name = {r.case: r for r in results}
        for case in memory_cases:
            describe(f"{case.name} · peak memory")
            by_name[case.name].memory_auto_mib = peak_memory_mib(case, "auto")
            by_name[case.name].memory_torch_mib = peak_memory_mib(case, "torch")
            advance()
    recorded = {"quick": quick, "memory": memory, "backward": backward, "timer": asdict(settings.timer),
                "memory_cases": [c.name for c in memory_cases], **{k: v for k, v in asdict(settings).items()
                                                                   if k != "timer"}}
    load = {**load_info(before), "torch_tiny_call_ms": tiny_torch_call_ms()}
    paths = write_results(Path(out), results, command, recorded, load)
    if console is not None:
        shown, dropped = table(results, width=console.width)
        console.print(shown)
        for line in dropped:
            console.print(line, markup=False)
        for line in summary_lines(summary(results), command):
            console.print(line, highlight=False)
        if warning := noise_warning(load):
            console.print(warning, style="yellow", highlight=False)
        console.print(f"wrote {paths['json']} and {paths['md']}", highlight=False)
    return results, paths


def _reference_timing(case: Case, settings: BenchSettings) -> Timing:
    """The reference loops on the case, or on a cropped case scaled by the FLOP ratio."""
    x, w, b = case.data()
    if case.flops / REFERENCE_FLOPS <= settings.reference_budget_s:
        return time_call(engine_forward(case, x, w, b, "reference"), settings.timer)
    crop = case.crop(REFERENCE_FLOPS * min(settings.reference_budget_s, 1.0))
    xc, wc, bc = crop.data()
    factor = case.flops / crop.flops
    timing = time_call(engine_forward(crop, xc, wc, bc, "reference"), settings.timer)
    return timing.scaled(factor, f"reference on {crop.shape_text}, times {factor:.3g} (the FLOP ratio)")


def ladder(case: Case | str, *, quick: bool = False, step: Step = _no_step,
           settings: BenchSettings | None = None) -> list[LadderRow]:
    """``case`` through every contender (reference, numpy, each algorithm, auto, torch), slowest first."""
    case = get_case(case) if isinstance(case, str) else case
    settings = settings or BenchSettings.of(quick)
    x, w, b = case.data()
    p = problem(case, x, w)
    step(f"{case.name} · reference")
    timings: list[tuple[str, Timing]] = [("reference", _reference_timing(case, settings))]
    contenders = ["numpy"] + [name for name, algo in ALGORITHMS.items() if algo.unsupported(p) is None] + ["auto"]
    for name in contenders:
        step(f"{case.name} · {name}")
        if name != "numpy":
            prewarm(case, name)
        timing = time_call(engine_forward(case, x, w, b, name), settings.timer)
        if name == "numpy":
            timing = Timing(timing.min_ms, timing.median_ms, timing.reps, note="plain im2col, one GEMM")
        if name == "auto":
            ran = _ran_text(auto_trace(case, x, w, b))
            timing = Timing(timing.min_ms, timing.median_ms, timing.reps, note=f"ran {ran}")
        timings.append((name, timing))
    step(f"{case.name} · torch")
    prewarm(case, "torch")
    timings.append(("torch", time_call(torch_forward(case, x, w, b), settings.timer)))
    return ladder_rows(case.flops, timings)


def run_ladder(case: str, *, quick: bool = False, out: Path | str = DEFAULT_OUT, console: Console | None = None,
               command: str | None = None) -> tuple[list[LadderRow], dict[str, Path]]:
    """:func:`ladder`, printed on ``console`` and written as ladder-<case>.json / .md into ``out``."""
    selected = get_case(case)
    command = command or bench_command(quick=quick, out=out, ladder=case)
    before = cpu_times()
    with _progress(1, console) as (describe, advance):
        rows = ladder(selected, quick=quick, step=describe)
        advance()
    load = {**load_info(before), "torch_tiny_call_ms": tiny_torch_call_ms()}
    paths = write_ladder(Path(out), selected.name, rows, command, load)
    if console is not None:
        console.print(ladder_table(selected.name, rows))
        console.print(f"command: {command}", highlight=False)
        if warning := noise_warning(load):
            console.print(warning, style="yellow", highlight=False)
        console.print(f"wrote {paths['json']} and {paths['md']}", highlight=False)
    return rows, paths
