"""A hierarchy of features: deeper units of a CNN trained on shapes see a larger part of the image.

For every conv layer two sizes: the analytic receptive field (what a unit *can* see) and an
effective size (what drives it): at the test images where a channel is most active, the gradient of
that unit times the input, and the side of the smallest square, centred on the unit's field, that
holds 90% of this attribution's mass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from .. import data
from ..engine.arithmetic import ReceptiveField
from ..plots import subplots
from .base import Claim, Progress, Result, SeedRun, experiment
from .figures import curves, seeds_note

if TYPE_CHECKING:
    from torch import nn

MASS = 0.9        # the share of the attribution the effective square must hold
TOP = 4           # top-activating test images per channel
SHOWN = 6         # channels drawn per layer in the figure


def build_network(classes: int, kernel: int = 3) -> nn.Sequential:
    """Four conv layers with a 2x2 max-pool after the first and the second, global average pooling and
    a Linear read-out. Module-level so a test can swap in 1x1 kernels (no growth)."""
    from torch import nn

    def conv(c_in: int, c_out: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2), nn.ReLU()]
    # pooling early keeps the cost low (the wide layers run on 12x12 and 6x6 maps) and grows the field
    return nn.Sequential(*conv(1, 8), nn.MaxPool2d(2), *conv(8, 16), nn.MaxPool2d(2), *conv(16, 32),
                         *conv(32, 32), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, classes))


def layer_fields(model: nn.Sequential) -> list[tuple[int, ReceptiveField]]:
    """(index of the ReLU after each conv, that conv's receptive field), walking the windows in order."""
    from torch import nn

    field, out = ReceptiveField(), []
    for index, module in enumerate(model):  # square windows padded by a count: int sizes (torch types them wider)
        if isinstance(module, nn.Conv2d):
            field = field.then(module.kernel_size[0], module.stride[0], cast(int, module.padding[0]),
                               module.dilation[0])
        elif isinstance(module, nn.MaxPool2d):
            field = field.then(cast(int, module.kernel_size), cast(int, module.stride), cast(int, module.padding))
        elif isinstance(module, nn.ReLU) and index > 0 and isinstance(model[index - 1], nn.Conv2d):
            out.append((index, field))
    return out


def unit_centre(field: ReceptiveField, position: int) -> float:
    """The input coordinate at the middle of output unit ``position``'s field (half-integer if even)."""
    return field.start + position * field.jump + (field.size - 1) / 2


def effective_size(attribution: np.ndarray, centre: tuple[float, float], mass: float = MASS) -> float:
    """Side of the smallest square centred on ``centre`` whose pixels hold ``mass`` of |attribution|.

    A pixel (y, x) is inside the square of side s when max(|y - cy|, |x - cx|) <= (s - 1) / 2, so an
    integer centre gives odd sides (1, 3, 5, ...) and a half-integer one even sides. 0 for no mass."""
    weights = np.abs(attribution)
    total = weights.sum()
    if total <= 0:
        return 0.0
    ys, xs = np.indices(weights.shape)
    distance = np.maximum(np.abs(ys - centre[0]), np.abs(xs - centre[1])).ravel()   # (H*W,)
    order = np.argsort(distance, kind="stable")
    held = np.cumsum(weights.ravel()[order]) / total
    radius = distance[order][np.searchsorted(held, mass - 1e-9)]
    # a square must hold whole rings: take every pixel as far as the one that crossed the mass
    return float(2 * radius + 1)


def top_units(activations: np.ndarray, top: int = TOP) -> list[tuple[int, int, int, int, float]]:
    """(channel, image, row, column, value) of each channel's ``top`` most active images (their peak)."""
    n, channels, h, w = activations.shape
    flat = activations.reshape(n, channels, h * w)                                   # (N, C, positions)
    peak, where = flat.max(axis=2), flat.argmax(axis=2)                              # (N, C)
    units = []
    for c in range(channels):
        for image in np.argsort(-peak[:, c])[:top]:
            if peak[image, c] > 0:  # a dead channel drives nothing
                units.append((c, int(image), int(where[image, c] // w), int(where[image, c] % w),
                              float(peak[image, c])))
    return units


def attributions(model: nn.Sequential, upto: int, x: np.ndarray, units: list[tuple[int, int, int, int, float]],
                 device: str) -> np.ndarray:
    """|d unit / d input * input| for each unit, one image per unit: (len(units), H, W)."""
    import torch

    images = torch.from_numpy(x[[u[1] for u in units]]).to(device).requires_grad_(True)  # (U, 1, H, W)
    out = model[:upto + 1](images)                                                   # (U, C, h, w)
    picked = out[torch.arange(len(units)), [u[0] for u in units], [u[2] for u in units], [u[3] for u in units]]
    picked.sum().backward()  # units sit in different images, so one backward gives each its own gradient
    assert images.grad is not None  # set by the backward pass
    return (images.grad * images).abs()[:, 0].detach().cpu().numpy()


def crop(image: np.ndarray, centre: tuple[float, float], side: int) -> np.ndarray:
    """The side x side window of ``image`` (H, W) around ``centre``; zeros outside the image."""
    top, left = int(round(centre[0] - (side - 1) / 2)), int(round(centre[1] - (side - 1) / 2))
    padded = np.pad(image, side)
    return padded[top + side:top + 2 * side, left + side:left + 2 * side]


@experiment(
    "hierarchy",
    "layers build a hierarchy: deeper units see a larger part of the image (the receptive field grows) and "
    "what drives them spreads over a larger region",
    claims=[Claim("the last conv layer's effective size exceeds the first's by more than 3 pixels",
                  lambda m: m["layer4/effective_size"] - m["layer1/effective_size"], above=3.0, percent=False),
            Claim("share of layers whose effective size is within the receptive field (sanity)",
                  lambda m: float(np.mean([m[f"layer{i}/effective_size"] <= m[f"layer{i}/receptive_field"]
                                           for i in range(1, 5)])), above=0.99, percent=False)],
    draw=lambda result: draw(result),
    describe=lambda result: describe(result),
    details=["Effective size: for each channel, its 4 most active test images; at each, |gradient x input| of "
             "the channel's peak unit; the side of the smallest square centred on the unit's receptive field "
             "that holds 90% of it; averaged over the channel's images, then over channels (dead channels "
             "left out). Network: four 3x3 conv + ReLU layers, 2x2 max-pools after the 1st and 2nd, global "
             "average pooling, Linear; trained on 24x24 shapes (noise 0.3)."])
def hierarchy(quick: bool, seed: int, device: str, progress: Progress) -> SeedRun:
    from ..train import train

    split = data.shapes(2000 if quick else 4000, 400, 24, seed=seed, noise=0.3)
    steps = 400 if quick else 1200
    run = train(lambda: build_network(split.classes), split, steps, seed=seed, device=device,
                progress=progress("CNN on shapes", steps), lr=1e-2 if quick else 5e-3, batch=50)
    # (lr 1e-2 for 1200 steps killed every unit of a layer in one seed; the longer run takes smaller steps)
    model = cast("nn.Sequential", run.model.eval())  # what build_network made
    import torch

    with torch.no_grad():
        x = torch.from_numpy(split.x_test).to(device)
        maps = [model[:index + 1](x).cpu().numpy() for index, _ in layer_fields(model)]
    metrics: dict[str, float] = {"shapes/test_accuracy": run.test_accuracy}
    arrays: dict[str, np.ndarray] = {}
    for layer, ((index, field), activations) in enumerate(zip(layer_fields(model), maps), start=1):
        units = top_units(activations)
        if not units:  # a layer whose units all died drives nothing: size 0, one blank patch for the figure
            metrics[f"layer{layer}/receptive_field"] = float(field.size)
            metrics[f"layer{layer}/effective_size"] = 0.0
            arrays.update({f"patches{layer}": np.zeros((1, field.size, field.size), np.float32),
                           f"credit{layer}": np.zeros((1, field.size, field.size), np.float32),
                           f"sides{layer}": np.zeros(1, np.float32), f"channels{layer}": np.zeros(1, int)})
            continue
        credit = attributions(model, index, split.x_test, units, device)
        centres = [(unit_centre(field, u[2]), unit_centre(field, u[3])) for u in units]
        sizes = np.array([effective_size(a, c) for a, c in zip(credit, centres)])
        channels = sorted({u[0] for u in units})
        per_channel = [sizes[[i for i, u in enumerate(units) if u[0] == c]].mean() for c in channels]
        metrics[f"layer{layer}/receptive_field"] = float(field.size)
        metrics[f"layer{layer}/effective_size"] = float(np.mean(per_channel))
        # the figure: the strongest channels' best image, cropped to the field, and its effective side
        shown: list[int] = []
        seen: set[int] = set()
        for i, u in sorted(enumerate(units), key=lambda item: -item[1][4]):
            if u[0] not in seen and len(shown) < SHOWN:
                seen.add(u[0])
                shown.append(i)
        arrays[f"patches{layer}"] = np.stack([crop(split.x_test[units[i][1], 0], centres[i], field.size)
                                              for i in shown]).astype(np.float32)   # (SHOWN, rf, rf)
        arrays[f"credit{layer}"] = np.stack([crop(credit[i], centres[i], field.size)
                                             for i in shown]).astype(np.float32)
        arrays[f"sides{layer}"] = sizes[shown].astype(np.float32)
        arrays[f"channels{layer}"] = np.array([units[i][0] for i in shown])
    return SeedRun(metrics, arrays)


def _layers(result: Result) -> list[int]:
    return sorted(int(k[5:].split("/")[0]) for k in result.metrics if k.endswith("/receptive_field"))


def describe(result: Result) -> str:
    layers = _layers(result)
    sizes = ", ".join(f"layer {i}: field {result.metrics[f'layer{i}/receptive_field']:.0f}, effective "
                      f"{result.text(f'layer{i}/effective_size', percent=False)}" for i in layers)
    grows = result.checks[0].holds
    return (f"{'the region that drives a unit grows with depth' if grows else 'no clear growth with depth'} "
            f"(test accuracy {result.text('shapes/test_accuracy')}): {sizes} pixels per side")


def draw(result: Result) -> dict:
    from matplotlib import patches

    layers = _layers(result)
    first = result.runs[0].arrays
    shown = max(len(first[f"patches{i}"]) for i in layers)
    figure, axes = subplots(len(layers), shown, figsize=(1.5 * shown, 1.6 * len(layers)),
                                squeeze=False)
    for row, layer in enumerate(layers):
        crops, sides = first[f"patches{layer}"], first[f"sides{layer}"]
        for column in range(shown):
            axis = axes[row, column]
            axis.set_xticks([])
            axis.set_yticks([])
            if column >= len(crops):
                axis.axis("off")
                continue
            axis.imshow(crops[column], cmap="gray", vmin=-0.5, vmax=1.5, interpolation="nearest")
            field = crops[column].shape[0]
            side = float(sides[column])
            corner = (field - 1) / 2 - (side - 1) / 2 - 0.5
            axis.add_patch(patches.Rectangle((corner, corner), side, side, fill=False, edgecolor="red", lw=1))
            axis.set_title(f"layer {layer} ch {first[f'channels{layer}'][column]}", fontsize=7)
        axes[row, 0].set_ylabel(f"field {crops.shape[1]}px", fontsize=7)
    figure.suptitle(f"seed {result.runs[0].seed}: each channel's top test image, cropped to the unit's receptive "
                    "field; red: the square holding 90% of |gradient x input|", fontsize=8)
    sizes_figure, axis = subplots(figsize=(5.5, 4))
    curves(axis, result, layers, {"receptive field (analytic)": [f"layer{i}/receptive_field" for i in layers],
                                  "effective size (90% of |grad x input|)": [f"layer{i}/effective_size"
                                                                             for i in layers]})
    axis.set_xticks(layers)
    axis.set_xlabel("conv layer")
    axis.set_ylabel("pixels per side")
    axis.set_title(f"what a unit can see and what drives it ({seeds_note(result)})", fontsize=8)
    axis.legend(fontsize=8, loc="upper left")
    return {"top_patches": figure, "sizes": sizes_figure}
