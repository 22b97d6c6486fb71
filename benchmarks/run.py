"""Run the convscope benchmark suite: ``python benchmarks/run.py [--quick] [--cases a,b] ...``.

The same library function as ``convscope bench`` (:func:`convscope.bench.run_bench`,
or :func:`convscope.bench.run_ladder` with ``--ladder CASE``); see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from convscope.bench import bench_command, run_bench, run_ladder
from convscope.engine.errors import ConvScopeError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the whole suite in under a minute")
    parser.add_argument("--out", default="bench-results", help="folder for results.json and results.md")
    parser.add_argument("--ladder", metavar="CASE", help="one case through every contender instead")
    parser.add_argument("--cases", help="comma-separated case names (a-h); default: all")
    parser.add_argument("--memory", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--backward", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    command = bench_command(args.cases, quick=args.quick, out=args.out, memory=args.memory, backward=args.backward,
                            ladder=args.ladder).replace("convscope bench", "python benchmarks/run.py", 1)
    try:
        if args.ladder:
            run_ladder(args.ladder, quick=args.quick, out=args.out, console=console, command=command)
        else:
            run_bench(args.cases, quick=args.quick, out=args.out, memory=args.memory, backward=args.backward,
                      console=console, command=command)
    except ConvScopeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
