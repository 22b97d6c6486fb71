"""ASGI layers in front of the lab: a body-size limit, a Host and Origin check, and a gate that
bounds how much heavy work runs at once.

They sit outside FastAPI so that nothing a request sends reaches the app before it is checked,
and so that their refusals are the same JSON as the app's (``{"error": "..."}``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ..engine.errors import ConvScopeError

T = TypeVar("T")
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


async def _refuse(send: Any, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Answer 413 as soon as a request body passes ``limit`` bytes, declared or streamed.

    A streamed body is cut off mid-parse: whatever the app then answers (the form parser
    calls a cut body malformed, a 400) is swallowed, and the 413 goes out instead.
    """

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    def message(self) -> str:
        return (f"the request body is too large; expected at most {self.limit:,} bytes. "
                "Fix: send a smaller image (or a smaller photo export)")

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await _refuse(send, 413, self.message())
            return
        seen, exceeded, started = 0, False, False

        async def limited() -> dict:
            nonlocal seen, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                exceeded = True
                return {"type": "http.disconnect"}  # the app stops reading, as if the client had left
            return message

        async def guarded_send(message: dict) -> None:
            nonlocal started
            if exceeded:
                return
            started = True
            await send(message)

        try:
            await self.app(scope, limited, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _refuse(send, 413, self.message())


def _host_name(value: str) -> str:
    """``"127.0.0.1:8000"`` -> ``"127.0.0.1"``; ``"[::1]:8000"`` -> ``"::1"``; lower case."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class HostGuard:
    """Refuse requests addressed to another host name (DNS rebinding: a page on another site that
    resolves its own name to 127.0.0.1) and requests that a page on another site sends (a cross-site
    form post to /api/upload): browsers say so in ``Origin`` and ``Sec-Fetch-Site``.

    Requests without those headers (curl, scripts, the tests' client) are the user's own and pass.
    """

    def __init__(self, app: Any, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.allowed = {_host_name(h) for h in allowed_hosts}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        host = _host_name(headers.get("host", ""))
        if "*" not in self.allowed and host not in self.allowed:
            await _refuse(send, 421, f"this lab does not answer to the host name {host!r}; expected one of "
                                     f"{', '.join(sorted(self.allowed))}. Fix: open the address `convscope serve` "
                                     "printed (or start it with --allow-host NAME)")
            return
        origin = headers.get("origin")
        cross_site = headers.get("sec-fetch-site") == "cross-site"
        # another port on this machine is another site too (a dev server on :3000, say): compare host:port
        foreign = bool(origin and origin.split("://", 1)[-1].lower() != headers.get("host", "").strip().lower())
        if scope.get("method") not in ("GET", "HEAD", "OPTIONS") and (cross_site or foreign):
            await _refuse(send, 403, "requests from another site's page are refused; expected a request from "
                                     "the lab's own pages. Fix: use the lab at the address `convscope serve` printed")
            return
        await self.app(scope, receive, send)


class Busy(ConvScopeError):
    """The lab had no free worker for a heavy request within its wait (answered 503)."""


class ClientGone(Exception):
    """The client closed the connection while its request waited: nothing is computed or sent."""


class Gate:
    """At most ``slots`` heavy computations at once; a request waits ``wait`` seconds at most.

    The engine is thread-safe, but on two cores 32 filters at once only share the same CPU and
    all finish late: a few at a time finish early, the rest queue. A request whose client has
    gone while it queued is dropped before it computes (``still_wanted``).
    """

    def __init__(self, slots: int, wait: float) -> None:
        self.slots, self.wait = slots, wait
        self._semaphore = threading.BoundedSemaphore(slots)

    def run(self, work: Callable[[], T], still_wanted: Callable[[], bool] = lambda: True) -> T:
        start = time.monotonic()
        if not self._semaphore.acquire(timeout=self.wait):
            raise Busy("the lab is busy", expected=f"a free worker within {self.wait:g} s",
                       got=f"{self.slots} requests computing", fix="try again in a moment")
        try:
            if not still_wanted():
                raise ClientGone(f"after {time.monotonic() - start:.1f} s in the queue")
            return work()
        finally:
            self._semaphore.release()


def return_freed_memory() -> None:
    """Make glibc give freed arrays back to the system (Linux; elsewhere nothing happens).

    By default glibc raises its mmap threshold each time a large block is freed, so later
    arrays of a few MiB come from per-thread heaps that are never returned: under 32
    concurrent requests the server's RSS grew by hundreds of MiB past its caches. A fixed
    threshold (every array of 256 KiB or more gets its own mapping, unmapped when freed) and
    two heaps keep RSS near what is live. Called once, before the server's threads start.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        libc = ctypes.CDLL(name)
        M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8
        libc.mallopt(M_MMAP_THRESHOLD, 256 * 1024)
        libc.mallopt(M_ARENA_MAX, 2)
    except (OSError, AttributeError):  # not glibc (musl, macOS): its own policy applies
        return
