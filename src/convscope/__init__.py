"""convscope: show, compute and prove how convolution lets a network detect spatial patterns.

The engine's operations follow ``torch.nn.functional``'s names, argument order,
defaults and layouts, take NumPy arrays, torch tensors or nested lists, and return
NumPy arrays.
"""

import os

# Two thread pools share the cores: NumPy's OpenBLAS (the GEMM algorithms) and numba's (the
# compiled loops). OpenBLAS's idle threads spin for about 0.1 s after each GEMM, and on two
# cores they took half the time of the numba loops that ran next: a backward pass (input
# gradient by numba, weight gradient by GEMM) measured its numba half at 30 ms instead of 18.
# The shortest timeout lets them sleep at once. It only counts if convscope is imported
# before NumPy loads OpenBLAS (the command line always is), and a value already set wins.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from .engine import *  # noqa: E402, F403 - the engine's __all__ is the public API
from .engine import __all__ as _engine_all

__version__ = "0.1.0"
__all__ = list(_engine_all)


def __getattr__(name: str) -> object:
    """``convscope.explore(model, x)``: the inspect face's entry point, imported (with torch) only
    when first used, so ``import convscope`` stays torch-free; not in ``__all__``, which is the engine's."""
    if name == "explore":
        from .inspect import explore

        return explore
    raise AttributeError(f"module 'convscope' has no attribute {name!r}")
