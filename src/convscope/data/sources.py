"""scikit-learn's 8x8 digits and MNIST-1D, both made on this machine (nothing is downloaded)."""

from __future__ import annotations

import numpy as np

from .core import Split


def digits(canvas: int = 8, seed: int = 0, test_fraction: float = 0.25, place: str = "centre") -> Split:
    """The 1,797 8x8 digits of ``sklearn.datasets.load_digits``, scaled to [0, 1].

    ``canvas`` > 8 pads each digit onto a larger zero canvas, at the centre or (``place=
    "random"``) at a random position per image (seeded).
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)                       # (N, 8, 8)
    rng = np.random.default_rng(seed)
    if canvas > 8:
        placed = np.zeros((len(images), canvas, canvas), np.float32)
        for i, image in enumerate(images):
            top, left = ((canvas - 8) // 2,) * 2 if place == "centre" else rng.integers(0, canvas - 7, 2)
            placed[i, top:top + 8, left:left + 8] = image
        images = placed
    order = rng.permutation(len(images))
    cut = int(len(images) * (1 - test_fraction))
    x, y = images[order][:, None], bunch.target[order].astype(np.int64)  # (N, 1, H, W)
    return Split(f"digits{canvas}", x[:cut], y[:cut], x[cut:], y[cut:], 10)


def mnist1d(num_samples: int = 5000, seed: int = 42, shuffled: bool = False) -> Split:
    """MNIST-1D (Greydanus 2020) generated locally by the ``mnist1d`` package with its default
    arguments: 40-sample signals, 4,000 train and 1,000 test examples.

    ``shuffled``: the package's own fixed permutation of the 40 positions (``shuffle_seq``),
    the one behind the reference numbers for shuffled pixels."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed, args.shuffle_seq = num_samples, seed, shuffled
    state = np.random.get_state()  # make_dataset seeds NumPy's global generator: leave it as it was
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(state)
    return Split("mnist1d (shuffled)" if shuffled else "mnist1d", data["x"].astype(np.float32)[:, None],
                 data["y"].astype(np.int64), data["x_test"].astype(np.float32)[:, None],
                 data["y_test"].astype(np.int64), 10)
