"""The workspace budget: how much scratch memory one convolution may allocate.

Fast algorithms trade memory for speed (im2col copies every window; Winograd and FFT
hold transformed tiles). Each one sizes its chunks so that its scratch arrays stay
within this budget, so a large input costs input + output + budget, not a multiple of
the input.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_BUDGET = 256 * 2**20  # bytes
_budget = DEFAULT_BUDGET


def workspace_budget() -> int:
    """The current budget in bytes."""
    return _budget


def set_workspace_budget(nbytes: int) -> None:
    """Set the budget (bytes) for every later convolution.

    >>> set_workspace_budget(64 * 2**20); workspace_budget()
    67108864
    >>> set_workspace_budget(DEFAULT_BUDGET)
    """
    global _budget
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 2**20:
        from .errors import ConvParameterError

        raise ConvParameterError("the workspace budget is too small", expected="an int of at least 1 MiB",
                                 got=repr(nbytes), fix="set_workspace_budget(256 * 2**20) is the default")
    _budget = nbytes


@contextmanager
def workspace(nbytes: int) -> Iterator[None]:
    """Temporarily use another budget: ``with workspace(64 * 2**20): ...``."""
    previous = _budget
    set_workspace_budget(nbytes)
    try:
        yield
    finally:
        set_workspace_budget(previous)


def chunks(total: int, bytes_per_item: int, budget: int | None = None) -> Iterator[slice]:
    """Split ``range(total)`` into slices whose scratch (``bytes_per_item`` each) fits the budget.

    >>> [(s.start, s.stop) for s in chunks(10, 3 * 2**20, 8 * 2**20)]
    [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
    """
    per_chunk = max(1, (budget or _budget) // max(1, bytes_per_item))
    for start in range(0, total, per_chunk):
        yield slice(start, min(total, start + per_chunk))
