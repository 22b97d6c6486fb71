"""A quiz for another tool: Moodle's GIFT format (the key inside, as Moodle reads it) or Markdown
for students with the key in a separate file for the teacher.

>>> from convscope.lessons.quiz import generate
>>> quiz = generate("easy", 1, seed=2)
>>> gift(quiz).count("{") == 1 and "=" in gift(quiz)
True
>>> students, key = markdown(quiz)
>>> "answer" in students.lower(), key.startswith("# Key")
(False, True)
"""

from __future__ import annotations

from .model import Question

LETTERS = "ABCDEFGH"


def _gift_text(text: str) -> str:
    """GIFT's special characters escaped; a line break as GIFT writes it."""
    for char in "\\~=#{}:":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


def gift(quiz: list[Question], title: str = "convscope") -> str:
    """Moodle GIFT: one multiple-choice question per block, the right choice marked ``=``, each wrong
    one ``~`` with its reason as feedback (``#``), and the worked explanation as general feedback."""
    blocks = []
    for number, q in enumerate(quiz, start=1):
        choices = "\n".join(f"\t{'=' if i == q.answer_index else '~'}{_gift_text(choice)}"
                            for i, choice in enumerate(q.choices))
        blocks.append(f"::{_gift_text(title)} {number} ({q.topic}, {q.difficulty})::"
                      f"[markdown]{_gift_text(q.question)} {{\n{choices}\n\t####{_gift_text(q.explanation)}\n}}")
    return "\n\n".join(blocks) + "\n"


def markdown(quiz: list[Question], title: str = "convscope quiz") -> tuple[str, str]:
    """The questions (for students) and the key with each explanation (for the teacher)."""
    students = [f"# {title}\n"]
    key = [f"# Key: {title}\n"]
    for number, q in enumerate(quiz, start=1):
        choices = "\n".join(f"{LETTERS[i]}. {choice}" for i, choice in enumerate(q.choices))
        students.append(f"## {number}. ({q.difficulty}, {q.topic.replace('_', ' ')})\n\n```\n{q.question}\n```\n\n"
                        f"{choices}\n")
        key.append(f"## {number}. {LETTERS[q.answer_index]}: {q.answer}\n\n```\n{q.explanation}\n```\n")
    return "\n".join(students), "\n".join(key)
