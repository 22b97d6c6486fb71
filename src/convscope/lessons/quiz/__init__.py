"""Practice quizzes whose answers are computed, never typed.

Each generator draws fresh numbers from a seeded ``random.Random``, computes the answer
with the engine (output sizes, parameter counts, receptive fields, the convolution
itself) and builds its wrong choices from the mistakes people really make. The library
API the CLI and the web lab use: :func:`generate`, :meth:`Question.check` and the
``explanation`` each question carries.

>>> quiz = generate("easy", n=3, seed=7)
>>> [q.difficulty for q in quiz], all(len(set(q.choices)) == len(q.choices) for q in quiz)
(['easy', 'easy', 'easy'], True)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

from ...engine.errors import ConvParameterError
from .concepts import concept, error_snippet
from .model import DIFFICULTIES, NoQuestion, Question
from .shapes import (
    conv_output_shape,
    layer_params,
    linear_in_features,
    pool_output_shape,
    stack_params,
    tf_same_shape,
    transposed_output_shape,
    weight_shape,
)
from .values import hand_value, receptive_field, which_kernel

Generator = Callable[[random.Random, str], Question]

# topic -> (generator, the difficulties it serves)
TOPICS: dict[str, tuple[Generator, tuple[str, ...]]] = {
    "conv_output_shape": (conv_output_shape, DIFFICULTIES),
    "pool_output_shape": (pool_output_shape, DIFFICULTIES),
    "tf_same_shape": (tf_same_shape, DIFFICULTIES),
    "transposed_output_shape": (transposed_output_shape, ("medium", "hard")),
    "weight_shape": (weight_shape, DIFFICULTIES),
    "layer_params": (layer_params, DIFFICULTIES),
    "stack_params": (stack_params, ("medium", "hard")),
    "hand_value": (hand_value, DIFFICULTIES),
    "which_kernel": (which_kernel, DIFFICULTIES),
    "error_snippet": (error_snippet, DIFFICULTIES),
    "receptive_field": (receptive_field, DIFFICULTIES),
    "linear_in_features": (linear_in_features, DIFFICULTIES),
    "concept": (concept, DIFFICULTIES),
}
MAX_N = 200


def by_ident(ident: str) -> Question:
    """The question a ``Question.ident`` names, made again (the web lab keeps the key on the server)."""
    topic, _, rest = ident.partition("/")
    difficulty, _, seed = rest.partition("/")
    if topic not in TOPICS or not (seed.isascii() and seed.isdigit()) or len(seed) > 19:  # "²".isdigit() too
        raise ConvParameterError("unknown question id", expected="topic/difficulty/seed", got=repr(ident),
                                 fix="use an id the quiz endpoint returned")
    return question(topic, difficulty, int(seed))


def explain(item: Question, index: int) -> str:
    """What to show after choice ``index``: right or wrong, the answer, and the computation.

    >>> q = question("layer_params", "easy", 0)
    >>> explain(q, q.answer_index).startswith("Right")
    True
    """
    if not 0 <= index < len(item.choices):
        raise ConvParameterError("no such choice", expected=f"0 to {len(item.choices) - 1}", got=repr(index),
                                 fix="pick one of the choices")
    verdict = "Right" if item.check(index) else f"Not {item.choices[index]}: the answer is {item.answer}"
    return f"{verdict}.\n{item.explanation}"


def question(topic: str, difficulty: str, seed: int) -> Question:
    """One question of ``topic`` at ``difficulty``, the same for the same seed."""
    generator, levels = TOPICS[topic]
    if difficulty not in levels:
        raise ConvParameterError(f"{topic} has no {difficulty} questions", expected=" / ".join(levels),
                                 got=repr(difficulty), fix="pick another difficulty or topic")
    rng = random.Random(f"{topic}/{difficulty}/{seed}")
    for _ in range(100):
        try:
            return replace(generator(rng, difficulty), ident=f"{topic}/{difficulty}/{seed}")
        except NoQuestion:
            continue  # an unlucky draw (a window that does not fit, too few distinct distractors)
    raise RuntimeError(f"{topic}: no fair question in 100 draws")  # pragma: no cover - a generator bug


def generate(difficulty: str = "mixed", n: int = 10, seed: int = 0, topics: list[str] | None = None) -> list[Question]:
    """``n`` questions; "mixed" cycles easy, medium, hard. Topics rotate so a quiz covers many."""
    if difficulty not in (*DIFFICULTIES, "mixed"):
        raise ConvParameterError("unknown difficulty", expected="easy / medium / hard / mixed", got=repr(difficulty),
                                 fix="--difficulty mixed")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_N:
        raise ConvParameterError("a quiz needs between 1 and 200 questions", expected=f"1 <= n <= {MAX_N}",
                                 got=repr(n), fix="--n 10")
    unknown = sorted(set(topics or []) - set(TOPICS))
    if unknown:
        raise ConvParameterError("unknown quiz topic", expected=", ".join(TOPICS), got=", ".join(unknown),
                                 fix="leave topics out for all of them")
    rng = random.Random(seed)
    quiz: list[Question] = []
    for index in range(n):
        level = DIFFICULTIES[index % 3] if difficulty == "mixed" else difficulty
        pool = [t for t in (topics or TOPICS) if level in TOPICS[t][1]]
        if not pool:
            raise ConvParameterError(f"none of these topics has {level} questions", got=", ".join(topics or []),
                                     fix="add a topic or change the difficulty")
        used = {q.topic for q in quiz}
        fresh = [t for t in pool if t not in used] or pool
        quiz.append(question(rng.choice(fresh), level, rng.getrandbits(32)))
    return quiz


__all__ = ["DIFFICULTIES", "TOPICS", "Question", "by_ident", "explain", "generate", "question"]
