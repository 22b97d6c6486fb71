"""Analytic receptive fields carried along the data flow of any forward pass.

A :class:`Flow` (a torch function mode) watches every torch operation of a forward
pass and gives each tensor it produces a :class:`Geometry`: per spatial axis, the
receptive field of its units in the model's input (size, jump, start), computed by the
closed forms of :class:`convscope.engine.ReceptiveField`. Window layers (convolutions,
poolings) extend the field; operations that keep the spatial shape (activations,
normalisation, dropout) pass it on; an operation that mixes every position (a Linear,
a global pooling) makes it global. Where two branches with different fields merge (a
residual ``x + f(x)``, a ``cat``), or an operation has no single-path rule (transposed
convolution, interpolation), the analytic field is not defined: the geometry says why,
and the trace reports the field measured by gradients instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..engine.arithmetic import ReceptiveField, resolve_padding, to_tuple


@dataclass(frozen=True)
class Geometry:
    """The analytic receptive field of one tensor's units, or why there is none."""

    fields: tuple[ReceptiveField, ...] | None   # one per spatial axis
    note: str = ""                                # why ``fields`` is None ("global", "branches merge", ...)

    @property
    def known(self) -> bool:
        return self.fields is not None


GLOBAL = Geometry(None, "global: every unit depends on the whole input")

_WINDOW_OPS = {"conv1d": 1, "conv2d": 2, "conv3d": 3, "max_pool1d": 1, "max_pool2d": 2, "max_pool3d": 3,
               "max_pool1d_with_indices": 1, "max_pool2d_with_indices": 2, "max_pool3d_with_indices": 3,
               "avg_pool1d": 1, "avg_pool2d": 2, "avg_pool3d": 3}
_GLOBAL_OPS = {"linear", "bilinear", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
               "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d"}
_REDUCTIONS = {"mean", "sum", "amax", "amin", "max", "min", "logsumexp", "std", "var", "norm"}
_NO_RULE = {"conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "interpolate", "upsample",
            "pixel_shuffle", "pixel_unshuffle", "fold", "unfold", "pad", "roll", "grid_sample"}


def _argument(args: tuple, kwargs: dict, index: int, name: str, default: Any) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def window_fields(name: str, nd: int, args: tuple, kwargs: dict, before: tuple[ReceptiveField, ...]
                  ) -> tuple[ReceptiveField, ...]:
    """The fields after a convolution or pooling call ``name(*args, **kwargs)``."""
    if name.startswith("conv"):
        kernel = tuple(args[1].shape[2:]) if len(args) > 1 else tuple(kwargs["weight"].shape[2:])
        stride = to_tuple(_argument(args, kwargs, 3, "stride", 1), nd, "stride")
        dilation = to_tuple(_argument(args, kwargs, 5, "dilation", 1), nd, "dilation")
        padding = _argument(args, kwargs, 4, "padding", 0)
    else:
        kernel = to_tuple(_argument(args, kwargs, 1, "kernel_size", 1), nd, "kernel_size")
        stride_arg = _argument(args, kwargs, 2, "stride", None)
        stride = kernel if stride_arg in (None, [], ()) else to_tuple(stride_arg, nd, "stride")
        padding = _argument(args, kwargs, 3, "padding", 0)
        dilation = to_tuple(_argument(args, kwargs, 4, "dilation", 1), nd, "dilation") \
            if name.startswith("max") else (1,) * nd
    pads = resolve_padding(padding, kernel, stride, dilation)
    return tuple(field.then(k, s, p[0], d) for field, k, s, p, d in zip(before, kernel, stride, pads, dilation))


def spatial(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The spatial axes of an (N, C, *spatial) shape (none for fewer than 3 axes)."""
    return tuple(shape[2:]) if len(shape) >= 3 else ()


def propagate(name: str, args: tuple, kwargs: dict, inputs: list[tuple[Any, Geometry | None]],
              output_shape: tuple[int, ...]) -> Geometry | None:
    """The geometry of an operation's output from its inputs' (``inputs``: (tensor, geometry))."""
    known = [(t, g) for t, g in inputs if g is not None]
    if not known:
        return None  # constants, parameters: no dependence on the model's input
    if name in _WINDOW_OPS:
        geometry = known[0][1]
        if not geometry.known:
            return geometry
        nd = _WINDOW_OPS[name]
        if len(geometry.fields) != nd:  # an unbatched call: (C, *spatial)
            return Geometry(None, f"{name} on an unbatched input: not traced")
        return Geometry(window_fields(name, nd, args, kwargs, geometry.fields))
    if name in _GLOBAL_OPS:
        return GLOBAL
    if name in _NO_RULE:
        return Geometry(None, f"{name}: no single-path rule")
    geometries = {g for _, g in known}
    if len(geometries) > 1:
        kinds = " and ".join(sorted({"different fields" if g.known else g.note.split(":")[0] for g in geometries}))
        return Geometry(None, f"branches with {kinds} merge at {name}")
    geometry = geometries.pop()
    source = known[0][0]
    if spatial(tuple(source.shape)) == spatial(output_shape) and len(output_shape) == source.dim():
        return geometry  # elementwise, normalisation, dropout, channel ops: the field is unchanged
    if not geometry.known:
        return geometry
    if name in _REDUCTIONS:  # over the spatial axes: every position enters
        return GLOBAL
    if len(output_shape) < source.dim():
        return Geometry(None, f"{name} folds the spatial axes into features")
    return Geometry(None, f"{name} changes the spatial shape: no rule")
