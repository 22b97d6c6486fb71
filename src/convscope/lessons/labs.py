"""The lab registry: the lessons' small programs, recomputed by the engine, proved by torch.

Each lab retells one program from a lesson text (a "seed"). Its ``text`` is what that
program prints, formatted exactly as Python, NumPy and torch print, but every number in
it is computed at run time by :func:`convscope.conv2d` or :func:`convscope.output_size`
on the engine backend the caller chose. Its ``checks`` run the same data through
``torch.nn.Conv2d`` or ``torch.nn.functional.conv2d`` (tolerance ``1e-5``); torch is
imported only then.

Examples
--------
>>> [lab.name for lab in list_labs()][:2]
['manual_conv_lab', 'edge_lab']
>>> result = run_lab("manual_conv_lab")
>>> print(result.text)
manual_conv_lab
[[-2.  2. -4.]
 [ 4.  0. -1.]
 [ 0.  0.  1.]]
>>> result.ok
True
"""

from __future__ import annotations

import difflib

from ..engine.errors import ConvScopeError
from . import seed000, seed002, seed003  # noqa: F401 - importing registers the labs, in tour order
from ._kit import LABS, TOLERANCE, Check, Lab, LabParameterError, LabResult

__all__ = ["LABS", "TOLERANCE", "Check", "Lab", "LabNotFoundError", "LabParameterError", "LabResult", "list_labs",
           "run_lab"]

# Tour order: the basics of seed 002, the SimpleCNN of seed 000, then seed 003's three layers
# (a stable sort keeps each module's own order).
_TOUR = [module.__name__ for module in (seed002, seed000, seed003)]
_ordered = sorted(LABS.values(), key=lambda lab: _TOUR.index(lab.func.__module__))
LABS.clear()
LABS.update((lab.name, lab) for lab in _ordered)


class LabNotFoundError(ConvScopeError):
    """A lab name that is not in :data:`LABS`; the message lists the valid names."""


def list_labs() -> list[Lab]:
    """Every lab, in tour order.

    Returns
    -------
    list of Lab
        Each with its ``name``, ``seed`` and ``title``.
    """
    return list(LABS.values())


def run_lab(name: str, backend: str = "auto", **changes: int | str) -> LabResult:
    """Run one lab.

    Parameters
    ----------
    name
        A key of :data:`LABS`, e.g. ``"manual_conv_lab"``.
    backend
        Engine backend: "auto", "reference", "numpy" or "torch". "auto" lets the lab
        choose (``sobel_lab`` picks "reference", the pure-Python layer it retells).
    changes
        The lesson's exercises: a lab's parameters (``Lab.params``) set to other values, e.g.
        ``run_lab("size_lab", stride=1)``.

    Returns
    -------
    LabResult
        ``text`` (what the lesson's program prints) and ``checks`` (engine vs torch).

    Raises
    ------
    LabNotFoundError
        ``name`` is not a lab.
    BackendError
        ``backend`` is not one of the engine's backends.

    Examples
    --------
    >>> run_lab("size_lab").text.splitlines()[-1]
    'output: (1, 2, 3, 3)'
    >>> run_lab("size_lab", stride=1).text.splitlines()[-1]
    'output: (1, 2, 6, 6)'
    >>> run_lab("nope")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    convscope.lessons.labs.LabNotFoundError: unknown lab; expected one of ...
    """
    lab = LABS.get(name)
    if lab is None:
        close = difflib.get_close_matches(name, LABS, n=1)
        raise LabNotFoundError("unknown lab", expected="one of " + ", ".join(LABS), got=repr(name),
                               fix=(f"did you mean {close[0]!r}? " if close else "")
                               + "run `convscope lab list` to see every lab with its title")
    return lab.run(backend, **changes)
