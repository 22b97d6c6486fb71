"""Lessons: the labs retold from the lesson texts, run by the engine and checked by torch.

>>> from convscope.lessons import run_lab
>>> run_lab("conv2d_lab").text.splitlines()[2]
'output: (1, 4, 8, 8)'
"""

from .labs import LABS, TOLERANCE, Check, Lab, LabNotFoundError, LabParameterError, LabResult, list_labs, run_lab

__all__ = ["LABS", "TOLERANCE", "Check", "Lab", "LabNotFoundError", "LabParameterError", "LabResult", "list_labs",
           "run_lab"]
