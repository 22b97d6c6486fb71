"""``trace(model, input)``: a layer-by-layer table of any ``nn.Module``.

For every module call: its name, type, input and output shapes, window parameters,
parameter count (a weight shared or tied between layers is counted once, at its first
use), mult-adds and receptive field. Parameter counts and mult-adds follow torchinfo's
conventions where torchinfo is right (a convolution's mult-adds are its weight and bias
elements times the output positions, batch included; a norm's, its parameters times the
batch size), and the tests hold them to torchinfo itself. Where torchinfo 1.8.0 is not
(its issue #77: a Linear on (B, T, D) counted once per batch) the count is per output
position: a Linear's weight and bias times every position of its output but the last
axis; ``matmul``/``@``/``mm``/``bmm``/``einsum``/``F.linear``/``F.scaled_dot_product_attention``
called in a module's forward are counted from their operands (what
``torch.utils.flop_counter.FlopCounterMode`` counts, divided by 2, plus one add per output
element for a bias), and ``nn.MultiheadAttention`` its projections and both attention
products. The tests hold these to ``FlopCounterMode``.

The model is left as it was: the trace runs it in eval mode (batch norm uses and keeps
its running statistics, dropout is off), and afterwards its training flag is restored and
every buffer is copied back from a snapshot, so ``state_dict()`` is bitwise unchanged; the
measurement takes gradients with respect to the input only, so no parameter gets a ``.grad``.

Measuring receptive fields by gradients (``measure=True``) is a check of the analytic
fields, and it costs backward passes: about two per layer with a spatial output. With
``measure=None`` (the default) it is done only for small models: when the measurement's
work (the sum, over the layers with a spatial output, of the mult-adds up to that layer,
times :data:`~convscope.inspect.receptive.TRIAL_BATCH` and two rounds) is at most
:data:`AUTO_MEASURE_WORK`, about a second or two of one CPU core; a note says when it
was skipped. ``measure=True`` always measures, ``measure=False`` never does.

Before the real pass, :func:`check_memory` estimates what it will allocate: the model runs
once on PyTorch's ``meta`` device (shapes without data, so no memory), and the bytes of the
input and of every tensor the pass produces are summed (the trace keeps them all). Measuring
receptive fields runs the model again with gradients, so that estimate counts four times (the
measurement's batches of random inputs are sized from the real pass to stay within the budget).
Above :data:`MEMORY_BUDGET` (4 GiB) the trace is refused with a :class:`MemoryBudgetError`
before anything is allocated. A model that cannot run on ``meta`` (an op without a meta
kernel, a branch on a tensor's values) is estimated from its input alone.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from ..engine.arithmetic import ReceptiveField
from .costs import _Costs, mult_adds, op_mult_adds  # noqa: F401 - mult_adds: part of trace's API
from .memory import (  # noqa: F401
    MEASURE_FACTOR,
    MEMORY_BUDGET,
    MemoryBudgetError,
    MemoryEstimate,
    _bytes,
    check_memory,
    estimate_memory,
)
from .receptive import measure_receptive_fields
from .recorder import Call, Recorder

AUTO_MEASURE_WORK = 2 * 10**10  # mult-adds the automatic measurement may cost (measure=None): about 2 s of a CPU core
AUTO_DEPTH_ROWS = 60            # the command line's default --depth keeps the table under this many rows

WINDOW_ATTRIBUTES = ("kernel_size", "stride", "padding", "dilation", "groups")


@dataclass
class LayerRow:
    """One module call."""

    name: str
    type: str
    depth: int
    leaf: bool
    input_shapes: list[tuple[int, ...]]
    output_shapes: list[tuple[int, ...]]
    window: dict[str, Any]                     # kernel_size, stride, padding, dilation, groups when present
    params: int                                # its own parameters, unless counted at an earlier call
    trainable: int
    mult_adds: int
    rf: tuple[ReceptiveField, ...] | None      # analytic, per spatial axis
    rf_note: str = ""                          # why there is no analytic field
    measured: tuple[int, ...] | None = None    # empirical field of the centre unit, per axis
    measured_clipped: tuple[bool, ...] = ()    # per axis: the field reaches past the input's border there
    shared: bool = False                       # its parameters were counted at an earlier call
    subtree_params: int = 0                    # its own and its sub-modules' (for collapsed depths)
    subtree_mult_adds: int = 0

    @property
    def output_shape(self) -> tuple[int, ...] | None:
        return self.output_shapes[0] if self.output_shapes else None

    def window_text(self) -> str:
        w = self.window
        if "kernel_size" not in w:
            return ""
        text = f"k{_axes(w['kernel_size'])} s{_axes(w.get('stride', 1))}"
        padding = w.get("padding", 0)
        text += f" p{padding}" if isinstance(padding, str) else f" p{_axes(padding)}"
        if _axes(w.get("dilation", 1)) != "1":
            text += f" d{_axes(w['dilation'])}"
        if w.get("groups", 1) != 1:
            text += f" g{w['groups']}"
        return text

    def rf_text(self) -> str:
        """The analytic field, or why there is none ("global", "branches", ...)."""
        if self.rf is not None:
            return _axes(tuple(f.size for f in self.rf))
        if self.rf_note.startswith("global"):
            return "global"
        return "branches" if "merge" in self.rf_note else ("-" if self.rf_note else "")


def _measured_text(row: LayerRow) -> str:
    """``(27, 27)`` -> ``"27"``; a field cut by the border on the second axis only -> ``"27x27+"``."""
    return _axes(tuple(f"{m}{'+' if cut else ''}" for m, cut in zip(row.measured or (), row.measured_clipped)))


def _axes(value: Any) -> str:
    """``(3, 3)`` -> ``"3"``, ``(3, 5)`` -> ``"3x5"``."""
    if isinstance(value, (tuple, list)):
        values = [str(v) for v in value]
        return values[0] if len(set(values)) == 1 else "x".join(values)
    return str(value)


@dataclass
class Trace:
    """The table: rows in call order, totals, and the error if the forward pass failed."""

    model: str
    input_shape: tuple[int, ...]
    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    total_mult_adds: int
    output_shape: tuple[int, ...] | None
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def visible(self, depth: int | None = None) -> list[LayerRow]:
        """Rows down to ``depth`` (None: leaves and the containers above them, all depths)."""
        return [r for r in self.rows if r.depth > 0 and (depth is None or r.depth <= depth)]

    def to_dict(self) -> dict[str, Any]:
        def row(r: LayerRow) -> dict[str, Any]:
            out = asdict(r)
            out["rf"] = None if r.rf is None else [asdict(f) for f in r.rf]
            out["input_shapes"] = [list(s) for s in r.input_shapes]
            out["output_shapes"] = [list(s) for s in r.output_shapes]
            return out
        return {"model": self.model, "input_shape": list(self.input_shape), "output_shape":
                None if self.output_shape is None else list(self.output_shape), "total_params": self.total_params,
                "trainable_params": self.trainable_params, "total_mult_adds": self.total_mult_adds,
                "error": self.error, "notes": self.notes, "layers": [row(r) for r in self.rows if r.depth > 0]}

    def columns(self, depth: int | None = None) -> tuple[list[str], list[list[str]]]:
        """Header and cells of the printed table (rows collapsed below ``depth``)."""
        header = ["layer", "type", "input", "output", "window", "params", "mult-adds", "RF", "jump", "start",
                  "measured"]
        cells = []
        for r in self.visible(depth):
            collapsed = depth is not None and r.depth == depth and not r.leaf
            params = r.subtree_params if collapsed else r.params
            adds = r.subtree_mult_adds if collapsed else r.mult_adds
            cells.append([
                "  " * (r.depth - 1) + r.name.rsplit(".", 1)[-1], r.type,
                _shapes(r.input_shapes), _shapes(r.output_shapes), r.window_text(),
                ("(shared)" if r.shared else f"{params:,}") if (r.leaf or collapsed) else "",
                f"{adds:,}" if (r.leaf or collapsed or r.mult_adds) else "",   # a container's own products too
                r.rf_text(), _axes(tuple(f.jump for f in r.rf)) if r.rf else "",
                _axes(tuple(f.start for f in r.rf)) if r.rf else "",
                _measured_text(r) if r.measured else ""])
        return header, cells

    def readable_depth(self, max_rows: int = AUTO_DEPTH_ROWS) -> int | None:
        """The deepest ``depth`` whose table has at most ``max_rows`` rows (None: every row fits;
        1 when even depth 1 has more)."""
        if len(self.visible()) <= max_rows:
            return None
        deepest = max((r.depth for r in self.rows), default=1)
        return next((d for d in range(deepest, 0, -1) if len(self.visible(d)) <= max_rows), 1)

    def fitted(self, depth: int | None = None, width: int | None = None
               ) -> tuple[list[str], list[list[str]], list[str]]:
        """:meth:`columns` made to fit ``width`` characters of a rich table (None: as they are),
        and a note on what was left out: empty columns first, then "input" (the row above's
        output), "start", then params and mult-adds in K/M/G, then "window", "jump", "measured"
        and "type". Numbers and names are never cut; --json has every field."""
        header, cells = self.columns(depth)
        if width is None:
            return header, cells, []
        dropped: list[str] = []
        abbreviated = False

        def total() -> int:
            return sum(max([len(h)] + [len(c[i]) for c in cells]) + 3 for i, h in enumerate(header)) + 1

        def drop(name: str) -> None:
            i = header.index(name)
            del header[i]
            for row in cells:
                del row[i]
            dropped.append(name)

        for name in [h for i, h in enumerate(header) if h not in ("layer", "type") and not any(c[i] for c in cells)]:
            drop(name)
        dropped.clear()  # an empty column says nothing: no note
        steps = ["input", "start", "abbreviate", "window", "jump", "measured", "type"]
        for step in steps:
            if total() <= width:
                break
            if step == "abbreviate":
                for name in ("params", "mult-adds"):
                    if name in header:
                        i = header.index(name)
                        for row in cells:
                            row[i] = _abbreviate(row[i])
                abbreviated = True
            elif step in header:
                drop(step)
        notes = []
        if dropped:
            notes.append(f"left out to fit {width} columns: {', '.join(dropped)} (--json has every field)")
        if abbreviated:
            notes.append("params and mult-adds in K, M, G: thousands, millions, billions")
        return header, cells, notes

    def footer(self) -> list[str]:
        lines = [(f"total params {self.total_params:,} (trainable {self.trainable_params:,}); "
                  f"mult-adds {self.total_mult_adds:,}; input {_shape(self.input_shape)} -> output "
                  f"{_shape(self.output_shape) if self.output_shape else '-'}")]
        return lines + self.notes

    def to_markdown(self, depth: int | None = None) -> str:
        header, cells = self.columns(depth)
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in cells]
        return "\n".join(lines + [""] + [f"- {line}" for line in self.footer()])

    def to_html(self, depth: int | None = None, styled: bool = True) -> str:
        """The table of :meth:`columns` as HTML (one ``<tr>`` per visible row, nested layers
        indented as in the printed table), then the totals and notes of :meth:`footer`
        (``styled=False``: without the style block, for a page that already has it)."""
        from ..display import Html, block, escape, table

        header, cells = self.columns(depth)
        rows = self.visible(depth)
        for row, line in zip(rows, cells):
            # the text table indents with spaces, which HTML collapses: indent with CSS instead
            line[0] = Html(f"<span style='padding-left:{row.depth - 1}em' title='{escape(row.name, quote=True)}'>"
                           f"{escape(line[0].strip())}</span>")
        numeric = ("params", "mult-adds", "jump", "start")
        scroll = " style='max-height:40em;overflow:auto'" if len(cells) > AUTO_DEPTH_ROWS else ""
        error = f"<div class='convscope-warning'>the pass failed: {escape(self.error)}</div>" if self.error else ""
        footer = "".join(f"<div class='convscope-muted'>{escape(line)}</div>" if i else f"<div>{escape(line)}</div>"
                         for i, line in enumerate(self.footer()))
        return block("trace", f"<div><b>{escape(self.model)}</b> on input {escape(_shape(self.input_shape))}</div>"
                              f"{error}<div{scroll}>{table(header, cells, numeric)}</div>{footer}", styled)

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_rich(self, depth: int | None = None, width: int | None = None, notes: list[str] | None = None) -> Any:
        """The table (fitted to ``width`` characters when given: :meth:`fitted`), then the totals
        and the notes (``notes``: the caller's, e.g. the depth it chose)."""
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        header, cells, fit_notes = self.fitted(depth, width)
        table = Table(title=f"{self.model} on input {_shape(self.input_shape)}", title_justify="left")
        for column in header:
            table.add_column(column, justify="right" if column in ("params", "mult-adds", "jump", "start") else "left",
                             overflow="fold" if width is None else ("ellipsis" if column == "type" else "fold"),
                             no_wrap=width is not None and column not in ("type", "input", "output"))
        for row in cells:
            table.add_row(*row)
        lines = self.footer() + list(notes or []) + fit_notes
        if width is not None:  # the totals broken between their parts, not inside a shape
            lines = [piece for line in lines for piece in _wrap_parts(line, width)]
        return Group(table, *[Text(line) for line in lines])


def _wrap_parts(line: str, width: int) -> list[str]:
    """``line`` in pieces of at most ``width`` characters, broken after "; " where it can be."""
    pieces, current = [], ""
    for part in line.split("; "):
        joined = f"{current}; {part}" if current else part
        if len(joined) > width and current:
            pieces.append(current + ";")
            current = part
        else:
            current = joined
    return pieces + [current]


def _abbreviate(cell: str) -> str:
    """ "118,013,952" -> "118M"; other cells as they are."""
    digits = cell.replace(",", "")
    return _count(int(digits)) if digits.isdigit() else cell


def _shape(shape: tuple[int, ...] | None) -> str:
    return "(" + ", ".join(map(str, shape)) + ")" if shape is not None else "-"


def _shapes(shapes: list[tuple[int, ...]]) -> str:
    return ", ".join(_shape(s) for s in shapes[:2]) + (" ..." if len(shapes) > 2 else "")


def _window(module: torch.nn.Module) -> dict[str, Any]:
    found = {}
    for attribute in WINDOW_ATTRIBUTES:
        if hasattr(module, attribute) and not callable(getattr(module, attribute)):
            value = getattr(module, attribute)
            found[attribute] = list(value) if isinstance(value, tuple) else value
    return found if "kernel_size" in found else {}


def build_rows(recorder: Recorder, op_adds: dict[int, int] | None = None) -> list[LayerRow]:
    """Rows in call order, each parameter counted at its first use (``op_adds``: the mult-adds of
    the products each call ran itself, by ``id(call)``, from :class:`_Costs`)."""
    seen: set[int] = set()
    rows = []
    for call in sorted(recorder.calls, key=lambda c: c.started):
        if not call.finished:
            continue
        own = list(call.module.parameters(recurse=False))
        fresh = [p for p in own if id(p) not in seen]
        seen.update(id(p) for p in own)
        output = tuple(call.outputs[0].shape) if call.outputs else None
        geometry = recorder.flow.of(call.outputs[0]) if call.outputs else None
        rows.append(LayerRow(
            name=call.name, type=type(call.module).__name__, depth=call.depth,
            leaf=not any(True for _ in call.module.children()),
            input_shapes=[tuple(t.shape) for t in call.inputs], output_shapes=[tuple(t.shape) for t in call.outputs],
            window=_window(call.module), params=sum(p.numel() for p in fresh),
            trainable=sum(p.numel() for p in fresh if p.requires_grad),
            mult_adds=mult_adds(call.module, output, [tuple(t.shape) for t in call.inputs])
            + (op_adds or {}).get(id(call), 0),
            rf=geometry.fields if geometry is not None else None,
            rf_note=geometry.note if geometry is not None else "no spatial input",
            shared=bool(own) and not fresh))
    _subtree_totals(rows)
    return rows


def _subtree_totals(rows: list[LayerRow]) -> None:
    for i, row in enumerate(rows):
        params, adds = row.params, row.mult_adds
        for later in rows[i + 1:]:
            if later.depth <= row.depth:
                break
            params += later.params
            adds += later.mult_adds
        row.subtree_params, row.subtree_mult_adds = params, adds


def as_example(input_shape_or_example: Any) -> torch.Tensor:
    """A tensor: the example itself, or random normal data of the given shape (seeded)."""
    if isinstance(input_shape_or_example, torch.Tensor):
        return input_shape_or_example
    shape = tuple(int(n) for n in input_shape_or_example)
    return torch.randn(shape, generator=torch.Generator().manual_seed(0))


@contextlib.contextmanager
def preserved_state(model: torch.nn.Module) -> Any:
    """Run ``model`` in eval mode and leave it as it was: its (and every sub-module's) training
    flag, every buffer's values (BatchNorm's running statistics, ``num_batches_tracked``) copied
    back from a snapshot, and each parameter's ``.grad`` as before."""
    flags = [(m, m.training) for m in model.modules()]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    grads = [(p, p.grad) for p in model.parameters()]
    model.eval()
    try:
        yield model
    finally:
        with torch.no_grad():
            for buffer, saved in buffers:
                if buffer.shape == saved.shape:
                    buffer.copy_(saved)
        for parameter, grad in grads:
            parameter.grad = grad
        for module, flag in flags:
            module.training = flag


def measurement_work(rows: list[LayerRow], example: torch.Tensor) -> int:
    """What measuring costs, in mult-adds: for every layer with a spatial output, the forward
    mult-adds up to it (its backward pass costs about as much), times the trial batch and two rounds."""
    from .receptive import TRIAL_BATCH, _targets

    per_sample = max(1, example.shape[0]) if example.dim() else 1
    targets = set(_targets(rows, example))
    running, work = 0, 0
    for index, row in enumerate(rows):
        if row.leaf or row.depth == 0:
            running += row.mult_adds
        if index in targets:
            work += running
    return work * 2 * TRIAL_BATCH // per_sample


def _batch_limit(recorder: Recorder, example: torch.Tensor, max_bytes: int | None) -> int:
    """How many random inputs one measuring pass may take: the pass just run kept every tensor it
    made (``recorder.flow``); with gradients a sample costs about three times that, and the batch
    stays within ``max_bytes`` (:data:`MEMORY_BUDGET` when None)."""
    from .receptive import TRIAL_BATCH

    seen: dict[int, torch.Tensor] = {}
    for tensor in [example, *recorder.flow.keep]:
        if id(tensor) not in seen and not tensor._is_view():
            seen[id(tensor)] = tensor
    kept = sum(t.numel() * t.element_size() for t in seen.values())
    per_sample = 3 * kept / max(1, example.shape[0])
    return max(1, min(TRIAL_BATCH, int((max_bytes or MEMORY_BUDGET) // max(per_sample, 1))))


def trace(model: torch.nn.Module, input_shape_or_example: Any, measure: bool | None = None,
          max_bytes: int | None = MEMORY_BUDGET) -> Trace:
    """Run ``model`` once on the example (or random data of that shape) and tabulate every call.

    ``measure``: also measure receptive fields by gradients, a check of the analytic fields
    (and the answer where the analytic rules do not apply). None: only when the measurement's
    work is at most :data:`AUTO_MEASURE_WORK` mult-adds (small models; a note says when it was
    skipped); True: always; False: never. ``max_bytes``: refuse, before allocating anything, a
    pass estimated above it (None: no estimate, no limit). The model's training flag, buffers
    and gradients are as they were afterwards (:func:`preserved_state`).

    Raises
    ------
    MemoryBudgetError
        The estimate is above ``max_bytes``.
    Exception
        Whatever the model's forward pass raises (``SystemExit`` and ``KeyboardInterrupt`` as
        :class:`~convscope.inspect.recorder.ModelExit`); :func:`convscope.inspect.doctor` explains it.
    """
    estimate = check_memory(model, input_shape_or_example, bool(measure), max_bytes)
    example = as_example(input_shape_or_example)
    with preserved_state(model):
        recorder = Recorder(model)
        costs = _Costs(recorder)
        with torch.no_grad(), costs:
            output = recorder.run(example)
        rows = build_rows(recorder, costs.adds)
        notes = []
        spatial = example.dim() >= 3 and example.device.type != "meta"
        if measure is None and spatial:
            work = measurement_work(rows, example)
            fits = max_bytes is None or estimate is None or estimate.total * MEASURE_FACTOR <= max_bytes
            measure = work <= AUTO_MEASURE_WORK and fits
            if not measure:
                notes.append(f"receptive fields not measured: measuring would cost about {_count(work)} mult-adds "
                             f"of backward passes{'' if fits else ' and more memory than the budget'} "
                             "(--measure, measure=True: measure anyway)")
        if measure and spatial:
            notes += measure_receptive_fields(model, example, recorder, rows,
                                              batch_limit=_batch_limit(recorder, example, max_bytes))
    outputs = [t for t in (output if isinstance(output, (tuple, list)) else [output]) if isinstance(t, torch.Tensor)]
    unique = {id(p): p for p in model.parameters()}.values()
    return Trace(type(model).__name__, tuple(example.shape), rows, sum(p.numel() for p in unique),
                 sum(p.numel() for p in unique if p.requires_grad), sum(r.mult_adds for r in rows),
                 tuple(outputs[0].shape) if outputs else None, notes=notes)


def _count(n: int) -> str:
    """``4_100_000_000`` -> ``"4.1G"``: a count in three significant digits."""
    for unit, size in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(n) >= size:
            value = n / size
            return f"{value:.3g}{unit}" if value < 1000 else f"{value:,.0f}{unit}"
    return str(n)


__all__ = ["AUTO_MEASURE_WORK", "MEMORY_BUDGET", "Call", "LayerRow", "MemoryBudgetError", "MemoryEstimate", "Trace",
           "build_rows",
           "check_memory", "estimate_memory", "measurement_work", "mult_adds", "op_mult_adds",
           "preserved_state", "trace"]
