"""Inspect any ``nn.Module``: a layer-by-layer trace, receptive fields, and the shape-error doctor.

Every shape and receptive-field formula comes from :mod:`convscope.engine.arithmetic`.
"""

from .doctor import Diagnosis, doctor
from .explore import Exploration, explore
from .loading import ModelLoadError, load_model
from .stack import StackError, StackReport, parse_shape, shape_stack
from .trace import LayerRow, Trace, trace

__all__ = ["Diagnosis", "Exploration", "LayerRow", "ModelLoadError", "StackError", "StackReport", "Trace", "doctor",
           "explore", "load_model",
           "parse_shape", "shape_stack", "trace"]
