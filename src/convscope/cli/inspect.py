"""``convscope trace``, ``convscope doctor`` and ``convscope shape``: faces of :mod:`convscope.inspect`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from ..engine.errors import BackendError
from . import console as cli_console

MODEL_HELP = ("FILE.py:ModelClass, or package.module:attribute (a class, an instance or a factory). The file is "
              "imported and the model's code runs: only name files you trust.")
INPUT_HELP = "The input shape, e.g. 1,3,32,32 (random normal data of that shape)."
RUNS_CODE = ("It executes the given Python file: it imports it (every top-level statement runs) and runs the "
             "model's constructor and forward pass, so only run files you trust.\n\nBefore the real pass the model "
             "runs on PyTorch's meta device, which allocates nothing, to estimate the memory of the input and every "
             "activation; a pass that would need more than 4 GiB is refused (use a smaller input).")
TRACE_HELP = "Layer by layer: shapes, parameters, mult-adds, receptive field, jump and start.\n\n" + RUNS_CODE
DOCTOR_HELP = ("Run the model; if it fails, show the trace up to the failing layer and the fix. Exit 1 if it fails."
               "\n\n" + RUNS_CODE)


def _torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError as error:
        raise BackendError("inspecting a model needs PyTorch", expected="torch installed", got="no torch",
                           fix="pip install -c constraints.txt 'convscope[torch]'") from error


def trace_command(model: Annotated[str, typer.Argument(metavar="MODEL", help=MODEL_HELP)],
                  input: Annotated[str, typer.Option("--input", help=INPUT_HELP)],
                  depth: Annotated[int | None, typer.Option("--depth", min=1, help="Show modules down to this "
                                                            "nesting depth (deeper ones are summed in). Default: "
                                                            "every depth, or for a big model the deepest that "
                                                            "keeps the table under 60 rows.")] = None,
                  as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
                  measure: Annotated[bool | None, typer.Option("--measure/--no-measure", help="Also measure "
                                                               "receptive fields by gradients, a check of the "
                                                               "analytic ones. Default: only for small models "
                                                               "(a note says when it is skipped).")] = None
                  ) -> None:
    """Layer by layer: shapes, parameters, mult-adds, receptive field, jump and start (runs the model's code)."""
    _torch()
    from ..inspect import load_model, parse_shape, trace
    from ..inspect.trace import check_memory

    shape = parse_shape(input)
    found = load_model(model)
    check_memory(found, shape, bool(measure))  # refused here, before the input or any activation is allocated
    try:
        table = trace(found, shape, measure=measure, max_bytes=None)
    except Exception:  # noqa: BLE001 - a model that fails gets the doctor's explanation, not a traceback
        from ..inspect import doctor

        _print_diagnosis(doctor(found, shape, measure=bool(measure), max_bytes=None), as_json, depth)
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(table.to_dict(), indent=2))
        return
    console = cli_console.console(100)
    notes = []
    if depth is None:
        depth = table.readable_depth()
        if depth is not None:
            notes.append(f"{len(table.visible())} rows: shown to depth {depth} ({len(table.visible(depth))} rows; "
                         "--depth N for more)")
    console.print(table.to_rich(depth, width=console.width, notes=notes))


def doctor_command(model: Annotated[str, typer.Argument(metavar="MODEL", help=MODEL_HELP)],
                   input: Annotated[str, typer.Option("--input", help=INPUT_HELP)],
                   as_json: Annotated[bool, typer.Option("--json", help="Print the diagnosis as JSON.")] = False,
                   measure: Annotated[bool, typer.Option("--measure/--no-measure", help="When the pass runs, also "
                                                         "measure receptive fields by gradients (slow; off by "
                                                         "default).")] = False) -> None:
    """Run the model; if it fails, show the trace up to the failing layer and the fix. Exit 1 if it fails."""
    _torch()
    from ..inspect import doctor, load_model, parse_shape

    diagnosis = doctor(load_model(model), parse_shape(input), measure=measure)
    _print_diagnosis(diagnosis, as_json, None)
    if not diagnosis.ok:
        raise typer.Exit(1)


def _print_diagnosis(diagnosis: object, as_json: bool, depth: int | None) -> None:
    from ..inspect import Diagnosis

    assert isinstance(diagnosis, Diagnosis)
    if as_json:
        print(json.dumps(diagnosis.to_dict(), indent=2))
        return
    console = cli_console.console(200)
    if diagnosis.trace.rows:
        console.print(diagnosis.trace.to_rich(depth))
    for line in diagnosis.lines():
        label, _, rest = line.partition(": ")
        console.print(f"[bold]{label}:[/bold] {rest}" if rest and label in ("problem", "fix", "torch says")
                      else line)


def shape_command(stack: Annotated[str, typer.Argument(metavar="STACK", help='Layers separated by ->, e.g. '
                                                       '"Conv2d(3,16,3,padding=1) -> ReLU -> MaxPool2d(2) -> '
                                                       'Flatten -> Linear(?,10)". ? marks a value to solve.')],
                  input: Annotated[str, typer.Option("--input", help="The input shape, e.g. 1,3,32,32.")],
                  as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False) -> None:
    """The shape after every layer of a stack, the solved ?, and the PyTorch code."""
    from ..inspect import parse_shape, shape_stack

    report = shape_stack(stack, parse_shape(input))
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
        return
    table = Table(title=f"shapes for input {report.input_shape}", title_justify="left")
    for column in ("#", "layer", "as PyTorch", "output", "params"):
        table.add_column(column, justify="right" if column in ("#", "params") else "left")
    for index, row in enumerate(report.rows, start=1):
        table.add_row(str(index), row.text, row.code, str(row.output_shape), f"{row.params:,}")
    console = cli_console.console(200)
    console.print(table)
    for what, value in report.solved.items():
        console.print(f"solved: {what} = {value}")
    console.print(f"total params {report.total_params:,}\n")
    print(report.code(), end="")


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
    from ..engine import explain_output_size

    pad: int | str | tuple[int, int] = padding
    try:  # int() is the judge: "²".isdigit() is True, yet int("²") fails; anything else is a padding name
        sides = [int(part) for part in padding.split(",")]
        pad = sides[0] if len(sides) == 1 else (sides[0], sides[1]) if len(sides) == 2 else padding
    except ValueError:
        pass
    print(explain_output_size(size, kernel, stride, pad, dilation, ceil_mode))


def register(app: typer.Typer) -> None:
    app.command("trace", help=TRACE_HELP)(trace_command)
    app.command("doctor", help=DOCTOR_HELP)(doctor_command)
    app.command("shape")(shape_command)
