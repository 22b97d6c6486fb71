"""Intervals over seeds: what lets a verdict say "this gap is real" instead of "this run was lucky".

Every experiment runs once per seed; a seed changes the data drawn, the initial weights and the
batches. A claim is a number computed from one seed's metrics (an accuracy, or a *paired*
difference such as CNN minus MLP on the same data and the same seed), and it holds when the 95%
Student-t interval of that number over the seeds lies on the claimed side of its threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

TEST = "Student-t 95% interval over seeds (paired: each seed computes the statistic on one run)"


@dataclass(frozen=True)
class Interval:
    """Mean, sample standard deviation and the 95% interval of the mean over ``n`` values."""

    mean: float
    sd: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    def text(self, percent: bool = False) -> str:
        """'0.930 [0.910, 0.950]' (or '93.1% [91.0, 95.2]'); one value is shown alone."""
        scale, unit = (100.0, "%") if percent else (1.0, "")
        digits = 1 if percent else 3
        def show(value: float) -> str:  # a weight count reads better as 279,736,775 than with decimals
            return f"{value * scale:,.0f}" if abs(value * scale) >= 1e4 else f"{value * scale:.{digits}f}"
        if self.n < 2:
            return f"{show(self.mean)}{unit}"
        return f"{show(self.mean)}{unit} [{show(self.low)}, {show(self.high)}]"


def t_quantile(confidence: float, df: int) -> float:
    """The two-sided Student-t critical value (scipy's; SciPy comes with scikit-learn)."""
    from scipy.stats import t

    return float(t.ppf(0.5 + confidence / 2, df))


def interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """mean +- t(n-1) * sd / sqrt(n); a single value is its own (degenerate) interval."""
    n = len(values)
    if n == 0:
        raise ValueError("an interval needs at least one value")
    mean = math.fsum(values) / n
    if n == 1:
        return Interval(mean, 0.0, mean, mean, 1)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile(confidence, n - 1) * sd / math.sqrt(n)
    return Interval(mean, sd, mean - half, mean + half, n)
