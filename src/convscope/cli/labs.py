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

from ..engine.errors import ConvScopeError
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


def _run_labs(names: list[str], backend: str, changes: dict[str, int | str] | None = None) -> None:
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
        ok = _show(run_lab(name, backend, **(changes or {}))) and ok
    if not ok:
        raise typer.Exit(1)


@lab_app.command("list")
def lab_list() -> None:
    """List every lab: name, seed lesson, title, and the parameters its exercises change."""
    table = Table(title="convscope labs")
    for column in ("name", "seed", "title", "parameters (the lesson's values)"):
        table.add_column(column)
    for lab in list_labs():
        knobs = " ".join(f"--{key.replace('_', '-')} {value or '-'}" for key, value in lab.params.items())
        table.add_row(Text(lab.name), Text(lab.seed), Text(lab.title), Text(knobs))
    Console(highlight=False).print(table)


@lab_app.command("run")
def lab_run(name: Annotated[str, typer.Argument(metavar="NAME", help="A lab name from `convscope lab list`, "
                                                "or `all`.")],
            backend: Annotated[Backend, typer.Option(help="Engine backend that computes the numbers.")]
            = Backend.auto,
            stride: Annotated[int | None, typer.Option(min=1, help="size_lab, conv2d_lab: the layer's stride.")]
            = None,
            padding: Annotated[int | None, typer.Option(min=0, help="size_lab, conv2d_lab: the layer's padding.")]
            = None,
            out_channels: Annotated[int | None, typer.Option(min=1, max=4096, help="channel_lab, conv2d_lab, "
                                                             "permute_lab: how many feature maps.")] = None,
            kernel: Annotated[str | None, typer.Option(help="manual_conv_lab: another kernel, rows split by / "
                                                       "(e.g. 1,0/0,-1).")] = None,
            at: Annotated[str | None, typer.Option(help="manual_conv_lab: one output worked by hand, e.g. 1,0 "
                                                   "for out[1, 0].")] = None) -> None:
    """Run a lab (or `all`): print what its program prints, then its checks against torch. The options
    after --backend are the lesson's exercises: `convscope lab list` shows which lab takes which."""
    changes: dict[str, int | str] = {key: value for key, value in (("stride", stride), ("padding", padding),
                                                                  ("out_channels", out_channels), ("kernel", kernel),
                                                                  ("at", at)) if value is not None}
    if changes and name == "all":
        raise ConvScopeError("an exercise's parameters change one lab", expected="a lab's name",
                             got="all with " + ", ".join(f"--{k.replace('_', '-')}" for k in changes),
                             fix="e.g. convscope lab run size_lab --stride 1")
    names = [lab.name for lab in list_labs()] if name == "all" else [name]
    _run_labs(names, backend.value, changes)


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
