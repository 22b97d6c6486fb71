"""``convscope serve``: the local web lab on 127.0.0.1."""

from __future__ import annotations

import errno
import socket
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ..engine.errors import ConvScopeError

if TYPE_CHECKING:
    from ..web.served_models import ServedModel


def check_address(host: str, port: int) -> None:
    """Resolve ``host`` and bind ``port`` once, so that an unknown host or a port in use is one
    ``error:`` line here rather than uvicorn's log line and exit code 3 after start-up."""
    if not host.strip():
        raise ConvScopeError("--host is empty", expected="a host name or address to listen on", got="''",
                             fix="--host 127.0.0.1 (this machine only), or --host 0.0.0.0 (every interface)")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as error:
        raise ConvScopeError(f"cannot listen on {host!r}", expected="a host name or address of this machine",
                             got=str(error), fix="--host 127.0.0.1") from error
    probe = socket.socket(family, kind, proto)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        probe.bind(address)
    except OSError as error:
        fix = {errno.EADDRINUSE: f"choose another --port, e.g. --port {port + 1 if port < 65535 else 8001}",
               errno.EACCES: "choose a --port above 1023, e.g. --port 8000",
               errno.EADDRNOTAVAIL: "--host 127.0.0.1, or an address this machine has"}.get(
            error.errno or 0, "--host 127.0.0.1 --port 8000")
        raise ConvScopeError(f"cannot listen on {host}:{port}", expected="a free port on an address of this machine",
                             got=error.strerror or str(error), fix=fix) from error
    finally:
        probe.close()


def serve_command(host: Annotated[str, typer.Option("--host", help="Where to listen; the default keeps the lab on "
                                                    "this machine.")] = "127.0.0.1",
                  port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The port.")] = 8000,
                  allow_host: Annotated[list[str] | None, typer.Option(
                      "--allow-host", help="Another host name the lab may be reached by (repeatable; '*' for any). "
                      "Requests naming any other host are refused, so a web page cannot rebind its own name to the "
                      "lab.")] = None,
                  model: Annotated[str | None, typer.Option(
                      "--model", metavar="FILE.py:NAME", help="Your own model for the lab: a file and the class, "
                      "instance or function in it (or package.module:attr). The file is executed, as `convscope "
                      "trace` does: only run files you trust. It is loaded once, here, before the lab listens; the "
                      "lab never loads code or weights from an upload.")] = None,
                  weights: Annotated[str | None, typer.Option(
                      "--weights", metavar="FILE.pt", help="Weights for --model: torch.save(model.state_dict()) "
                      "(read with weights_only=True, so the file cannot run code).")] = None,
                  input: Annotated[str | None, typer.Option(
                      "--input", help="The shape of one input for --model, e.g. 1,3,224,224; checked by one "
                      "forward pass before the lab starts.")] = None) -> None:
    """Start the interactive lab (stepper, gallery, shapes, feature maps, equivariance, quiz)."""
    import uvicorn

    from ..web.app import limited_app

    served: tuple[ServedModel, ...] = ()
    if model is None and (weights or input):
        raise ConvScopeError(f"{'--weights' if weights else '--input'} is for --model", expected="--model FILE.py:NAME "
                             "with it", got=f"{'--weights' if weights else '--input'} alone",
                             fix="add --model models.py:MyNet, or leave it out for the built-in models")
    if model is not None:
        from ..web.served_models import load

        served = (load(model, weights, input),)   # every problem is one error line here, before listening
    check_address(host, port)
    Console(highlight=False).print(f"convscope lab: http://{host}:{port}/  (Ctrl+C stops it)")
    uvicorn.run(limited_app(host, tuple(allow_host or ()), served), host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
