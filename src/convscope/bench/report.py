"""Results: one row per case, the summary the goals are judged by, and JSON / Markdown / rich output."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from math import exp, log
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from .timing import TORCH_THREADS, Timing

WITHIN = 1.3  # auto's pick must be within this factor of the fastest algorithm


def _ratio(a: Timing | None, b: Timing | None) -> float | None:
    return None if a is None or b is None or b.min_ms <= 0 else a.min_ms / b.min_ms


def geomean(values: list[float]) -> float | None:
    values = [v for v in values if v and v > 0]
    return exp(sum(map(log, values)) / len(values)) if values else None


@dataclass
class CaseResult:
    """Everything measured on one case (times are :class:`Timing`, in ms; memory in MiB)."""

    case: str
    note: str
    shape: str
    flops: int
    chosen: str  # what auto ran (observed), e.g. "direct", "direct x4", "fft x15 + direct"
    auto: Timing
    cost_model_pick: str = ""  # choose() on the whole case's Problem
    torch: Timing | None = None
    scipy: Timing | None = None
    scipy_method: str | None = None
    scipy_skipped: str | None = None
    algorithms: dict[str, Timing] = field(default_factory=dict)
    algorithms_skipped: dict[str, str] = field(default_factory=dict)
    backward: Timing | None = None
    torch_backward: Timing | None = None
    memory_auto_mib: float | None = None
    memory_torch_mib: float | None = None

    @property
    def gflops(self) -> float:
        return self.flops / (self.auto.min_ms * 1e-3) / 1e9

    @property
    def ratio_torch(self) -> float | None:
        return _ratio(self.auto, self.torch)

    @property
    def ratio_scipy(self) -> float | None:
        return _ratio(self.auto, self.scipy)

    @property
    def ratio_backward(self) -> float | None:
        return _ratio(self.backward, self.torch_backward)

    @property
    def fastest(self) -> str | None:
        return min(self.algorithms, key=lambda name: self.algorithms[name].min_ms) if self.algorithms else None

    @property
    def chosen_vs_fastest(self) -> float | None:
        """Auto's own time (it may split the work and pick per part) over the fastest algorithm's."""
        fastest = self.fastest
        return None if fastest is None else _ratio(self.auto, self.algorithms[fastest])

    @property
    def pick_vs_fastest(self) -> float | None:
        """The cost model's pick for the whole case, run by name, over the fastest algorithm."""
        fastest = self.fastest
        pick = self.algorithms.get(self.cost_model_pick)
        return None if fastest is None or pick is None else _ratio(pick, self.algorithms[fastest])

    def to_dict(self) -> dict[str, Any]:
        derived = ("gflops", "ratio_torch", "ratio_scipy", "ratio_backward", "fastest", "chosen_vs_fastest",
                   "pick_vs_fastest")
        return {**asdict(self), **{name: getattr(self, name) for name in derived}}


@dataclass
class LadderRow:
    """One rung: a contender on the ladder's case, with its speed-up over the rung before and the first."""

    name: str
    ms: float
    gflops: float
    vs_previous: float
    vs_first: float
    estimated: bool = False
    note: str = ""


def ladder_rows(flops: int, timings: list[tuple[str, Timing]]) -> list[LadderRow]:
    """Rows from slowest to fastest, each with its speed-ups."""
    ordered = sorted(timings, key=lambda item: -item[1].min_ms)
    times = [t.min_ms for _, t in ordered]
    return [LadderRow(name, t.min_ms, flops / (t.min_ms * 1e-3) / 1e9, times[max(i - 1, 0)] / t.min_ms,
                      times[0] / t.min_ms, t.estimated, t.note) for i, (name, t) in enumerate(ordered)]


def cpu_times() -> dict[str, Any]:
    """A snapshot for :func:`load_info`: the machine's CPU counters (/proc/stat, in clock
    ticks), this process's own CPU seconds (its children's included) and the wall clock."""
    try:
        with open("/proc/stat") as stat:
            machine = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        machine = []
    mine = sum(getattr(resource.getrusage(who), field) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for field in ("ru_utime", "ru_stime"))
    return {"stat": machine, "self_s": mine, "wall_s": time.monotonic()}


def load_info(before: dict[str, Any]) -> dict[str, Any]:
    """How busy the machine was during a run (since ``before``, from :func:`cpu_times`): the
    load averages, the share of CPU time the hypervisor stole, and the share of all CPUs
    that *other* processes used (busy time minus this process's own)."""
    after = cpu_times()
    delta = [a - b for a, b in zip(after["stat"], before["stat"])]
    steal = delta[7] / sum(delta) if len(delta) > 7 and sum(delta) > 0 else None
    others = None
    if len(delta) > 7 and (wall := after["wall_s"] - before["wall_s"]) > 0:
        busy_s = (sum(delta[:8]) - delta[3] - delta[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
        others = max(0.0, busy_s - (after["self_s"] - before["self_s"])) / (wall * (os.cpu_count() or 1))
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"loadavg_1_5_15": load, "cpu_steal_fraction": steal, "other_processes_cpu_fraction": others}


def machine_info() -> dict[str, Any]:
    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"cpu_count": os.cpu_count(), "cpus_usable": affinity, "machine": platform.machine(),
            "platform": platform.platform(), "python": sys.version.split()[0],
            "numpy": version("numpy"), "scipy": version("scipy"), "torch": version("torch"),
            "numba": version("numba"), "torch_threads": TORCH_THREADS,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"), "blas_kernels": _blas_kernels(),
            "OPENBLAS_THREAD_TIMEOUT": os.environ.get("OPENBLAS_THREAD_TIMEOUT"),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}


def _blas_kernels() -> str | None:
    """The kernel family NumPy's OpenBLAS really runs (``Haswell``: AVX2; ``SkylakeX``: AVX-512),
    which OPENBLAS_CORETYPE may have forced: the GEMM routes' speed depends on it."""
    try:
        from threadpoolctl import threadpool_info  # scikit-learn's dependency
    except ImportError:
        return None
    found = [info.get("architecture") for info in threadpool_info() if info.get("internal_api") == "openblas"]
    return found[0] if found else None


def summary(results: list[CaseResult]) -> dict[str, Any]:
    forward = {r.case: r.ratio_torch for r in results if r.ratio_torch is not None}
    backward = [r.ratio_backward for r in results if r.ratio_backward is not None]
    picks = [r.chosen_vs_fastest for r in results if r.chosen_vs_fastest is not None]
    named = [r.pick_vs_fastest for r in results if r.pick_vs_fastest is not None]
    worst = max(forward, key=forward.__getitem__) if forward else None
    return {"forward_geomean_ratio": geomean(list(forward.values())), "backward_geomean_ratio": geomean(backward),
            "max_ratio": forward[worst] if worst else None, "max_ratio_case": worst, "g_ratio": forward.get("g"),
            "auto_within": WITHIN, "auto_within_count": sum(p <= WITHIN for p in picks), "auto_picks": len(picks),
            "pick_within_count": sum(p <= WITHIN for p in named), "pick_picks": len(named)}


def _x(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if 0 < value < 10 ** -digits:   # "0.00x" would read as "free": say how small
        return f"{value:.1g}x"
    return f"{value:.{digits}f}x"


def summary_lines(s: dict[str, Any], command: str) -> list[str]:
    return [
        f"forward  convscope auto / torch, geometric mean: {_x(s['forward_geomean_ratio'])}",
        f"backward convscope / torch autograd, geometric mean: {_x(s['backward_geomean_ratio'])}",
        f"max forward ratio: {_x(s['max_ratio'])}" + (f" (case {s['max_ratio_case']})" if s["max_ratio_case"] else ""),
        f"case g (large blur) ratio: {_x(s['g_ratio'])}",
        f"auto within {s['auto_within']}x of the fastest algorithm: {s['auto_within_count']}/{s['auto_picks']} cases"
        + ("" if s.get("pick_within_count") is None else
           f" (its pick run by name: {s['pick_within_count']}/{s['pick_picks']})"),
        f"command: {command}",
    ]


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:.4g}"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _cells(r: CaseResult) -> list[str]:
    chosen = r.chosen + ("" if r.fastest in (None, r.chosen) else f" (fastest: {r.fastest})")
    return [r.case, r.note, _ms(r.auto.min_ms), f"{r.gflops:.3g}", _x(r.ratio_torch), _x(r.ratio_scipy),
            _x(r.ratio_backward), f"{_mib(r.memory_auto_mib)}/{_mib(r.memory_torch_mib)}", chosen,
            _x(r.chosen_vs_fastest)]


HEADERS = ["case", "note", "ms auto", "GFLOP/s", "/torch", "/SciPy", "bwd /torch", "MiB auto/torch",
           "auto ran", "auto/fastest"]
LADDER_HEADERS = ["contender", "ms", "GFLOP/s", "vs previous", "vs first", "note"]


def _ladder_cells(r: LadderRow) -> list[str]:
    return [r.name, _ms(r.ms), f"{r.gflops:.3g}", _x(r.vs_previous, 1), _x(r.vs_first, 1),
            ("estimated: " if r.estimated else "") + r.note]


def _rich(title: str, headers: list[str], rows: list[list[str]], wrap: set[int], words: set[int]) -> Table:
    t = Table(title=title)
    for i, header in enumerate(headers):  # numbers right, words left
        t.add_column(header, justify="left" if i in words else "right", no_wrap=i not in wrap)
    for row in rows:
        t.add_row(*map(Text, row))
    return t


# dropped first when the table is too wide for the console, each then listed under the table
DROPPABLE = ("note", "auto ran", "MiB auto/torch", "auto/fastest")


def table(results: list[CaseResult], title: str = "convscope bench (ratio = convscope time / other time)",
          width: int | None = None) -> tuple[Table, list[str]]:
    """The results as a rich table that fits ``width`` columns without folding a number or cutting a
    header: the word columns leave the table first (``DROPPABLE``), and come back as the returned
    lines, one per case (results.md always has every column)."""
    rows = [_cells(r) for r in results]
    keep = list(range(len(HEADERS)))

    def needed(columns: list[int]) -> int:   # each column's widest cell, plus rich's borders and padding
        return sum(max(len(HEADERS[c]), *(len(row[c]) for row in rows)) + 3 for c in columns) + 1

    dropped: list[int] = []
    for name in DROPPABLE:
        if width is None or not rows or needed(keep) <= width:
            break
        column = HEADERS.index(name)
        keep.remove(column)
        dropped.append(column)
    headers = [HEADERS[c] for c in keep]
    shown = _rich(title, headers, [[row[c] for c in keep] for row in rows],
                  wrap={i for i, c in enumerate(keep) if HEADERS[c] == "note"},
                  words={i for i, c in enumerate(keep) if HEADERS[c] in ("case", "note", "auto ran")})
    lines = []
    if dropped:
        lines.append(f"left out to fit {width} columns: {', '.join(HEADERS[c] for c in dropped)} "
                     "(results.md has every column)")
        lines += [f"  {row[0]}: " + "; ".join(f"{HEADERS[c]} {row[c]}" for c in dropped) for row in rows]
    return shown, lines


def ladder_table(case: str, rows: list[LadderRow]) -> Table:
    return _rich(f"ladder, case {case}: slowest to fastest", LADDER_HEADERS, [_ladder_cells(r) for r in rows],
                 wrap={5}, words={0, 5})


def _markdown_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
    return [line(headers), "|" + "|".join("---" for _ in headers) + "|", *map(line, rows)]


def _write(out: Path, stem: str, data: dict[str, Any], title: str, body: list[str]) -> dict[str, Path]:
    """``stem``.json (``data``) and ``stem``.md (title, body, machine line, any noise warning)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / f"{stem}.json", "md": out / f"{stem}.md"}
    paths["json"].write_text(json.dumps(data, indent=2) + "\n")
    warning = noise_warning(data["machine"])
    paths["md"].write_text("\n".join([f"# {title}", "", *body, "", _machine_line(data["machine"]), "",
                                      *([warning, ""] if warning else [])]))
    return paths


def write_results(out: Path, results: list[CaseResult], command: str, settings: dict[str, Any],
                  load: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write ``results.json`` and ``results.md`` into ``out``; return their paths."""
    s = summary(results)
    data = {"command": command, "machine": {**machine_info(), **(load or {})}, "settings": settings, "summary": s,
            "cases": [r.to_dict() for r in results]}
    body = ["Ratio = convscope time / other time (minimum over repetitions; below 1 means convscope is faster).",
            "", *_markdown_table(["shape", *HEADERS], [[r.shape, *_cells(r)] for r in results]), "",
            *(f"- {line}" for line in summary_lines(s, command))]
    return _write(out, "results", data, "convscope bench", body)


def write_ladder(out: Path, case: str, rows: list[LadderRow], command: str,
                 load: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write ``ladder-<case>.json`` and ``ladder-<case>.md`` into ``out``."""
    data = {"command": command, "machine": {**machine_info(), **(load or {})}, "case": case,
            "rows": [asdict(r) for r in rows]}
    body = [*_markdown_table(LADDER_HEADERS, [_ladder_cells(r) for r in rows]), "", f"- command: {command}"]
    return _write(out, f"ladder-{case}", data, f"convscope ladder, case {case}", body)


def _machine_line(m: dict[str, Any]) -> str:
    load, steal = m.get("loadavg_1_5_15"), m.get("cpu_steal_fraction")
    others, tiny = m.get("other_processes_cpu_fraction"), m.get("torch_tiny_call_ms")
    return "".join([
        (f"Machine: {m['cpu_count']} CPUs ({m['cpus_usable']} usable), {m['platform']}, Python {m['python']}, "
         f"numpy {m['numpy']}, scipy {m['scipy']}, torch {m['torch']} ({m['torch_threads']} threads), "
         f"OPENBLAS_CORETYPE={m['OPENBLAS_CORETYPE']} (BLAS kernels: {m.get('blas_kernels')})"),
        "" if load is None else f", load average {load[0]:.2f} at the end",
        "" if steal is None else f", {steal:.1%} of CPU time stolen by the hypervisor",
        "" if others is None else f", other processes used {others:.0%} of the CPUs during the run",
        "" if tiny is None else f", a 2-thread torch call on a 5x5 image takes {tiny:.3g} ms", "."])


SLOW_WAKE_MS = 0.5  # a 2-thread torch call on a 5x5 image slower than this: slow thread wake-ups
BUSY_OTHERS = 0.10  # other processes using this share of the CPUs: a noisy run


def noise_warning(m: dict[str, Any]) -> str | None:
    """A warning when the run's timings are untrustworthy: other processes competed for the
    CPUs, or waking a second thread was slow (then every multi-threaded call carries a floor)."""
    others, tiny = m.get("other_processes_cpu_fraction"), m.get("torch_tiny_call_ms")
    if others is not None and others >= BUSY_OTHERS:
        return (f"warning: other processes used {others:.0%} of the CPUs during this run; threaded BLAS, "
                "torch and numba degrade badly when they compete, so these numbers are unreliable: rerun on "
                "an idle machine")
    if tiny is not None and tiny >= SLOW_WAKE_MS:
        return (f"warning: a 2-thread torch call on a 5x5 image took {tiny:.3g} ms in this process (normally "
                "~0.005 ms): waking a second thread is slow here, so multi-threaded calls (torch, numba) carry "
                "a floor of milliseconds and the small cases' ratios are unreliable; rerun")
    return None
