"""Look inside any ``nn.Module`` for one input: its layers, each layer's feature maps, one unit's
kernels, statistics and receptive field on the input, the prediction, and the engine's own
convolution checked against torch's on the layer's real input.

Creating an :class:`Exploration` runs the model once: the trace's recorder (shapes, parameters,
analytic receptive fields, as :func:`convscope.inspect.trace` tabulates them) with provenance added,
so each layer knows which layers' outputs it read (``inputs``: both branches at a residual add or a
concatenation, through any functional code in between), and the prediction comes from the same
pass. A module called more than once (a ReLU reused in a block) is one layer per call: ``name``,
then ``name#2``, ... The outputs of that pass are kept in a cache bounded in bytes; a layer evicted
from it, or whose output a later in-place op changed (``ReLU(inplace=True)`` after a BatchNorm,
``out += identity``), is recomputed when asked for by a forward pass with one hook on that module,
stopped as soon as the layer has run.

Examples
--------
>>> import torch
>>> model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
...                             torch.nn.Linear(4 * 6 * 6, 3))
>>> ex = explore(model, (1, 1, 8, 8))
>>> [layer.name for layer in ex.layers if layer.has_maps]
['0', '1']
>>> page = ex.maps("0", count=2)
>>> page["channels"], len(page["maps"]), page["maps"][0]["shape"]
(4, 2, [6, 6])
>>> ex.unit("0", 0)["field"]["rows"][1] - ex.unit("0", 0)["field"]["rows"][0] + 1  # a 3x3 kernel sees 3 rows
3
"""

from __future__ import annotations

import base64
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..engine.errors import ConvScopeError
from .costs import _Costs
from .geometry import Geometry
from .memory import MEMORY_BUDGET, check_memory
from .recorder import Call, Flow, Recorder, tensors_in
from .trace import Trace, as_example, build_rows, preserved_state

__all__ = ["INPUT", "Exploration", "LayerInfo", "explore"]

CACHE_BYTES = 256 * 2**20      # activations kept between calls (the least recently used go first)
MAX_MAPS_PER_PAGE = 64
# One hooked pass at a time in the whole process: a forward hook on a module (and the recorder's
# hooks) would also catch another thread's pass through the same module, whichever Exploration
# started it; the lab serves many learners, several on the same model. A pass takes milliseconds.
PASSES = threading.RLock()
_CONVS = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)


class ExploreError(ConvScopeError):
    """A layer, channel or page the exploration cannot show."""


@dataclass(frozen=True)
class LayerInfo:
    """One leaf layer as the trace saw it."""

    name: str
    kind: str
    output_shape: tuple[int, ...] | None
    params: int
    field: tuple[tuple[int, int, int], ...] | None   # per spatial axis: (size, jump, start); None: no analytic field
    is_conv: bool
    has_maps: bool                                    # a (1, C, L) or (1, C, H, W) output: maps to draw
    inputs: tuple[str, ...] = ()                      # the layers (or INPUT) whose outputs this call read
    module: str = ""                                  # the dotted module name ("(model)": the model itself)
    call: int = 0                                     # which call of that module this layer is (0: the first)


INPUT = "(input)"   # what ``LayerInfo.inputs`` calls the model's input


class _Provenance(Flow):
    """The trace's flow, plus, per tensor, the layers whose outputs it was computed from."""

    def __init__(self, example: torch.Tensor) -> None:
        super().__init__()
        self.sources: dict[int, tuple[str, ...]] = {id(example): (INPUT,)}  # ids stay unique: Flow.keep holds them

    def of_all(self, tensors: list[torch.Tensor]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for t in tensors for s in self.sources.get(id(t), ())))

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        before = self.of_all(tensors_in((args, kwargs or {})))  # read first: an in-place op returns its input
        out = super().__torch_function__(func, types, args, kwargs)
        for tensor in tensors_in(out):
            self.sources[id(tensor)] = before
        return out


@dataclass
class _Seen:
    """A leaf call as it finished: its layer name, which call of the module, what it read, its field
    then (a later in-place op re-marks the same tensor), and its tensors' versions then."""

    call: Call
    name: str
    index: int
    inputs: tuple[str, ...]
    geometry: Geometry | None
    versions: list[int]


class _Pass(Recorder):
    """The trace's recorder with provenance: a leaf call's outputs are sourced to that call alone."""

    def __init__(self, model: torch.nn.Module, example: torch.Tensor) -> None:
        super().__init__(model)
        self.flow: _Provenance = _Provenance(example)
        self.leaves: list[_Seen] = []
        self._calls_of: dict[int, int] = {}

    def _post(self, module: torch.nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        super()._post(module, args, kwargs, output)
        if any(True for _ in module.children()):
            return
        call = next(c for c in reversed(self.calls) if c.order == self._finished - 1)
        index = self._calls_of.get(id(module), 0)
        self._calls_of[id(module)] = index + 1
        name = call.name if index == 0 else f"{call.name}#{index + 1}"
        inputs = self.flow.of_all(call.inputs)
        geometry = self.flow.of(call.outputs[0]) if call.outputs else None
        for tensor in call.outputs:
            self.flow.sources[id(tensor)] = (name,)
        self.leaves.append(_Seen(call, name, index, inputs, geometry, [t._version for t in call.outputs + call.inputs]))


class _Stop(Exception):
    """Raised by the capture hook once the layer asked for has run: the rest of the pass is not needed."""


def _storage_bytes(pairs: Any) -> int:
    """Bytes the cached tensors hold, each storage once (a view, or a conv's input that is the previous
    layer's output, shares its base's)."""
    storages: dict[int, int] = {}
    for pair in pairs:
        for tensor in pair:
            if tensor is not None:
                storage = tensor.untyped_storage()
                storages[storage.data_ptr()] = storage.nbytes()
    return sum(storages.values())


def _png(rgb: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _shrink(values: np.ndarray, size: int) -> np.ndarray:
    """(h, w) block averages of an (H, W) map so that neither side exceeds ``size`` (rows or columns
    that do not fill a last block are dropped): a display copy; statistics and peaks use the full map."""
    factor = max(1, -(-max(values.shape) // size))
    fh, fw = min(factor, values.shape[0]), min(factor, values.shape[1])
    if fh == fw == 1:
        return values
    h, w = values.shape[0] // fh, values.shape[1] // fw
    return values[:h * fh, :w * fw].reshape(h, fh, w, fw).mean(axis=(1, 3))


def _as_2d(channel: np.ndarray) -> np.ndarray:
    return channel[None, :] if channel.ndim == 1 else channel   # a 1-d map drawn as one row


class Exploration:
    """What :func:`explore` returns; see the module's documentation."""

    def __init__(self, model: torch.nn.Module, example: torch.Tensor, traced: Trace, output: Any,
                 leaves: list[_Seen]) -> None:
        self.model, self.example, self.trace = model, example, traced
        self._modules = dict(model.named_modules())
        self._modules["(model)"] = model  # the recorder's name for a model that is itself a leaf
        self._cache: OrderedDict[str, tuple[torch.Tensor, torch.Tensor | None]] = OrderedDict()
        params: dict[str, int] = {}
        for row in traced.rows:  # a module's parameters, counted at its first call (the trace's rule)
            params.setdefault(row.name, row.params)
        self.layers = [self._info(seen, params.get(seen.call.name, 0) if seen.index == 0 else 0)
                       for seen in leaves if seen.call.outputs]
        self._by_name = {layer.name: layer for layer in self.layers}
        self.output = output
        self.forward_passes = 1   # the one that made it; each recompute of an evicted layer adds one
        for seen in leaves:  # the pass's own outputs, in call order while they fit, unless changed in place since
            call, layer = seen.call, self._by_name.get(seen.name)
            if layer is None or [t._version for t in call.outputs + call.inputs] != seen.versions:
                continue
            pair = (call.outputs[0], call.inputs[0] if layer.is_conv and call.inputs else None)
            if _storage_bytes([*self._cache.values(), pair]) <= CACHE_BYTES:
                self._cache[seen.name] = pair

    def _info(self, seen: _Seen, params: int) -> LayerInfo:
        shape = tuple(seen.call.outputs[0].shape)
        fields = seen.geometry.fields if seen.geometry is not None else None
        field = tuple((f.size, f.jump, f.start) for f in fields) if fields else None
        return LayerInfo(seen.name, type(seen.call.module).__name__, shape, params, field,
                         isinstance(seen.call.module, _CONVS), len(shape) in (3, 4) and shape[0] == 1,
                         seen.inputs, seen.call.name, seen.index)

    # --- activations -----------------------------------------------------------------------------

    def _layer(self, name: str, maps: bool = True) -> LayerInfo:
        layer = self._by_name.get(name)
        if layer is None:
            names = ", ".join(layer.name for layer in self.layers if layer.has_maps or not maps)
            raise ExploreError(f"no layer named {name!r}", expected=f"one of: {names}", got=repr(name),
                               fix="use a name from Exploration.layers")
        if maps and not layer.has_maps:
            raise ExploreError(f"layer {name!r} ({layer.kind}) has no feature maps to show",
                               expected="a layer whose output is (1, C, L) or (1, C, H, W)",
                               got=f"output {layer.output_shape}", fix="pick a convolution, pooling or activation")
        return layer

    def _capture(self, name: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The layer's output and (for a convolution) its input, from one forward pass with one hook
        on that module: the first call of a module used twice."""
        with PASSES:
            return self._capture_locked(name)

    def _capture_locked(self, name: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        if name in self._cache:
            self._cache.move_to_end(name)
            return self._cache[name]
        layer = self._by_name[name]
        module = self._modules[layer.module]
        seen: dict[str, Any] = {"calls": 0}

        def hook(_module: Any, inputs: tuple, output: Any) -> None:
            seen["calls"] += 1
            if seen["calls"] == layer.call + 1:  # cloned now: a later in-place op would change them
                seen["output"] = tensors_in(output)[0].detach().clone()
                seen["input"] = inputs[0].detach().clone() if layer.is_conv else None
                raise _Stop
        handle = module.register_forward_hook(hook)
        try:
            with preserved_state(self.model), torch.no_grad():
                self.model.eval()
                self.model(self.example)
        except _Stop:
            pass
        finally:
            handle.remove()
        self.forward_passes += 1
        if "output" not in seen:
            raise ExploreError(f"layer {name!r} did not run again", expected="a forward pass that calls the "
                               "same modules every time", got=f"{seen['calls']} call(s) of {layer.module!r}",
                               fix="explore the model again")
        pair = (seen["output"], seen["input"])
        self._cache[name] = pair
        while _storage_bytes(self._cache.values()) > CACHE_BYTES and len(self._cache) > 1:
            self._cache.popitem(last=False)   # the least recently used first
        return pair

    def activation(self, name: str) -> np.ndarray:
        """The layer's output for the input, without the batch axis: (C, ...), as the model made it."""
        # a copy: the cached tensor may be the pass's own, and the caller may write into the array
        return self._capture(self._layer(name, maps=False).name)[0][0].float().numpy().copy()

    # --- what the page and the notebook show ---------------------------------------------------------

    def maps(self, name: str, start: int = 0, count: int = 16, size: int = 96) -> dict[str, Any]:
        """Channels ``start .. start + count - 1`` of a layer, each as a PNG at most ``size`` pixels a
        side (block averages of the map: see ``scale``), with its statistics and strongest unit."""
        layer = self._layer(name)
        values = self.activation(name)                                   # (C, L) or (C, H, W)
        channels = values.shape[0]
        if not 1 <= count <= MAX_MAPS_PER_PAGE:
            raise ExploreError("too many maps for one page", expected=f"count from 1 to {MAX_MAPS_PER_PAGE}",
                               got=str(count), fix="page through the channels with start")
        if not 0 <= start < channels:
            raise ExploreError("no such channel to start from", expected=f"start from 0 to {channels - 1}",
                               got=str(start), fix="start=0")
        from ..images import to_display

        shown = []
        for channel in range(start, min(start + count, channels)):
            full = _as_2d(values[channel])
            small = _shrink(full, size)
            peak = [int(i) for i in np.unravel_index(int(np.argmax(values[channel])), values[channel].shape)]
            shown.append({"channel": channel, "image": _png(to_display(small, signed=True).rgb),
                          "shape": list(values[channel].shape), "scale": full.shape[-1] / small.shape[-1],
                          "min": float(full.min()), "max": float(full.max()), "mean": float(full.mean()),
                          "peak": peak, "value": float(values[channel][tuple(peak)])})
        return {"layer": layer.name, "kind": layer.kind, "channels": channels, "start": start, "maps": shown}

    def unit(self, name: str, channel: int) -> dict[str, Any]:
        """One map's strongest unit: where it is, what region of the input it sees (the analytic
        receptive field, which may reach into the padding; ``box`` is the part inside the input),
        that input patch, the map's statistics and, for a convolution, the kernels that made it."""
        layer = self._layer(name)
        values = self.activation(name)
        if not 0 <= channel < values.shape[0]:
            raise ExploreError("no such channel", expected=f"a channel from 0 to {values.shape[0] - 1}",
                               got=str(channel), fix="click one of the maps")
        v = values[channel]
        peak = [int(i) for i in np.unravel_index(int(np.argmax(v)), v.shape)]
        answer: dict[str, Any] = {
            "layer": name, "channel": channel, "peak": peak, "value": float(v[tuple(peak)]),
            "stats": {"min": float(v.min()), "max": float(v.max()), "mean": float(v.mean()), "std": float(v.std()),
                      "positive": float((v > 0).mean())}}
        if layer.field is not None:
            spatial = self.example.shape[2:]
            bounds = [[index * jump + start, index * jump + start + size - 1]
                      for index, (size, jump, start) in zip(peak, layer.field)]
            box = [[max(a, 0), min(b, n - 1)] for (a, b), n in zip(bounds, spatial)]
            answer["field"] = dict(zip(("rows", "cols") if len(bounds) == 2 else ("cols",), bounds))
            answer["box"] = box
            answer["patch"] = self.input_image(box)
        module = self._modules[layer.module]
        if isinstance(module, _CONVS):
            answer["kernels"] = module.weight.detach()[channel].float().numpy().round(6).tolist()
            answer["bias"] = None if module.bias is None else float(module.bias.detach()[channel])
        return answer

    def input_image(self, box: list[list[int]] | None = None) -> str:
        """The input as a PNG data URL (three channels as colour, otherwise their mean), or only the
        part inside ``box`` (per spatial axis: [first, last])."""
        from ..images import to_display

        x = self.example[0].float().numpy()                                  # (C, ...) input
        box = box if box is not None else [[0, n - 1] for n in x.shape[1:]]
        region = x[(slice(None), *(slice(a, b + 1) for a, b in box))]
        if region.ndim == 2:
            region = region[:, None, :]                                      # (C, 1, L)
        picture = region.transpose(1, 2, 0) if region.shape[0] == 3 else region.mean(axis=0)   # (h, w, 3) or (h, w)
        return _png(to_display(picture).rgb)

    @property
    def prediction(self) -> dict[str, Any] | None:
        """For a classifier (an output of shape (1, K)): softmax probabilities and the top five."""
        out = self.output
        if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != 1 or out.shape[1] < 2:
            return None
        p = torch.softmax(out.float(), 1)[0].numpy()
        top = np.argsort(-p)[:5]
        return {"probabilities": p.tolist(), "top": [(int(i), float(p[i])) for i in top]}

    def engine_check(self, name: str) -> dict[str, Any]:
        """convscope's own convolution on the layer's real input, against the model's output."""
        module = self._modules[self._layer(name, maps=False).module]
        if not isinstance(module, _CONVS):
            return {"layer": name, "supported": False, "why": f"{type(module).__name__} is not a convolution"}
        from .. import engine

        output, layer_input = self._capture(name)
        run = {1: engine.conv1d, 2: engine.conv2d, 3: engine.conv3d}[module.weight.dim() - 2]
        assert layer_input is not None  # _capture keeps the input of a convolution
        ours = run(layer_input.float().numpy(), module.weight.detach().float().numpy(),
                   None if module.bias is None else module.bias.detach().float().numpy(),
                   module.stride, module.padding, module.dilation, module.groups, padding_mode=module.padding_mode)
        return {"layer": name, "supported": True, "backend": "auto",
                "max_abs_diff": float(np.abs(ours - output.float().numpy()).max())}

    def engine_checks(self) -> dict[str, Any]:
        """Every convolution's check, and the largest difference."""
        checks = [self.engine_check(layer.name) for layer in self.layers if layer.is_conv]
        worst = max((check["max_abs_diff"] for check in checks), default=0.0)
        return {"checks": checks, "max_abs_diff": worst}

    def _repr_html_(self) -> str:
        from ..display import block, table

        rows = [[layer.name, layer.kind, str(layer.output_shape), f"{layer.params:,}",
                 "x".join(str(size) for size, _, _ in layer.field) if layer.field else "-", ", ".join(layer.inputs)]
                for layer in self.layers]
        body = table(["layer", "kind", "output", "params", "receptive field", "inputs"], rows, numeric=["params"])
        if self.prediction:
            body += "<div>top classes: " + ", ".join(f"{i} ({p:.1%})" for i, p in self.prediction["top"]) + "</div>"
        first = next((layer for layer in self.layers if layer.is_conv and layer.has_maps), None)
        if first is not None:
            body += f"<div>{first.name}: first maps</div>" + "".join(
                f"<img src='{m['image']}' alt='channel {m['channel']}' width='64' style='image-rendering:pixelated;"
                f"margin:2px'>" for m in self.maps(first.name, count=8)["maps"])
        return block("explore", body)


def explore(model: torch.nn.Module, input_shape_or_example: Any, max_bytes: int | None = None) -> Exploration:
    """Trace ``model`` on the input (a tensor or array of one example, or a shape for seeded random
    data) and get ready to show any layer. ``max_bytes``: as :func:`trace` (refused before any
    allocation when the pass's estimate is above it)."""
    if isinstance(input_shape_or_example, np.ndarray):
        input_shape_or_example = torch.from_numpy(np.ascontiguousarray(input_shape_or_example, dtype=np.float32))
    example = as_example(input_shape_or_example)
    if example.dim() < 3 or example.shape[0] != 1:
        raise ExploreError("explore shows one example", expected="an input of shape (1, C, L) or (1, C, H, W)",
                           got=str(tuple(example.shape)), fix="pass a single example, e.g. x[:1]")
    check_memory(model, example, False, MEMORY_BUDGET if max_bytes is None else max_bytes)  # before allocating
    example = example.detach().clone()  # our own: recomputes need it as it was, whatever the caller does to theirs
    with PASSES, preserved_state(model):
        # the one forward pass: trace()'s recorder and costs, plus provenance, plus the outputs kept
        recorder = _Pass(model, example)
        costs = _Costs(recorder)
        with torch.no_grad(), costs:
            output = recorder.run(example)
        rows = build_rows(recorder, costs.adds)
    unique = {id(p): p for p in model.parameters()}.values()
    outputs = tensors_in(output)
    traced = Trace(type(model).__name__, tuple(example.shape), rows, sum(p.numel() for p in unique),
                   sum(p.numel() for p in unique if p.requires_grad), sum(r.mult_adds for r in rows),
                   tuple(outputs[0].shape) if outputs else None)
    return Exploration(model, example, traced, output, recorder.leaves)
