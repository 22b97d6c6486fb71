"""Figures (matplotlib, drawn off-screen) for the filter gallery and the Sobel exercise.

Every panel that shows a filter response uses :func:`convscope.images.to_display`, so a
signed map is centred on grey and its range is written beside it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .filters import Filtered, Kernel
from .images import Display, atomic_write, to_display


def new_figure(figsize: tuple[float, float]) -> Any:
    """A figure that pyplot never sees: no window, nothing to close, nothing shared between threads.

    pyplot keeps every figure it makes in one global registry until it is closed; the lab draws in
    request threads and the experiments draw several figures each, so we bypass it.
    """
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def subplots(rows: int = 1, columns: int = 1, *, figsize: tuple[float, float], **grid: Any) -> tuple[Any, Any]:
    """``pyplot.subplots`` on a :func:`new_figure` (``grid``: squeeze, sharex, gridspec_kw, ...)."""
    figure = new_figure(figsize)
    return figure, figure.subplots(rows, columns, **grid)


def save_figure(figure: Any, path: str | os.PathLike[str], dpi: int = 110) -> None:
    """Write a PNG or SVG (chosen by the name) only once it is complete."""
    atomic_write(path, lambda temporary: figure.savefig(temporary, dpi=dpi, bbox_inches="tight",
                                                        format=str(path).rsplit(".", 1)[-1].lower()))


def _panel(axis: Any, display: Display, title: str) -> None:
    axis.imshow(display.rgb, interpolation="nearest")
    axis.set_title(title, fontsize=8)
    axis.set_xticks([])
    axis.set_yticks([])


def _kernel_text(kernel: Kernel) -> str:
    w = kernel.weights
    if w.size > 9:
        return f"{w.shape[0]}x{w.shape[1]}"
    return "\n".join(" ".join(f"{v:g}" for v in row) for row in w)


def gallery_figure(image: np.ndarray, label: str, results: list[Filtered]) -> Any:
    """The input and each kernel's response, each titled with the kernel's name and range."""
    count = len(results) + 1
    columns = 5
    rows = -(-count // columns)
    figure, axes = subplots(rows, columns, figsize=(columns * 2.6, rows * 2.9))
    axes = np.atleast_1d(axes).ravel()
    source = to_display(image, signed=False)
    _panel(axes[0], source, f"input: {label}\n{source.range_text}")
    for axis, shown in zip(axes[1:], results):
        _panel(axis, shown.display, f"{shown.kernel.name}\n{shown.display.range_text}")
        axis.text(0.02, 0.02, _kernel_text(shown.kernel), transform=axis.transAxes, fontsize=5,
                  family="monospace", color="black", va="bottom",
                  bbox={"facecolor": "white", "alpha": 0.7, "pad": 1, "linewidth": 0})
    for axis in axes[count:]:
        axis.axis("off")
    figure.suptitle("filter gallery: each kernel slid over the same image (signed outputs: 0 = grey, "
                    "blue < 0 < red)", fontsize=9)
    return figure


def sobel_channels_figure(hand: Any, corner: int = 16) -> Any:
    """Part 1 of the exercise: the Conv2d's two channels, SciPy's, and where they differ (a
    top-left corner of the difference, enlarged, since only the one-pixel frame differs)."""
    figure, axes = subplots(2, 4, figsize=(12, 7))
    names = ("channel 0: Sobel-x (vertical edges)", "channel 1: Sobel-y (horizontal edges)")
    scipy_names = ("ndimage.sobel(img, axis=1)", "ndimage.sobel(img, axis=0)")
    _panel(axes[0, 0], to_display(hand.image, signed=False), f"input {hand.image.shape[1]}x{hand.image.shape[0]}")
    axes[1, 0].axis("off")
    axes[1, 0].text(0, 1, "\n".join(_wrap(line, 44) for line in hand.lines()), fontsize=6.5, va="top",
                    transform=axes[1, 0].transAxes)
    for c in range(2):
        ours = to_display(hand.channels[c], signed=True)
        theirs = to_display(hand.scipy[c], signed=True)
        difference = hand.channels[c] - hand.scipy[c]
        diff = to_display(difference[:corner, :corner], signed=True)
        _panel(axes[c, 1], ours, f"Conv2d {names[c]}\n{ours.range_text}")
        _panel(axes[c, 2], theirs, f"{scipy_names[c]}\n{theirs.range_text}")
        _panel(axes[c, 3], diff, f"Conv2d - SciPy, top-left {corner}x{corner}\n"
                                 f"(zeros vs mirrored border) {to_display(difference).range_text}")
    figure.suptitle("hand-set Sobel Conv2d(1, 2, 3, padding=1, bias=False) against scipy.ndimage.sobel",
                    fontsize=10)
    return figure


def _wrap(line: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(line, width)) or line


def sobel_training_figure(result: Any, target: str = "the Sobel output",
                          title: str = "learning Sobel from random weights: channel 0 (top) and 1 (bottom) drift to "
                                       "[-1 0 1; -2 0 2; -1 0 1] and its transpose") -> Any:
    """Part 2 (or the bonus, with its own ``target`` and ``title``): the loss of both runs, and the
    kernels at the snapshot steps."""
    engine, torch_run = result.engine, result.torch
    steps = sorted(engine.snapshots)
    figure = new_figure((13, 6))
    grid = figure.add_gridspec(2, len(steps) + 1, width_ratios=[3] + [1] * len(steps))
    loss_axis = figure.add_subplot(grid[:, 0])
    loss_axis.semilogy(engine.losses, label="engine (conv2d_backward)", linewidth=2)
    if torch_run is not None:
        loss_axis.semilogy(torch_run.losses, "--", label="torch (autograd)", linewidth=1.5)
    loss_axis.set_xlabel(f"step (Adam, lr {result.lr:g})")
    loss_axis.set_ylabel(f"mean squared error to {target}")
    loss_axis.set_title(f"final loss {engine.losses[-1]:.2e}; max |w - Sobel| = {engine.final_error:.2e}",
                        fontsize=9)
    loss_axis.legend(fontsize=8)
    scale = max(2.0, float(np.abs(np.stack(list(engine.snapshots.values()))).max()))
    for column, step in enumerate(steps, start=1):
        for channel in range(2):
            axis = figure.add_subplot(grid[channel, column])
            kernel = engine.snapshots[step][channel, 0]
            axis.imshow(kernel, cmap="RdBu_r", vmin=-scale, vmax=scale)
            for (i, j), value in np.ndenumerate(kernel):
                axis.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6)
            axis.set_xticks([])
            axis.set_yticks([])
            if channel == 0:
                axis.set_title(f"step {step}", fontsize=8)
    figure.suptitle(title, fontsize=10)
    return figure
