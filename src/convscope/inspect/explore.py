"""Look inside any ``nn.Module`` for one input: its layers, each layer's feature maps, one unit's
kernels, statistics and receptive field on the input, the prediction, and the engine's own
convolution checked against torch's on the layer's real input.

Creating an :class:`Exploration` traces the model once (shapes, parameters, analytic receptive
fields: :func:`convscope.inspect.trace`) and runs one forward pass for the prediction. A layer's
activation is computed only when asked for, by a forward pass with one hook on that module, and
kept in a cache bounded in bytes, so a big model costs one pass per layer looked at.

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
from .trace import Trace, as_example, preserved_state, trace

__all__ = ["Exploration", "LayerInfo", "explore"]

CACHE_BYTES = 256 * 2**20      # activations kept between calls (the least recently used go first)
MAX_MAPS_PER_PAGE = 64
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

    def __init__(self, model: torch.nn.Module, example: torch.Tensor, traced: Trace, output: Any) -> None:
        self.model, self.example, self.trace = model, example, traced
        self._modules = dict(model.named_modules())
        self._cache: OrderedDict[str, tuple[torch.Tensor, torch.Tensor | None]] = OrderedDict()
        self._cached_bytes = 0
        # one pass at a time: a hook on a shared module would catch another thread's pass (the lab
        # serves many learners from one Exploration)
        self._lock = threading.RLock()
        self.layers = [self._info(row) for row in traced.rows if row.leaf and row.name in self._modules]
        self._by_name = {layer.name: layer for layer in self.layers}
        self.output = output

    def _info(self, row: Any) -> LayerInfo:
        shape = row.output_shape
        field = tuple((f.size, f.jump, f.start) for f in row.rf) if row.rf else None
        module = self._modules[row.name]
        return LayerInfo(row.name, row.type, shape, row.params, field, isinstance(module, _CONVS),
                         shape is not None and len(shape) in (3, 4) and shape[0] == 1)

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
        with self._lock:
            return self._capture_locked(name)

    def _capture_locked(self, name: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        if name in self._cache:
            self._cache.move_to_end(name)
            return self._cache[name]
        module = self._modules[name]
        seen: dict[str, Any] = {}

        def hook(_module: Any, inputs: tuple, output: Any) -> None:
            if "output" not in seen:
                seen["output"] = output.detach().clone()
                seen["input"] = inputs[0].detach().clone() if isinstance(module, _CONVS) else None
        handle = module.register_forward_hook(hook)
        try:
            with preserved_state(self.model), torch.no_grad():
                self.model.eval()
                self.model(self.example)
        finally:
            handle.remove()
        pair = (seen["output"], seen["input"])
        size = sum(t.numel() * t.element_size() for t in pair if t is not None)
        self._cache[name] = pair
        self._cached_bytes += size
        while self._cached_bytes > CACHE_BYTES and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cached_bytes -= sum(t.numel() * t.element_size() for t in old if t is not None)
        return pair

    def activation(self, name: str) -> np.ndarray:
        """The layer's output for the input, without the batch axis: (C, ...), as the model made it."""
        return self._capture(self._layer(name, maps=False).name)[0][0].float().numpy()

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
            answer["patch"] = self._patch(box)
        module = self._modules[name]
        if isinstance(module, _CONVS):
            answer["kernels"] = module.weight.detach()[channel].float().numpy().round(6).tolist()
            answer["bias"] = None if module.bias is None else float(module.bias.detach()[channel])
        return answer

    def _patch(self, box: list[list[int]]) -> str:
        from ..images import to_display

        x = self.example[0].float().numpy()                                  # (C, ...) input
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
        module = self._modules.get(name)
        self._layer(name, maps=False)
        if not isinstance(module, _CONVS):
            return {"layer": name, "supported": False, "why": f"{type(module).__name__} is not a convolution"}
        from .. import engine

        output, layer_input = self._capture(name)
        run = {1: engine.conv1d, 2: engine.conv2d, 3: engine.conv3d}[module.weight.dim() - 2]
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
                 "x".join(str(size) for size, _, _ in layer.field) if layer.field else "-"] for layer in self.layers]
        body = table(["layer", "kind", "output", "params", "receptive field"], rows, numeric=["params"])
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
    options = {} if max_bytes is None else {"max_bytes": max_bytes}
    if isinstance(input_shape_or_example, np.ndarray):
        input_shape_or_example = torch.from_numpy(np.ascontiguousarray(input_shape_or_example, dtype=np.float32))
    example = as_example(input_shape_or_example)
    traced = trace(model, example, measure=False, **options)
    if example.dim() < 3 or example.shape[0] != 1:
        raise ExploreError("explore shows one example", expected="an input of shape (1, C, L) or (1, C, H, W)",
                           got=str(tuple(example.shape)), fix="pass a single example, e.g. x[:1]")
    with preserved_state(model), torch.no_grad():
        model.eval()
        output = model(example)
    return Exploration(model, example, traced, output)
