"""The concept bank: enough items for every claim and level, each wrong answer with its own reason, the
reasons shown after a wrong pick, and the numbers the items state recomputed with torch."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from convscope.lessons.quiz import DIFFICULTIES, explain, generate, question
from convscope.lessons.quiz.concept_bank import BANK, TAGS, Check, Concept
from convscope.lessons.quiz.concepts import CONCEPTS

GENERIC = ("a common misconception", "a misconception", "wrong", "incorrect", "not right", "a distractor")


def _ones_weights(layers: tuple[nn.Module, ...]) -> nn.Sequential:
    """The layers in a row, every conv weight positive and every bias 0, so no path to the input cancels."""
    model = nn.Sequential(*layers)
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, nn.Conv2d):
                layer.weight.fill_(1.0 / layer.weight[0].numel())
                if layer.bias is not None:
                    layer.bias.zero_()
    return model


def _grad_of_centre(layers: tuple[nn.Module, ...], size: int = 161) -> torch.Tensor:
    x = (torch.rand(1, 1, size, size, generator=torch.Generator().manual_seed(0)) + 0.1).requires_grad_()
    y = _ones_weights(layers)(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    assert x.grad is not None
    return x.grad[0, 0]


def field(*layers: nn.Module) -> int:
    """The side of one output unit's receptive field: the input rows its gradient reaches."""
    rows = (_grad_of_centre(layers) != 0).any(dim=1).nonzero().flatten()
    return int(rows.max() - rows.min() + 1)


def reads(*layers: nn.Module) -> int:
    """How many input positions one output unit actually depends on (gaps of a dilated kernel left out)."""
    return int((_grad_of_centre(layers) != 0).sum())


def pooled_shift(layer: nn.Module, shift: int) -> int:
    """How many output columns the map moves when the input is rolled by ``shift`` columns (circularly)."""
    x = torch.randn(1, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        base, moved = layer(x), layer(torch.roll(x, shift, dims=-1))
    matches = [s for s in range(base.shape[-1]) if torch.allclose(moved, torch.roll(base, s, dims=-1), atol=1e-5)]
    assert len(matches) == 1, matches
    return matches[0]


def _run_check(check: Check) -> str:
    scope = {"torch": torch, "nn": nn, "F": F, "field": field, "reads": reads, "pooled_shift": pooled_shift}
    result = eval(check.expression, scope)  # noqa: S307 - an expression the bank wrote
    if isinstance(result, float):
        assert result == int(result), result
        result = int(result)
    return str(result)


def _choices(item: Concept) -> list[str]:
    return [item.answer, *(text for text, _ in item.wrong)]


def test_the_quiz_uses_the_bank():
    assert CONCEPTS is BANK


def test_enough_items_for_every_claim_and_level():
    assert len(BANK) >= 60
    assert set(TAGS) == {"locality", "sharing", "equivariance", "invariance", "pooling", "hierarchy",
                         "receptive_field", "long_range", "rotation_scale", "flattening", "padding_stride",
                         "channels"}
    tags, levels = Counter(c.tag for c in BANK), Counter(c.difficulty for c in BANK)
    assert set(tags) == set(TAGS) and min(tags.values()) >= 4, tags
    assert set(levels) == set(DIFFICULTIES) and min(levels.values()) >= 15, levels


@pytest.mark.parametrize("item", BANK, ids=lambda c: f"{c.tag}-{c.difficulty}-{c.question[:30]}")
def test_every_item_is_well_formed(item: Concept):
    assert item.tag in TAGS and item.difficulty in DIFFICULTIES
    assert item.question.strip() and item.answer.strip() and len(item.explanation) >= 40
    assert len(item.wrong) == 3
    choices = _choices(item)
    assert len(set(choices)) == 4, choices                       # no two choices with the same text
    reasons = [reason for _, reason in item.wrong]
    assert len(set(reasons)) == 3, reasons                       # each wrong answer its own reason
    for text, reason in item.wrong:
        assert text.strip() and len(reason) >= 25, (text, reason)
        assert reason.strip().lower().rstrip(".") not in GENERIC, reason
        assert "misconception" not in reason.lower(), reason    # say which mistake, not that it is one
        assert reason != item.explanation


def test_no_question_is_asked_twice():
    questions = Counter(c.question for c in BANK)
    assert [q for q, n in questions.items() if n > 1] == []


def test_the_old_twelve_are_still_asked():
    for start in ("Sliding the same kernel over every position", "What does a max-pooling layer with kernel 2",
                  "Why does a CNN add zero padding", "Shift an image right by 4 pixels",
                  "Which part of a typical CNN makes its *prediction*", "What does nn.Flatten() throw away",
                  "How does the number of weights of nn.Conv2d(3, 16, 3)", "A CNN trained on upright digits",
                  "Why do deep CNNs see large objects", "What can a 1x1 convolution do?",
                  "Doubling an object's size", "Why does stride 2 break translation equivariance"):
        assert sum(c.question.startswith(start) for c in BANK) == 1, start
    bank_text = " ".join(t for c in BANK for t in _choices(c))
    assert "brighter" not in bank_text and "deterministic" not in bank_text  # the jokes are gone


CHECKED = [c for c in BANK if c.checks]


def test_enough_items_are_checked_against_torch():
    assert len(CHECKED) >= 8


@pytest.mark.parametrize("item", CHECKED, ids=lambda c: f"{c.tag}-{c.difficulty}-{c.question[:30]}")
def test_the_numbers_an_item_states_are_torchs(item: Concept):
    for check in item.checks:
        number = re.fullmatch(r"-?\d{1,3}(,\d{3})*", check.value)
        assert _run_check(check) == (check.value.replace(",", "") if number else check.value), (check, item.question)
        # the number is the one the item shows: in its question, its answer or its explanation
        text = f"{item.question} {item.answer} {item.explanation}"
        assert re.search(rf"(?<![\d,.]){re.escape(check.value)}(?![\d,])", text), (check.value, item.question)


def test_the_helpers_agree_with_the_formulas():
    assert [field(*[nn.Conv2d(1, 1, 3) for _ in range(n)]) for n in range(1, 6)] == [3, 5, 7, 9, 11]  # 2n + 1
    assert field(nn.Conv2d(1, 1, 3, dilation=3)) == 7 and reads(nn.Conv2d(1, 1, 3, dilation=3)) == 9
    assert pooled_shift(nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular"), 3) == 3


def test_padding_same_with_stride_is_refused():
    # the channel item's claim that torch refuses what it cannot do, and the stride item's 16th layer
    with pytest.raises(ValueError, match="not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(RuntimeError):
        nn.Sequential(*[nn.Conv2d(1, 1, 3) for _ in range(16)])(torch.zeros(1, 1, 32, 32))


def test_sobel_turned_a_quarter_detects_horizontal_edges():
    sobel_x = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    assert torch.equal(torch.rot90(sobel_x, 1), torch.tensor([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]))
    assert torch.equal(torch.rot90(sobel_x, 2), -sobel_x)
    item = next(c for c in BANK if c.question.startswith("Sobel-x"))
    assert "[[1, 2, 1], [0, 0, 0], [-1, -2, -1]]" in item.explanation


_BY_QUESTION = {c.question: c for c in BANK}


@pytest.mark.parametrize("seed", [0, 1, 7, 42])
def test_a_wrong_pick_shows_its_own_reason(seed: int):
    quiz = generate("mixed", 200, seed, topics=["concept"])
    assert {q.topic for q in quiz} == {"concept"}
    for q in quiz:
        item = _BY_QUESTION[q.question]
        assert q.difficulty == item.difficulty and q.answer == item.answer and q.facts == {"tag": item.tag}
        assert sorted(q.choices) == sorted(_choices(item))
        reasons = dict(item.wrong)
        right = explain(q, q.answer_index)
        assert right.startswith("Right.") and item.explanation in right
        for index, choice in enumerate(q.choices):
            if index == q.answer_index:
                continue
            shown = explain(q, index)
            assert shown.startswith(f"Not {choice}: the answer is {item.answer}.")
            assert item.explanation in shown
            assert f"- {choice}: {reasons[choice]}" in shown   # this choice's own reason
            assert "a common misconception" not in shown


def test_every_item_is_reachable_and_draws_are_deterministic():
    seen = {question("concept", level, seed).question for level in DIFFICULTIES for seed in range(400)}
    assert seen == set(_BY_QUESTION)
    assert [q.to_dict() for q in generate("mixed", 30, 5, topics=["concept"])] == \
        [q.to_dict() for q in generate("mixed", 30, 5, topics=["concept"])]
