"""Experiments that need no training: parameter sharing, equivariance on photos, receptive fields."""

from __future__ import annotations

import numpy as np

from ..engine.conv import conv2d
from ..engine.pool import max_pool2d
from .base import Progress, Result, experiment


def dense_weights(inputs: int, outputs: int) -> int:
    return inputs * outputs


@experiment("parameter-sharing", "a convolution's weight count does not grow with the image; a dense layer's does")
def parameter_sharing(quick: bool, seed: int, device: str, progress: Progress) -> Result:
    import torch
    from torch import nn

    from ..plots import _pyplot

    cases = {
        "dense_32x32_to_512": dense_weights(32 * 32, 512),
        "dense_224x224_to_224x224": dense_weights(224 * 224, 224 * 224),
        "conv_3x3_one_channel": 3 * 3,
        "conv2d_3_16_3": 16 * 3 * 3 * 3 + 16,
    }
    # the formulas checked against torch's own layers where they fit in memory
    assert sum(p.numel() for p in nn.Linear(32 * 32, 512, bias=False).parameters()) == cases["dense_32x32_to_512"]
    assert sum(p.numel() for p in nn.Conv2d(3, 16, 3).parameters()) == cases["conv2d_3_16_3"]
    assert nn.Conv2d(1, 1, 3, bias=False).weight.numel() == cases["conv_3x3_one_channel"]
    sides = [8, 16, 32, 64, 128, 224, 512]
    dense = [dense_weights(s * s, s * s) for s in sides]
    conv = [9 for _ in sides]
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.5, 4), layout="constrained")
    axis.loglog(sides, dense, "o-", label="dense: every output pixel sees every input pixel (side^4)")
    axis.loglog(sides, conv, "s-", label="3x3 convolution: 9 shared weights")
    axis.set_xlabel("image side (pixels), one channel in and out")
    axis.set_ylabel("weights")
    axis.set_title("weights of one layer that maps an image to an image of the same size", fontsize=9)
    axis.legend(fontsize=8)
    ratio = cases["dense_224x224_to_224x224"] / 9
    metrics = {**{f"weights/{k}": float(v) for k, v in cases.items()}, "ratio/dense_224_vs_conv3x3": ratio}
    torch.manual_seed(seed)
    return Result("parameter-sharing", quick, seed, metrics,
                  f"a dense 224x224 -> 224x224 layer needs {cases['dense_224x224_to_224x224']:,} weights, a 3x3 "
                  f"kernel 9: {ratio:,.0f} times fewer, and the kernel's count does not change with the image; "
                  f"32x32 -> 512 units is {cases['dense_32x32_to_512']:,} weights; Conv2d(3, 16, 3) has "
                  f"{cases['conv2d_3_16_3']} parameters",
                  {"parameters": figure},
                  ["The counts are formulas checked against torch's layers (nn.Linear(1024, 512), nn.Conv2d(3, 16, 3))."])


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
        pooled, pooled_moved = max_pool2d(layer(x, mode), 2), max_pool2d(layer(moved, mode), 2)
        maps[f"{mode}/pool2"] = np.abs(pooled_moved - _shift(pooled, dy // 2, dx // 2))[0, 0]
    return maps


@experiment("receptive-field", "stacked layers see more: the receptive field grows with depth, faster with strides, "
                               "dilation and pooling; the analytic formula matches the gradient's support")
def receptive_field(quick: bool, seed: int, device: str, progress: Progress) -> Result:
    import torch
    from torch import nn

    from ..inspect import trace
    from ..plots import _pyplot

    torch.manual_seed(seed)
    depth = 4 if quick else 6
    stacks = {
        "plain": [nn.Conv2d(1 if i == 0 else 4, 4, 3, padding=1) for i in range(depth)],
        "strided": [nn.Conv2d(1 if i == 0 else 4, 4, 3, stride=2 if i % 2 else 1, padding=1) for i in range(depth)],
        "dilated": [nn.Conv2d(1 if i == 0 else 4, 4, 3, padding=2 ** i, dilation=2 ** i) for i in range(depth)],
        "pooled": [m for i in range(depth // 2) for m in (nn.Conv2d(1 if i == 0 else 4, 4, 3, padding=1),
                                                          nn.MaxPool2d(2))],
    }
    side = 160
    metrics, rows, gradients = {}, [], {}
    update = progress("receptive fields", len(stacks))
    for done, (name, layers) in enumerate(stacks.items(), start=1):
        model = nn.Sequential(*[m for layer in layers for m in (layer, nn.ReLU())])
        table = trace(model, (1, 1, side, side))
        windows = [r for r in table.rows if r.type in ("Conv2d", "MaxPool2d")]
        for depth_index, row in enumerate(windows, start=1):
            analytic, measured = row.rf[0].size, row.measured[0] if row.measured else 0
            metrics[f"{name}/depth{depth_index}/analytic"] = float(analytic)
            metrics[f"{name}/depth{depth_index}/measured"] = float(measured)
            rows.append((name, depth_index, analytic, measured))
        x = torch.randn(1, 1, side, side, requires_grad=True)
        out = model(x)
        centre = tuple(n // 2 for n in out.shape[2:])
        out[(0, slice(None)) + centre].sum().backward()
        gradients[name] = x.grad[0, 0].abs().numpy()
        update(done)
    agree = all(a == m for _, _, a, m in rows if a < side)
    plt = _pyplot()
    figure, axes = plt.subplots(1, 5, figsize=(17, 3.6), layout="constrained")
    for name in stacks:
        data = [(d, a, m) for n, d, a, m in rows if n == name]
        axes[0].plot([d for d, _, _ in data], [a for _, a, _ in data], "o-", label=f"{name} (analytic)")
        axes[0].plot([d for d, _, _ in data], [m for _, _, m in data], "x", color="black")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("layer (conv or pool)")
    axes[0].set_ylabel("receptive field (pixels per axis)")
    axes[0].legend(fontsize=7)
    axes[0].set_title("analytic (lines) and measured (x)", fontsize=9)
    for axis, (name, grad) in zip(axes[1:], gradients.items()):
        axis.imshow(grad > 0, cmap="Greys")
        axis.set_title(f"{name}: |d unit / d input| > 0", fontsize=9)
        axis.set_xticks([])
        axis.set_yticks([])
    last = {name: max(a for n, _, a, _ in rows if n == name) for name in stacks}
    verdict = ("the measured field equals the analytic one at every depth; after "
               f"{depth} layers: plain {last['plain']}, strided {last['strided']}, dilated {last['dilated']}, "
               f"pooled {last['pooled']} pixels") if agree else "analytic and measured fields disagree somewhere"
    details = ["| stack | layer | analytic | measured |", "|---|---|---|---|"] + \
        [f"| {n} | {d} | {a} | {m} |" for n, d, a, m in rows]
    return Result("receptive-field", quick, seed, metrics, verdict, {"receptive_field": figure}, details, holds=agree)
