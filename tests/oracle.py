"""The one oracle helper: compare convscope with torch.nn.functional, forward and backward.

Shape and dtype are checked first (a wrong shape must not hide behind a broadcast),
then values with explicit tolerances per dtype. The torch side is always called with
the user's raw arguments through torch's own modules or functionals, never through
convscope's normalised specs, so it stays an independent oracle.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

BACKENDS = ("reference", "numpy", "torch", "auto")
TOLERANCE = {np.dtype(np.float32): dict(rtol=1e-4, atol=1e-4), np.dtype(np.float64): dict(rtol=1e-9, atol=1e-9)}


def assert_matches(ours: np.ndarray, theirs: Any, what: str) -> None:
    """Shape, then dtype, then values (tolerance by dtype)."""
    if isinstance(theirs, torch.Tensor):
        theirs = theirs.detach().numpy()
    assert isinstance(ours, np.ndarray), f"{what}: expected a NumPy array, got {type(ours).__name__}"
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != torch {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} != torch {theirs.dtype}"
    scale = max(1.0, float(np.abs(theirs).max(initial=0.0)))
    tol = TOLERANCE[ours.dtype]
    np.testing.assert_allclose(ours, theirs, rtol=tol["rtol"], atol=tol["atol"] * scale, err_msg=what)


def run_torch(fn, inputs: dict[str, np.ndarray], grad_output_seed: int = 0):
    """Call ``fn(**tensors)``; backpropagate a seeded random grad_output.

    Returns (output, grad_output, {name: grad}) as NumPy arrays.
    """
    tensors = {k: (None if v is None else torch.from_numpy(np.array(v)).requires_grad_(True))
               for k, v in inputs.items()}
    out = fn(**tensors)
    if isinstance(out, tuple):
        out = out[0]
    rng = np.random.default_rng(grad_output_seed)
    gy = rng.standard_normal(tuple(out.shape)).astype(out.detach().numpy().dtype)
    out.backward(torch.from_numpy(gy))
    grads = {k: (None if t is None else t.grad.numpy()) for k, t in tensors.items()}
    return out.detach().numpy(), gy, grads


def torch_conv(nd: int, stride, padding, dilation, groups, padding_mode: str, flip: bool):
    """A function (input, weight, bias) -> output that runs torch's own nn.Conv{nd}d."""

    def fn(input, weight, bias):
        layer = getattr(torch.nn, f"Conv{nd}d")(weight.shape[1] * groups, weight.shape[0], weight.shape[2:],
                                                stride=stride, padding=padding, dilation=dilation, groups=groups,
                                                bias=bias is not None, padding_mode=padding_mode,
                                                dtype=weight.dtype)
        w = torch.flip(weight, dims=tuple(range(2, 2 + nd))) if flip else weight
        # Bypass the Parameters so gradients flow to our leaf tensors.
        return layer._conv_forward(input, w, bias)

    return fn


def torch_conv_transpose(nd: int, **kwargs):
    return lambda input, weight, bias: getattr(F, f"conv_transpose{nd}d")(input, weight, bias, **kwargs)


def torch_pool(kind: str, nd: int, **kwargs):
    return lambda input: getattr(F, f"{kind}_pool{nd}d")(input, **kwargs)
