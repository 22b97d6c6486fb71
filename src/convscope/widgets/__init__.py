"""Notebook widgets (anywidget): :class:`Stepper` steps a convolution cell by cell, :class:`Gallery`
filters a photo with the named kernels. Their JavaScript ships in the package (no CDN); ``import
convscope`` does not load this module, and without anywidget it says what to install."""

from __future__ import annotations

try:
    import anywidget  # noqa: F401 - only to say what is missing, before the widgets' own imports
except ImportError as error:  # pragma: no cover - the notebook extra is installed for the tests
    raise ImportError("convscope.widgets needs anywidget: pip install 'convscope[notebook]'") from error

from .gallery import Gallery
from .stepper import Stepper

__all__ = ["Gallery", "Stepper"]
