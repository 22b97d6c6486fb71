"""``convscope bench``: the engine timed against torch and SciPy (the suite, or one case's ladder)."""

from __future__ import annotations

from typing import Annotated

import typer

from . import checks as cli_checks
from . import console as cli_console


def bench(quick: Annotated[bool, typer.Option("--quick", help="Fewer repetitions, budgets for slow routes, "
                                               "memory on 2 cases: the whole suite in about 3 minutes on "
                                               "2 cores.")] = False,
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

    from ..bench import bench_command, run_bench, run_ladder, select_cases
    from ..bench.suite import get_case

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
