"""``convscope notebooks``: write the lessons as Jupyter notebooks."""

from __future__ import annotations

from typing import Annotated

import typer

from . import checks as cli_checks
from . import console as cli_console


def notebooks_command(
        out: Annotated[str, typer.Option("--out", help="Folder for the .ipynb files (created if missing; "
                                         "notebooks of the same name are replaced).")] = "convscope-notebooks",
        only: Annotated[list[str] | None, typer.Option(
            "--only", help="Write only notebooks whose name contains this (repeatable), e.g. `sobel`.")] = None
) -> None:
    """Write one notebook per lab, the Sobel exercise and each experiment (quick budget)."""
    from ..notebooks import notebooks, write_notebooks

    stems = [spec.stem for spec in notebooks() if not only or any(name in spec.stem for name in only)]
    if only:
        for name in only:
            if not any(name in spec.stem for spec in notebooks()):
                names = ", ".join(spec.stem for spec in notebooks())
                raise typer.BadParameter(f"no notebook name contains {name!r}; the names are: {names}",
                                         param_hint="--only")
    folder = cli_checks.output_folder(out, files=[f"{stem}.ipynb" for stem in stems])
    written = write_notebooks(folder, only)
    console = cli_console.console()
    for path in written:
        console.print(str(path), highlight=False)
    console.print(f"{len(written)} notebooks. Open them with `jupyter lab {folder}` (pip install jupyterlab), "
                  "VS Code or any Jupyter front end; the widgets need `pip install 'convscope[notebook]'`.",
                  highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command("notebooks")(notebooks_command)
