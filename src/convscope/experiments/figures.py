"""Drawing helpers every experiment's figures share: the spread over seeds, signed maps with a colour bar."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import Result
from .stats import interval


def per_seed(result: Result, metric: str) -> np.ndarray:
    """The metric's value in each seed, in seed order."""
    return np.array([run.metrics[metric] for run in result.runs])


def error_bars(result: Result, metrics: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Means and the (2, k) distances from each mean to its interval's ends, for ``errorbar(yerr=)``."""
    spreads = [interval(list(per_seed(result, m))) for m in metrics]
    means = np.array([s.mean for s in spreads])
    return means, np.array([[s.mean - s.low for s in spreads], [s.high - s.mean for s in spreads]])


def bars(axis: Any, result: Result, groups: Sequence[str], series: dict[str, Sequence[str]],
         percent: bool = True) -> None:
    """Grouped bars of the means, the 95% interval as an error bar and every seed as a dot.

    ``series``: legend label -> one metric name per group. The legend goes below the axes, where it
    cannot cover a bar or its label."""
    width = 0.8 / len(series)
    xs = np.arange(len(groups))
    for index, (label, metrics) in enumerate(series.items()):
        offset = (index - (len(series) - 1) / 2) * width
        means, yerr = error_bars(result, metrics)
        drawn = axis.bar(xs + offset, means, width * 0.95, label=label, yerr=yerr, capsize=3,
                         error_kw={"elinewidth": 1})
        for x, metric in zip(xs + offset, metrics):
            values = per_seed(result, metric)
            axis.scatter(np.full(len(values), x), values, s=8, color="black", zorder=3)
        axis.bar_label(drawn, [f"{v:.0%}" if percent else f"{v:.3g}" for v in means], fontsize=7, padding=6)
    axis.set_xticks(xs, groups)
    axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(series), frameon=False)


def curves(axis: Any, result: Result, xs: Sequence[float], series: dict[str, Sequence[str]]) -> None:
    """One line per series through the means, a band for the 95% interval, every seed's points."""
    for label, metrics in series.items():
        means, yerr = error_bars(result, metrics)
        line, = axis.plot(xs, means, "o-", label=label, markersize=4)
        axis.fill_between(xs, means - yerr[0], means + yerr[1], color=line.get_color(), alpha=0.2, linewidth=0)
        for x, metric in zip(xs, metrics):
            values = per_seed(result, metric)
            axis.scatter(np.full(len(values), x), values, s=5, color=line.get_color(), alpha=0.6)


def signed_map(figure: Any, axis: Any, array: np.ndarray, title: str, colour_bar: bool = True) -> None:
    """A signed array centred on white (zero), with the colour bar that says what the colours mean."""
    limit = float(np.abs(array).max()) or 1.0
    image = axis.imshow(array, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    axis.set_title(title, fontsize=7)
    axis.set_xticks([])
    axis.set_yticks([])
    if colour_bar:
        figure.colorbar(image, ax=axis, fraction=0.046, pad=0.03).ax.tick_params(labelsize=6)


def seeds_note(result: Result) -> str:
    """For a figure's title: how many seeds its bars and bands are over."""
    n = len(result.runs)
    return f"mean of {n} seeds, 95% interval, dots: each seed" if n > 1 else "one seed"
