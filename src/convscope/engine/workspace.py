"""Memory the engine may use: the workspace budget and the array-size limit.

* The **workspace budget** is how much scratch memory one convolution may allocate.
  Fast algorithms trade memory for speed (im2col copies every window; Winograd and FFT
  hold transformed tiles). Each one sizes its chunks so that its scratch arrays stay
  within this budget, so a large input costs input + output + budget, not a multiple of
  the input.
* The **array limit** (:data:`DEFAULT_ARRAY_LIMIT`, 4 GiB) is the largest array one
  operation may hold: the padded input and the output (for a transposed convolution,
  its input and its output before the crop). Validation refuses a request whose arrays
  would be larger, with a :class:`~convscope.engine.errors.ArrayTooLargeError`, before
  anything is allocated, so a typo such as ``padding=2**62`` fails in microseconds
  instead of hanging or exhausting memory.

Both have a process-wide value (``set_...``) and a ``with`` override (:func:`workspace`,
:func:`array_limit`) kept in a :mod:`contextvars` variable: an override holds in the
thread (or asyncio task) that set it and is invisible to the others, so a web server
can lower one request's limit without touching the requests served beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

DEFAULT_BUDGET = 256 * 2**20  # bytes
# 4 GiB: far above any array the lessons, the web lab or a realistic layer need (a batch of
# 256 ResNet stem outputs, 256 x 64 x 112 x 112 float32, is 0.8 GiB), yet small enough to
# fail fast on the 2-core, few-GiB machines convscope runs on; well below 2**63 bytes, so
# every size that passes it fits NumPy's int64 arithmetic.
DEFAULT_ARRAY_LIMIT = 4 * 2**30  # bytes
MAX_BYTES = 2**63 - 1  # NumPy's own ceiling: no array (even an empty one) may describe more

_budget = DEFAULT_BUDGET
_array_limit = DEFAULT_ARRAY_LIMIT
# None: no override in this context, the process-wide value applies.
_budget_override: ContextVar[int | None] = ContextVar("convscope_workspace_budget", default=None)
_limit_override: ContextVar[int | None] = ContextVar("convscope_array_limit", default=None)


def _checked(nbytes: int, what: str, smallest: int, default: str) -> int:
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or not smallest <= nbytes <= MAX_BYTES:
        from .errors import ConvParameterError

        raise ConvParameterError(f"the {what} is out of range",
                                 expected=f"an int from {human_bytes(smallest)} to 2**63 - 1 bytes",
                                 got=repr(nbytes), fix=f"{default} is the default")
    return nbytes


def workspace_budget() -> int:
    """The current workspace budget in bytes (this context's override, else the process-wide value).

    Returns
    -------
    int
        Bytes of scratch one convolution may allocate.
    """
    override = _budget_override.get()
    return _budget if override is None else override


def set_workspace_budget(nbytes: int) -> None:
    """Set the budget (bytes) for every later convolution.

    Inside a ``with workspace(...)`` block it changes that block's budget only (as it
    always has: the block restores the budget it found on exit); elsewhere it sets the
    process-wide value, which every thread without an override uses.

    Parameters
    ----------
    nbytes
        At least 1 MiB.

    Raises
    ------
    ConvParameterError
        ``nbytes`` is not an int from 1 MiB to 2**63 - 1.

    Examples
    --------
    >>> set_workspace_budget(64 * 2**20); workspace_budget()
    67108864
    >>> set_workspace_budget(DEFAULT_BUDGET)
    """
    global _budget
    nbytes = _checked(nbytes, "workspace budget", 2**20, "set_workspace_budget(256 * 2**20)")
    if _budget_override.get() is None:
        _budget = nbytes
    else:
        _budget_override.set(nbytes)


@contextmanager
def workspace(nbytes: int) -> Iterator[None]:
    """Temporarily use another budget, in this thread (or task) only.

    Parameters
    ----------
    nbytes
        At least 1 MiB.

    Examples
    --------
    >>> with workspace(64 * 2**20):
    ...     workspace_budget()
    67108864
    >>> workspace_budget() == DEFAULT_BUDGET
    True
    """
    token = _budget_override.set(_checked(nbytes, "workspace budget", 2**20, "workspace(256 * 2**20)"))
    try:
        yield
    finally:
        _budget_override.reset(token)


def max_array_bytes() -> int:
    """The current array limit in bytes (this context's override, else the process-wide value).

    Returns
    -------
    int
        The largest padded input or output, in bytes, one operation may hold.
    """
    override = _limit_override.get()
    return _array_limit if override is None else override


def set_max_array_bytes(nbytes: int) -> None:
    """Set the array limit (bytes) for every later operation.

    Inside a ``with array_limit(...)`` block it changes that block's limit only; elsewhere
    the process-wide value, which every thread without an override uses.

    Parameters
    ----------
    nbytes
        From 1 to 2**63 - 1 (NumPy cannot describe a larger array).

    Raises
    ------
    ConvParameterError
        ``nbytes`` is not an int in that range.

    Examples
    --------
    >>> set_max_array_bytes(16 * 2**30); max_array_bytes()
    17179869184
    >>> set_max_array_bytes(DEFAULT_ARRAY_LIMIT)
    """
    global _array_limit
    nbytes = _checked(nbytes, "array limit", 1, "set_max_array_bytes(4 * 2**30)")
    if _limit_override.get() is None:
        _array_limit = nbytes
    else:
        _limit_override.set(nbytes)


@contextmanager
def array_limit(nbytes: int) -> Iterator[None]:
    """Temporarily use another array limit, in this thread (or task) only.

    Parameters
    ----------
    nbytes
        From 1 to 2**63 - 1.

    Examples
    --------
    >>> with array_limit(2**20):
    ...     max_array_bytes()
    1048576
    >>> max_array_bytes() == DEFAULT_ARRAY_LIMIT
    True
    """
    token = _limit_override.set(_checked(nbytes, "array limit", 1, "array_limit(4 * 2**30)"))
    try:
        yield
    finally:
        _limit_override.reset(token)


_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def human_bytes(nbytes: int) -> str:
    """A byte count for a message, exact where rounding would hide it (a size just over a limit).

    Parameters
    ----------
    nbytes
        A count of bytes, as large as a Python int goes.

    Returns
    -------
    str
        In the largest binary unit that keeps it at or above 1, with the exact count added
        when three digits would round it; past exbibytes, in bytes with an exponent.

    Examples
    --------
    >>> human_bytes(4 * 2**30), human_bytes(7199), human_bytes(2**130)
    ('4 GiB', '7.03 KiB (7199 bytes)', '1.4e+39 bytes')
    """
    value = float(nbytes)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            break
        value /= 1024
    if value >= 1024:  # beyond exbibytes a unit no longer helps
        return f"{float(nbytes):.2g} bytes"
    if unit == "bytes":
        return "1 byte" if nbytes == 1 else f"{nbytes} bytes"
    text = f"{value:.3g} {unit}"
    exact = nbytes % 1024 ** _UNITS.index(unit) == 0 and float(f"{value:.3g}") == value
    return text if exact or nbytes >= 2**50 else f"{text} ({nbytes} bytes)"


def chunks(total: int, bytes_per_item: int, budget: int | None = None) -> Iterator[slice]:
    """Split ``range(total)`` into slices whose scratch (``bytes_per_item`` each) fits the budget.

    >>> [(s.start, s.stop) for s in chunks(10, 3 * 2**20, 8 * 2**20)]
    [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
    """
    per_chunk = chunk_size(bytes_per_item, budget)
    for start in range(0, total, per_chunk):
        yield slice(start, min(total, start + per_chunk))


def chunk_size(bytes_per_item: int, budget: int | None = None) -> int:
    """Items per chunk of :func:`chunks` (at least one): ``len(list(chunks(n, b)))`` is
    ``-(-n // chunk_size(b))`` without walking the chunks.

    >>> chunk_size(3 * 2**20, 8 * 2**20)
    2
    """
    return max(1, (budget or workspace_budget()) // max(1, bytes_per_item))
