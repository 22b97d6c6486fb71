"""The concept questions: one per claim the lessons make about why convolution finds spatial patterns.

The bank is split by what the claims are about: ``layer`` (one convolution: locality, sharing,
equivariance, invariance), ``depth`` (stacking: pooling, hierarchy, receptive field, long range) and
``limits`` (rotation and scale, flattening, padding and stride, channels). ``model`` holds the item
type (:class:`Concept`, with its :class:`Check` of a stated number). ``BANK`` is the three parts in
that order, the order of ``TAGS``.
"""

from . import depth, layer, limits
from .model import TAGS, Check, Concept

BANK: tuple[Concept, ...] = layer.BANK + depth.BANK + limits.BANK

__all__ = ["BANK", "TAGS", "Check", "Concept"]
