"""Padding as a gather, so that its backward is the matching scatter.

Every padding mode is a map from positions of the padded axis to positions of the
input axis (or to "no source" for zeros). Padding gathers along that map; the backward
of padding scatters-adds the gradient back along the same map, so reflect, replicate
and circular padding get exact gradients (a border pixel used twice gets both
contributions), exactly as PyTorch's autograd computes them.
"""

from __future__ import annotations

import numpy as np

NO_SOURCE = -1


def source_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each position of a padded axis, the input position it copies (or -1).

    >>> source_index(4, 2, 2, "reflect").tolist()
    [2, 1, 0, 1, 2, 3, 2, 1]
    >>> source_index(4, 2, 2, "replicate").tolist()
    [0, 0, 0, 1, 2, 3, 3, 3]
    >>> source_index(4, 2, 2, "circular").tolist()
    [2, 3, 0, 1, 2, 3, 0, 1]
    >>> source_index(4, 1, 1, "zeros").tolist()
    [-1, 0, 1, 2, 3, -1]
    """
    pos = np.arange(-before, size + after)
    if mode == "reflect":
        period = 2 * (size - 1)
        pos = np.abs(pos) % period if period else np.zeros_like(pos)
        return np.where(pos >= size, period - pos, pos)
    if mode == "replicate":
        return np.clip(pos, 0, size - 1)
    if mode == "circular":
        return pos % size
    return np.where((pos >= 0) & (pos < size), pos, NO_SOURCE)


def pad(x: np.ndarray, pads: tuple[tuple[int, int], ...], mode: str = "zeros",
        value: float = 0.0) -> np.ndarray:
    """Pad the trailing ``len(pads)`` axes of ``x``; ``value`` fills the zeros mode.

    >>> pad(np.array([[1., 2., 3.]]), ((1, 2),), "reflect")
    array([[2., 1., 2., 3., 2., 1.]])
    """
    if all(p == (0, 0) for p in pads):
        return x
    first_axis = x.ndim - len(pads)
    if mode == "zeros" and all(b >= 0 and a >= 0 for b, a in pads):
        # The common case, done as one fill and one block copy (the gather below is general but slower).
        shape = x.shape[:first_axis] + tuple(n + b + a for n, (b, a) in zip(x.shape[first_axis:], pads))
        out = np.zeros(shape, x.dtype) if value == 0 else np.full(shape, value, dtype=x.dtype)
        out[(...,) + tuple(slice(b, b + n) for n, (b, _) in zip(x.shape[first_axis:], pads))] = x
        return out
    for axis, (before, after) in enumerate(pads, start=first_axis):
        if before == after == 0:
            continue
        index = source_index(x.shape[axis], before, after, mode)
        valid = index != NO_SOURCE
        taken = np.take(x, np.where(valid, index, 0), axis=axis)
        if not valid.all():
            mask_shape = [1] * x.ndim
            mask_shape[axis] = len(index)
            taken = np.where(valid.reshape(mask_shape), taken, np.asarray(value, dtype=x.dtype))
        x = taken
    return x


def pad_backward(grad: np.ndarray, pads: tuple[tuple[int, int], ...], mode: str = "zeros") -> np.ndarray:
    """Gradient of :func:`pad` with respect to its input: scatter-add along the same map.

    >>> pad_backward(np.ones((1, 6)), ((1, 2),), "reflect")
    array([[1., 3., 2.]])
    """
    if all(p == (0, 0) for p in pads):
        return grad
    first_axis = grad.ndim - len(pads)
    if mode == "zeros" and all(b >= 0 and a >= 0 for b, a in pads):
        # Cropping is the whole backward of zero padding: one copy, no scatter.
        keep = tuple(slice(b, n - a) for n, (b, a) in zip(grad.shape[first_axis:], pads))
        return np.ascontiguousarray(grad[(...,) + keep])
    for axis, (before, after) in reversed(list(enumerate(pads, start=first_axis))):
        if before == after == 0:
            continue
        size = grad.shape[axis] - before - after
        index = source_index(size, before, after, mode)
        if mode == "zeros":  # a negative pad (a crop) does not occur with zeros: the spec refuses it
            grad = np.take(grad, np.arange(before, before + size), axis=axis)
            continue
        moved = np.moveaxis(grad, axis, 0)  # (padded, ...)
        out = np.zeros((size,) + moved.shape[1:], dtype=grad.dtype)
        np.add.at(out, index, moved)
        grad = np.moveaxis(out, 0, axis)
    return grad
