"""The concept bank's types: one item per claim the lessons make about why convolution finds spatial patterns.

Each item names its claim (``tag``), its right answer with a worked explanation, and three wrong
answers that learners really give, each with its own reason: why it tempts, and why it is wrong.
Where an item states a number torch can compute (a parameter count, an output size, a receptive
field), ``checks`` holds the computation and the number as the item writes it; the tests run it.
"""

from __future__ import annotations

from dataclasses import dataclass

TAGS = ("locality", "sharing", "equivariance", "invariance", "pooling", "hierarchy", "receptive_field",
        "long_range", "rotation_scale", "flattening", "padding_stride", "channels")


@dataclass(frozen=True)
class Check:
    """A number an item states, and a torch expression that computes it.

    ``expression`` is evaluated with ``torch``, ``nn`` and ``F`` in scope, plus the tests' helpers:
    ``field(*layers)`` (the side of one output unit's receptive field, from autograd), ``reads(*layers)``
    (how many input positions it depends on) and ``pooled_shift(layer, shift)`` (how far the output
    moves when the input is rolled by ``shift`` columns). ``value`` is the number as the item's text
    writes it (thousands separated by commas).
    """

    expression: str
    value: str


@dataclass(frozen=True)
class Concept:
    tag: str
    difficulty: str
    question: str
    answer: str
    wrong: tuple[tuple[str, str], ...]  # (wrong answer, why a learner picks it and why it is wrong)
    explanation: str
    checks: tuple[Check, ...] = ()
