"""A real server for the tests and benchmarks that need one: the lab as `convscope serve` runs it,
on a free loopback port, in a thread of the test process (running_lab) or as its own process
(serve_process, for benchmarks that read the server's memory)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_lab(models: tuple = ()) -> Iterator[str]:
    """Yield the lab's base URL while it serves (with ``models``: the user's, as `serve --model`
    loads them); stop it afterwards."""
    import uvicorn

    from convscope.web.app import limited_app

    port = free_port()
    instance = uvicorn.Server(uvicorn.Config(limited_app(models=models), host="127.0.0.1", port=port,
                                             log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    for _ in range(200):
        if instance.started:
            break
        time.sleep(0.05)
    assert instance.started, "the lab did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def serve_process() -> Iterator[tuple[str, subprocess.Popen]]:
    """`convscope serve` in a process of its own: yield (base URL, process) once it answers."""
    import httpx

    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).with_name("convscope")), "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=10)
