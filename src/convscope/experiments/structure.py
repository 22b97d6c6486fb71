"""Parameter sharing (counted, then trained against its untied twin), equivariance maps, receptive fields."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .. import data, models
from ..engine.conv import conv2d
from ..engine.pooling import max_pool2d
from ..plots import subplots
from ..train import train
from .base import Claim, Progress, Result, SeedRun, experiment
from .figures import bars, seeds_note


def dense_weights(inputs: int, outputs: int) -> int:
    return inputs * outputs


SIDES = [8, 16, 32, 64, 128, 224, 512]


def _sharing_figure(result: Result) -> dict[str, Any]:
    m = result.metrics
    figure, (left, right) = subplots(1, 2, figsize=(11, 4))
    left.loglog(SIDES, [dense_weights(s * s, s * s) for s in SIDES], "o-",
                label="dense: every output pixel sees every input pixel (side^4)")
    left.loglog(SIDES, [9 for _ in SIDES], "s-", label="3x3 convolution: 9 shared weights")
    left.set_xlabel("image side (pixels), one channel in and out")
    left.set_ylabel("weights")
    left.set_title("one layer mapping an image to an image of the same size", fontsize=9)
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
    bars(right, result, ["test", "train"],
         {f"CNN ({m['shapes/cnn/weights']:,.0f} weights)": ["shapes/cnn/test", "shapes/cnn/train"],
          f"untied twin ({m['shapes/untied/weights']:,.0f})": ["shapes/untied/test", "shapes/untied/train"]})
    right.set_ylim(0, 1.15)
    right.set_ylabel("accuracy")
    right.set_title(f"shapes anywhere on a 14x14 canvas, 1,000 training images ({seeds_note(result)})", fontsize=8)
    return {"parameters": figure}


def _sharing_verdict(result: Result) -> str:
    m = result.metrics
    return (f"a dense 224x224 -> 224x224 layer needs {m['weights/dense_224x224_to_224x224']:,.0f} weights, a 3x3 "
            f"kernel 9, at any image size; trained on 1,000 images, the CNN ({m['shapes/cnn/weights']:,.0f} weights) "
            f"scores {result.text('shapes/cnn/test')} on new ones, its untied twin ({m['shapes/untied/weights']:,.0f} "
            f"weights, one kernel per position) {result.text('shapes/untied/test')} although it fits its training "
            f"set ({result.text('shapes/untied/train')}): a shape learnt at one position is not known at another")


@experiment("parameter-sharing", "a convolution's weight count does not grow with the image, a dense layer's does; "
                                 "sharing one kernel across positions generalises where untied kernels memorise",
            claims=[Claim("a 224x224 dense layer has over a million times the weights of a 3x3 kernel",
                          lambda m: m["ratio/dense_224_vs_conv3x3"], above=1e6, percent=False),
                    Claim("the CNN beats its untied (locally connected) twin on new images by over 10 points",
                          lambda m: m["shapes/cnn/test"] - m["shapes/untied/test"], above=0.10)],
            draw=_sharing_figure, describe=_sharing_verdict,
            details=["The counts are formulas checked against torch's layers "
                     "(nn.Linear(1024, 512), nn.Conv2d(3, 16, 3)).",
                     "Trained: eight 5x5 detectors, global max pooling, a Linear read-out (`models.detector2d`); the "
                     "untied twin has one 5x5 kernel per position and detector (`LocallyConnected2d`), the same "
                     "windows and read-out. Both are trained in the same seed on the same images."])
def parameter_sharing(quick: bool, seed: int, device: str, progress: Progress) -> SeedRun:
    from torch import nn

    cases = {
        "dense_32x32_to_512": dense_weights(32 * 32, 512),
        "dense_224x224_to_224x224": dense_weights(224 * 224, 224 * 224),
        "conv_3x3_one_channel": 3 * 3,
        "conv2d_3_16_3": 16 * 3 * 3 * 3 + 16,
    }
    # the formulas checked against torch's own layers where they fit in memory
    assert models.parameters(nn.Linear(32 * 32, 512, bias=False)) == cases["dense_32x32_to_512"]
    assert models.parameters(nn.Conv2d(3, 16, 3)) == cases["conv2d_3_16_3"]
    assert nn.Conv2d(1, 1, 3, bias=False).weight.numel() == cases["conv_3x3_one_channel"]
    metrics = {**{f"weights/{k}": float(v) for k, v in cases.items()},
               "ratio/dense_224_vs_conv3x3": cases["dense_224x224_to_224x224"] / 9}
    split = data.shapes(1000, 1000, 14, seed=seed, noise=0.3)
    steps = 200 if quick else 400
    for name, untied in (("cnn", False), ("untied", True)):
        def build(u: bool = untied) -> nn.Module:
            return models.detector2d(split.input_shape, split.classes, untied=u)
        run = train(build, split, steps, seed=seed, device=device, progress=progress(f"{name} on shapes", steps))
        metrics.update({f"shapes/{name}/test": run.test_accuracy, f"shapes/{name}/train": run.train_accuracy,
                        f"shapes/{name}/weights": float(models.parameters(run.model))})
    return SeedRun(metrics)


def _shift(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    return np.roll(x, (dy, dx), axis=(-2, -1))


def equivariance_errors(image: np.ndarray, kernel: np.ndarray, dy: int, dx: int) -> dict[str, np.ndarray]:
    """|conv(shift(x)) - shift(conv(x))| maps for each padding mode, stride 1 and 2, and with pooling."""
    x = image[None, None].astype(np.float32)
    w = kernel[None, None].astype(np.float32)

    def layer(z: np.ndarray, mode: str, stride: int = 1) -> np.ndarray:
        return conv2d(z, w, stride=stride, padding=1, padding_mode=mode)

    maps = {}
    moved = _shift(x, dy, dx)
    for mode in ("circular", "zeros", "reflect"):
        maps[f"{mode}/stride1"] = np.abs(layer(moved, mode) - _shift(layer(x, mode), dy, dx))[0, 0]
        # the best a stride-2 map can do is move by half the shift
        maps[f"{mode}/stride2"] = np.abs(layer(moved, mode, 2) - _shift(layer(x, mode, 2), dy // 2, dx // 2))[0, 0]
        # without return_indices, max_pool2d returns the pooled array alone
        pooled = cast(np.ndarray, max_pool2d(layer(x, mode), 2))
        pooled_moved = cast(np.ndarray, max_pool2d(layer(moved, mode), 2))
        maps[f"{mode}/pool2"] = np.abs(pooled_moved - _shift(pooled, dy // 2, dx // 2))[0, 0]
    return maps


STACKS = ("plain", "strided", "dilated", "pooled")
SIDE = 160


def _stacks(depth: int) -> dict[str, list[Any]]:
    from torch import nn

    return {
        "plain": [nn.Conv2d(1 if i == 0 else 4, 4, 3, padding=1) for i in range(depth)],
        "strided": [nn.Conv2d(1 if i == 0 else 4, 4, 3, stride=2 if i % 2 else 1, padding=1) for i in range(depth)],
        "dilated": [nn.Conv2d(1 if i == 0 else 4, 4, 3, padding=2 ** i, dilation=2 ** i) for i in range(depth)],
        "pooled": [m for i in range(depth // 2) for m in (nn.Conv2d(1 if i == 0 else 4, 4, 3, padding=1),
                                                          nn.MaxPool2d(2))],
    }


def _field_rows(result: Result, stack: str) -> list[tuple[int, float, float]]:
    m, rows, depth = result.metrics, [], 1
    while f"{stack}/depth{depth}/analytic" in m:
        rows.append((depth, m[f"{stack}/depth{depth}/analytic"], m[f"{stack}/depth{depth}/measured"]))
        depth += 1
    return rows


def _worst_disagreement(m: dict[str, float]) -> float:
    pairs = [(m[k], m[k.replace("analytic", "measured")]) for k in m if k.endswith("/analytic")]
    return max(abs(a - b) for a, b in pairs if a < SIDE)  # a field wider than the image cannot be measured whole


def _field_figure(result: Result) -> dict[str, Any]:
    figure, axes = subplots(1, 5, figsize=(17, 3.8))
    for stack in STACKS:
        rows = _field_rows(result, stack)
        axes[0].plot([d for d, _, _ in rows], [a for _, a, _ in rows], "o-", label=f"{stack} (analytic)")
        axes[0].plot([d for d, _, _ in rows], [b for _, _, b in rows], "x", color="black")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("layer (conv or pool)")
    axes[0].set_ylabel("receptive field (pixels per axis)")
    axes[0].legend(fontsize=7, loc="upper left")
    axes[0].set_title("analytic (lines) and measured (x)", fontsize=9)
    axes[0].set_xticks(range(1, len(_field_rows(result, "plain")) + 1))
    supports = result.runs[0].arrays
    widest = max(int(v) for k, v in result.metrics.items() if k.endswith("/analytic"))
    half = min(SIDE // 2, widest // 2 + 8)  # the centre of the image, where the fields are
    for axis, stack in zip(axes[1:], STACKS):
        crop = supports[stack][SIDE // 2 - half:SIDE // 2 + half, SIDE // 2 - half:SIDE // 2 + half]
        axis.imshow(crop, cmap="Greys", vmin=0, vmax=1, interpolation="nearest")
        axis.set_title(f"{stack}: input pixels the centre unit depends on\n(|gradient| > 0, seed {result.seeds[0]}; "
                       f"centre {2 * half} px)", fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
    return {"receptive_field": figure}


def _field_verdict(result: Result) -> str:
    last = {stack: int(_field_rows(result, stack)[-1][1]) for stack in STACKS}
    worst = max(result.checks[0].values)
    return (f"the measured field equals the analytic one at every depth in every seed (largest difference {worst:g} "
            f"pixels); after {len(_field_rows(result, 'plain'))} layers: plain {last['plain']}, strided "
            f"{last['strided']}, dilated {last['dilated']}, pooled {last['pooled']} pixels")


@experiment("receptive-field", "stacked layers see more: the receptive field grows with depth, faster with strides, "
                               "dilation and pooling; the analytic formula matches the gradient's support",
            claims=[Claim("|analytic - measured| field, worst layer (pixels)", _worst_disagreement, below=0.5,
                          percent=False),
                    Claim("the dilated stack's last field minus the plain stack's (pixels)",
                          lambda m: max(v for k, v in m.items() if k.startswith("dilated/") and k.endswith("analytic"))
                          - max(v for k, v in m.items() if k.startswith("plain/") and k.endswith("analytic")),
                          above=0, percent=False)],
            draw=_field_figure, describe=_field_verdict,
            details=["Measured: the extent of the input pixels whose gradient is non-zero for random inputs and "
                     "random weights (each seed draws both), through LeakyReLU(0.1) so no unit is dead for every "
                     "input; analytic: the closed form of `ReceptiveField.then`."])
def receptive_field(quick: bool, seed: int, device: str, progress: Progress) -> SeedRun:
    import torch
    from torch import nn

    from ..inspect import trace

    torch.manual_seed(seed)
    stacks = _stacks(4 if quick else 6)
    metrics, arrays = {}, {}
    update = progress("receptive fields", len(stacks))
    for done, (name, layers) in enumerate(stacks.items(), start=1):
        # LeakyReLU, not ReLU: with random weights a deep ReLU unit can be dead for every input, and a dead
        # unit's gradient is zero everywhere, which says nothing about where it looks
        model = nn.Sequential(*[m for layer in layers for m in (layer, nn.LeakyReLU(0.1))])
        table = trace(model, (1, 1, SIDE, SIDE))
        windows = [r for r in table.rows if r.type in ("Conv2d", "MaxPool2d")]
        for depth_index, row in enumerate(windows, start=1):
            assert row.rf is not None  # trace gives every window layer its receptive field
            metrics[f"{name}/depth{depth_index}/analytic"] = float(row.rf[0].size)
            metrics[f"{name}/depth{depth_index}/measured"] = float(row.measured[0] if row.measured else 0)
        # the picture: the support of the centre unit's gradient over eight random inputs
        x = torch.randn(8, 1, SIDE, SIDE, requires_grad=True)
        out = model[:-1](x)
        centre = tuple(n // 2 for n in out.shape[2:])
        out[(slice(None), slice(None)) + centre].sum().backward()
        assert x.grad is not None  # set by the backward pass
        arrays[name] = (x.grad.abs().sum(0)[0] > 0).numpy().astype(np.uint8)           # (SIDE, SIDE)
        update(done)
    return SeedRun(metrics, arrays)
