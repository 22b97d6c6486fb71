"""``convscope experiment list|run`` and ``convscope report``: the experiments with progress bars."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from . import checks as cli_checks
from . import console as cli_console

DATA_DIR_HELP = ("A folder with the four MNIST or Fashion-MNIST IDX files (train-images-idx3-ubyte, ...); the "
                 "shuffle experiment adds it to its data sets.")
experiment_app = typer.Typer(no_args_is_help=True, help="List and run the experiments behind the lessons' claims.")


class Device(str, Enum):
    cpu = "cpu"
    cuda = "cuda"


OVERALL = "units (experiment x seed) done"  # runner's name for the bar over the whole run


@contextmanager
def _bars(console: Console) -> Any:
    """Rich bars: one over the whole run, one per training while it runs (removed when it ends)."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        def track(description: str, total: int) -> Any:
            task = progress.add_task(description, total=total)

            def update(done: int) -> None:
                progress.update(task, completed=done)
                if done >= total and description != OVERALL:
                    progress.remove_task(task)
            return update
        yield track


def _check_name(name: str) -> None:
    from ..engine.errors import ConvScopeError
    from ..experiments import REGISTRY

    if name not in REGISTRY:  # the same words as run_experiment's, before any other check
        raise ConvScopeError("unknown experiment", expected=", ".join(REGISTRY), got=repr(name),
                             fix="`convscope experiment list` shows them")


def _seed_option() -> typer.models.OptionInfo:
    return typer.Option("--seed", callback=cli_checks.check_seed,
                        help=f"Seeds data, weights and batches ({cli_checks.SEED_HELP_RANGE}).")


SEEDS_HELP = "How many seeds (consecutive from --seed); default: 3 with --quick, 5 without."
WORKERS_HELP = "Processes that run seeds at once (default: one per core); 1 runs everything in this process."


def _seeds(seed: int, seeds: int | None, quick: bool) -> list[int]:
    from ..engine.errors import ConvScopeError
    from ..experiments import default_seeds

    count = default_seeds(quick) if seeds is None else seeds
    if not 1 <= count <= 100:
        raise ConvScopeError("--seeds is out of range", expected="1 to 100 seeds", got=str(count),
                             fix="--seeds 5 (an interval needs at least 2)")
    if seed + count - 1 > cli_checks.SEED_MAX:
        raise ConvScopeError("the last seed is out of range", expected=f"--seed + --seeds - 1 <= {cli_checks.SEED_MAX}",
                             got=f"--seed {seed} --seeds {count}", fix="a smaller --seed")
    return list(range(seed, seed + count))


def _workers(workers: int | None, units: int) -> int:
    from ..engine.errors import ConvScopeError

    if workers is not None and not 1 <= workers <= 64:
        raise ConvScopeError("--workers is out of range", expected="1 to 64 processes", got=str(workers),
                             fix="--workers 2, or leave it out for one per core")
    return max(1, min(workers or os.cpu_count() or 1, units))


def _check_data_dir(data_dir: str | None) -> None:
    """Read the IDX files before any training, so a wrong folder fails at once."""
    if data_dir is not None:
        cli_checks.input_folder(data_dir, "a folder with the four MNIST or Fashion-MNIST IDX files", "--data-dir")
        from ..data import load_idx_dataset

        load_idx_dataset(data_dir)


@experiment_app.command("list")
def experiment_list() -> None:
    """Every experiment and the claim it tests."""
    from ..experiments import REGISTRY

    table = Table(title="experiments")
    table.add_column("name")
    table.add_column("the claim")
    for item in REGISTRY.values():
        table.add_row(item.name, item.claim)
    cli_console.console().print(table)


@experiment_app.command("run")
def experiment_run(name: Annotated[str, typer.Argument(metavar="NAME", help="An experiment from "
                                                       "`convscope experiment list`.")],
                   out: Annotated[str, typer.Option("--out", help="Folder for results.json, figures, README.md "
                                                    "(created if missing).")],
                   quick: Annotated[bool, typer.Option("--quick", help="A small budget (seconds per seed).")] = False,
                   device: Annotated[Device, typer.Option("--device", help="Where to train: cpu, or cuda (a GPU, if "
                                                          "torch has one).")] = Device.cpu,
                   seed: Annotated[int, _seed_option()] = 0,
                   seeds: Annotated[int | None, typer.Option("--seeds", help=SEEDS_HELP)] = None,
                   workers: Annotated[int | None, typer.Option("--workers", help=WORKERS_HELP)] = None,
                   data_dir: Annotated[str | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None) -> None:
    """Run one experiment over several seeds; write its intervals, figures and verdict."""
    from ..experiments import run_experiments

    _check_name(name)
    chosen = _seeds(seed, seeds, quick)
    count = _workers(workers, len(chosen))
    cli_checks.output_folder(out, files=("results.json", "README.md"))
    _check_data_dir(data_dir)
    console = cli_console.console()
    with _bars(console) as track:
        result = run_experiments([name], quick, chosen, device.value, track, data_dir, count)[0]
    folder = result.write(out)
    console.print(f"[bold]{name}[/bold] ({len(chosen)} seed(s), {result.seconds:.1f} s of computing): "
                  f"{'holds' if result.holds else 'DOES NOT HOLD'}", markup=True)
    for check in result.checks:
        console.print(f"  {check.line()}", markup=False, highlight=False)
    console.print(result.verdict, markup=False, highlight=False)
    console.print(f"wrote {folder / 'results.json'}, {folder / 'README.md'} and {len(result.figures)} figure(s)")


def report_command(out: Annotated[str, typer.Option("--out", help="Folder for report.html and each experiment's "
                                                    "files, created if missing; a rerun into it resumes.")],
                   quick: Annotated[bool, typer.Option("--quick", help="Small budgets: the whole report in under "
                                                       "2 minutes on 2 cores.")] = False,
                   device: Annotated[Device, typer.Option("--device", help="Where to train: cpu, or cuda (a GPU, "
                                                          "if torch has one).")] = Device.cpu,
                   seed: Annotated[int, _seed_option()] = 0,
                   seeds: Annotated[int | None, typer.Option("--seeds", help=SEEDS_HELP)] = None,
                   workers: Annotated[int | None, typer.Option("--workers", help=WORKERS_HELP)] = None,
                   data_dir: Annotated[str | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None) -> None:
    """Run every experiment over several seeds and write one self-contained HTML page, section by
    section as each experiment finishes; seeds already saved in --out are not run again."""
    from ..experiments import REGISTRY, Result, run_experiments
    from ..experiments.report import render
    from ..images import atomic_write

    chosen = _seeds(seed, seeds, quick)
    names = list(REGISTRY)
    count = _workers(workers, len(names) * len(chosen))
    cli_checks.output_folder(out, files=("report.html",), folders=tuple(REGISTRY))
    _check_data_dir(data_dir)
    console = cli_console.console()
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done: dict[str, Result] = {}

    def write_page() -> None:
        page = render(names, done, folder, quick, chosen, time.perf_counter() - started, count)
        atomic_write(folder / "report.html", lambda t: Path(t).write_text(page, encoding="utf-8"))

    def finished(result: Result) -> None:
        result.write(folder / result.experiment)
        done[result.experiment] = result
        write_page()
        console.print(f"{result.experiment} ({result.seconds:.1f} s of computing): "
                      f"{'holds' if result.holds else 'DOES NOT HOLD'}", markup=False, highlight=False)

    write_page()
    with _bars(console) as track:
        run_experiments(names, quick, chosen, device.value, track, data_dir, count, resume_in=folder,
                        finished=finished)
    held = sum(r.holds for r in done.values())
    console.print(f"{held} of {len(done)} claims hold ({len(chosen)} seeds, {time.perf_counter() - started:.0f} s); "
                  f"wrote {folder / 'report.html'}")


def register(app: typer.Typer) -> None:
    app.add_typer(experiment_app, name="experiment")
    app.command("report")(report_command)
