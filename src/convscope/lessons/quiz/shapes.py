"""Questions about sizes and counts: output shapes, weight shapes, parameters, in_features.

Every answer comes from the engine's arithmetic; every distractor from a real mistake
(padding forgotten, the floor forgotten, dilation or stride ignored, channels swapped,
the bias miscounted).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import cast

from ...engine.arithmetic import explain_output_size, output_size, transposed_output_size
from ...engine.errors import ConvScopeError
from .model import NoQuestion, Question, assemble


def _shape(values: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, values)) + ")"


def _size(n: int, k: int, s: int = 1, p: int = 0, d: int = 1, ceil: bool = False) -> int | None:
    """The engine's output size, or None where the window does not fit (a mistake's value may not)."""
    try:
        out = output_size(n, k, s, p, d, ceil)
    except ConvScopeError:
        return None
    return int(out)


def _raw(n: int, k: int, s: int, p: int, d: int, rounding: str) -> int | None:
    """The formula with another rounding (a mistake's value): None when it is not a size."""
    value = (n + 2 * p - d * (k - 1) - 1) / s
    roundings: dict[str, Callable[[float], int]] = {"floor": math.floor, "ceil": math.ceil, "round": round}
    out = roundings[rounding](value) + 1
    return out if out >= 1 else None


def _keep(mistakes: list[tuple[tuple[int | None, ...] | None, str]]) -> list[tuple[tuple[int, ...], str]]:
    # the filter keeps only tuples of sizes >= 1: no None is left in them
    return [(cast(tuple[int, ...], v), m) for v, m in mistakes
            if v is not None and all(x is not None and x >= 1 for x in v)]


def _axes_text(h: int, w: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1,
               ceil_mode: bool = False) -> str:
    """Each axis's arithmetic as ``explain_output_size`` gives it, through its last step (with
    ceil_mode, the window dropped for starting in the padding): the text ends on the size the key uses."""
    def steps(size: int) -> str:
        explained = explain_output_size(size, kernel_size, stride, padding, dilation, ceil_mode)
        lines = [line.strip() for line in explained.splitlines()]
        last = max(i for i, line in enumerate(lines) if line.startswith(("=", "ceil_mode drops")))
        return " ".join(lines[:last + 1])
    text = "Height: " + steps(h)
    if w != h:
        text += "\nWidth: " + steps(w)
    return text


def conv_output_shape(rng: random.Random, difficulty: str) -> Question:
    n, cin, cout = rng.choice([1, 4, 8, 16, 32]), rng.choice([1, 3, 16]), rng.choice([8, 16, 32, 64])
    h = rng.choice([28, 32, 64]) if difficulty == "easy" else rng.randint(9, 70)
    w = h if difficulty != "hard" else rng.randint(9, 70)
    k = rng.choice([3, 5]) if difficulty == "easy" else rng.choice([3, 5, 7])
    s = 1 if difficulty == "easy" else rng.choice([1, 2, 2, 3])
    p = rng.choice([0, 1, 2]) if difficulty != "hard" else rng.randint(0, 3)
    d = 1 if difficulty != "hard" else rng.choice([1, 2, 3])
    oh, ow = _size(h, k, s, p, d), _size(w, k, s, p, d)
    if oh is None or ow is None:
        raise NoQuestion("window larger than the input")
    layer = (f"nn.Conv2d({cin}, {cout}, kernel_size={k}, stride={s}, padding={p}"
             + (f", dilation={d}" if d > 1 else "") + ")")
    answer = (n, cout, oh, ow)
    mistakes = _keep([
        ((n, cout, _size(h, k, s, 0, d), _size(w, k, s, 0, d)), "the padding forgotten"),
        ((n, cout, _raw(h, k, s, p, d, "ceil"), _raw(w, k, s, p, d, "ceil")),
         "rounded up instead of down (the floor forgotten)"),
        ((n, cout, _size(h, k, s, p, 1), _size(w, k, s, p, 1)), "the dilation ignored"),
        ((n, cin, oh, ow), "in and out channels swapped"),
        ((n, cout, _size(h, k, 1, p, d), _size(w, k, 1, p, d)), "the stride ignored"),
        ((n, cout, oh - 1, ow - 1), "the +1 forgotten"),
        ((n, cout, h, w), "assumed the size is kept"),
        ((n, cout, oh + 1, ow + 1), "one too many windows"),
    ])
    return assemble(rng, f"x has shape {_shape((n, cin, h, w))}. What is the shape of {layer}(x)?", answer, mistakes,
                    "Channels become out_channels; each spatial axis follows "
                    "out = floor((in + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1.\n"
                    + _axes_text(h, w, kernel_size=k, stride=s, padding=p, dilation=d),
                    difficulty, "conv_output_shape",
                    {"input": (n, cin, h, w), "cin": cin, "cout": cout, "k": k, "s": s, "p": p, "d": d},
                    render=_shape)


def pool_output_shape(rng: random.Random, difficulty: str) -> Question:
    n, c = rng.choice([1, 8, 16]), rng.choice([3, 16, 32, 64])
    h = rng.choice([14, 28, 32, 56]) if difficulty == "easy" else rng.randint(7, 61)
    w = h if difficulty != "hard" else rng.randint(7, 61)
    k = 2 if difficulty == "easy" else rng.choice([2, 3])
    stride = None if difficulty == "easy" else rng.choice([None, 1, 2])
    s = k if stride is None else stride
    p = 0 if difficulty == "easy" else rng.randint(0, k // 2)
    ceil = difficulty == "hard" and rng.random() < 0.6
    oh, ow = _size(h, k, s, p, 1, ceil), _size(w, k, s, p, 1, ceil)
    if oh is None or ow is None:
        raise NoQuestion("window larger than the input")
    args = [str(k)] + ([f"stride={stride}"] if stride is not None else []) + ([f"padding={p}"] if p else []) \
        + (["ceil_mode=True"] if ceil else [])
    layer = f"nn.MaxPool2d({', '.join(args)})"
    answer = (n, c, oh, ow)
    mistakes = _keep([
        ((n, c, _size(h, k, 1, p), _size(w, k, 1, p)), "stride taken as 1 (it defaults to kernel_size)"),
        ((n, c, _size(h, k, s, p, 1, not ceil), _size(w, k, s, p, 1, not ceil)),
         "ceil and floor mixed up" if ceil else "rounded up (ceil_mode is off: the floor applies)"),
        ((n, c, _size(h, k, s, 0, 1, ceil), _size(w, k, s, 0, 1, ceil)), "the padding forgotten"),
        ((n, 1, oh, ow), "thought pooling mixes the channels"),
        ((n, c, h // k, w // k), "divided by the kernel size"),
        ((n, c, oh + 1, ow + 1), "one window too many"),
        ((n, c, max(1, oh - 1), max(1, ow - 1)), "one window too few"),
    ])
    return assemble(rng, f"x has shape {_shape((n, c, h, w))}. What is the shape of {layer}(x)?", answer, mistakes,
                    "Pooling keeps the channels and slides its window over each one; stride defaults to kernel_size.\n"
                    + _axes_text(h, w, kernel_size=k, stride=s, padding=p, ceil_mode=ceil),
                    difficulty, "pool_output_shape",
                    {"input": (n, c, h, w), "k": k, "stride": stride, "p": p, "ceil": ceil}, render=_shape)


def tf_same_shape(rng: random.Random, difficulty: str) -> Question:
    """TensorFlow's padding="same" at a stride: ceil(in / stride), padded unequally when the total is odd
    (ONNX's SAME_UPPER); Keras keeps channels last."""
    n, cin, filters = rng.choice([1, 8, 32]), rng.choice([1, 3, 16]), rng.choice([8, 16, 32, 64])
    h = rng.choice([28, 32, 64]) if difficulty == "easy" else rng.randint(9, 70)
    w = h if difficulty != "hard" else rng.randint(9, 70)
    k = rng.choice([3, 5]) if difficulty == "easy" else rng.choice([2, 3, 4, 5, 7])
    s = rng.choice([2, 3]) if difficulty != "easy" else 2
    oh, ow = (int(v) for v in output_size((h, w), k, s, "same_upper"))
    layer = f'tf.keras.layers.Conv2D({filters}, {k}, strides={s}, padding="same")'
    mistakes = _keep([
        ((n, h, w, filters), '"same" taken as "same size as the input" at any stride'),
        ((n, h // s, w // s, filters), "divided by the stride and rounded down"),
        ((n, _size(h, k, s), _size(w, k, s), filters), 'computed "valid" (no padding)'),
        ((n, filters, oh, ow), "channels first, as in PyTorch (Keras keeps them last)"),
        ((n, _size(h, k, s, k // 2), _size(w, k, s, k // 2), filters), "padded k // 2 on both sides, as in PyTorch"),
        ((n, oh + 1, ow + 1, filters), "one window too many"),
    ])
    pads = [explain_output_size(v, k, s, "same_upper").splitlines()[0] for v in ((h, w) if w != h else (h,))]
    return assemble(rng, f"x has shape {_shape((n, h, w, cin))} (batch, height, width, channels). What is the shape "
                    f"of {layer}(x)?", (n, oh, ow, filters), mistakes,
                    f"With a stride, TensorFlow's \"same\" gives ceil(in / stride) outputs: ceil({h} / {s}) = {oh}"
                    + (f", ceil({w} / {s}) = {ow}" if w != h else "") + ". It pads what the last window needs, the odd "
                    "position after (ONNX calls this SAME_UPPER; convscope: padding=\"same_upper\").\n"
                    + "\n".join(pads),
                    difficulty, "tf_same_shape",
                    {"input": (n, h, w, cin), "k": k, "s": s, "filters": filters}, render=_shape)


def transposed_output_shape(rng: random.Random, difficulty: str) -> Question:
    n, cin, cout = rng.choice([1, 8]), rng.choice([16, 32, 64]), rng.choice([3, 8, 16, 32])
    h = rng.randint(4, 32)
    k, s = rng.choice([2, 3, 4, 5]), rng.choice([1, 2, 2, 3])
    p = rng.randint(0, (k - 1) // 2)
    extra = rng.randint(0, s - 1) if difficulty == "hard" else 0
    d = rng.choice([1, 2]) if difficulty == "hard" else 1
    out = transposed_output_size(h, k, s, p, extra, d)
    if out < 1:
        raise NoQuestion("empty output")
    args = f"{cin}, {cout}, kernel_size={k}, stride={s}, padding={p}" + \
        (f", output_padding={extra}" if extra else "") + (f", dilation={d}" if d > 1 else "")
    mistakes = _keep([
        ((n, cout, _size(h, k, s, p, d), _size(h, k, s, p, d)), "used the ordinary convolution's formula"),
        ((n, cout, out - extra, out - extra), "output_padding forgotten"),
        ((n, cout, out + 4 * p, out + 4 * p), "added the padding instead of removing it"),
        ((n, cout, h * s, h * s), "multiplied by the stride and stopped there"),
        ((n, cout) + (transposed_output_size(h, k, s, p, extra, 1),) * 2, "the dilation ignored"),
        ((n, cin, out, out), "in and out channels swapped"),
        ((n, cout, out + 1, out + 1), "one too many"),
    ])
    return assemble(rng, f"x has shape {_shape((n, cin, h, h))}. What is the shape of nn.ConvTranspose2d({args})(x)?",
                    (n, cout, out, out), mistakes,
                    "A transposed convolution inverts a convolution's size rule: out = (in - 1)*stride - 2*padding + "
                    f"dilation*(kernel_size - 1) + output_padding + 1 = ({h} - 1)*{s} - 2*{p} + {d}*({k} - 1) "
                    f"+ {extra} + 1 = {out}.", difficulty, "transposed_output_shape",
                    {"input": (n, cin, h, h), "cin": cin, "cout": cout, "k": k, "s": s, "p": p, "extra": extra, "d": d},
                    render=_shape)


def weight_shape(rng: random.Random, difficulty: str) -> Question:
    cin, cout, k = rng.choice([1, 3, 16, 32]), rng.choice([8, 16, 64]), rng.choice([1, 3, 5, 7])
    g = rng.choice([g for g in (1, 2, 4) if cin % g == 0 and cout % g == 0]) if difficulty == "hard" else 1
    layer = f"nn.Conv2d({cin}, {cout}, kernel_size={k}" + (f", groups={g}" if g > 1 else "") + ")"
    mistakes = [((cin, cout, k, k), "in and out channels swapped"),
                ((k, k, cin, cout), "TensorFlow's (kH, kW, in, out) order"),
                ((cout, k, k, cin // g), "channels-last kernel order"), ((cout, cin, k, k), "groups ignored"),
                ((cout, cin // g, k), "one kernel axis forgotten"), ((cout * cin // g, k, k), "in and out merged")]
    return assemble(rng, f"What is the shape of {layer}.weight?", (cout, cin // g, k, k), mistakes,
                    "PyTorch stores a convolution's weight as (out_channels, in_channels // groups, kH, kW): one "
                    f"{cin // g}x{k}x{k} kernel per output channel.", difficulty, "weight_shape",
                    {"cin": cin, "cout": cout, "k": k, "groups": g}, render=_shape)


def layer_params(rng: random.Random, difficulty: str) -> Question:
    cin, cout, k = rng.choice([1, 3, 16, 32, 64]), rng.choice([8, 16, 32, 64, 128]), rng.choice([1, 3, 5])
    bias = difficulty == "easy" or rng.random() < 0.6
    g = rng.choice([g for g in (1, 2, 4, 8) if cin % g == 0 and cout % g == 0]) if difficulty == "hard" else 1
    weights = cout * (cin // g) * k * k
    answer = weights + (cout if bias else 0)
    layer = f"nn.Conv2d({cin}, {cout}, kernel_size={k}" + (f", groups={g}" if g > 1 else "") + \
        ("" if bias else ", bias=False") + ")"
    mistakes = [(weights + (0 if bias else cout), "the bias " + ("forgotten" if bias else "counted though bias=False")),
                (cout * (cin // g) * k + (cout if bias else 0), "k instead of k*k"),
                (cout * cin * k * k + (cout if bias else 0), "groups ignored"),
                (weights + (cin if bias else 0), "one bias per input channel"),
                (cout * cin + (cout if bias else 0), "the kernel size forgotten"),
                (weights + (cout * k * k if bias else cout), "a bias per kernel position"),
                ((cin + cout) * k * k, "in and out channels added")]
    return assemble(rng, f"How many parameters does {layer} have?", answer, mistakes,
                    "weights: out_channels * (in_channels // groups) * k * k = "
                    f"{cout} * {cin // g} * {k} * {k} = {weights}"
                    + (f"; bias: one per output channel = {cout}; total {answer}." if bias else "; no bias."),
                    difficulty, "layer_params", {"cin": cin, "cout": cout, "k": k, "bias": bias, "groups": g},
                    render=lambda v: f"{v:,}")


def stack_params(rng: random.Random, difficulty: str) -> Question:
    c0, c1, c2 = rng.choice([1, 3]), rng.choice([8, 16, 32]), rng.choice([16, 32, 64])
    k1, k2, classes = rng.choice([3, 5]), rng.choice([3, 5]), rng.choice([10, 100])
    side = rng.choice([8, 16]) if difficulty == "hard" else 0
    convs = c1 * c0 * k1 * k1 + c1 + c2 * c1 * k2 * k2 + c2
    head = (c2 * side * side * classes + classes) if side else (c2 * classes + classes)
    stack = [f"nn.Conv2d({c0}, {c1}, {k1}, padding={k1 // 2})", "nn.ReLU()",
             f"nn.Conv2d({c1}, {c2}, {k2}, padding={k2 // 2})", "nn.ReLU()"]
    stack += [f"nn.AdaptiveAvgPool2d({side})", "nn.Flatten()", f"nn.Linear({c2 * side * side}, {classes})"] \
        if side else \
        ["nn.AdaptiveAvgPool2d(1)", "nn.Flatten()", f"nn.Linear({c2}, {classes})"]
    answer = convs + head
    no_bias = answer - c1 - c2 - classes
    mistakes = [(no_bias, "every bias forgotten"), (convs, "the Linear head forgotten"),
                (answer - c1 * c0 * k1 * k1 - c2 * c1 * k2 * k2 + c1 * c0 * k1 + c2 * c1 * k2, "k instead of k*k"),
                (head, "only the last layer counted"), (answer + 2 * c1 + 2 * c2, "the ReLUs given parameters"),
                (answer - classes, "the Linear's bias forgotten")]
    return assemble(rng, "How many parameters does nn.Sequential(" + ", ".join(stack) + ") have?", answer, mistakes,
                    f"conv 1: {c1}*{c0}*{k1}*{k1} + {c1}; conv 2: {c2}*{c1}*{k2}*{k2} + {c2}; "
                    f"Linear: {head - classes} + {classes}; ReLU, pooling and Flatten have none. Total {answer:,}.",
                    difficulty, "stack_params", {"stack": stack}, render=lambda v: f"{v:,}")


def linear_in_features(rng: random.Random, difficulty: str) -> Question:
    cin, c1, c2 = rng.choice([1, 3]), rng.choice([8, 16, 32]), rng.choice([16, 32, 64])
    h = rng.choice([28, 32]) if difficulty == "easy" else rng.randint(20, 64)
    k1, p1 = rng.choice([3, 5]), rng.choice([0, 1]) if difficulty != "easy" else 0
    k2 = rng.choice([3, 5])
    pool = difficulty != "easy"

    def sides(padding: int) -> list[int] | None:
        """The side after each layer that changes it (None where a window no longer fits)."""
        out = [h]
        pools = [(2, 2, 0)] if pool else []
        for k, s, p in [(k1, 1, padding)] + pools + [(k2, 1, 0)] + pools:
            size = _size(out[-1], k, s, p)
            if size is None:
                return None
            out.append(size)
        return out

    path, unpadded = sides(p1), sides(0)
    if path is None:
        raise NoQuestion("too small")
    e = path[-1]
    stack = [f"nn.Conv2d({cin}, {c1}, {k1}" + (f", padding={p1}" if p1 else "") + ")", "nn.ReLU()"] + \
        (["nn.MaxPool2d(2)"] if pool else []) + [f"nn.Conv2d({c1}, {c2}, {k2})", "nn.ReLU()"] + \
        (["nn.MaxPool2d(2)"] if pool else []) + ["nn.Flatten()", "nn.Linear(?, 10)"]
    answer = c2 * e * e
    mistakes = [(c2 * h * h, "the input's size used, as if nothing shrank"), (e * e, "the channels forgotten"),
                (c2 * path[1] ** 2, "only the first layer's shrink applied"),
                (c1 * e * e, "the first layer's channels used"),
                (c2 * (e + 1) ** 2, "one row too many on each axis (rounded up)")]
    if unpadded is not None:
        mistakes.append((c2 * unpadded[-1] ** 2, "the padding forgotten"))
    return assemble(rng, f"x has shape (1, {cin}, {h}, {h}). What must ? be in nn.Sequential({', '.join(stack)})?",
                    answer, mistakes, f"The side goes {' -> '.join(map(str, path))}; Flatten gives channels * height * "
                    f"width = {c2} * {e} * {e} = {answer}.", difficulty, "linear_in_features",
                    {"input": (1, cin, h, h), "stack": stack}, render=lambda v: f"{v:,}")
