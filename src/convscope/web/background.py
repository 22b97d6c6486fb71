"""Background work of the lab (training the built-in models, the CNN-vs-MLP experiment) that stops when
the process exits.

A daemon thread still inside torch when Python shuts down kills the process ("terminate called
without an active exception", exit code 134): a test run that had finished green then failed.
So every such thread is started here, its work calls :func:`check` from its progress callback,
and at exit the flag is set and the threads are joined before the interpreter goes away.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable

_stopping = threading.Event()
_threads: list[threading.Thread] = []
_lock = threading.Lock()


class Stopped(Exception):
    """The process is exiting: the background work gives up where it is."""


def check() -> None:
    """Raise :class:`Stopped` once the process has begun to exit (call it from progress callbacks)."""
    if _stopping.is_set():
        raise Stopped


def start(target: Callable[[], None], name: str) -> threading.Thread:
    """Run ``target`` in a daemon thread that the exit hook stops and waits for."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    with _lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        _threads.append(thread)
    thread.start()
    return thread


@atexit.register
def _stop_all() -> None:
    _stopping.set()
    with _lock:
        running = list(_threads)
    for thread in running:
        thread.join(timeout=60)  # one training step at most, then the callback raises Stopped
