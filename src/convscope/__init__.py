"""convscope: show, compute and prove how convolution lets a network detect spatial patterns.

The engine's operations follow ``torch.nn.functional``'s names, argument order,
defaults and layouts, take NumPy arrays, torch tensors or nested lists, and return
NumPy arrays.
"""

from .engine import *  # noqa: F403 - the engine's __all__ is the public API
from .engine import __all__ as _engine_all

__version__ = "0.1.0"
__all__ = list(_engine_all)
