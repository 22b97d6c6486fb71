"""A real uvicorn server for the tests that need one (browsers, concurrent clients): the lab as
`convscope serve` runs it, on a free loopback port, in a thread of the test process."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_lab() -> Iterator[str]:
    """Yield the lab's base URL while it serves; stop it afterwards."""
    import uvicorn

    from convscope.web.app import limited_app

    port = free_port()
    instance = uvicorn.Server(uvicorn.Config(limited_app(), host="127.0.0.1", port=port, log_level="warning"))
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
