"""Backend selection and input conversion, shared by every public operation."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import numpy_backend, reference
from .errors import BackendError, ConvShapeError

BACKENDS = ("auto", "reference", "numpy", "torch")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def backend_names() -> tuple[str, ...]:
    """Every accepted ``backend=``: the four above, then each fast algorithm by name."""
    from .algorithms import ALGORITHMS

    return BACKENDS + tuple(ALGORITHMS)


def get_backend(name: str) -> Any:
    """The object that implements the primitives for ``name``.

    ``"auto"`` asks the cost model for the fastest of the engine's own algorithms (never
    torch); an algorithm's name forces that algorithm.
    """
    from .algorithms import ALGORITHMS
    from .fast_backend import AlgorithmBackend

    if name == "auto" or name in ALGORITHMS:
        return AlgorithmBackend.named(name)
    if name == "numpy":
        return numpy_backend
    if name == "reference":
        return reference
    if name == "torch":
        from . import torch_backend

        torch_backend._torch()  # fail early, with the install line, if torch is missing
        return torch_backend
    raise BackendError("unknown backend", expected=" / ".join(repr(b) for b in backend_names()),
                       got=repr(name), fix='use backend="auto"')


def as_array(value: Any, name: str, dtype: np.dtype | None = None) -> np.ndarray:
    """NumPy view of an array, torch tensor or nested list, as float32 or float64.

    A float64 array or tensor stays float64; everything else, nested lists of Python
    floats included (as ``torch.tensor`` does), becomes float32 (or ``dtype`` when given).
    """
    if type(value) is np.ndarray and value.dtype in _FLOATS and (dtype is None or value.dtype == dtype):
        return value  # the hot path: already float32 or float64, as wanted
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    typed = isinstance(value, np.ndarray)
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ConvShapeError(f"{name} is not a rectangular array of numbers", got=type(value).__name__,
                             fix="pass a NumPy array, a torch tensor or a nested list with equal-length rows") \
            from exc
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool) \
            or np.issubdtype(array.dtype, np.complexfloating):
        raise ConvShapeError(f"{name} must hold real numbers", got=f"dtype {array.dtype}",
                             fix="pass a float array; ragged nested lists also end up here")
    if dtype is None:
        dtype = np.dtype(np.float64) if typed and array.dtype == np.float64 else np.dtype(np.float32)
    return np.asarray(array, dtype=dtype)


def batched(x: np.ndarray, is_batched: bool) -> np.ndarray:
    """Add the batch axis that an unbatched (C, *spatial) input lacks."""
    return x if is_batched else x[None]


def unbatched(y: np.ndarray, was_batched: bool) -> np.ndarray:
    return y if was_batched else y[0]


def batched_grad_output(op: str, grad_output: Any, x: np.ndarray, channels: int,
                        output_size: tuple[int, ...], was_batched: bool) -> np.ndarray:
    """``grad_output`` as a batched array of ``x``'s dtype, checked against the forward output's shape."""
    gy = as_array(grad_output, "grad_output", x.dtype)
    expected = (x.shape[0], channels) + tuple(output_size)
    if not was_batched:
        expected = expected[1:]
    if gy.shape != expected:
        raise ConvShapeError(f"{op}: grad_output must have the shape of the forward output",
                             expected=f"shape {expected}", got=f"shape {gy.shape}",
                             fix="pass the gradient of the loss with respect to this layer's output")
    return batched(gy, was_batched)
