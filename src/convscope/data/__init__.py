"""Data sets that work offline: scikit-learn's digits, MNIST-1D generated locally, synthetic
shapes drawn in code, and MNIST / Fashion-MNIST from IDX files the user supplies.

Every loader returns a :class:`Split`: float32 images (N, C, *spatial) and int64 labels for
train and test, ready for the models in :mod:`convscope.models`.
"""

from .core import Split
from .idx import load_idx_dataset, read_idx, write_idx
from .sources import digits, mnist1d
from .synthetic import SHAPES, corner_marks, shapes

__all__ = ["SHAPES", "Split", "corner_marks", "digits", "load_idx_dataset", "mnist1d", "read_idx", "shapes",
           "write_idx"]
