"""The quizzes: thousands of generated questions, each key recomputed independently with torch;
distractors distinct and wrong; the CLI in and out of a terminal."""

from __future__ import annotations

import ast
import json
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from typer.testing import CliRunner

import convscope
from convscope.cli import app
from convscope.filters import get
from convscope.lessons.quiz import DIFFICULTIES, TOPICS, Question, generate, question

from strategies import examples


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _shape(text: str) -> tuple[int, ...]:
    return tuple(ast.literal_eval(text))


def _run(code: str) -> dict:
    scope = {"torch": torch, "nn": nn, "F": F}
    exec(code, scope)  # noqa: S102 - code the quiz generated
    return scope


def _fails(code: str) -> bool:
    try:
        _run(code)
    except (RuntimeError, ValueError):
        return True
    return False


def _field_by_counting(layers: list) -> int:
    """Brute force: the input positions one output unit reaches, layer by layer backwards."""
    positions = {0}
    for _, k, s, d in reversed(layers):
        positions = {q * s + t * d for q in positions for t in range(k)}
    return max(positions) - min(positions) + 1


def independent_answer(q: Question) -> str | None:
    """The key recomputed with torch (or by brute force), without the quiz's own code."""
    f = q.facts
    if q.topic == "conv_output_shape":
        layer = nn.Conv2d(f["cin"], f["cout"], f["k"], f["s"], f["p"], f["d"])
        return str(tuple(layer(torch.zeros(f["input"])).shape))
    if q.topic == "pool_output_shape":
        stride = f["stride"] if f["stride"] is not None else None
        return str(tuple(nn.MaxPool2d(f["k"], stride, f["p"], ceil_mode=f["ceil"])(torch.zeros(f["input"])).shape))
    if q.topic == "tf_same_shape":  # ONNX's SAME_UPPER from its spec, then torch on the padded, channels-first input
        n, h, w, cin = f["input"]
        pads = []
        for size in (w, h):  # F.pad's order: the last axis first
            total = max((math.ceil(size / f["s"]) - 1) * f["s"] + f["k"] - size, 0)
            pads += [total // 2, total - total // 2]
        x = F.pad(torch.zeros(n, cin, h, w), pads)
        return str(tuple(nn.Conv2d(cin, f["filters"], f["k"], f["s"])(x).permute(0, 2, 3, 1).shape))
    if q.topic == "transposed_output_shape":
        layer = nn.ConvTranspose2d(f["cin"], f["cout"], f["k"], f["s"], f["p"], f["extra"], dilation=f["d"])
        return str(tuple(layer(torch.zeros(f["input"])).shape))
    if q.topic == "weight_shape":
        return str(tuple(nn.Conv2d(f["cin"], f["cout"], f["k"], groups=f["groups"]).weight.shape))
    if q.topic == "layer_params":
        layer = nn.Conv2d(f["cin"], f["cout"], f["k"], groups=f["groups"], bias=f["bias"])
        return f"{sum(p.numel() for p in layer.parameters()):,}"
    if q.topic == "stack_params":
        model = _run(f"model = nn.Sequential({', '.join(f['stack'])})")["model"]
        return f"{sum(p.numel() for p in model.parameters()):,}"
    if q.topic == "hand_value":
        x = torch.tensor(f["x"], dtype=torch.float64)[None, None]
        k = torch.tensor(f["k"], dtype=torch.float64)[None, None]
        return str(int(round(F.conv2d(x, k, stride=f["stride"], padding=f["padding"])[0, 0, f["i"], f["j"]].item())))
    if q.topic == "receptive_field":
        return str(_field_by_counting(f["layers"]))
    if q.topic == "linear_in_features":
        answer = _number(q.answer)
        stack = ", ".join(f["stack"]).replace("?", str(answer))
        out = _run(f"y = nn.Sequential({stack})(torch.zeros{tuple(f['input'])})")["y"]
        assert out.shape == (1, 10)
        for wrong in (c for i, c in enumerate(q.choices) if i != q.answer_index):  # every distractor fails in torch
            assert _fails(f"y = nn.Sequential({', '.join(f['stack']).replace('?', str(_number(wrong)))})"
                          f"(torch.zeros{tuple(f['input'])})")
        return q.answer
    if q.topic == "which_kernel":
        x = torch.tensor(f["x"], dtype=torch.float64)[None, None]
        maps = {c: F.conv2d(x, torch.tensor(get(c).weights, dtype=torch.float64)[None, None], padding=1)
                for c in q.choices}
        shown = q.question.split("into\n")[1].rsplit("\n?", 1)[0]
        grid = torch.tensor([[float(v) for v in row.split()] for row in shown.splitlines()], dtype=torch.float64)
        matching = [c for c, m in maps.items() if torch.equal(m[0, 0], grid)]
        assert len(matching) == 1, matching  # exactly one choice produces the map shown
        return matching[0]
    if q.topic == "error_snippet":
        assert _fails(f["code"]), f["code"]
        assert not _fails(f["fixed"]), f["fixed"]
        return q.answer  # the kind is checked below by which fix makes it run
    return None


def check_question(q: Question) -> None:
    assert len(q.choices) == 4 and len(set(q.choices)) == 4, q.choices
    assert 0 <= q.answer_index < 4 and q.difficulty in DIFFICULTIES and q.topic in TOPICS
    assert q.explanation and q.question
    for wrong in (c for i, c in enumerate(q.choices) if i != q.answer_index):
        assert wrong in q.explanation, (wrong, q.explanation)  # each distractor says which mistake it is
    expected = independent_answer(q)
    if expected is not None:
        assert q.answer == expected, (q.topic, q.question, q.answer, expected)


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_every_topic_at_every_level_against_torch(topic):
    for level in TOPICS[topic][1]:
        for seed in range(examples(40)):
            check_question(question(topic, level, seed))


def test_whole_quizzes_across_many_seeds():
    seen = set()
    for seed in range(examples(120)):
        quiz = generate("mixed", 10, seed)
        assert [q.difficulty for q in quiz] == ["easy", "medium", "hard"] * 3 + ["easy"]
        assert len({q.topic for q in quiz}) == 10  # a quiz rotates through the topics
        for q in quiz:
            check_question(q)
            seen.add(q.question)
    # fresh numbers, not a fixed bank (concepts come from a bank of 12, and small layers repeat)
    assert len(seen) > examples(120) * 10 * 0.7


def test_same_seed_same_quiz_and_check_api():
    a, b = generate("hard", 5, seed=11), generate("hard", 5, seed=11)
    assert [q.to_dict() for q in a] == [q.to_dict() for q in b]
    q = a[0]
    assert q.check(q.answer_index) and not q.check((q.answer_index + 1) % 4)


def test_bad_requests():
    from convscope import ConvScopeError

    for kwargs, message in (({"difficulty": "expert"}, "unknown difficulty"), ({"n": 0}, "between 1 and 200"),
                            ({"topics": ["nope"]}, "unknown quiz topic"),
                            ({"difficulty": "easy", "topics": ["stack_params"]}, "none of these topics has easy")):
        with pytest.raises(ConvScopeError, match=message):
            generate(**kwargs)


def test_error_snippets_name_the_fix_that_makes_them_run():
    kinds = set()
    for seed in range(60):
        q = question("error_snippet", "hard", seed)
        kind = q.facts["kind"]
        kinds.add(kind)
        fix = q.answer.split("fix: ")[1]
        if kind == "channels_last":
            assert "permute(0, 3, 1, 2)" in q.facts["fixed"] and "permute(0, 3, 1, 2)" in fix
        if kind == "kernel_layout":
            assert "permute(3, 2, 0, 1)" in q.facts["fixed"] and "permute(3, 2, 0, 1)" in fix
        if kind == "missing_axes":
            assert "x[None, None]" in q.facts["fixed"]
    assert kinds == {"channels_last", "channel_mismatch", "kernel_layout", "missing_axes", "linear_features"}


runner = CliRunner()


def test_cli_json_has_the_key():
    result = runner.invoke(app, ["quiz", "--json", "--n", "6", "--seed", "4", "--difficulty", "medium"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert {k: answer[k] for k in ("convscope", "seed", "difficulty")} == {"convscope": convscope.__version__,
                                                                         "seed": 4, "difficulty": "medium"}
    assert answer["topics"] == list(TOPICS)
    quiz = answer["questions"]
    assert len(quiz) == 6
    for item in quiz:
        assert set(item) == {"question", "choices", "answer_index", "explanation", "difficulty", "topic"}
        assert item["difficulty"] == "medium"
    assert quiz == [q.to_dict() for q in generate("medium", 6, 4)]


def test_cli_without_a_terminal_refuses_in_one_line():
    result = runner.invoke(app, ["quiz"], input="")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "--json" in result.stderr and len(result.stderr.splitlines()) == 1


def test_cli_interactive_scores_and_explains(monkeypatch):
    quiz = generate("easy", 3, seed=2)
    letters = ["ABCD"[quiz[0].answer_index], "x", "ABCD"[(quiz[1].answer_index + 1) % 4], "q"]
    monkeypatch.setattr("convscope.cli.quiz.stdin_is_terminal", lambda: True)
    replies = iter(letters)
    monkeypatch.setattr("builtins.input", lambda prompt="": next(replies))
    result = runner.invoke(app, ["quiz", "--difficulty", "easy", "--n", "3", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "score: 1 of 2 (stopped after 2 of 3)" in result.stdout
    assert "type one of A, B, C, D" in result.stdout
    wrong = "ABCD"[(quiz[1].answer_index + 1) % 4]
    out = result.stdout
    # feedback right after each answer: the verdict and the explanation come before the next question
    assert out.index("1. right") < out.index(quiz[0].explanation[:30]) < out.index("question 2 of 3")
    second = out.index(f"2. wrong (you said {wrong}, the answer is {'ABCD'[quiz[1].answer_index]})")
    assert out.index("question 2 of 3") < second < out.index("question 3 of 3") < out.index("score: 1 of 2")


def test_cli_topics_and_the_teachers_exports(tmp_path):
    import re

    from convscope.cli.quiz import TOPIC_NAMES

    assert TOPIC_NAMES == tuple(TOPICS)   # --help's list is the generators' own
    result = runner.invoke(app, ["quiz", "--json", "--n", "4", "--seed", "9", "--topics", "hand_value,concept"])
    assert {q["topic"] for q in json.loads(result.stdout)["questions"]} == {"hand_value", "concept"}
    bad = runner.invoke(app, ["quiz", "--json", "--topics", "shapes"])
    assert bad.exit_code == 2 and "unknown quiz topic" in bad.stderr and "conv_output_shape" in bad.stderr
    quiz = generate("mixed", 5, 9)
    assert runner.invoke(app, ["quiz", "--export", "gift", "--out", str(tmp_path / "q.gift"), "--n", "5",
                               "--seed", "9"]).exit_code == 0
    gift = (tmp_path / "q.gift").read_text()
    # GIFT: one block per question, exactly one "=" choice (the key), the others "~"
    blocks = gift.strip().split("\n\n")
    assert len(blocks) == 5
    for block, q in zip(blocks, quiz):
        marks = re.findall(r"^\t([=~])(.*)$", block, re.M)
        assert [m for m, _ in marks].count("=") == 1
        assert next(text for m, text in marks if m == "=").replace("\\", "") == q.answer
    assert runner.invoke(app, ["quiz", "--export", "markdown", "--out", str(tmp_path / "q.md"), "--n", "5",
                               "--seed", "9"]).exit_code == 0
    students, key = (tmp_path / "q.md").read_text(), (tmp_path / "q.key.md").read_text()
    for number, q in enumerate(quiz, start=1):
        assert q.question in students and q.explanation not in students
        assert f"## {number}. {'ABCD'[q.answer_index]}: {q.answer}" in key
    missing = runner.invoke(app, ["quiz", "--export", "gift"])
    assert missing.exit_code == 2 and "--export needs --out" in missing.stderr
    wrong = runner.invoke(app, ["quiz", "--export", "gift", "--out", str(tmp_path / "q.pdf")])
    assert wrong.exit_code == 2 and ".gift" in wrong.stderr


def test_every_shape_explanation_ends_on_its_key():
    """12,000 convolution and pooling shape questions: each axis's worked arithmetic in the
    explanation ends on the size the key says (ceil_mode's dropped last window included)."""
    import re

    checked = 0
    for seed in range(60):
        for q in generate("mixed", 200, seed, topics=["conv_output_shape", "pool_output_shape"]):
            key = [int(v) for v in re.findall(r"-?\d+", q.answer)][-2:]
            axes = {line.split(":")[0]: line for line in q.explanation.splitlines()
                    if line.startswith(("Height:", "Width:"))}
            last = [int(re.findall(r"-?\d+", axes.get(axis, axes["Height"]))[-1]) for axis in ("Height", "Width")]
            assert last == key, (q.ident, q.question, q.explanation)
            checked += 1
    assert checked == 12_000


def test_no_which_kernel_question_offers_two_equal_kernels():
    import numpy as np

    from convscope import filters

    for seed in range(40):
        for q in generate("mixed", 50, seed, topics=["which_kernel"]):
            weights = [np.asarray(filters.get(choice).weights, np.float64).tobytes() for choice in q.choices]
            assert len(set(weights)) == len(weights), (q.ident, q.choices)
