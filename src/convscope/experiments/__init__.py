"""Experiments that turn the lessons' claims into numbers, figures and verdicts.

``run_experiment(name, quick, seed, device)`` returns a :class:`Result`; ``Result.write(dir)``
writes results.json, the figures and a README with the verdict.
"""

from . import learned, structure, trained  # noqa: F401 - importing registers the experiments
from .base import REGISTRY, Result, run_experiment

__all__ = ["REGISTRY", "Result", "run_experiment"]
