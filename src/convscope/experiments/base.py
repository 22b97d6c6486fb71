"""What an experiment is: one function run once per seed, claims checked over the seeds, a summary.

An experiment's function runs one seed and returns a :class:`SeedRun` (flat metrics such as
``mnist1d/cnn/shuffled``, and the small arrays its figures draw). It can run in another process,
so it returns data, never figures. The parent gathers the seeds into a :class:`Result`: every
metric's mean and 95% interval, each :class:`Claim` checked on its interval, the figures drawn
from all seeds, and a verdict sentence.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..engine.errors import ConvScopeError
from ..images import atomic_write
from .stats import TEST, Interval, interval

Progress = Callable[[str, int], Callable[[int], None]]  # (description, total) -> update(done)


def silent(description: str, total: int) -> Callable[[int], None]:
    return lambda done: None


@dataclass
class SeedRun:
    """One seed's outcome: what it measured, and the arrays its figures need (picklable, saved)."""

    metrics: dict[str, float]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    seed: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Claim:
    """A statistic of one seed's metrics that must lie above (or below) a threshold.

    ``statistic`` is usually a paired difference (the CNN's accuracy minus the MLP's, both
    trained on the same seed's data), so the interval is about the gap itself."""

    text: str
    statistic: Callable[[dict[str, float]], float]
    above: float | None = None
    below: float | None = None
    percent: bool = True        # shown as percentage points (accuracies) rather than raw numbers

    def check(self, runs: Sequence[SeedRun]) -> Check:
        values = [float(self.statistic(run.metrics)) for run in runs]
        spread = interval(values)
        if self.above is not None:
            holds, threshold, side = spread.low > self.above, self.above, ">"
        elif self.below is not None:
            holds, threshold, side = spread.high < self.below, self.below, "<"
        else:
            raise ValueError(f"claim {self.text!r} has no threshold")
        return Check(self.text, spread, side, threshold, bool(holds), self.percent, values)


@dataclass
class Check:
    text: str
    interval: Interval
    side: str          # ">" or "<"
    threshold: float
    holds: bool
    percent: bool
    values: list[float]

    def line(self) -> str:
        """'the CNN drops more than 10 points: 34.1% [31.0, 37.2] > 10.0%: holds'."""
        scale, unit = (100.0, "%") if self.percent else (1.0, "")
        bound = "lower" if self.side == ">" else "upper"
        state = ("holds" if self.holds
                 else f"does not hold (the interval's {bound} end is not {self.side} the threshold)")
        alone = " (one seed: no interval, the value itself decides)" if self.interval.n < 2 else ""
        return (f"{self.text}: {self.interval.text(self.percent)} {self.side} "
                f"{self.threshold * scale:g}{unit}: {state}{alone}")

    def as_dict(self) -> dict[str, Any]:
        return {"claim": self.text, **self.interval.as_dict(), "side": self.side, "threshold": self.threshold,
                "holds": self.holds, "values": [round(v, 6) for v in self.values], "test": TEST}


@dataclass
class Result:
    """An experiment over its seeds: intervals, checked claims, verdict, figures."""

    experiment: str
    claim: str
    quick: bool
    runs: list[SeedRun]
    stats: dict[str, Interval]
    checks: list[Check]
    verdict: str = ""
    figures: dict[str, Any] = field(default_factory=dict)   # file stem -> matplotlib figure
    details: list[str] = field(default_factory=list)        # Markdown lines for README.md
    seconds: float = 0.0                                      # the seeds' times added up

    @property
    def seeds(self) -> list[int]:
        return [run.seed for run in self.runs]

    @property
    def metrics(self) -> dict[str, float]:
        """Each metric's mean over the seeds."""
        return {name: spread.mean for name, spread in self.stats.items()}

    @property
    def holds(self) -> bool:
        return all(check.holds for check in self.checks)

    def text(self, metric: str, percent: bool = True) -> str:
        return self.stats[metric].text(percent)

    def to_dict(self) -> dict[str, Any]:
        return {"experiment": self.experiment, "claim": self.claim, "quick": self.quick, "seeds": self.seeds,
                "seconds": round(self.seconds, 2), "verdict": self.verdict, "holds": self.holds,
                "checks": [check.as_dict() for check in self.checks],
                "metrics": {name: spread.as_dict() for name, spread in self.stats.items()},
                "runs": [{"seed": run.seed, "seconds": round(run.seconds, 2), "metrics": run.metrics}
                         for run in self.runs],
                "figures": [f"{stem}.png" for stem in self.figures]}

    def readme(self) -> str:
        seeds = self.seeds
        lines = [f"# {self.experiment}", "", f"**Claim:** {self.claim}", "",
                 f"**Verdict ({'holds' if self.holds else 'does not hold'}):** {self.verdict}", "",
                 f"Run: {'quick' if self.quick else 'full'} budget, {len(seeds)} seed(s) "
                 f"({', '.join(map(str, seeds))}), {self.seconds:.1f} s of computing (all seeds). Test: {TEST}.", ""]
        lines += [f"- {check.line()}" for check in self.checks] + [""] + self.details
        lines += ["", "| metric | mean | sd | 95% interval |", "|---|---|---|---|"]
        lines += [f"| {name} | {s.mean:.4g} | {s.sd:.2g} | [{s.low:.4g}, {s.high:.4g}] |"
                  for name, s in self.stats.items()]
        lines += [""] + [f"![{stem}]({stem}.png)" for stem in self.figures]
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        """In a notebook: the claim, the verdict, each check, every metric with its interval (as in
        README.md's table), and the figures as embedded PNGs (left open: :meth:`write` may follow)."""
        from ..display import block, escape, figure_img, table

        state = "holds" if self.holds else "does not hold"
        seeds = self.seeds
        checks = "".join(f"<li class='convscope-{'ok' if c.holds else 'bad'}'>"
                         f"{'&#10003;' if c.holds else '&#10007;'} {escape(c.line())}</li>" for c in self.checks)
        rows = [[name, f"{s.mean:.4g}", f"{s.sd:.2g}" if s.n > 1 else "-",
                 f"[{s.low:.4g}, {s.high:.4g}]" if s.n > 1 else "- (one seed)", s.n] for name, s in self.stats.items()]
        metrics = table(["metric", "mean", "sd", "95% interval", "seeds"], rows, numeric=("mean", "sd", "seeds"))
        figures = "".join(f"<figure style='margin:.5em 0'>{figure_img(figure, stem)}"
                          f"<figcaption class='convscope-muted'>{escape(stem)}</figcaption></figure>"
                          for stem, figure in self.figures.items())
        return block("result", f"<h4 style='margin:.2em 0'>{escape(self.experiment)}</h4>"
                               f"<div><b>Claim:</b> {escape(self.claim)}</div>"
                               f"<div class='convscope-{'ok' if self.holds else 'bad'}'><b>Verdict ({state}):</b> "
                               f"{escape(self.verdict)}</div><ul>{checks}</ul>"
                               f"<div class='convscope-muted'>{'quick' if self.quick else 'full'} budget, "
                               f"{len(seeds)} seed(s) ({escape(', '.join(map(str, seeds)))}), {self.seconds:.1f} s; "
                               f"{escape(TEST)}</div>{metrics}{figures}")

    def write(self, out: str | Path) -> Path:
        """results.json, README.md and one PNG per figure (the figures are closed afterwards)."""
        from ..plots import save_figure

        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for stem, figure in self.figures.items():
            save_figure(figure, folder / f"{stem}.png")
        atomic_write(folder / "results.json",
                     lambda t: Path(t).write_text(json.dumps(self.to_dict(), indent=2) + "\n"))
        atomic_write(folder / "README.md", lambda t: Path(t).write_text(self.readme()))
        return folder


Draw = Callable[[Result], dict[str, Any]]        # -> file stem: matplotlib figure
Describe = Callable[[Result], str]               # -> the verdict sentence


@dataclass(frozen=True)
class Experiment:
    name: str
    claim: str
    run: Callable[..., SeedRun]      # run(quick=, seed=, device=, progress=[, data_dir=]) -> SeedRun
    claims: tuple[Claim, ...]
    draw: Draw
    describe: Describe
    details: tuple[str, ...] = ()
    uses_data_dir: bool = False

    def run_seed(self, seed: int, quick: bool, device: str, progress: Progress = silent,
                 data_dir: str | None = None) -> SeedRun:
        start = time.perf_counter()
        options = {"data_dir": data_dir} if data_dir and self.uses_data_dir else {}
        run = self.run(quick=quick, seed=seed, device=device, progress=progress, **options)
        run.seed, run.seconds = seed, time.perf_counter() - start
        return run

    def summarise(self, runs: Sequence[SeedRun], quick: bool) -> Result:
        runs = sorted(runs, key=lambda r: r.seed)
        names = list(runs[0].metrics)  # every seed measures the same metrics, in the same order
        stats = {name: interval([run.metrics[name] for run in runs]) for name in names}
        result = Result(self.name, self.claim, quick, list(runs), stats, [c.check(runs) for c in self.claims],
                        details=list(self.details), seconds=sum(run.seconds for run in runs))
        result.verdict = self.describe(result)
        result.figures = self.draw(result)
        return result


REGISTRY: dict[str, Experiment] = {}


def experiment(name: str, claim: str, claims: Sequence[Claim], draw: Draw, describe: Describe,
               details: Sequence[str] = (), uses_data_dir: bool = False
               ) -> Callable[[Callable[..., SeedRun]], Callable[..., SeedRun]]:
    """Register a per-seed function under ``name`` with the claims its seeds must support."""
    def register(function: Callable[..., SeedRun]) -> Callable[..., SeedRun]:
        REGISTRY[name] = Experiment(name, claim, function, tuple(claims), draw, describe, tuple(details),
                                    uses_data_dir)
        return function
    return register


def lookup(name: str) -> Experiment:
    if name not in REGISTRY:
        raise ConvScopeError("unknown experiment", expected=", ".join(REGISTRY), got=repr(name),
                             fix="`convscope experiment list` shows them")
    return REGISTRY[name]
