"""Backend selection and input conversion, shared by every public operation."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import numpy_backend, reference
from .errors import ArrayTooLargeError, BackendError, ConvShapeError, TensorTypeError
from .workspace import human_bytes, max_array_bytes

BACKENDS = ("auto", "reference", "numpy", "torch")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def backend_names() -> tuple[str, ...]:
    """Every accepted ``backend=``: the four above, then each fast algorithm by name."""
    from .algorithms import ALGORITHMS

    return BACKENDS + tuple(ALGORITHMS)


_BACKENDS: dict[str, Any] = {}  # name -> backend, filled on first use (a dict read is thread-safe)


def get_backend(name: str) -> Any:
    """The object that implements the primitives for ``name``.

    ``"auto"`` asks the cost model for the fastest of the engine's own algorithms (never
    torch); an algorithm's name forces that algorithm.
    """
    known = _BACKENDS.get(name)
    if known is not None:  # the per-call path: a tiny convolution's whole cost is a few microseconds
        return known
    from .algorithms import ALGORITHMS
    from .fast_backend import AlgorithmBackend

    if name == "auto" or name in ALGORITHMS:
        return _BACKENDS.setdefault(name, AlgorithmBackend.named(name))
    if name == "numpy":
        return numpy_backend
    if name == "reference":
        return reference
    if name == "torch":
        from . import torch_backend

        torch_backend._torch()  # fail early, with the install line, if torch is missing
        return _BACKENDS.setdefault(name, torch_backend)
    raise BackendError("unknown backend", expected=" / ".join(repr(b) for b in backend_names()),
                       got=repr(name), fix='use backend="auto"')


def as_array(value: Any, name: str, dtype: np.dtype | None = None) -> np.ndarray:
    """NumPy view of an array, torch tensor or nested list, as float32 or float64.

    A float64 array or tensor stays float64; everything else, nested lists of Python
    floats included (as ``torch.tensor`` does), becomes float32 (or ``dtype`` when given).

    Parameters
    ----------
    value
        A NumPy array, a torch tensor (any device; float16 becomes float32) or nested lists.
    name
        What to call it in messages: ``"input"``, ``"weight"``, ...
    dtype
        The dtype wanted; None: float64 stays float64, the rest becomes float32.

    Returns
    -------
    numpy.ndarray
        A view of ``value`` when it already has the dtype, else a converted copy.

    Raises
    ------
    TensorTypeError
        A torch tensor NumPy cannot read (bfloat16, float8, quantized, sparse, meta).
    ConvShapeError
        Ragged lists, objects, strings or complex numbers.
    ArrayTooLargeError
        The converted copy would exceed the array limit (checked before it is made).
    """
    if type(value) is np.ndarray and value.dtype in _FLOATS and (dtype is None or value.dtype == dtype):
        return value  # the hot path: already float32 or float64, as wanted
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = _tensor_data(value, name)
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
    converted = array.size * dtype.itemsize
    if array.dtype != dtype and converted > max_array_bytes():
        # A broadcast (np.broadcast_to) or integer input is small until it is converted:
        # refuse before the copy is made, not after a MemoryError.
        raise ArrayTooLargeError(f"{name} would exceed the array limit once converted to {dtype}",
                                 expected=f"at most {human_bytes(max_array_bytes())} per array",
                                 got=f"shape {array.shape} of {array.dtype}: {human_bytes(converted)} as {dtype}",
                                 fix="pass a smaller array, or raise the limit: with "
                                     f"convscope.engine.workspace.array_limit({converted}): ...")
    return np.asarray(array, dtype=dtype)


def _tensor_data(tensor: Any, name: str) -> Any:
    """A torch tensor's data as a NumPy array, or a :class:`TensorTypeError` that names the conversion.

    ``Tensor.numpy()`` fails with a raw TypeError or NotImplementedError for what NumPy
    cannot hold; each such kind is caught here first, so the message can say what to call.
    """
    shape, dtype = tuple(tensor.shape), str(tensor.dtype).removeprefix("torch.")
    layout = str(getattr(tensor, "layout", "torch.strided")).removeprefix("torch.")
    if layout != "strided":
        raise TensorTypeError(f"{name} is a {layout} tensor, which NumPy cannot hold",
                              expected="a dense (strided) tensor", got=f"layout {layout}, shape {shape}",
                              fix=f"{name}.to_dense()")
    if getattr(tensor, "is_meta", False):
        raise TensorTypeError(f"{name} is a meta tensor: it has a shape but no data",
                              expected="a tensor with data, e.g. on the CPU", got=f"a meta tensor of shape {shape}",
                              fix="create it with device='cpu' (for a module built on the meta device: "
                                  "module.to_empty(device='cpu'), then load its weights)")
    if getattr(tensor, "is_quantized", False):
        raise TensorTypeError(f"{name} is a quantized tensor", expected="a float tensor", got=f"dtype {dtype}",
                              fix=f"{name}.dequantize()")
    if dtype == "bfloat16" or dtype.startswith("float8"):
        raise TensorTypeError(f"{name} is {dtype}, which NumPy has no type for", expected="float16, float32 or float64",
                              got=f"dtype {dtype}", fix=f"{name}.float() (float32)")
    tensor = tensor.detach().cpu()
    for resolve in ("resolve_conj", "resolve_neg"):  # lazy conjugate / negative views refuse .numpy()
        if hasattr(tensor, resolve):
            tensor = getattr(tensor, resolve)()
    try:
        return tensor.numpy()
    except (TypeError, RuntimeError, NotImplementedError) as exc:  # a kind of tensor not foreseen above
        raise TensorTypeError(f"{name} cannot be read as a NumPy array", got=f"a {dtype} tensor: {exc}",
                              fix=f"{name}.detach().cpu().float()") from exc


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
