"""The ``convscope`` command line: run the labs, explain an output size, take the tour.

Lab text goes to stdout with plain ``print`` so it stays byte-identical to what the
lesson's program prints; rich only draws the tables, rules and panels around it.
Every error a user can cause (a :class:`~convscope.engine.errors.ConvScopeError`, or
a bad command-line parameter) prints one line, ``error: <message>``, to stderr and
exits with code 2, without a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from enum import Enum
from typing import Annotated, Any

import typer
import typer.core
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from . import __version__, cli_checks, cli_console
from .engine.errors import ConvScopeError
from .lessons import list_labs, run_lab
from .lessons.labs import Check, LabResult

EXIT_USAGE = 2


class _Group(typer.core.TyperGroup):
    """The top-level command group; it turns user errors into one ``error:`` line and exit 2."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except ConvScopeError as error:
            _fail(str(error))
        except BrokenPipeError:  # `convscope ... | head`: the reader left; say nothing more
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except OSError as error:  # a path the checks before the work could not foresee: a full disk, a folder
            _fail(str(ConvScopeError(  # removed meanwhile, a file that vanished while being read
                f"the operating system refused: {error}", fix="check the path named, its permissions and the free "
                "disk space")))
        except MemoryError as error:
            _fail(str(ConvScopeError("not enough memory for this request", got=str(error)[:200] or "MemoryError",
                                     fix="use a smaller input")))
        except typer.TyperException as error:  # click's usage errors: bad option, missing argument, ...
            if type(error).__name__ == "NoArgsIsHelpError":
                error.show()  # type: ignore[attr-defined]
                sys.exit(EXIT_USAGE)
            ctx = getattr(error, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            _fail(error.format_message() + hint, getattr(error, "exit_code", EXIT_USAGE))
        except typer.Abort:
            print("Aborted!", file=sys.stderr)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(code)


app = typer.Typer(cls=_Group, name="convscope", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False,
                  help="Show, compute and prove how convolution lets a network detect spatial patterns.")
lab_app = typer.Typer(no_args_is_help=True, help="List and run the labs (lesson programs checked against torch).")
app.add_typer(lab_app, name="lab")


class Backend(str, Enum):
    """Engine backends a lab can run on."""

    auto = "auto"
    reference = "reference"
    numpy = "numpy"
    torch = "torch"


def _version(value: bool) -> None:
    if value:
        print(f"convscope {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False) -> None:
    """Show, compute and prove how convolution lets a network detect spatial patterns."""


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
def lab_run(name: Annotated[str, typer.Argument(help="A lab name from `convscope lab list`, or `all`.")],
            backend: Annotated[Backend, typer.Option(help="Engine backend that computes the numbers.")]
            = Backend.auto) -> None:
    """Run a lab (or `all`): print what its program prints, then its checks against torch."""
    names = [lab.name for lab in list_labs()] if name == "all" else [name]
    _run_labs(names, backend.value)


@app.command()
def size(size: Annotated[int, typer.Argument(metavar="IN", help="Input length along one axis.")],
         kernel: Annotated[int, typer.Option("--kernel", "-k", help="Kernel size.")],
         stride: Annotated[int, typer.Option(help="Stride.")] = 1,
         padding: Annotated[str, typer.Option(help="Padding: an integer (each side), BEFORE,AFTER (e.g. 0,1), "
                                              "`valid`, `same` (stride 1, torch), `same_upper` or `same_lower` "
                                              "(any stride, ONNX; TensorFlow's `same` is same_upper).")] = "0",
         dilation: Annotated[int, typer.Option(help="Dilation.")] = 1,
         ceil_mode: Annotated[bool, typer.Option("--ceil-mode", help="Round up, as pooling can.")] = False
         ) -> None:
    """Explain, step by step, the output size of a convolution along one axis."""
    from .engine import explain_output_size

    pad: int | str | tuple[int, int] = padding
    try:  # int() is the judge: "²".isdigit() is True, yet int("²") fails; anything else is a padding name
        sides = [int(part) for part in padding.split(",")]
        pad = sides[0] if len(sides) == 1 else (sides[0], sides[1]) if len(sides) == 2 else padding
    except ValueError:
        pass
    print(explain_output_size(size, kernel, stride, pad, dilation, ceil_mode))


@app.command()
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


@app.command()
def bench(quick: Annotated[bool, typer.Option("--quick", help="Fewer repetitions, budgets for slow routes, "
                                               "memory on 2 cases: the whole suite in under a minute.")] = False,
          out: Annotated[str, typer.Option("--out", help="Folder for results.json and results.md (created if "
                                           "missing).")] = "bench-results",
          ladder: Annotated[str | None, typer.Option("--ladder", metavar="CASE",
                                                     help="Instead of the suite: one case through every "
                                                     "contender, from the reference loops to torch.")] = None,
          cases: Annotated[str | None, typer.Option("--cases", help="Comma-separated case names (a-h); "
                                                    "default: all.")] = None,
          memory: Annotated[bool, typer.Option("--memory/--no-memory", help="Peak memory of auto and torch, "
                                               "each in a fresh process (slow).")] = True,
          backward: Annotated[bool, typer.Option("--backward/--no-backward", help="Also time the gradients "
                                                 "against torch autograd.")] = True) -> None:
    """Time the engine against torch and SciPy on eight convolutions (or one case's ladder)."""
    from time import perf_counter

    from .bench import bench_command, run_bench, run_ladder, select_cases
    from .bench.suite import get_case

    if ladder is not None:  # an unknown case fails before anything is measured
        get_case(ladder)
    else:
        select_cases(cases)
    cli_checks.output_folder(out)  # so does an --out that cannot be written
    console = cli_console.console()
    start = perf_counter()
    if ladder is not None:
        run_ladder(ladder, quick=quick, out=out, console=console,
                   command=bench_command(quick=quick, out=out, ladder=ladder))
    else:
        run_bench(cases, quick=quick, out=out, memory=memory, backward=backward, console=console,
                  command=bench_command(cases, quick=quick, out=out, memory=memory, backward=backward))
    console.print(f"total {perf_counter() - start:.1f} s")


def _register_commands() -> None:
    from . import cli_experiments, cli_filters, cli_inspect, cli_notebooks, cli_quiz, cli_serve

    cli_serve.register(app)
    cli_experiments.register(app)
    cli_filters.register(app)
    cli_inspect.register(app)
    cli_notebooks.register(app)
    cli_quiz.register(app)


_register_commands()
