"""The one way the command line makes a rich console."""

from __future__ import annotations

import os
import sys

from rich.console import Console


def console(pipe_default: int = 100) -> Console:
    """A console without syntax highlighting; its width is the terminal's, or, when the output is
    piped, ``COLUMNS`` if set, else ``pipe_default`` (so tables in files and tests do not depend on
    a terminal, yet ``COLUMNS=200 convscope ... > file`` gets wide tables)."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else pipe_width(pipe_default))


def pipe_width(default: int = 100) -> int:
    """The width for output that is not a terminal: ``COLUMNS`` when it is set to a number, else ``default``."""
    value = os.environ.get("COLUMNS", "").strip()
    return int(value) if value.isdigit() and int(value) >= 20 else default
