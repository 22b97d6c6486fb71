"""Learned first-layer filters, and the limit a receptive field puts on long-range relations."""

from __future__ import annotations

import numpy as np

from .. import data, models
from ..filters import KERNELS
from ..engine.arithmetic import ReceptiveField
from .base import Progress, Result, experiment
from .trained import _fit

CLASSIC = {name: k.weights for name, k in KERNELS.items() if k.weights.shape == (3, 3) and name != "identity"}


def closest_classic(kernel: np.ndarray) -> tuple[str, float]:
    """The classic 3x3 kernel with the highest |correlation| (either sign) to ``kernel``."""
    def unit(a: np.ndarray) -> np.ndarray:
        a = a - a.mean()
        return a / (np.linalg.norm(a) or 1.0)
    scores = {name: float(abs(np.sum(unit(kernel) * unit(weights)))) for name, weights in CLASSIC.items()}
    best = max(scores, key=scores.__getitem__)
    return best, scores[best]


@experiment("learned-filters", "the first layer of a CNN trained on shapes learns edge- and line-like kernels, "
                               "clearly closer to the classic hand-made ones than its random start")
def learned_filters(quick: bool, seed: int, device: str, progress: Progress) -> Result:
    import torch

    from ..plots import _pyplot

    split = data.shapes(2000, 500, 24, seed=seed, noise=0.3)  # bars, corners, crosses, rings in noise
    torch.manual_seed(seed)
    start = models.cnn2d(split.input_shape, split.classes, channels=8)[0][0].weight.detach().cpu().numpy().copy()
    # a little weight decay lets the kernels settle instead of keeping their random start
    run = _fit(lambda: models.cnn2d(split.input_shape, split.classes, channels=8), split, 600 if quick else 2000,
               seed, device, progress, "CNN on shapes", weight_decay=1e-3)
    learned = run.model[0][0].weight.detach().cpu().numpy()[:, 0]              # (8, 3, 3)
    start = start[:, 0]
    before = [closest_classic(k) for k in start]
    after = [closest_classic(k) for k in learned]
    metrics = {"shapes/cnn/accuracy": run.test_accuracy,
               "match/mean_correlation/init": float(np.mean([s for _, s in before])),
               "match/mean_correlation/trained": float(np.mean([s for _, s in after]))}
    for i, (_, score) in enumerate(after):
        metrics[f"kernel{i}/correlation"] = score
    plt = _pyplot()
    figure, axes = plt.subplots(2, len(learned), figsize=(1.7 * len(learned), 4), layout="constrained")
    for column in range(len(learned)):
        for row, (kernels, matches, label) in enumerate(((start, before, "init"), (learned, after, "trained"))):
            kernel = kernels[column]
            limit = float(np.abs(kernel).max()) or 1.0
            axes[row, column].imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
            axes[row, column].set_title(f"{label}\n~{matches[column][0]} {matches[column][1]:.2f}", fontsize=7)
            axes[row, column].set_xticks([])
            axes[row, column].set_yticks([])
    holds = metrics["match/mean_correlation/trained"] > metrics["match/mean_correlation/init"] + 0.1
    verdict = (f"after training (test accuracy {run.test_accuracy:.0%}) the eight 3x3 kernels correlate with their "
               f"closest classic kernel at {metrics['match/mean_correlation/trained']:.2f} on average, against "
               f"{metrics['match/mean_correlation/init']:.2f} at initialisation; matches: "
               + ", ".join(name for name, _ in after))
    details = ["| kernel | at init: closest (|r|) | trained: closest (|r|) |", "|---|---|---|"] + \
        [f"| {i} | {b[0]} ({b[1]:.2f}) | {a[0]} ({a[1]:.2f}) |" for i, (b, a) in enumerate(zip(before, after))]
    return Result("learned-filters", quick, seed, metrics, verdict, {"filters": figure}, details, holds=holds)


@experiment("long-range", "a unit can only relate what its receptive field covers: a CNN whose field cannot span "
                          "two far marks stays at chance; a deeper or dilated one solves the task")
def long_range(quick: bool, seed: int, device: str, progress: Progress) -> Result:
    from ..plots import _pyplot

    length = 48
    split = data.corner_marks(2000 if quick else 5000, 1000, length, seed=seed)
    configs = [(2, False), (4, False), (3, True), (5, True), (6, True)] if not quick else \
        [(2, False), (4, False), (6, True)]
    steps = 800 if quick else 3000
    metrics, points = {}, []
    for depth, dilated in configs:
        field = ReceptiveField()
        for i in range(depth):
            field = field.then(3, 1, 2 ** i if dilated else 1, 2 ** i if dilated else 1)
        label = f"{'dilated' if dilated else 'plain'}{depth}"
        run = _fit(lambda d=depth, dl=dilated: models.local_cnn1d(d, dl), split, steps, seed, device, progress,
                   f"{label} (field {field.size})", lr=3e-3)
        metrics[f"marks/{label}/accuracy"] = run.test_accuracy
        metrics[f"marks/{label}/receptive_field"] = float(field.size)
        points.append((field.size, run.test_accuracy, label))
    short = [a for f, a, _ in points if f < length]
    wide = [a for f, a, _ in points if f >= length]
    holds = bool(short and wide) and max(short) < 0.65 and max(wide) > 0.9
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6, 4), layout="constrained")
    for size, acc, label in points:
        axis.scatter(size, acc)
        axis.annotate(label, (size, acc), fontsize=8, xytext=(4, 4), textcoords="offset points")
    axis.axvline(length, color="grey", linestyle="--", label=f"signal length {length}")
    axis.axhline(0.5, color="black", linewidth=0.5, label="chance")
    axis.set_xscale("log")
    axis.set_xlabel("receptive field of the last layer")
    axis.set_ylabel("test accuracy: do the end marks match?")
    axis.legend(fontsize=8)
    verdict = (f"fields shorter than the {length}-sample signal stay near chance (best {max(short):.0%}); fields "
               f"that span it solve the task (best {max(wide):.0%})") if short and wide else "not enough configurations"
    return Result("long-range", quick, seed, metrics, verdict, {"long_range": figure},
                  ["Read-out: global average pooling and one Linear layer, a sum of local evidence, so a relation "
                   "between the two ends is only usable by units that see both."], holds=holds)
