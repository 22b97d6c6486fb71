"""``convscope quiz``: the generated practice quiz, in the terminal or as JSON with its key."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ..engine.errors import ConvScopeError
from . import checks as cli_checks

if TYPE_CHECKING:   # the generators load only when a quiz is asked for
    from ..lessons.quiz import Question

LETTERS = "ABCDEFGH"
# the generators' names, for --help (a literal: importing the generators would slow every command's start)
TOPIC_NAMES = ("conv_output_shape", "pool_output_shape", "tf_same_shape", "transposed_output_shape", "weight_shape",
               "layer_params", "stack_params", "hand_value", "which_kernel", "error_snippet", "receptive_field",
               "linear_in_features", "concept")


class Export(str, Enum):
    gift = "gift"
    markdown = "markdown"


class Difficulty(str, Enum):
    easy = "easy"
    medium = "medium"
    hard = "hard"
    mixed = "mixed"


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _ask(console: Console, number: int, total: int, question: Question) -> int | None:
    """Show one question and read a letter; None when the reader quits (q or end of input)."""
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
                 topics: Annotated[str | None, typer.Option("--topics", help="Comma-separated topics (default: "
                                                            "all of them): " + ", ".join(TOPIC_NAMES) + ".")]
                 = None,
                 as_json: Annotated[bool, typer.Option("--json", help="Print the quiz with its key, seed and "
                                                       "version as JSON instead of asking.")] = False,
                 export: Annotated[Export | None, typer.Option("--export", help="Write the quiz for another tool "
                                                               "instead of asking: gift (Moodle, key inside) or "
                                                               "markdown (the key in FILE.key.md).")] = None,
                 out: Annotated[str | None, typer.Option("--out", help="The file --export writes.")] = None
                 ) -> None:
    """A practice quiz whose answers are computed: after each answer, right or wrong and why."""
    import random

    from .. import __version__
    from ..lessons.quiz import generate

    target = None
    if export is not None:   # the file is checked before any work
        if not out:
            raise ConvScopeError("--export needs --out", expected="a file to write", got="no --out",
                                 fix=f"convscope quiz --export {export.value} --out quiz{SUFFIXES[export.value][0]}")
        target = cli_checks.output_file(out, SUFFIXES[export.value])
    if not as_json and export is None and not stdin_is_terminal():
        raise ConvScopeError("the quiz asks its questions in a terminal, and standard input is not one",
                             fix="run it in a terminal, or pass --json to get the questions with their key")
    chosen = [t.strip() for t in topics.split(",") if t.strip()] if topics else None
    seed = random.randrange(2**31) if seed is None else seed
    quiz = generate(difficulty.value, n, seed, topics=chosen)
    if as_json:
        print(json.dumps({"convscope": __version__, "seed": seed, "difficulty": difficulty.value,
                          "topics": chosen or list(TOPIC_NAMES), "questions": [q.to_dict() for q in quiz]}, indent=2))
        return
    if export is not None and target is not None:
        _export(quiz, export, target, f"convscope quiz (seed {seed}, {difficulty.value})")
        return
    _ask_all(quiz)


SUFFIXES = {"gift": (".gift", ".txt"), "markdown": (".md",)}


def _export(questions: list[Question], export: Export, target: Path, title: str) -> None:
    from ..images import atomic_write
    from ..lessons.quiz.export import gift, markdown

    if export is Export.gift:
        text = gift(questions, title)
        atomic_write(target, lambda part: Path(part).write_text(text))
        print(f"wrote {target} ({len(questions)} questions, Moodle GIFT)")
        return
    students, key = markdown(questions, title)
    key_file = target.with_name(target.stem + ".key.md")
    atomic_write(target, lambda part: Path(part).write_text(students))
    atomic_write(key_file, lambda part: Path(part).write_text(key))
    print(f"wrote {target} (the questions) and {key_file} (the key)")


def _ask_all(quiz: list[Question]) -> None:
    """Each question, then at once right or wrong with the worked explanation; the score at the end."""
    console = Console(highlight=False)
    answers = []
    for number, question in enumerate(quiz, start=1):
        reply = _ask(console, number, len(quiz), question)
        if reply is None:
            break
        answers.append(reply)
        mark = "[green]right[/green]" if question.check(reply) else \
            f"[red]wrong[/red] (you said {LETTERS[reply]}, the answer is {LETTERS[question.answer_index]})"
        console.print(f"{number}. {mark}: {question.answer}")
        console.print(question.explanation, markup=False)
        console.print()
    right = sum(q.check(a) for q, a in zip(quiz, answers))
    console.rule(f"score: {right} of {len(answers)}" + (f" (stopped after {len(answers)} of {len(quiz)})"
                                                         if len(answers) < len(quiz) else ""))


def register(app: typer.Typer) -> None:
    app.command("quiz")(quiz_command)
