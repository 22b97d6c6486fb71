"""``convscope quiz``: the generated practice quiz, in the terminal or as JSON with its key."""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console

from ..engine.errors import ConvScopeError
from . import checks as cli_checks

LETTERS = "ABCDEFGH"


class Difficulty(str, Enum):
    easy = "easy"
    medium = "medium"
    hard = "hard"
    mixed = "mixed"


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _ask(console: Console, number: int, total: int, question: object) -> int | None:
    """Show one question and read a letter; None when the reader quits (q or end of input)."""
    from ..lessons.quiz import Question

    assert isinstance(question, Question)
    console.rule(f"question {number} of {total} · {question.difficulty} · {question.topic.replace('_', ' ')}")
    console.print(question.question, markup=False)
    for letter, choice in zip(LETTERS, question.choices):
        console.print(f"  {letter}) {choice}", markup=False)
    valid = LETTERS[:len(question.choices)]
    while True:
        try:
            reply = input(f"your answer ({'/'.join(valid)}, q to stop): ").strip().upper()
        except EOFError:
            return None
        if reply == "Q":
            return None
        if len(reply) == 1 and reply in valid:
            return valid.index(reply)
        console.print(f"type one of {', '.join(valid)}")


def quiz_command(difficulty: Annotated[Difficulty, typer.Option("--difficulty", help="easy, medium, hard, or mixed "
                                                                "(an equal share of each).")] = Difficulty.mixed,
                 n: Annotated[int, typer.Option("--n", min=1, max=200, help="How many questions.")] = 10,
                 seed: Annotated[int | None, typer.Option("--seed", callback=cli_checks.check_seed,
                                                          help="The same seed gives the same quiz "
                                                          f"({cli_checks.SEED_HELP_RANGE}).")] = None,
                 as_json: Annotated[bool, typer.Option("--json", help="Print the quiz with its key as JSON instead "
                                                       "of asking.")] = False) -> None:
    """A practice quiz whose answers are computed: score and explanations at the end."""
    import random

    from ..lessons.quiz import generate

    if not as_json and not stdin_is_terminal():
        raise ConvScopeError("the quiz asks its questions in a terminal, and standard input is not one",
                             fix="run it in a terminal, or pass --json to get the questions with their key")
    quiz = generate(difficulty.value, n, random.randrange(2**31) if seed is None else seed)
    if as_json:
        print(json.dumps([q.to_dict() for q in quiz], indent=2))
        return
    console = Console(highlight=False)
    answers = []
    for number, question in enumerate(quiz, start=1):
        reply = _ask(console, number, len(quiz), question)
        if reply is None:
            break
        answers.append(reply)
    right = sum(q.check(a) for q, a in zip(quiz, answers))
    console.rule(f"score: {right} of {len(answers)}" + (f" (stopped after {len(answers)} of {len(quiz)})"
                                                         if len(answers) < len(quiz) else ""))
    for number, (question, reply) in enumerate(zip(quiz, answers), start=1):
        mark = "[green]right[/green]" if question.check(reply) else \
            f"[red]wrong[/red] (you said {LETTERS[reply]}, the answer is {LETTERS[question.answer_index]})"
        console.print(f"{number}. {mark}: {question.answer}")
        console.print(question.explanation, markup=False)
        console.print()


def register(app: typer.Typer) -> None:
    app.command("quiz")(quiz_command)
