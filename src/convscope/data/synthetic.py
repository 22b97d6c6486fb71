"""Data sets drawn in code: small shapes at controlled positions, and two marks far apart.

``shapes``: a 5x5 pattern (a bar either way, a corner, a cross, a ring) pasted onto a
noisy canvas at a random position whose column range you choose, so a model can be
trained on the left half and tested on the right.

``corner_marks``: 1-D signals with a mark at each end and random marks in between; the
label says whether the two end marks are the same pattern. No single position, and no
sum of local evidence, tells the answer: only a unit that sees both ends can.
"""

from __future__ import annotations

import numpy as np

from .core import Split

SHAPES = {
    "bar_h": np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]),
    "bar_v": np.array([[0, 0, 1, 0, 0]] * 5),
    "corner": np.array([[1, 1, 1, 1, 1], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0]]),
    "cross": np.array([[0, 0, 1, 0, 0], [0, 0, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 1, 0, 0], [0, 0, 1, 0, 0]]),
    "ring": np.array([[1, 1, 1, 1, 1], [1, 0, 0, 0, 1], [1, 0, 0, 0, 1], [1, 0, 0, 0, 1], [1, 1, 1, 1, 1]]),
}


def draw_shapes(n: int, canvas: int, columns: tuple[int, int], rng: np.random.Generator,
                noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (n, 1, canvas, canvas) and labels; each pattern's left column lies in ``columns``."""
    names = list(SHAPES)
    labels = rng.integers(0, len(names), n)
    images = rng.normal(0, noise, (n, canvas, canvas)).astype(np.float32)
    for image, label in zip(images, labels):
        top = rng.integers(0, canvas - 4)
        left = rng.integers(columns[0], columns[1] + 1)
        image[top:top + 5, left:left + 5] += SHAPES[names[label]]
    return images[:, None], labels.astype(np.int64)


def shapes(n_train: int = 2000, n_test: int = 1000, canvas: int = 24, train_columns: tuple[int, int] | None = None,
           test_columns: tuple[int, int] | None = None, seed: int = 0, noise: float = 0.1) -> Split:
    """Five shape classes on a ``canvas`` x ``canvas`` image; columns default to anywhere."""
    rng = np.random.default_rng(seed)
    anywhere = (0, canvas - 5)
    x_train, y_train = draw_shapes(n_train, canvas, train_columns or anywhere, rng, noise)
    x_test, y_test = draw_shapes(n_test, canvas, test_columns or anywhere, rng, noise)
    return Split("shapes", x_train, y_train, x_test, y_test, len(SHAPES))


MARKS = (np.array([1.0, -1.0, 1.0]), np.array([-1.0, 1.0, -1.0]))


def corner_marks(n_train: int = 3000, n_test: int = 1000, length: int = 48, seed: int = 0,
                 noise: float = 0.2) -> Split:
    """(N, 1, length) signals: label 1 when the first and last mark are the same pattern.

    The middle is filled with random marks of both kinds, so the count of each kind says
    nothing; the ends must be compared.
    """
    rng = np.random.default_rng(seed)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.normal(0, noise, (n, length)).astype(np.float32)
        first, last = rng.integers(0, 2, n), rng.integers(0, 2, n)
        for row, a, b in zip(x, first, last):
            row[:3] += MARKS[a]
            row[-3:] += MARKS[b]
            for start in range(6, length - 8, 6):   # distractor marks between the ends
                row[start:start + 3] += MARKS[rng.integers(0, 2)]
        return x[:, None], (first == last).astype(np.int64)

    x_train, y_train = draw(n_train)
    x_test, y_test = draw(n_test)
    return Split("corner_marks", x_train, y_train, x_test, y_test, 2)
