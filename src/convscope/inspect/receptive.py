"""Receptive fields measured, not derived: the input support of one output unit's gradient.

For each layer with a spatial output, take its centre unit (summed over channels),
backpropagate to the input, and mark every input position with a non-zero gradient.
One input is not enough: a max-pool passes gradient only to each window's maximum and
a ReLU blocks it where it is off, so the support of a single gradient is a subset of
the field. The union over random inputs grows to the whole field; sampling stops once
it has stopped growing. Where the analytic rules apply the two agree (the tests check
it); where they do not (merging branches, transposed convolutions) this is the answer.
"""

from __future__ import annotations

from typing import Any

import torch

from .recorder import Recorder

MIN_TRIALS, PATIENCE, MAX_TRIALS = 8, 8, 48


def _targets(rows: list[Any], example: torch.Tensor) -> list[int]:
    """Rows whose output is a batched map over the same number of spatial axes as the input."""
    keep = []
    for index, row in enumerate(rows):
        shape = row.output_shape
        if row.depth > 0 and shape is not None and len(shape) == example.dim() and shape[0] == example.shape[0]:
            keep.append(index)
    return keep


def measure_receptive_fields(model: torch.nn.Module, example: torch.Tensor, recorder: Recorder,
                             rows: list[Any], seed: int = 0) -> list[str]:
    """Fill ``row.measured`` (and ``row.measured_clipped``) for every row with a spatial output
    (containers too: a residual block's output is where its branches have merged); return notes."""
    targets = _targets(rows, example)
    if not targets:
        return []
    generator = torch.Generator().manual_seed(seed)
    supports: dict[int, torch.Tensor] = {}
    was_training = model.training
    model.eval()  # batch norm and dropout as at inference: the same function on every trial
    trials, quiet = 0, 0
    try:
        while trials < MAX_TRIALS and (trials < MIN_TRIALS or quiet < PATIENCE):
            x = torch.randn(example.shape, generator=generator, dtype=example.dtype).requires_grad_(True)
            rerun = Recorder(model)
            with torch.enable_grad():
                rerun.run(x)
            calls = [c for c in sorted(rerun.calls, key=lambda c: c.started) if c.finished]
            grew = False
            for index in targets:
                out = calls[index].outputs[0]
                if not out.requires_grad:
                    continue
                centre = tuple(n // 2 for n in out.shape[2:])
                (grad,) = torch.autograd.grad(out[(0, slice(None)) + centre].sum(), x, retain_graph=True,
                                              allow_unused=True)
                if grad is None:
                    continue
                mask = grad[0].abs().sum(0) > 0                     # (*spatial): positions that matter
                before = supports.get(index)
                supports[index] = mask if before is None else before | mask
                grew = grew or before is None or bool((supports[index] & ~before).any())
            trials += 1
            quiet = 0 if grew else quiet + 1
    finally:
        model.train(was_training)
    for index, support in supports.items():
        row = rows[index]
        extents, clipped = [], False
        for axis in range(support.dim()):
            other = tuple(a for a in range(support.dim()) if a != axis)
            hit = support.any(dim=other) if other else support
            where = torch.nonzero(hit).flatten()
            if where.numel() == 0:
                extents = []
                break
            low, high = int(where.min()), int(where.max())
            extents.append(high - low + 1)
            if row.rf is not None:
                field, centre = row.rf[axis], row.output_shape[2 + axis] // 2
                first = field.first(centre)
                clipped |= first < 0 or first + field.size > support.shape[axis]
            else:
                clipped |= low == 0 or high == support.shape[axis] - 1
        if extents:
            row.measured, row.measured_clipped = tuple(extents), clipped
    notes = [f"receptive fields measured by gradients of each layer's centre unit: union over {trials} random "
             "inputs ('+': the field reaches the input's border, so it is at least this)"]
    merged = next((r for r in rows if r.rf is None and "merge" in r.rf_note), None)
    if merged is not None:
        notes.append(f"from {merged.name} on, {merged.rf_note}: the analytic single-path rules do not apply, "
                     "so the measured column is the receptive field")
    return notes
