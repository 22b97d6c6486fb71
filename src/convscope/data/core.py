"""The one container every loader returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Split:
    """Train and test arrays: ``x`` float32 (N, C, *spatial), ``y`` int64 (N,)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def permuted(self, permutation: np.ndarray) -> Split:
        """The same data with one fixed permutation of the positions applied to every example,
        train and test alike: what a model without a spatial prior cannot tell apart."""
        def apply(x: np.ndarray) -> np.ndarray:
            flat = x.reshape(x.shape[0], x.shape[1], -1)                    # (N, C, positions)
            return np.ascontiguousarray(flat[:, :, permutation].reshape(x.shape))
        return Split(f"{self.name} (shuffled)", apply(self.x_train), self.y_train, apply(self.x_test), self.y_test,
                     self.classes)

    def take(self, train: int | None = None, test: int | None = None) -> Split:
        """The first ``train`` / ``test`` examples (for quick runs)."""
        return Split(self.name, self.x_train[:train], self.y_train[:train], self.x_test[:test], self.y_test[:test],
                     self.classes)
