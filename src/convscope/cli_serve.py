"""``convscope serve``: the local web lab on 127.0.0.1."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console


def serve_command(host: Annotated[str, typer.Option("--host", help="Where to listen; the default keeps the lab on "
                                                    "this machine.")] = "127.0.0.1",
                  port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The port.")] = 8000) -> None:
    """Start the interactive lab (stepper, gallery, shapes, feature maps, equivariance, quiz)."""
    import uvicorn

    from .web.app import limited_app

    Console(highlight=False).print(f"convscope lab: http://{host}:{port}/  (Ctrl+C stops it)")
    uvicorn.run(limited_app(), host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
