"""Receptive fields measured, not derived: the input support of one output unit's gradient.

For each layer with a spatial output, take its centre unit (summed over channels),
backpropagate to the input, and mark every input position with a non-zero gradient.
One input is not enough: a max-pool passes gradient only to each window's maximum and
a ReLU blocks it where it is off, so the support of a single gradient is a subset of
the field. The union over random inputs grows to the whole field; sampling stops once
it has stopped growing. Where the analytic rules apply the two agree (the tests check
it); where they do not (merging branches, transposed convolutions) this is the answer.

The random inputs go through the model together, as one batch of :data:`TRIAL_BATCH` samples
(the model in eval mode, so the samples do not see each other): one backward pass per layer
gives that layer's gradient support for every sample at once, so a layer costs two or three
backward passes, not one per trial. A model that only runs on its own batch size is measured
one trial at a time. Parameters get no ``.grad`` (the gradients are taken with respect to the
input only) and the model's training flag is restored.
"""

from __future__ import annotations

from typing import Any

import torch

from .recorder import Recorder

MIN_TRIALS, PATIENCE, MAX_TRIALS = 8, 8, 48
TRIAL_BATCH = 8   # random inputs per forward pass (fewer when they would not fit the memory budget)


def _targets(rows: list[Any], example: torch.Tensor) -> list[int]:
    """Rows whose output is a batched map over the same number of spatial axes as the input."""
    keep = []
    for index, row in enumerate(rows):
        shape = row.output_shape
        if row.depth > 0 and shape is not None and len(shape) == example.dim() and shape[0] == example.shape[0]:
            keep.append(index)
    return keep


def _round(model: torch.nn.Module, example: torch.Tensor, targets: list[int], supports: dict[int, torch.Tensor],
           generator: torch.Generator, batch: int) -> bool:
    """One forward pass on ``batch`` random inputs, one backward pass per target; whether a support grew."""
    shape = (batch, *example.shape[1:]) if batch > 1 else tuple(example.shape)
    x = torch.randn(shape, generator=generator, dtype=example.dtype).requires_grad_(True)
    rerun = Recorder(model)
    with torch.enable_grad():
        rerun.run(x)
    calls = [c for c in sorted(rerun.calls, key=lambda c: c.started) if c.finished]
    grew = False
    first: dict[int, int] = {}   # id(output) -> the first target with it: a container's output is its last
    for index in targets:        # child's, an in-place op's its input's; one backward pass serves them all
        out = calls[index].outputs[0]
        if not out.requires_grad:
            continue
        if id(out) in first:
            if first[id(out)] in supports:
                supports[index] = supports[first[id(out)]]
            continue
        first[id(out)] = index
        centre = tuple(n // 2 for n in out.shape[2:])
        rows_taken = slice(None) if batch > 1 else 0   # every sample's centre unit: the samples are independent
        (grad,) = torch.autograd.grad(out[(rows_taken, slice(None)) + centre].sum(), x, retain_graph=True,
                                      allow_unused=True)
        if grad is None:
            continue
        mask = (grad.abs().sum(1) > 0).any(0) if batch > 1 else grad[0].abs().sum(0) > 0   # (*spatial)
        before = supports.get(index)
        supports[index] = mask if before is None else before | mask
        grew = grew or before is None or bool((supports[index] & ~before).any())
    return grew


def measure_receptive_fields(model: torch.nn.Module, example: torch.Tensor, recorder: Recorder,
                             rows: list[Any], seed: int = 0, batch_limit: int = TRIAL_BATCH) -> list[str]:
    """Fill ``row.measured`` (and ``row.measured_clipped``) for every row with a spatial output
    (containers too: a residual block's output is where its branches have merged); return notes.
    ``batch_limit``: at most this many random inputs in one pass (the memory budget's share)."""
    targets = _targets(rows, example)
    if not targets:
        return []
    generator = torch.Generator().manual_seed(seed)
    supports: dict[int, torch.Tensor] = {}
    was_training = model.training
    model.eval()  # batch norm and dropout as at inference: the same function on every trial
    trials, quiet = 0, 0
    batch = max(1, min(TRIAL_BATCH, batch_limit))
    try:
        while trials < MAX_TRIALS and (trials < MIN_TRIALS or quiet < PATIENCE):
            try:
                grew = _round(model, example, targets, supports, generator, batch)
            except Exception:
                if batch == 1:
                    raise
                batch = 1
                continue
            trials += batch
            quiet = 0 if grew else quiet + batch
    finally:
        model.train(was_training)
    for index, support in supports.items():
        row = rows[index]
        extents: list[int] = []
        clipped: list[bool] = []  # per axis: a field cut by the border on one axis says nothing of the other
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
                clipped.append(first < 0 or first + field.size > support.shape[axis])
            else:
                clipped.append(low == 0 or high == support.shape[axis] - 1)
        if extents:
            row.measured, row.measured_clipped = tuple(extents), tuple(clipped)
    notes = [(f"receptive fields measured by gradients of each layer's centre unit: union over {trials} random "
              "inputs ('+': the field reaches the input's border, so it is at least this)")]
    merged = next((r for r in rows if r.rf is None and "merge" in r.rf_note), None)
    if merged is not None:
        notes.append(f"from {merged.name} on, {merged.rf_note}: the analytic single-path rules do not apply, "
                     "so the measured column is the receptive field")
    return notes
