"""Which error a snippet raises (and its fix), and the concept questions with their reasons."""

from __future__ import annotations

import random

from .concept_bank import BANK, Concept
from .model import Question, assemble

# kind -> (what is wrong and the fix): the choices of an error question
DIAGNOSES = {
    "channels_last": "the image is channels-last (N, H, W, C); fix: x.permute(0, 3, 1, 2)",
    "channel_mismatch": "in_channels does not match the input's channels; fix: build the layer with the input's "
                        "channel count",
    "kernel_layout": "the kernel is in TensorFlow's (kH, kW, in, out) order; fix: w.permute(3, 2, 0, 1)",
    "missing_axes": "the input has no batch or channel axis; fix: x[None, None] (or x.unsqueeze(0).unsqueeze(0))",
    "linear_features": "Linear's in_features does not match what Flatten produces; fix: use the flattened size",
    "none": "nothing: it runs",
}


def error_snippet(rng: random.Random, difficulty: str) -> Question:
    """A short torch program; which mistake makes it fail, and the fix. ``facts['code']`` runs it."""
    kinds = ["channels_last", "channel_mismatch", "missing_axes"] if difficulty == "easy" else \
        ["channels_last", "channel_mismatch", "kernel_layout", "missing_axes", "linear_features"]
    kind = rng.choice(kinds)
    n, c, side, out = rng.choice([1, 4, 8]), rng.choice([1, 3]), rng.choice([28, 32]), rng.choice([8, 16, 32])
    k = rng.choice([3, 5])
    if kind == "channels_last":
        c = 3
        code = f"x = torch.randn({n}, {side}, {side}, {c})\nconv = nn.Conv2d({c}, {out}, {k})\ny = conv(x)"
        fixed = code.replace("y = conv(x)", "y = conv(x.permute(0, 3, 1, 2))")
    elif kind == "channel_mismatch":
        wrong = 3 if c == 1 else 1
        code = f"x = torch.randn({n}, {c}, {side}, {side})\nconv = nn.Conv2d({wrong}, {out}, {k})\ny = conv(x)"
        fixed = code.replace(f"nn.Conv2d({wrong},", f"nn.Conv2d({c},")
    elif kind == "kernel_layout":
        # k != c, or torch would read (k, k, c, out) as (out=k, in=k, kH=c, kW=out) and run, silently wrong
        c, k = 3, rng.choice([5, 7])
        code = (f"x = torch.randn({n}, {c}, {side}, {side})\nw = torch.randn({k}, {k}, {c}, {out})  # exported from "
                f"Keras\ny = F.conv2d(x, w)")
        fixed = code.replace("F.conv2d(x, w)", "F.conv2d(x, w.permute(3, 2, 0, 1))")
    elif kind == "missing_axes":
        code = f"x = torch.randn({side}, {side})  # one grey image\nconv = nn.Conv2d(1, {out}, {k})\ny = conv(x)"
        fixed = code.replace("y = conv(x)", "y = conv(x[None, None])")
    else:
        wrong_side = side - k + 1 + rng.choice([-1, 1, 2])
        code = (f"x = torch.randn({n}, 1, {side}, {side})\n"
                f"model = nn.Sequential(nn.Conv2d(1, {out}, {k}), nn.Flatten(), "
                f"nn.Linear({out} * {wrong_side} * {wrong_side}, 10))\ny = model(x)")
        right = side - k + 1
        fixed = code.replace(f"{wrong_side} * {wrong_side}", f"{right} * {right}")
    others = [(DIAGNOSES[other], "it does not run: torch raises" if other == "none" else
               f"not this snippet's problem (no {other.replace('_', ' ')} here)")
              for other in rng.sample([d for d in DIAGNOSES if d != kind], len(DIAGNOSES) - 1)]
    return assemble(rng, f"This snippet fails (import torch; from torch import nn; import torch.nn.functional as F):\n"
                    f"{code}\nWhat is wrong, and what fixes it?", DIAGNOSES[kind], others,
                    f"Run it and torch refuses; the fixed line:\n{fixed}", difficulty, "error_snippet",
                    {"kind": kind, "code": code, "fixed": fixed})


# the concept questions: one claim each, three wrong answers each with its own reason (see concept_bank)
CONCEPTS: tuple[Concept, ...] = BANK


def concept(rng: random.Random, difficulty: str) -> Question:
    """One concept question of ``difficulty``; each wrong choice's explanation line is its own reason."""
    item = rng.choice([c for c in CONCEPTS if c.difficulty == difficulty])
    return assemble(rng, item.question, item.answer, list(item.wrong), item.explanation, item.difficulty,
                    "concept", {"tag": item.tag})
