"""``convscope experiment list|run`` and ``convscope report``: the experiments with progress bars."""

from __future__ import annotations

from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import cli_checks, cli_console

DATA_DIR_HELP = ("A folder with the four MNIST or Fashion-MNIST IDX files (train-images-idx3-ubyte, ...); the "
                 "shuffle experiment adds it to its data sets.")
experiment_app = typer.Typer(no_args_is_help=True, help="List and run the experiments behind the lessons' claims.")


class Device(str, Enum):
    cpu = "cpu"
    cuda = "cuda"


@contextmanager
def _bars(console: Console) -> Any:
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        def track(description: str, total: int) -> Any:
            task = progress.add_task(description, total=total)
            return lambda done: progress.update(task, completed=done)
        yield track


def _check_name(name: str) -> None:
    from .engine.errors import ConvScopeError
    from .experiments import REGISTRY

    if name not in REGISTRY:  # the same words as run_experiment's, before any other check
        raise ConvScopeError("unknown experiment", expected=", ".join(REGISTRY), got=repr(name),
                             fix="`convscope experiment list` shows them")


def _seed_option() -> typer.models.OptionInfo:
    return typer.Option("--seed", callback=cli_checks.check_seed,
                        help=f"Seeds data, weights and batches ({cli_checks.SEED_HELP_RANGE}).")


def _check_data_dir(data_dir: str | None) -> None:
    """Read the IDX files before any training, so a wrong folder fails at once."""
    if data_dir is not None:
        cli_checks.input_folder(data_dir, "a folder with the four MNIST or Fashion-MNIST IDX files", "--data-dir")
        from .data import load_idx_dataset

        load_idx_dataset(data_dir)


@experiment_app.command("list")
def experiment_list() -> None:
    """Every experiment and the claim it tests."""
    from .experiments import REGISTRY

    table = Table(title="experiments")
    table.add_column("name")
    table.add_column("the claim")
    for item in REGISTRY.values():
        table.add_row(item.name, item.claim)
    cli_console.console().print(table)


@experiment_app.command("run")
def experiment_run(name: Annotated[str, typer.Argument(help="An experiment from `convscope experiment list`.")],
                   out: Annotated[str, typer.Option("--out", help="Folder for results.json, figures, README.md "
                                                    "(created if missing).")],
                   quick: Annotated[bool, typer.Option("--quick", help="A small budget (under 40 s each).")] = False,
                   device: Annotated[Device, typer.Option("--device", help="Where to train.")] = Device.cpu,
                   seed: Annotated[int, _seed_option()] = 0,
                   data_dir: Annotated[str | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None) -> None:
    """Run one experiment; write its numbers, figures and verdict."""
    from .experiments import run_experiment

    _check_name(name)
    cli_checks.output_folder(out, files=("results.json", "README.md"))
    _check_data_dir(data_dir)
    console = cli_console.console()
    with _bars(console) as track:
        result = run_experiment(name, quick, seed, device.value, track, data_dir)
    folder = result.write(out)
    console.print(f"[bold]{name}[/bold] ({result.seconds:.1f} s): {result.verdict}", markup=True)
    console.print(f"wrote {folder / 'results.json'}, {folder / 'README.md'} and {len(result.figures)} figure(s)")


def report_command(out: Annotated[str, typer.Option("--out", help="Folder for report.html (and each experiment's "
                                                    "files), created if missing.")],
                   quick: Annotated[bool, typer.Option("--quick", help="Small budgets: the whole report in under "
                                                       "3 minutes.")] = False,
                   device: Annotated[Device, typer.Option("--device")] = Device.cpu,
                   seed: Annotated[int, _seed_option()] = 0,
                   data_dir: Annotated[str | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None) -> None:
    """Run every experiment and write one self-contained HTML page."""
    from .experiments import REGISTRY, run_experiment
    from .experiments.report import render
    from .images import atomic_write

    cli_checks.output_folder(out, files=("report.html",), folders=tuple(REGISTRY))
    _check_data_dir(data_dir)
    console = cli_console.console()
    results = []
    with _bars(console) as track:
        for name in REGISTRY:
            result = run_experiment(name, quick, seed, device.value, track, data_dir)
            console.print(f"{name} ({result.seconds:.1f} s): {'holds' if result.holds else 'DID NOT HOLD'}")
            results.append(result)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for result in results:  # results.json and README.md per experiment, the figures only inline
        figures, result.figures = result.figures, {}
        result.write(folder / result.experiment)
        result.figures = figures
    page = render(results, quick)
    atomic_write(folder / "report.html", lambda t: Path(t).write_text(page, encoding="utf-8"))
    console.print(f"wrote {folder / 'report.html'}")


def register(app: typer.Typer) -> None:
    app.add_typer(experiment_app, name="experiment")
    app.command("report")(report_command)
