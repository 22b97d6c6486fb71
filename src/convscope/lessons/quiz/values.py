"""Questions about numbers a convolution produces: one output by hand, which kernel made a
map, and how far a stack of layers sees."""

from __future__ import annotations

import random

import numpy as np

from ... import filters
from ...engine.arithmetic import ReceptiveField, window_positions
from ...engine.conv import conv2d
from .model import NoQuestion, Question, assemble


def _grid(rows: np.ndarray) -> str:
    return "\n".join("  " + " ".join(f"{int(v):3d}" for v in row) for row in rows)


def _output(x: np.ndarray, k: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    return conv2d(x[None, None].astype(np.float64), k[None, None].astype(np.float64), stride=stride,
                  padding=padding)[0, 0]


def hand_value(rng: random.Random, difficulty: str) -> Question:
    seed = rng.getrandbits(32)
    draw = np.random.default_rng(seed)
    size, ksize = (4, 2) if difficulty == "easy" else (5, 3)
    low = 0 if difficulty == "easy" else -2
    x = draw.integers(low, 4, (size, size))
    k = draw.integers(-1, 3, (ksize, ksize))
    stride = 2 if difficulty == "hard" and draw.random() < 0.5 else 1
    padding = 1 if difficulty == "hard" and stride == 1 else 0
    y = _output(x, k, stride, padding)
    i, j = int(draw.integers(0, y.shape[0])), int(draw.integers(0, y.shape[1]))
    answer = int(round(y[i, j]))
    flipped = _output(x, k[::-1, ::-1], stride, padding)
    padded = np.pad(x, padding)
    window = padded[np.ix_(window_positions(i, ksize, stride), window_positions(j, ksize, stride))]
    products = window * k
    mistakes = [(int(round(flipped[i, j])), "the kernel flipped (that is true convolution; conv2d correlates)"),
                (answer - int(products[-1, -1]), "the last product left out"),
                (int(products.sum() - products[0, 0] + window[0, 0]), "the first weight not multiplied")]
    if j + 1 < y.shape[1]:
        mistakes.append((int(round(y[i, j + 1])), "the window one column too far right"))
    if i + 1 < y.shape[0]:
        mistakes.append((int(round(y[i + 1, j])), "the window one row too low"))
    if stride > 1:
        mistakes.append((int(round(_output(x, k, 1, padding)[i, j])), "the stride ignored"))
    if padding:
        unpadded = _output(x, k)
        if i < unpadded.shape[0] and j < unpadded.shape[1]:
            mistakes.append((int(round(unpadded[i, j])), "the padding ignored"))
    mistakes += [(answer + 1, "an addition slip"), (answer - 2, "a sign slip")]
    terms = " + ".join(f"{int(a)}*{int(b)}" for a, b in zip(window.ravel(), k.ravel()))
    setting = f"stride={stride}" + (f", padding={padding} (zeros)" if padding else "")
    return assemble(rng, f"conv2d (cross-correlation, {setting}) of the input\n{_grid(x)}\nwith the kernel\n{_grid(k)}"
                    f"\nWhat is the output at row {i}, column {j} (counting from 0)?", answer, mistakes,
                    f"The window for output ({i}, {j}) starts at input "
                    f"({i * stride - padding}, {j * stride - padding}) (row*stride - padding); "
                    f"multiply it element by element with the kernel and sum: {terms} = {answer}.",
                    difficulty, "hand_value", {"x": x.tolist(), "k": k.tolist(), "stride": stride, "padding": padding,
                                               "i": i, "j": j})


KERNEL_CHOICES = ("identity", "sobel_x", "sobel_y", "prewitt_x", "prewitt_y", "laplacian4", "laplacian8", "emboss",
                  "horizontal_edge", "vertical_edge", "sharpen")


def which_kernel(rng: random.Random, difficulty: str) -> Question:
    draw = np.random.default_rng(rng.getrandbits(32))
    side = 5 if difficulty == "easy" else 6
    x = (draw.random((side, side)) < 0.4).astype(np.int64) * (1 if difficulty == "easy" else draw.integers(1, 4))
    names = list(KERNEL_CHOICES[:-1] if difficulty == "easy" else [n for n in KERNEL_CHOICES if n != "identity"])
    rng.shuffle(names)
    # one name per kernel: prewitt_x *is* vertical_edge, and two equal kernels among the choices
    # would give both away as wrong
    distinct: dict[bytes, str] = {}
    for name in names:
        distinct.setdefault(np.asarray(filters.get(name).weights, np.float64).tobytes(), name)
    names = list(distinct.values())
    outputs = {n: np.round(filters.apply(x.astype(np.float64), n, "zeros") * 9) / 9 for n in names}
    answer = names[0]
    mistakes = [(n, f"{n} gives another map here ({filters.get(n).responds_to})") for n in names[1:]
                if not np.array_equal(outputs[n], outputs[answer])]
    if len(mistakes) < 3:
        raise NoQuestion("too many kernels agree on this input")
    y = outputs[answer]
    if not np.allclose(y, np.round(y)):
        raise NoQuestion("a fractional map")
    return assemble(rng, f"Which 3x3 kernel (zero padding, same size) turns the input\n{_grid(x)}\ninto\n{_grid(y)}\n?",
                    answer, mistakes, f"{answer} is {filters.get(answer).weights.astype(int).tolist()}: "
                    f"{filters.get(answer).responds_to}. Slide it over the input and each output cell is the sum of "
                    "the window times the kernel.", difficulty, "which_kernel", {"x": x.tolist(), "answer": answer})


def receptive_field(rng: random.Random, difficulty: str) -> Question:
    layers = []
    for _ in range(rng.randint(2, 3) if difficulty == "easy" else rng.randint(3, 5)):
        if rng.random() < 0.3:
            k = rng.choice([2, 3])
            layers.append(("MaxPool2d", k, rng.choice([k, 2]) if difficulty != "easy" else k, 1))
        else:
            k = rng.choice([3, 5]) if difficulty != "hard" else rng.choice([3, 5, 7])
            s = 1 if difficulty == "easy" else rng.choice([1, 1, 2])
            d = rng.choice([1, 1, 2]) if difficulty == "hard" else 1
            layers.append(("Conv2d", k, s, d))
    field, text, steps = ReceptiveField(), [], []
    for name, k, s, d in layers:
        before = field
        field = field.then(k, s, 0, d)
        steps.append(f"{before.size} + ({d}*({k}-1))*{before.jump} = {field.size}")
        text.append(f"{name}(kernel_size={k}, stride={s}" + (f", dilation={d}" if d > 1 else "") + ")")
    ignoring_stride = 1 + sum(d * (k - 1) for _, k, _, d in layers)
    mistakes = [(sum(k for _, k, _, _ in layers), "the kernel sizes added"),
                (ignoring_stride, "the strides ignored (every layer's jump taken as 1)"),
                (int(np.prod([k for _, k, _, _ in layers])), "the kernel sizes multiplied"),
                (layers[-1][1], "only the last kernel"), (field.size + 1, "off by one"),
                (1 + sum((k - 1) for _, k, _, _ in layers) * field.jump, "every step scaled by the final jump"),
                (field.size + field.jump, "one step too many")]
    return assemble(rng, "What is the receptive field (in input pixels, per axis) of one output unit of "
                    + " -> ".join(text) + "?", field.size, mistakes,
                    "Each layer adds (effective kernel - 1) times the jump so far (the product of the earlier "
                    "strides): " + "; ".join(steps) + ".", difficulty, "receptive_field", {"layers": layers})
