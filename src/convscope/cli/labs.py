"""``convscope lab list|run`` and ``convscope tour``: the lessons' programs, rerun and checked.

Lab text goes to stdout with plain ``print`` so it stays byte-identical to what the
lesson's program prints; rich only draws the tables, rules and panels around it.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..lessons import list_labs, run_lab
from ..lessons.labs import Check, LabResult

lab_app = typer.Typer(no_args_is_help=True, help="List and run the labs (lesson programs checked against torch).")


class Backend(str, Enum):
    """Engine backends a lab can run on."""

    auto = "auto"
    reference = "reference"
    numpy = "numpy"
    torch = "torch"


def _check_line(check: Check) -> str:
    diff = f"{check.max_abs_diff:.3g}"
    if check.ok:
        return f"# check: {check.description} (max |diff| {diff})"
    return f"# check FAILED: {check.description} (max |diff| {diff}, tolerance {check.limit:.3g})"


def _show(result: LabResult) -> bool:
    print(result.text)
    for check in result.checks:
        print(_check_line(check))
    return result.ok


def _run_labs(names: list[str], backend: str) -> None:
    """Run ``names`` in order, printing each lab's text and checks; exit 1 if a check fails."""
    console = Console(highlight=False)
    ok = True
    labs = {lab.name: lab for lab in list_labs()}
    for index, name in enumerate(names):
        if len(names) > 1:
            if index:
                print()
            lab = labs[name]
            console.rule(Text(f"{lab.name} · seed {lab.seed}"), style="cyan")
            console.print(Text(f"# {lab.title}", style="italic"))
        ok = _show(run_lab(name, backend)) and ok
    if not ok:
        raise typer.Exit(1)


@lab_app.command("list")
def lab_list() -> None:
    """List every lab: name, seed lesson and title."""
    table = Table(title="convscope labs")
    for column in ("name", "seed", "title"):
        table.add_column(column)
    for lab in list_labs():
        table.add_row(Text(lab.name), Text(lab.seed), Text(lab.title))
    Console(highlight=False).print(table)


@lab_app.command("run")
def lab_run(name: Annotated[str, typer.Argument(metavar="NAME", help="A lab name from `convscope lab list`, "
                                                "or `all`.")],
            backend: Annotated[Backend, typer.Option(help="Engine backend that computes the numbers.")]
            = Backend.auto) -> None:
    """Run a lab (or `all`): print what its program prints, then its checks against torch."""
    names = [lab.name for lab in list_labs()] if name == "all" else [name]
    _run_labs(names, backend.value)


def tour(backend: Annotated[Backend, typer.Option(help="Engine backend that computes the numbers.")]
         = Backend.auto) -> None:
    """A short introduction, then every lab, each checked against torch."""
    Console(highlight=False).print(Panel(Text(
        "A convolution presses one small kernel on every window of an image and writes one "
        "number per press: a multiply, a sum, a slide.\n"
        "Each lab below reruns a program from the lessons. Every number it prints is "
        "computed by convscope's own engine, and each '# check' line compares those "
        "numbers with PyTorch."), title="convscope tour", border_style="cyan"))
    print()
    _run_labs([lab.name for lab in list_labs()], backend.value)
