"""Analytic receptive fields carried along the data flow of any forward pass.

A :class:`Flow` (a torch function mode) watches every torch operation of a forward
pass and gives each tensor it produces a :class:`Geometry`: per spatial axis, the
receptive field of its units in the model's input (size, jump, start), computed by the
closed forms of :class:`convscope.engine.ReceptiveField`. The fields describe a tensor's
*trailing* axes (an (N, C, H, W) map: H and W), so an op that keeps those axes where they
are keeps the field.

- Window layers (convolutions, poolings) extend the field; adaptive pooling is the window
  it really uses (``n/o`` wide, stride ``n/o``, when ``o`` divides ``n``), global only when
  the output is one position.
- A pad shifts the start by the left padding; a slice ``x[..., a:b:s]`` of a spatial axis
  moves the start by ``a`` units and multiplies the jump by ``s``.
- Shape-only ops that keep the spatial axes (view/reshape/flatten of the channel axes,
  permute/transpose of the leading axes, a channel shuffle, ``chunk`` along channels) pass
  the field on, as do activations, normalisation per channel and dropout.
- At a merge (``add``, ``mul``, ``cat`` along channels, ``stack``) the field is the union of
  the input fields when they are aligned (the same jump: start = min start, end = max end),
  as in Araujo et al. (Distill 2019) and the google-research ``receptive_field`` library.
  Inputs with different jumps have no single field, and the geometry says so.
- An operation that mixes every position (a Linear on the spatial axes, a global pooling,
  a reduction over space, group/instance/layer normalisation) makes the field global; any
  op that reads a global tensor is global.

Where no rule applies (transposed convolution, interpolation, unaligned merges) the
geometry carries a short note (under :data:`NOTE_LIMIT` characters, from a fixed template:
never built from the inputs' notes, so it cannot grow along the graph) and the trace can
report the field measured by gradients instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..engine.arithmetic import ReceptiveField, resolve_padding, to_tuple

NOTE_LIMIT = 200  # a note is shorter than this, whatever the graph


@dataclass(frozen=True)
class Geometry:
    """The analytic receptive field of one tensor's units, or why there is none."""

    fields: tuple[ReceptiveField, ...] | None   # one per spatial axis (the tensor's trailing axes)
    note: str = ""                                # why ``fields`` is None ("global", "... merge at add", ...)

    def __post_init__(self) -> None:
        if len(self.note) >= NOTE_LIMIT:
            object.__setattr__(self, "note", self.note[:NOTE_LIMIT - 4] + "...")

    @property
    def known(self) -> bool:
        return self.fields is not None

    @property
    def is_global(self) -> bool:
        return self.fields is None and self.note.startswith("global")


def _fields(geometry: Geometry) -> tuple[ReceptiveField, ...]:
    """The fields of a geometry its caller knows to be known (propagate returns unknown ones first)."""
    assert geometry.fields is not None, "an unknown geometry has no fields"
    return geometry.fields


GLOBAL = Geometry(None, "global: every unit depends on the whole input")

_WINDOW_OPS = {"conv1d": 1, "conv2d": 2, "conv3d": 3, "max_pool1d": 1, "max_pool2d": 2, "max_pool3d": 3,
               "max_pool1d_with_indices": 1, "max_pool2d_with_indices": 2, "max_pool3d_with_indices": 3,
               "avg_pool1d": 1, "avg_pool2d": 2, "avg_pool3d": 3, "lp_pool1d": 1, "lp_pool2d": 2, "lp_pool3d": 3}
_ADAPTIVE_OPS = {f"adaptive_{kind}_pool{nd}d{suffix}": nd for kind in ("avg", "max") for nd in (1, 2, 3)
                 for suffix in ("", "_with_indices")}
_GLOBAL_OPS = {"linear", "bilinear", "group_norm", "instance_norm", "layer_norm", "rms_norm"}
_REDUCTIONS = {"mean", "sum", "amax", "amin", "max", "min", "logsumexp", "std", "var", "norm", "prod", "nansum",
               "nanmean", "median", "std_mean", "var_mean", "argmax", "argmin", "all", "any", "count_nonzero"}
_ALONG_AXIS = {  # name: (position, keyword, default) of the axis argument
    **{name: (1, "dim", None) for name in ("softmax", "log_softmax", "softmin", "cumsum", "cumprod", "cummax",
                                           "cummin", "logcumsumexp")},
    **{name: (1, "dim", -1) for name in ("sort", "argsort", "glu")},
    "topk": (2, "dim", -1), "normalize": (2, "dim", 1), "flip": (1, "dims", None), "roll": (2, "dims", None)}
_AXIS_OPS = {"permute", "transpose", "swapaxes", "swapdims", "movedim", "moveaxis"}
_MATMUL = {"matmul", "mm", "bmm", "einsum", "__matmul__", "__rmatmul__", "baddbmm", "addmm", "tensordot", "inner"}
_CONCATENATIONS = {"cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack"}
_NO_RULE = {"conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "interpolate", "upsample",
            "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle", "fold", "unfold",
            "grid_sample", "affine_grid", "rot90", "fliplr", "flipud", "fft_fft2", "fft_rfft2"}


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
    elif name.startswith("lp_pool"):  # lp_pool(input, norm_type, kernel_size, stride=None, ceil_mode)
        kernel = to_tuple(_argument(args, kwargs, 2, "kernel_size", 1), nd, "kernel_size")
        stride_arg = _argument(args, kwargs, 3, "stride", None)
        stride = kernel if stride_arg in (None, [], ()) else to_tuple(stride_arg, nd, "stride")
        padding, dilation = 0, (1,) * nd
    else:
        kernel = to_tuple(_argument(args, kwargs, 1, "kernel_size", 1), nd, "kernel_size")
        stride_arg = _argument(args, kwargs, 2, "stride", None)
        stride = kernel if stride_arg in (None, [], ()) else to_tuple(stride_arg, nd, "stride")
        padding = _argument(args, kwargs, 3, "padding", 0)
        dilation = to_tuple(_argument(args, kwargs, 4, "dilation", 1), nd, "dilation") \
            if name.startswith("max") else (1,) * nd
    pads = resolve_padding(padding, kernel, stride, dilation)
    return tuple(field.then(k, s, p[0], d) for field, k, s, p, d in zip(before, kernel, stride, pads, dilation))


def adaptive_fields(name: str, sizes: tuple[int, ...], outputs: tuple[int, ...],
                    before: tuple[ReceptiveField, ...]) -> Geometry:
    """Adaptive pooling from ``sizes`` to ``outputs`` positions per axis: output ``i`` of ``o`` on an
    input of ``n`` pools positions ``floor(i*n/o)`` to ``ceil((i+1)*n/o) - 1``. Where ``o`` divides
    ``n`` that is an ordinary window (``n/o`` wide, stride ``n/o``); otherwise the windows' strides
    differ and no single field describes them. One output position from more than one: global.

    >>> adaptive_fields("adaptive_avg_pool2d", (8, 8), (4, 4), (ReceptiveField(),) * 2).fields[0]
    ReceptiveField(size=2, jump=2, start=0)
    >>> adaptive_fields("adaptive_avg_pool2d", (8, 8), (8, 8), (ReceptiveField(3, 1, -1),) * 2).fields[0]
    ReceptiveField(size=3, jump=1, start=-1)
    >>> adaptive_fields("adaptive_avg_pool1d", (7,), (3,), (ReceptiveField(),)).note
    'adaptive_avg_pool1d 7 -> 3: windows of 3 at unequal strides, no single field'
    >>> adaptive_fields("adaptive_max_pool2d", (7, 7), (1, 1), (ReceptiveField(),) * 2).is_global
    True
    """
    if all(o == 1 for o in outputs) and any(n > 1 for n in sizes):
        return GLOBAL
    fields = []
    for field, n, o in zip(before, sizes, outputs):
        if o <= 0 or n % o:
            widest = max(-(-((i + 1) * n) // o) - (i * n) // o for i in range(o)) if o > 0 else 0
            narrowest = min(-(-((i + 1) * n) // o) - (i * n) // o for i in range(o)) if o > 0 else 0
            widths = f"{widest}" if widest == narrowest else f"{widest} and {narrowest}"
            return Geometry(None, f"{name} {n} -> {o}: windows of {widths} at unequal strides, no single field")
        fields.append(field.then(n // o, n // o, 0))
    return Geometry(tuple(fields))


def spatial(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The spatial axes of an (N, C, *spatial) shape (none for fewer than 3 axes)."""
    return tuple(shape[2:]) if len(shape) >= 3 else ()


def _ints(value: Any) -> list[int]:
    if isinstance(value, (list, tuple)):
        return [int(v) for v in value]
    return [int(value)]


def _dims(args: tuple, kwargs: dict, index: int = 1) -> list[int] | None:
    """The ``dim`` argument of a reduction (None: every axis)."""
    dim = _argument(args, kwargs, index, "dim", None)
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        return None
    if not isinstance(dim, (int, list, tuple)) or isinstance(dim, bool):
        return []  # a tensor (torch.max(x, y)) or a name: not an axis
    return _ints(dim)


def _touches(dims: list[int], rank: int, nd: int) -> bool:
    return any(rank - nd <= d % rank < rank for d in dims) if rank else False


def _permutation(name: str, args: tuple, kwargs: dict, rank: int) -> list[int] | None:
    """Output axis ``j`` comes from input axis ``perm[j]`` (None: arguments not understood)."""
    try:
        if name == "permute":
            dims = args[1:] if len(args) > 2 or (len(args) == 2 and isinstance(args[1], int)) \
                else args[1] if len(args) > 1 else kwargs["dims"]
            return [int(d) % rank for d in dims]
        if name in ("transpose", "swapaxes", "swapdims"):
            keys = {"transpose": ("dim0", "dim1"), "swapaxes": ("axis0", "axis1"), "swapdims": ("dim0", "dim1")}[name]
            a = int(_argument(args, kwargs, 1, keys[0], 0)) % rank
            b = int(_argument(args, kwargs, 2, keys[1], 0)) % rank
            perm = list(range(rank))
            perm[a], perm[b] = perm[b], perm[a]
            return perm
        source = [s % rank for s in _ints(_argument(args, kwargs, 1, "source", 0))]
        destination = [d % rank for d in _ints(_argument(args, kwargs, 2, "destination", 0))]
        order: list[int | None] = [None] * rank
        for s, d in zip(source, destination):
            order[d] = s
        rest = iter(i for i in range(rank) if i not in source)
        return [next(rest) if o is None else o for o in order]
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def _index(geometry: Geometry, tensor: Any, index: Any, output_shape: tuple[int, ...]) -> Geometry | None:
    """``tensor[index]`` for basic indexing (ints, slices, None, Ellipsis); None: not basic."""
    items = index if isinstance(index, tuple) else (index,)
    if not all(item is None or item is Ellipsis or isinstance(item, slice) or
               (isinstance(item, int) and not isinstance(item, bool)) for item in items):
        return None
    rank, nd = tensor.dim(), len(_fields(geometry))
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    expanded: list[Any] = []
    for item in items:
        expanded += [slice(None)] * (rank - consumed) if item is Ellipsis else [item]
    if Ellipsis not in items:
        expanded += [slice(None)] * (rank - consumed)
    fields, axis, first = list(_fields(geometry)), 0, rank - nd
    kept: list[int | None] = []
    for item in expanded:
        if item is None:
            kept.append(None)
            continue
        if isinstance(item, slice) or axis < first:
            if isinstance(item, slice) and axis >= first:
                start, _, step = item.indices(int(tensor.shape[axis]))
                f = fields[axis - first]
                fields[axis - first] = ReceptiveField(f.size, f.jump * step, f.start + start * f.jump)
            if isinstance(item, slice):
                kept.append(axis)
            axis += 1
            continue
        return Geometry(None, "indexing picks one position of a spatial axis: no field")
    if kept[-nd:] != list(range(first, rank)):
        return Geometry(None, "indexing moves the spatial axes: not followed")
    return Geometry(tuple(fields))


def _pad(geometry: Geometry, args: tuple, kwargs: dict) -> Geometry:
    """``F.pad(x, pad)``: ``pad`` lists (left, right) from the last axis backwards; a left pad of
    ``p`` (negative: a crop) moves the start ``p`` units earlier, in every mode."""
    pad = _ints(_argument(args, kwargs, 1, "pad", ()))
    fields = list(_fields(geometry))
    for r in range(min(len(fields), len(pad) // 2)):
        fields[-1 - r] = fields[-1 - r].shifted(pad[2 * r])
    return Geometry(tuple(fields))


def _merge(name: str, known: list[tuple[Any, Geometry]], output_shape: tuple[int, ...]) -> Geometry:
    """Elementwise ops, shape-only ops and merges: each input's spatial (trailing) axes must be the
    output's; the field is the union of the aligned input fields."""
    nd = len(_fields(known[0][1]))
    if any(len(_fields(g)) != nd for _, g in known):
        return Geometry(None, f"maps with different numbers of spatial axes merge at {name}")
    if nd == 0:
        return known[0][1]
    target = tuple(output_shape[-nd:]) if len(output_shape) > nd else None
    merged: tuple[ReceptiveField, ...] | None = None
    first = known[0][1]
    for tensor, geometry in known:
        shape = tuple(tensor.shape[-nd:]) if tensor.dim() >= nd else None
        if shape != target:
            if target is None or len(output_shape) < tensor.dim():
                return Geometry(None, f"{name} folds the spatial axes into features")
            if name in _CONCATENATIONS:
                return Geometry(None, f"{name} along a spatial axis: no rule")
            if shape is not None and len(known) > 1 and all(a in (1, b) for a, b in zip(shape, target)):
                return Geometry(None, f"a map broadcast over space merges at {name}: no single field")
            return Geometry(None, f"{name} changes the spatial shape: no rule")
        if merged is None or geometry is first or _fields(geometry) == merged:
            merged = _fields(geometry) if merged is None else merged
            continue
        union = tuple(a.union(b) for a, b in zip(merged, _fields(geometry)))
        if any(u is None for u in union):
            jumps = sorted({f.jump for f in merged} | {f.jump for f in _fields(geometry)})
            return Geometry(None, f"unaligned maps merge at {name} (jumps {jumps[0]} and {jumps[-1]}): "
                                  "no single field")
        merged = union  # type: ignore[assignment]
    return first if merged == first.fields else Geometry(merged)


def propagate(name: str, args: tuple, kwargs: dict, inputs: list[tuple[Any, Geometry | None]],
              output_shape: tuple[int, ...]) -> Geometry | None:
    """The geometry of an operation's output from its inputs' (``inputs``: (tensor, geometry)).

    The note of the result is one of a few fixed sentences or an input's note unchanged: it never
    grows with the graph.
    """
    known = [(t, g) for t, g in inputs if g is not None]
    if not known:
        return None  # constants, parameters: no dependence on the model's input
    if name in ("linear", "bilinear") or (name in _GLOBAL_OPS and any(g.known for _, g in known)):
        return GLOBAL
    for _, seen in known:  # a global input makes every unit global; else the first unknown's note
        if seen.is_global:
            return GLOBAL
    unknown = next((g for _, g in known if not g.known), None)
    if unknown is not None:
        return unknown
    if name in _WINDOW_OPS or name in _ADAPTIVE_OPS:
        geometry = inputs[0][1]
        if geometry is None or len(known) > 1:
            return Geometry(None, f"{name} with weights computed from the input: no rule")
        nd = _WINDOW_OPS.get(name) or _ADAPTIVE_OPS[name]
        if len(_fields(geometry)) != nd or inputs[0][0].dim() <= nd:
            return Geometry(None, f"{name} on a map with other spatial axes: not traced")
        if name in _ADAPTIVE_OPS:
            return adaptive_fields(name, tuple(inputs[0][0].shape[-nd:]), tuple(output_shape[-nd:]),
                                   _fields(geometry))
        return Geometry(window_fields(name, nd, args, kwargs, _fields(geometry)))
    if name in _NO_RULE:
        return Geometry(None, f"{name}: no single-path rule")
    source, geometry = known[0]
    rank, nd = source.dim(), len(_fields(geometry))
    if name == "pad" and len(known) == 1:
        return _pad(geometry, args, kwargs)
    if name == "__getitem__" and len(known) == 1:
        indexed = _index(geometry, source, args[1] if len(args) > 1 else (), output_shape)
        if indexed is not None:
            return indexed
    if name in _AXIS_OPS and len(known) == 1:
        perm = _permutation(name, args, kwargs, rank)
        if perm is None or perm[rank - nd:] != list(range(rank - nd, rank)):
            return Geometry(None, f"{name} moves the spatial axes: not followed")
        return geometry
    if name in _REDUCTIONS and not (len(args) > 1 and hasattr(args[1], "shape")):  # torch.max(x, y): a merge
        dims = _dims(args, kwargs, 2 if name == "norm" else 1)
        if dims is None or _touches(dims, rank, nd):
            return GLOBAL  # over the spatial axes: every position enters
    if name in _ALONG_AXIS:
        index, keyword, default = _ALONG_AXIS[name]
        dims = _argument(args, kwargs, index, keyword, default)
        if dims is None or _touches(_ints(dims), rank, nd):
            return Geometry(None, f"{name} along a spatial axis: no rule")
    if name in _MATMUL:
        return Geometry(None, f"{name} mixes a spatial axis: no rule")
    return _merge(name, known, output_shape)
