"""What every experiment returns and how it is written: results.json, figures, README.md."""

from __future__ import annotations

import json
import time
from inspect import signature
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine.errors import ConvScopeError
from ..images import atomic_write

Progress = Callable[[str, int], Callable[[int], None]]  # (description, total) -> update(done)


def silent(description: str, total: int) -> Callable[[int], None]:
    return lambda done: None


@dataclass
class Result:
    """One experiment's outcome: flat numeric metrics, a verdict, figures and the README's lines."""

    experiment: str
    quick: bool
    seed: int
    metrics: dict[str, float]
    verdict: str
    figures: dict[str, Any] = field(default_factory=dict)   # file stem -> matplotlib figure
    details: list[str] = field(default_factory=list)        # Markdown lines for README.md
    seconds: float = 0.0
    holds: bool = True                                        # whether the claim held in this run

    def to_dict(self) -> dict[str, Any]:
        return {"experiment": self.experiment, "quick": self.quick, "seed": self.seed,
                "seconds": round(self.seconds, 2), "metrics": self.metrics, "verdict": self.verdict,
                "holds": self.holds, "figures": [f"{stem}.png" for stem in self.figures]}

    def readme(self) -> str:
        lines = [f"# {self.experiment}", "", f"**Verdict:** {self.verdict}", "",
                 f"Run: {'quick' if self.quick else 'full'} budget, seed {self.seed}, {self.seconds:.1f} s.", ""]
        lines += self.details + ["", "| metric | value |", "|---|---|"]
        lines += [f"| {name} | {value:.4g} |" for name, value in self.metrics.items()]
        lines += [""] + [f"![{stem}]({stem}.png)" for stem in self.figures]
        return "\n".join(lines) + "\n"

    def write(self, out: str | Path) -> Path:
        from ..plots import save_figure

        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for stem, figure in self.figures.items():
            save_figure(figure, folder / f"{stem}.png")
        atomic_write(folder / "results.json",
                     lambda t: Path(t).write_text(json.dumps(self.to_dict(), indent=2) + "\n"))
        atomic_write(folder / "README.md", lambda t: Path(t).write_text(self.readme()))
        return folder


@dataclass(frozen=True)
class Experiment:
    name: str
    claim: str
    run: Callable[..., Result]


REGISTRY: dict[str, Experiment] = {}


def experiment(name: str, claim: str) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    def register(function: Callable[..., Result]) -> Callable[..., Result]:
        REGISTRY[name] = Experiment(name, claim, function)
        return function
    return register


def run_experiment(name: str, quick: bool = False, seed: int = 0, device: str = "cpu",
                   progress: Progress = silent, data_dir: str | None = None) -> Result:
    """Run one experiment by name, timed. ``data_dir``: a folder of MNIST or Fashion-MNIST IDX
    files, which the experiments that can use a larger image set (shuffle) add to theirs."""
    if name not in REGISTRY:
        raise ConvScopeError("unknown experiment", expected=", ".join(REGISTRY), got=repr(name),
                             fix="`convscope experiment list` shows them")
    from ..models import device_for

    device_for(device)  # a missing CUDA fails here, before any work
    start = time.perf_counter()
    options = {"data_dir": data_dir} if data_dir and "data_dir" in signature(REGISTRY[name].run).parameters else {}
    result = REGISTRY[name].run(quick=quick, seed=seed, device=device, progress=progress, **options)
    result.seconds = time.perf_counter() - start
    return result
