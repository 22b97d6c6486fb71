"""Learned first-layer filters (against their random start and a shuffled-label run), and the limit a
receptive field puts on long-range relations (fields stepping through the signal length at equal depth)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import data, models
from ..plots import subplots
from .base import Claim, Progress, Result, SeedRun, experiment
from .figures import curves, seeds_note, signed_map
from .photos import classic_bank, closest, mean_match
from .trained import _fit

KERNEL = 5  # 3x3 leaves little headroom: random 3x3 kernels already match some classic kernel at |r| ~0.5


FILTER_RUNS = {"init": "random start", "trained": "trained", "shuffled_labels": "trained on shuffled labels"}


def _filters_figure(result: Result) -> dict[str, Any]:
    arrays, bank = result.runs[0].arrays, classic_bank(KERNEL)
    count = len(arrays["trained"])
    figure, axes = subplots(3, count, figsize=(1.9 * count, 6.4))
    for row, (key, label) in enumerate(FILTER_RUNS.items()):
        for column, kernel in enumerate(arrays[key]):
            name, score = closest(kernel, bank)
            signed_map(figure, axes[row, column], kernel, f"{label}\n~{name} {score:.2f}")
    figure.suptitle(f"first-layer {KERNEL}x{KERNEL} kernels of seed {result.seeds[0]}, "
                    "each with its closest classic kernel and "
                    f"|r|; mean |r| over {len(result.runs)} seed(s): init {result.text('match/init', False)}, "
                    f"trained {result.text('match/trained', False)}, shuffled labels "
                    f"{result.text('match/shuffled_labels', False)}", fontsize=9)
    return {"filters": figure}


def _filters_verdict(result: Result) -> str:
    bank = classic_bank(KERNEL)
    names = [closest(k, bank)[0] for k in result.runs[0].arrays["trained"]]
    return (f"after training (test accuracy {result.text('shapes/cnn/accuracy')}) the eight {KERNEL}x{KERNEL} kernels "
            f"correlate "
            f"with their closest classic kernel at {result.text('match/trained', False)} on average, against "
            f"{result.text('match/init', False)} at their random start; trained as long on shuffled labels (test "
            f"accuracy {result.text('shapes/shuffled_labels/accuracy')}) the network finds nothing and weight decay "
            f"shrinks its kernels to {result.stats['norm/shuffled_vs_trained'].mean:.1e} of the trained ones' size; "
            f"seed {result.seeds[0]}'s matches: {', '.join(names)}")


@experiment("learned-filters", "the first layer of a CNN trained on shapes learns edge- and line-like kernels, "
                               "clearly closer to the classic hand-made ones than its random start",
            claims=[Claim("mean |r| with the closest classic kernel: trained minus random start",
                          lambda m: m["match/trained"] - m["match/init"], above=0.03, percent=False),
                    Claim("test accuracy of the shuffled-label run (it found no pattern; chance 20%)",
                          lambda m: m["shapes/shuffled_labels/accuracy"], below=0.3)],
            draw=_filters_figure, describe=_filters_verdict,
            details=[f"Classic kernels at {KERNEL}x{KERNEL}: Sobel x/y, a Laplacian of Gaussian, Gabor kernels at "
                     "0/45/90/135 degrees, even and odd phase (`photos.classic_bank`); a kernel's match is its best "
                     "|correlation| with them (zero-mean, unit norm), averaged over the kernels weight decay left "
                     "alive. With 3x3 kernels, random starts already matched some classic kernel at |r| ~0.5 and "
                     "one seed in five started closer than it ended; at 5x5 random starts match at ~0.36.",
                     "Control: the same network from the same start, trained as many steps on shuffled labels. It "
                     "learns nothing that generalises (test accuracy at chance) and weight decay shrinks its kernels "
                     "towards zero (`norm/shuffled_vs_trained`: their size relative to the trained kernels), so what "
                     "is left of them is noise: their match is reported, not claimed."])
def learned_filters(quick: bool, seed: int, device: str, progress: Progress) -> SeedRun:
    split = data.shapes(2000, 500, 16, seed=seed, noise=0.3)  # bars, corners, crosses, rings in noise
    labels = np.random.default_rng(seed + 1).permutation(split.y_train)
    scrambled = type(split)(split.name + " (shuffled labels)", split.x_train, labels, split.x_test, split.y_test,
                            split.classes)
    steps = 300 if quick else 600

    def build():  # type: ignore[no-untyped-def]
        return models.cnn2d(split.input_shape, split.classes, channels=8, first_kernel=KERNEL)
    import torch

    torch.manual_seed(seed)  # train() seeds the same way: this is the start both runs share
    start = build()[0][0].weight.detach().cpu().numpy()[:, 0].copy()                    # (8, 5, 5)
    # a little weight decay lets the kernels settle instead of keeping their random start
    runs = {key: _fit(build, current, steps, seed, device, progress, label, weight_decay=3e-3)
            for key, current, label in (("trained", split, "CNN on shapes"),
                                        ("shuffled_labels", scrambled, "CNN on shuffled labels"))}
    arrays = {"init": start, **{key: run.model[0][0].weight.detach().cpu().numpy()[:, 0] for key, run in runs.items()}}
    metrics = {"shapes/cnn/accuracy": runs["trained"].test_accuracy,
               "shapes/shuffled_labels/accuracy": runs["shuffled_labels"].test_accuracy}
    bank = classic_bank(KERNEL)
    metrics.update({f"match/{key}": mean_match(kernels, bank)[0] for key, kernels in arrays.items()})
    metrics["norm/shuffled_vs_trained"] = float(np.linalg.norm(arrays["shuffled_labels"]) /
                                                np.linalg.norm(arrays["trained"]))
    return SeedRun(metrics, arrays)


LENGTH = 48
# depth 4, kernel 3: field = 1 + 2 * sum(dilations); each dilation at most the field so far, so no
# holes. The fields step through the signal's length at the same depth and the same parameter count.
DILATIONS = {9: (1, 1, 1, 1), 17: (1, 2, 2, 3), 25: (1, 2, 4, 5), 33: (1, 3, 5, 7), 41: (1, 3, 6, 10),
             49: (1, 3, 8, 12), 57: (1, 3, 9, 15)}
QUICK_FIELDS = (17, 41, 49, 57)


def _fields(result: Result) -> list[int]:
    return [f for f in DILATIONS if f"marks/field{f}/accuracy" in result.metrics]


def _range_figure(result: Result) -> dict[str, Any]:
    figure, axis = subplots(figsize=(6.5, 4.2))
    fields = _fields(result)
    curves(axis, result, fields, {"depth-4 dilated CNN": [f"marks/field{f}/accuracy" for f in fields]})
    axis.axvline(LENGTH, color="grey", linestyle="--", label=f"signal length {LENGTH}")
    axis.axhline(0.5, color="black", linewidth=0.5, label="chance")
    axis.set_xlabel("receptive field of the last layer (same depth, more dilation)")
    axis.set_ylabel("test accuracy: do the end marks match?")
    axis.set_ylim(0.3, 1.05)
    axis.set_title(seeds_note(result), fontsize=8)
    axis.legend(fontsize=8, loc="upper left")
    return {"long_range": figure}


def _short(m: dict[str, float]) -> float:
    return max(v for k, v in m.items() if k.endswith("/accuracy") and int(k.split("field")[1].split("/")[0]) < LENGTH)


def _wide(m: dict[str, float]) -> float:
    return min(v for k, v in m.items() if k.endswith("/accuracy") and int(k.split("field")[1].split("/")[0]) >= LENGTH)


def _range_verdict(result: Result) -> str:
    short, wide = result.checks[0].interval, result.checks[1].interval
    return (f"at the same depth, every field shorter than the {LENGTH}-sample signal stays near chance (best "
            f"{short.text(True)}); every field that spans it solves the task (worst {wide.text(True)})")


@experiment("long-range", "a unit can only relate what its receptive field covers: a CNN whose field cannot span "
                          "two far marks stays at chance; the same depth with a field that spans them solves the task",
            claims=[Claim(f"best accuracy of a field shorter than the signal ({LENGTH})", _short, below=0.65),
                    Claim("worst accuracy of a field that spans the signal", _wide, above=0.9)],
            draw=_range_figure, describe=_range_verdict,
            details=["Read-out: global average pooling and one Linear layer, a sum of local evidence, so a relation "
                     "between the two ends is only usable by units that see both.",
                     "Every network has four Conv1d(k=3) layers of 16 channels; only the dilations differ "
                     "(field: dilations) " + ", ".join(f"{f}: {d}" for f, d in DILATIONS.items()) + "."])
def long_range(quick: bool, seed: int, device: str, progress: Progress) -> SeedRun:
    split = data.corner_marks(2000 if quick else 5000, 1000, LENGTH, seed=seed)
    steps = 800 if quick else 1200  # at lr 3e-3: 500 steps leave some seeds at chance even with a wide field
    metrics = {}
    for field in QUICK_FIELDS if quick else DILATIONS:
        run = _fit(lambda d=DILATIONS[field]: models.dilated_cnn1d(d), split, steps, seed, device, progress,
                   f"field {field}", lr=3e-3)
        metrics[f"marks/field{field}/accuracy"] = run.test_accuracy
    return SeedRun(metrics)
