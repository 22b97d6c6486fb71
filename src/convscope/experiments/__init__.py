"""Experiments that turn the lessons' claims into numbers, figures and verdicts over several seeds.

``run_experiment(name, quick, seed, seeds, ...)`` returns a :class:`Result` (each metric's mean and
95% interval over the seeds, the claims checked on their intervals, figures, a verdict);
``run_experiments`` runs several, in worker processes and resumably; ``Result.write(dir)``
writes results.json, the figures and a README.
"""

from . import hierarchy, invariance, learned, photos, structure, trained  # noqa: F401 - importing registers them
from .base import REGISTRY, Claim, Result, SeedRun, lookup
from .runner import default_seeds, run_experiment, run_experiments

# the report's order: what one layer does, what trained networks show, then the newer claims
ORDER = ("parameter-sharing", "receptive-field", "equivariance", "shuffle", "unseen-positions", "learned-filters",
         "long-range", "rotation-scale", "pooling-shift", "hierarchy", "photo-filters")
REGISTRY.update({name: REGISTRY.pop(name) for name in ORDER})

__all__ = ["REGISTRY", "Claim", "Result", "SeedRun", "default_seeds", "lookup", "run_experiment", "run_experiments"]
