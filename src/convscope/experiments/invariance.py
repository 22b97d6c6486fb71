"""Invariance a CNN does not have by construction: rotation and scale (learned only from augmented
data), and the one-pixel shifts that pooling and striding alias (fixed by blurring before subsampling)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import torch
from torch import nn

from .. import data
from ..data import Split
from ..plots import subplots
from ..train import accuracy, predict, train
from .base import Claim, Progress, Result, SeedRun, experiment
from .figures import bars, curves, seeds_note, signed_map


class Downsampled(nn.Module):
    """Three 3x3 conv blocks and a linear read-out of the global average; ``down`` is how the first
    two blocks halve the map: "max" (conv, max-pool 2), "stride" (a stride-2 conv) or "blur" (conv,
    max-pool 2 at stride 1, then a binomial blur at stride 2: Zhang's MaxBlurPool). Everything else
    is the same, so a difference between them is the downsampling's."""

    def __init__(self, down: str = "max", channels: tuple[int, int] = (8, 16), classes: int = 10,
                 flatten: int = 0) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        c = 1
        for width in channels:
            stride = 2 if down == "stride" else 1
            layers: list[nn.Module] = [nn.Conv2d(c, width, 3, padding=1, stride=stride), nn.ReLU()]
            pooling: dict[str, list[nn.Module]] = {"max": [nn.MaxPool2d(2)], "stride": [],
                                                   "blur": [nn.MaxPool2d(2, stride=1), BlurPool(width)]}
            layers += pooling[down]
            blocks.append(nn.Sequential(*layers))
            c = width
        self.first, self.second = blocks
        # flatten > 0: a linear read-out of the whole (c, flatten, flatten) map instead, which learns
        # centred digits in fewer steps but is tied to positions
        self.head = (nn.Sequential(nn.Flatten(), nn.Linear(c * flatten ** 2, classes)) if flatten else
                     nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                   nn.Linear(c, classes)))
        # CPU pooling is 2-3x faster channels-last (Module.to takes memory_format; torch's overloads omit it)
        self.to(memory_format=torch.channels_last)  # type: ignore[call-overload]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.second(self.first(x.contiguous(memory_format=torch.channels_last))))


class BlurPool(nn.Module):
    """Low-pass, then subsample: the 3x3 binomial [1,2,1] x [1,2,1] / 16, depthwise, at stride 2,
    on a reflect-padded map (as antialiased-cnns pads), so (N, C, H, W) -> (N, C, ceil(H/2), ceil(W/2))."""

    kernel: torch.Tensor  # the registered buffer

    def __init__(self, channels: int) -> None:
        super().__init__()
        row = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("kernel", (row[:, None] * row[None, :] / 16).expand(channels, 1, 3, 3).contiguous())
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = nn.functional.pad(x, (1, 1, 1, 1), mode="reflect")
        return nn.functional.conv2d(padded, self.kernel, stride=2, groups=self.channels)


def _fit(build: Callable[[], nn.Module], split: Split, steps: int, seed: int, device: str, progress: Progress,
         label: str) -> nn.Module:
    return train(build, split, steps, seed=seed, device=device, progress=progress(label, steps)).model


# ---- rotation and scale ------------------------------------------------------------------------------

ANGLES = (0, 15, 30, 45, 60, 75, 90)   # each tested turned both ways, the two accuracies averaged
SCALES = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4)
TRAIN_ANGLE, TRAIN_SCALES = 60.0, (0.6, 1.4)  # the augmentation's range: within ±90°, so 6 and 9 stay apart


def warp(images: np.ndarray, angles: Sequence[float] | np.ndarray | float,
         scales: Sequence[float] | np.ndarray | float) -> np.ndarray:
    """(N, H, W) images turned anticlockwise by ``angles`` degrees and scaled by ``scales`` about the
    centre (one value for all, or one per image), bilinear, zeros outside."""
    from scipy.ndimage import affine_transform

    n = len(images)
    each_angle, each_scale = np.broadcast_to(angles, n), np.broadcast_to(scales, n)
    centre = (np.array(images.shape[1:]) - 1) / 2
    out = np.empty_like(images)
    for i, (image, angle, scale) in enumerate(zip(images, each_angle, each_scale)):
        theta = np.deg2rad(angle)
        # affine_transform reads input[matrix @ o + offset] for each output position o (row, column)
        matrix = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]]) / scale
        out[i] = affine_transform(image, matrix, centre - matrix @ centre, order=1)
    return out


def upright_digits(seed: int, size: int = 14, canvas: int = 20) -> Split:
    """sklearn's 8x8 digits enlarged (bilinear) to ``size`` px, centred on a ``canvas`` px square:
    room to turn (size * sqrt 2 <= canvas) and to grow by 1.4."""
    from scipy.ndimage import zoom

    small = data.digits(seed=seed)
    margin = (canvas - size) // 2

    def enlarge(x: np.ndarray) -> np.ndarray:  # (N, 1, 8, 8) -> (N, 1, canvas, canvas)
        big = zoom(x[:, 0], (1, size / 8, size / 8), order=1).clip(0, 1)
        return np.pad(big, ((0, 0), (margin, margin), (margin, margin)))[:, None].astype(np.float32)
    return Split(f"digits{canvas}", enlarge(small.x_train), small.y_train, enlarge(small.x_test), small.y_test, 10)


def augmented(split: Split, seed: int, copies: int = 2) -> Split:
    """The training set plus ``copies`` turned-and-rescaled copies of it (angle and scale uniform in
    the training ranges, drawn once per seed); the test set unchanged."""
    rng = np.random.default_rng(seed + 1000)
    x = [split.x_train]
    for _ in range(copies):
        n = len(split.x_train)
        angles, scales = rng.uniform(-TRAIN_ANGLE, TRAIN_ANGLE, n), rng.uniform(*TRAIN_SCALES, n)
        x.append(warp(split.x_train[:, 0], angles, scales)[:, None])
    return Split(split.name + " augmented", np.concatenate(x), np.tile(split.y_train, copies + 1), split.x_test,
                 split.y_test, split.classes)


def _rotation_scale_set(prefix: str, split: Split, steps: int, seed: int, device: str, progress: Progress,
                        channels: tuple[int, int]) -> dict[str, float]:
    metrics: dict[str, float] = {}
    test = split.x_test[:, 0]                                                  # (N, H, W)
    for name, current in (("plain", split), ("augmented", augmented(split, seed))):
        side = split.input_shape[-1] // 4  # two max-pools
        def build(side: int = side) -> nn.Module:
            return Downsampled("max", channels, split.classes, flatten=side)
        model = _fit(build, current, steps, seed, device, progress, f"{prefix} {name}")
        device_ = next(model.parameters()).device
        for angle in ANGLES:  # both ways, averaged: a digit need not lean the same way turned left and right
            turned = [accuracy(model, warp(test, sign * angle, 1.0)[:, None], split.y_test, device_)
                      for sign in ((1,) if angle == 0 else (1, -1))]
            metrics[f"{prefix}/{name}/angle{angle}"] = float(np.mean(turned))
        for scale in SCALES:
            metrics[f"{prefix}/{name}/scale{scale:g}"] = accuracy(model, warp(test, 0.0, scale)[:, None],
                                                                 split.y_test, device_)
    return metrics


@experiment(
    "rotation-scale",
    "a CNN is not rotation- or scale-invariant by construction: trained on upright digits its accuracy falls as the "
    "test digits turn or shrink and grow; training on turned and rescaled copies (augmentation) restores much of it",
    claims=[
        Claim("trained upright, the CNN loses more than 30 points between 0° and 60°",
              lambda m: m["digits/plain/angle0"] - m["digits/plain/angle60"], above=0.30),
        Claim("augmentation gains more than 20 points at 60° (paired)",
              lambda m: m["digits/augmented/angle60"] - m["digits/plain/angle60"], above=0.20),
        Claim("trained at one size, the CNN loses more than 15 points at scale 0.6 and 1.4 (mean of the two)",
              lambda m: m["digits/plain/scale1"] - (m["digits/plain/scale0.6"] + m["digits/plain/scale1.4"]) / 2,
              above=0.15),
        Claim("augmentation gains more than 10 points at scale 0.6 and 1.4 (mean of the two, paired)",
              lambda m: (m["digits/augmented/scale0.6"] + m["digits/augmented/scale1.4"]
                         - m["digits/plain/scale0.6"] - m["digits/plain/scale1.4"]) / 2, above=0.10),
    ],
    draw=lambda result: _draw_rotation_scale(result),
    describe=lambda result: _describe_rotation_scale(result),
    details=[
        "Digits: sklearn's 8x8 digits enlarged to 14x14 on a 20x20 canvas; the CNN: two conv + max-pool blocks "
        "(8 and 16 channels) and a linear layer on the flattened map. Each angle is tested turned both ways and the "
        "two accuracies averaged.",
        f"Augmentation: the training set plus two copies turned by a uniform angle in ±{TRAIN_ANGLE:g}° and scaled "
        f"by a uniform factor in {TRAIN_SCALES[0]}-{TRAIN_SCALES[1]} (drawn once per seed); 75° and 90° lie outside "
        "it. A range of ±90° would make a 6 turned +90° the image of a 9 turned -90°: labels that turning can "
        "swap (6/9) cap the invariance a digit classifier may have.",
        "Not on the offline shapes: turned by 90°, bar_h is bar_v and one corner is another orientation's, so "
        "those classes are not rotation-invariant by definition, and a 5x5 pattern has too few pixels for a "
        "15° turn to mean much.",
    ],
    uses_data_dir=True,
)
def rotation_scale(quick: bool, seed: int, device: str, progress: Progress, data_dir: str | None = None) -> SeedRun:
    split = upright_digits(seed)
    metrics = _rotation_scale_set("digits", split, 200 if quick else 800, seed, device, progress, (8, 16))
    example = split.x_test[0, 0]
    arrays = {"angle_examples": warp(np.repeat(example[None], len(ANGLES), 0), ANGLES, 1.0),  # (angles, H, W)
              "scale_examples": warp(np.repeat(example[None], len(SCALES), 0), 0.0, SCALES)}
    if data_dir:  # MNIST's digits already sit in a 20 px box on 28 px: room to turn and grow by 1.4
        mnist = data.load_idx_dataset(data_dir).take(5000 if quick else 20000, 1000 if quick else 5000)
        more = _rotation_scale_set("idx", mnist, 400 if quick else 1500, seed, device, progress, (16, 32))
        metrics.update(more)
    return SeedRun(metrics, arrays)


def _draw_rotation_scale(result: Result) -> dict[str, object]:
    sets = [p for p in ("digits", "idx") if f"{p}/plain/angle0" in result.stats]
    figure, axes = subplots(len(sets), 2, figsize=(10, 3.8 * len(sets)), squeeze=False)
    for row, prefix in zip(axes, sets):
        for axis, xs, key, label in ((row[0], ANGLES, "angle{:g}", "angle (degrees, both ways)"),
                                     (row[1], SCALES, "scale{:g}", "scale")):
            curves(axis, result, xs, {f"{name}": [f"{prefix}/{name}/{key.format(x)}" for x in xs]
                                      for name in ("plain", "augmented")})
            axis.set(xlabel=label, ylabel="test accuracy", ylim=(0, 1.02),
                     title=f"{prefix}: trained upright (plain) or on turned and rescaled copies")
            axis.title.set_fontsize(8)
            axis.axhline(0.1, color="grey", linewidth=0.8, linestyle=":")  # chance
            axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
    figure.suptitle(f"accuracy as the test digits turn or change size ({seeds_note(result)}; dotted: chance)",
                    fontsize=9)
    arrays = result.runs[0].arrays
    examples, strip = subplots(2, len(SCALES), figsize=(1.1 * len(SCALES), 2.6))
    for axis in strip.ravel():
        axis.axis("off")
    for axis, image, angle in zip(strip[0], arrays["angle_examples"], ANGLES):
        axis.imshow(image, cmap="gray", vmin=0, vmax=1)
        axis.set_title(f"{angle}°", fontsize=8)
    for axis, image, scale in zip(strip[1], arrays["scale_examples"], SCALES):
        axis.imshow(image, cmap="gray", vmin=0, vmax=1)
        axis.set_title(f"x{scale:g}", fontsize=8)
    examples.suptitle("one test digit as tested: turned (top), rescaled (bottom)", fontsize=9)
    return {"rotation_scale": figure, "rotation_scale_examples": examples}


def _describe_rotation_scale(result: Result) -> str:
    t = result.text
    text = (f"trained upright, the CNN scores {t('digits/plain/angle0')} on upright test digits, "
            f"{t('digits/plain/angle45')} at 45° and {t('digits/plain/angle60')} at 60°; trained on turned and "
            f"rescaled copies, {t('digits/augmented/angle60')} at 60°. At scale 0.6 / 1.4: "
            f"{t('digits/plain/scale0.6')} / {t('digits/plain/scale1.4')} plain, "
            f"{t('digits/augmented/scale0.6')} / {t('digits/augmented/scale1.4')} augmented")
    if "idx/plain/angle60" in result.stats:
        text += (f"; on MNIST at 60°: {t('idx/plain/angle60')} plain, {t('idx/augmented/angle60')} augmented")
    return text


# ---- pooling and shift -------------------------------------------------------------------------------

DOWNS = ("max", "stride", "blur")
MAX_SHIFT = 4   # the canvas leaves this many empty pixels on every side of a digit, so rolling never cuts it


def rolled(x: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """(N, C, H, W) images, each rolled by its own (dy, dx) row of ``shifts`` (N, 2)."""
    return np.stack([np.roll(image, tuple(s), axis=(-2, -1)) for image, s in zip(x, shifts)])


def consistency(classify: Callable[[np.ndarray], np.ndarray], x: np.ndarray, k: int,
                rng: np.random.Generator) -> float:
    """As antialiased-cnns measures it: the share of images whose predicted class is the same under
    two random shifts, each (dy, dx) uniform in [-k, k]^2."""
    shifts = rng.integers(-k, k + 1, (2, len(x), 2))                                # (two, N, dy dx)
    return float(np.mean(classify(rolled(x, shifts[0])) == classify(rolled(x, shifts[1]))))


def feature_change(layer: nn.Module, x: np.ndarray) -> tuple[float, np.ndarray]:
    """||f(x shifted by one pixel) - f(x)|| / ||f(x)|| for the map f after ``layer``, averaged over the
    images and over a shift down and a shift right; and the first image's (C, h, w) change (shift right)."""
    layer.eval()
    with torch.no_grad():
        base = layer(torch.from_numpy(x)).numpy()
        ratios: list[np.ndarray] = []
        first: np.ndarray | None = None
        for axis in (-2, -1):
            moved = layer(torch.from_numpy(np.roll(x, 1, axis=axis))).numpy()
            change = moved - base
            ratios.append(np.linalg.norm(change.reshape(len(x), -1), axis=1)
                          / np.maximum(np.linalg.norm(base.reshape(len(x), -1), axis=1), 1e-12))
            first = change[0]
    assert first is not None  # set by the loop's last pass
    return float(np.mean(ratios)), first


def shifted_copies(split: Split, seed: int, copies: int = 2) -> Split:
    """The training set plus ``copies`` copies rolled by random (dy, dx) in [-MAX_SHIFT, MAX_SHIFT]^2,
    so every model has seen digits at every position it is tested at: the test then asks about
    aliasing between positions, not about positions never seen."""
    rng = np.random.default_rng(seed + 2000)
    x = [split.x_train] + [rolled(split.x_train, rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, (len(split.x_train), 2)))
                           for _ in range(copies)]
    return Split(split.name + " shifted", np.concatenate(x), np.tile(split.y_train, copies + 1), split.x_test,
                 split.y_test, split.classes)


def _pooling_shift_set(prefix: str, split: Split, steps: int, seed: int, device: str, progress: Progress,
                       channels: tuple[int, int]) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    metrics: dict[str, float] = {}
    arrays: dict[str, np.ndarray] = {}
    current = shifted_copies(split, seed)
    for down in DOWNS:
        def build(down: str = down) -> nn.Module:
            return Downsampled(down, channels, split.classes)
        run = train(build, current, steps, seed=seed, device=device, lr=5e-3,
                    progress=progress(f"{prefix} {down}", steps))
        model = cast(Downsampled, run.model.cpu())  # what build made
        metrics[f"{prefix}/{down}/accuracy"] = run.test_accuracy
        for k in range(1, MAX_SHIFT + 1):  # the same shifts for every model (one generator per k)
            def classify(x: np.ndarray, model: nn.Module = model) -> np.ndarray:
                return predict(model, x, torch.device("cpu"))
            metrics[f"{prefix}/{down}/consistency_k{k}"] = consistency(classify, split.x_test, k,
                                                                       np.random.default_rng(seed + k))
        metrics[f"{prefix}/{down}/consistency"] = float(np.mean(
            [metrics[f"{prefix}/{down}/consistency_k{k}"] for k in range(1, MAX_SHIFT + 1)]))
        metrics[f"{prefix}/{down}/feature_change"], change = feature_change(model.first, split.x_test)
        # the channel that changes most, for the figure: (C, h, w) -> (h, w)
        arrays[f"{prefix}_{down}_change"] = change[np.argmax(np.abs(change).reshape(len(change), -1).sum(1))]
    arrays[f"{prefix}_image"] = split.x_test[0, 0]
    return metrics, arrays


def _mean_consistency_gap(other: str) -> Callable[[dict[str, float]], float]:
    return lambda m: m["digits/blur/consistency"] - m[f"digits/{other}/consistency"]


@experiment(
    "pooling-shift",
    "pooling and strided convolution alias: a one-pixel shift can change a CNN's prediction; blurring before "
    "subsampling (Zhang, 'Making Convolutional Networks Shift-Invariant Again', ICML 2019) makes predictions more "
    "consistent",
    claims=[
        Claim("blur-pooled predictions are more shift-consistent than max-pooled ones (paired, mean over k = 1-4)",
              _mean_consistency_gap("max"), above=0.0),
        Claim("blur-pooled predictions are more than 10 points more shift-consistent than stride-2 ones (paired)",
              _mean_consistency_gap("stride"), above=0.10),
        Claim("blur-pooling's first map changes less under a 1-pixel shift than stride-2's (paired)",
              lambda m: m["digits/blur/feature_change"] - m["digits/stride/feature_change"], below=0.0,
              percent=False),
        Claim("... and less than max-pooling's (paired)",
              lambda m: m["digits/blur/feature_change"] - m["digits/max/feature_change"], below=0.0,
              percent=False),
    ],
    draw=lambda result: _draw_pooling_shift(result),
    describe=lambda result: _describe_pooling_shift(result),
    details=[
        "Three CNNs identical but for how their two downsampling blocks subsample: max-pool 2; a stride-2 conv; "
        "max-pool 2 at stride 1 then a 3x3 binomial blur at stride 2 (MaxBlurPool). Then a conv, global average "
        "pooling and a linear layer. Digits: sklearn's 8x8 on a 16x16 canvas (4 empty pixels each side).",
        f"All three train on the training digits plus two copies rolled by up to {MAX_SHIFT} px, so the test asks "
        "whether nearby positions give the same answer, not whether unseen positions are recognised.",
        "Consistency (antialiased-cnns' measure): the share of test digits whose predicted class is the same under "
        "two random shifts, each (dy, dx) uniform in [-k, k]^2; the claims use its mean over k = 1-4.",
        "Feature change: ||f(x shifted by 1 px) - f(x)|| / ||f(x)|| for the map f after the first downsampling "
        "block, averaged over a shift down and a shift right. A 2-px shift moves a stride-2 map by exactly one "
        "position (up to the border), so only odd shifts test the first block.",
        "No stride-1 reference (no subsampling at all): at full resolution it costs about three times the others' "
        "training time, past this experiment's budget.",
    ],
    uses_data_dir=True,
)
def pooling_shift(quick: bool, seed: int, device: str, progress: Progress, data_dir: str | None = None) -> SeedRun:
    metrics, arrays = _pooling_shift_set("digits", data.digits(canvas=16, seed=seed), 250 if quick else 900, seed,
                                         device, progress, (8, 32))
    if data_dir:  # MNIST's digits sit in a 20 px box on 28 px: its own 4-pixel border is the margin
        mnist = data.load_idx_dataset(data_dir).take(5000 if quick else 20000, 1000 if quick else 5000)
        more, pictures = _pooling_shift_set("idx", mnist, 400 if quick else 1500, seed, device, progress, (8, 32))
        metrics.update(more)
        arrays.update(pictures)
    return SeedRun(metrics, arrays)


NAMES = {"max": "max-pool 2", "stride": "stride-2 conv", "blur": "MaxBlurPool"}


def _draw_pooling_shift(result: Result) -> dict[str, object]:
    sets = [p for p in ("digits", "idx") if f"{p}/max/accuracy" in result.stats]
    figure, axes = subplots(len(sets), 3, figsize=(13, 3.9 * len(sets)), squeeze=False)
    ks = list(range(1, MAX_SHIFT + 1))
    for (left, middle, right), prefix in zip(axes, sets):
        curves(left, result, ks, {NAMES[d]: [f"{prefix}/{d}/consistency_k{k}" for k in ks] for d in DOWNS})
        left.set(xlabel="largest shift k (px)", ylabel="same class under two shifts", xticks=ks)
        left.set_title(f"{prefix}: shift consistency", fontsize=9)
        left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, frameon=False)
        bars(middle, result, [NAMES[d] for d in DOWNS], {"test accuracy": [f"{prefix}/{d}/accuracy" for d in DOWNS]})
        middle.set(ylim=(0, 1.1))
        middle.set_title(f"{prefix}: test accuracy (unshifted)", fontsize=9)
        bars(right, result, [NAMES[d] for d in DOWNS],
             {"relative change": [f"{prefix}/{d}/feature_change" for d in DOWNS]}, percent=False)
        right.set_title(f"{prefix}: first map's change under a 1-px shift", fontsize=9)
    figure.suptitle(f"three CNNs that differ only in how they subsample ({seeds_note(result)})", fontsize=10)
    arrays = result.runs[0].arrays
    maps, cells = subplots(len(sets), 4, figsize=(11, 2.9 * len(sets)), squeeze=False)
    for row, prefix in zip(cells, sets):
        row[0].imshow(arrays[f"{prefix}_image"], cmap="gray")
        row[0].set_title(f"{prefix}: test image", fontsize=7)
        row[0].axis("off")
        for axis, down in zip(row[1:], DOWNS):
            signed_map(maps, axis, arrays[f"{prefix}_{down}_change"], f"{NAMES[down]}: f(shift x) - f(x)")
    maps.suptitle(f"after the first downsampling block, the change a 1-px shift right makes (seed "
                  f"{result.runs[0].seed}, the channel that changes most)", fontsize=9)
    return {"pooling_shift": figure, "pooling_shift_maps": maps}


def _describe_pooling_shift(result: Result) -> str:
    t = result.text
    text = (f"under two random shifts of up to 1-4 px, max-pooling keeps {t('digits/max/consistency')} of its "
            f"predictions, a stride-2 conv {t('digits/stride/consistency')}, MaxBlurPool "
            f"{t('digits/blur/consistency')}; a 1-px shift changes the first map by "
            f"{t('digits/max/feature_change', False)}, {t('digits/stride/feature_change', False)} and "
            f"{t('digits/blur/feature_change', False)} of its norm. Test accuracy: {t('digits/max/accuracy')}, "
            f"{t('digits/stride/accuracy')}, {t('digits/blur/accuracy')}")
    if "idx/max/consistency" in result.stats:
        text += (f"; on MNIST, consistency {t('idx/max/consistency')}, {t('idx/stride/consistency')}, "
                 f"{t('idx/blur/consistency')}")
    return text
