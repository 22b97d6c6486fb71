"""The lessons as Jupyter notebooks, generated from percent scripts kept in this package.

Each notebook's source is a plain Python file under ``sources/`` in the "percent" format that
Jupytext, VS Code and Spyder read: ``# %%`` starts a code cell, ``# %% [markdown]`` a text cell
whose lines are comments. The scripts run as they are (``python sources/manual_conv_lab.py``)
and are the only copy, so a notebook cannot drift from the library: the tests execute every
generated notebook on a real kernel.

One script, ``experiment.py``, is a template: each experiment's notebook is that script with
the experiment's name put in, and its claim read from the experiment registry when it runs.

Examples
--------
>>> [spec.stem for spec in notebooks()][:3]
['lab-01-manual_conv_lab', 'lab-02-edge_lab', 'lab-03-size_lab']
>>> cells = parse_percent("# %% [markdown]\\n# # Title\\n# text\\n\\n# %%\\nx = 1\\n")
>>> [(cell["cell_type"], "".join(cell["source"])) for cell in cells]
[('markdown', '# Title\\ntext'), ('code', 'x = 1')]
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["NotebookSpec", "build", "notebooks", "parse_percent", "write_notebooks"]

_CELL = re.compile(r"^# %%(?P<rest>.*)$")
_TEMPLATE_NAME = "__EXPERIMENT__"   # the experiment template's placeholder, a valid Python string's content


@dataclass(frozen=True)
class NotebookSpec:
    """One notebook: its file stem, its source script and what to put in a template."""

    stem: str
    source: str            # a file name under sources/
    experiment: str = ""   # for the experiment template: the experiment's registry name


def notebooks() -> list[NotebookSpec]:
    """Every notebook, in the order a learner meets them: the labs (tour order), the Sobel
    exercise, then each experiment (the report's order)."""
    from ..experiments import ORDER
    from ..lessons import list_labs

    labs = [NotebookSpec(f"lab-{i:02d}-{lab.name}", f"{lab.name}.py") for i, lab in enumerate(list_labs(), 1)]
    exercise = [NotebookSpec("exercise-sobel", "sobel_exercise.py")]
    experiments = [NotebookSpec(f"experiment-{i:02d}-{name}", "experiment.py", name)
                   for i, name in enumerate(ORDER, 1)]
    return labs + exercise + experiments


def _source_text(name: str) -> str:
    return resources.files(__package__).joinpath("sources", name).read_text(encoding="utf-8")


def _lines(text: str) -> list[str]:
    """nbformat's multi-line string: a list of lines, each but the last keeping its newline."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]] if text else []


def _markdown(line: str) -> str:
    if line.startswith("# "):
        return line[2:]
    return "" if line.rstrip() == "#" else line


def parse_percent(text: str) -> list[dict[str, Any]]:
    """Cells from a percent script: text before the first ``# %%`` (a module docstring, say) is
    dropped; blank lines around a cell are trimmed."""
    cells: list[dict[str, Any]] = []
    kind: str | None = None   # None: before the first marker
    body: list[str] = []

    def close() -> None:
        if kind is None:
            return
        lines = [_markdown(line) for line in body] if kind == "markdown" else body
        text = "\n".join(lines).strip("\n")
        if not text:
            return
        cell: dict[str, Any] = {"cell_type": kind, "metadata": {}, "source": _lines(text)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)

    for line in text.split("\n"):
        marker = _CELL.match(line)
        if marker:
            close()
            kind, body = ("markdown" if "[markdown]" in marker.group("rest") else "code"), []
        elif kind is not None:
            body.append(line)
    close()
    return cells


def build(spec: NotebookSpec) -> dict[str, Any]:
    """The notebook as nbformat 4 JSON (a dict), with no outputs: a kernel fills them."""
    text = _source_text(spec.source)
    if spec.experiment:
        text = text.replace(_TEMPLATE_NAME, spec.experiment)
    return {"nbformat": 4, "nbformat_minor": 5, "cells": _with_ids(parse_percent(text), spec.stem),
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"},
                         "convscope": {"generated_from": f"convscope/notebooks/sources/{spec.source}"}}}


def _with_ids(cells: list[dict[str, Any]], stem: str) -> list[dict[str, Any]]:
    # nbformat 4.5 wants an id per cell; stable ids keep regenerated notebooks diff-free
    for index, cell in enumerate(cells):
        cell["id"] = f"{stem[:40]}-{index}"
    return cells


def write_notebooks(out: str | Path, names: list[str] | None = None) -> list[Path]:
    """Write every notebook (or those whose stem contains one of ``names``) as ``out/<stem>.ipynb``."""
    from ..images import atomic_write

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    specs = [spec for spec in notebooks() if not names or any(name in spec.stem for name in names)]
    written = []
    for spec in specs:
        document = json.dumps(build(spec), indent=1, ensure_ascii=False) + "\n"

        def write(temporary: str, document: str = document) -> None:
            Path(temporary).write_text(document, encoding="utf-8")
        written.append(atomic_write(folder / f"{spec.stem}.ipynb", write))
    return written
