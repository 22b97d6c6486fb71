"""What a quiz question is, and how its choices are assembled from the real mistakes."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

DIFFICULTIES = ("easy", "medium", "hard")


@dataclass(frozen=True)
class Question:
    """One multiple-choice question whose key was computed, not typed.

    ``facts`` holds the numbers the question was built from (layer settings, grids), so a
    test can recompute the answer independently.
    """

    question: str
    choices: list[str]
    answer_index: int
    explanation: str
    difficulty: str
    topic: str
    facts: dict[str, Any] = field(default_factory=dict, compare=False)
    ident: str = field(default="", compare=False)  # "topic/difficulty/seed": enough to make it again


    @property
    def answer(self) -> str:
        return self.choices[self.answer_index]

    def check(self, index: int) -> bool:
        """Whether choice ``index`` (0-based) is right."""
        return index == self.answer_index

    def _repr_html_(self) -> str:
        """In a notebook: the question, the choices lettered A, B, C, ..., and the answer with its
        explanation folded in a <details> (closed), so the reader can try first."""
        from ...display import block, escape

        letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[self.answer_index]
        choices = "".join(f"<li>{escape(choice)}</li>" for choice in self.choices)
        return block("question", f"<div class='convscope-muted'>{escape(self.topic)} &middot; "
                                 f"{escape(self.difficulty)}</div>"
                                 f"<div style='white-space:pre-wrap'><b>{escape(self.question)}</b></div>"
                                 f"<ol type='A'>{choices}</ol>"
                                 f"<details><summary>answer</summary><div><b>{letter}. {escape(self.answer)}</b></div>"
                                 f"<div style='white-space:pre-wrap'>{escape(self.explanation)}</div></details>")

    def to_dict(self, with_facts: bool = False) -> dict[str, Any]:
        data = asdict(self)
        data.pop("ident")
        if not with_facts:
            data.pop("facts")
        return data


class NoQuestion(Exception):
    """A draw that cannot make a fair question (too few distinct distractors): draw again."""


def assemble(rng: random.Random, question: str, answer: Any, mistakes: Iterable[tuple[Any, str]],
             explanation: str, difficulty: str, topic: str, facts: dict[str, Any],
             render: Callable[[Any], str] = str, count: int = 4) -> Question:
    """A question with ``answer`` and up to ``count - 1`` distractors taken from ``mistakes``
    (value, the mistake that produces it), skipping any equal to the answer or to each other.

    The explanation gains one line per distractor used, saying which mistake gives it.
    """
    right = render(answer)
    chosen: list[tuple[str, str]] = []
    for value, mistake in mistakes:
        text = render(value)
        if text != right and all(text != c for c, _ in chosen):
            chosen.append((text, mistake))
        if len(chosen) == count - 1:
            break
    if len(chosen) < count - 1:
        raise NoQuestion(f"{topic}: only {len(chosen)} distinct distractors")
    choices = [right] + [c for c, _ in chosen]
    rng.shuffle(choices)
    traps = "\n".join(f"- {text}: {mistake}" for text, mistake in chosen)
    return Question(question, choices, choices.index(right), f"{explanation}\nThe other choices:\n{traps}",
                    difficulty, topic, facts)
