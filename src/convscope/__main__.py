"""``python -m convscope``: the same command line as ``convscope``."""

from .cli import app

app(prog_name="convscope")
