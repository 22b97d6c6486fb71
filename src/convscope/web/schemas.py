"""Request bodies of the JSON API, with the limits that keep one request small.

Grids are sized by the library's checks (a message that names the limit) within the body
limit (MAX_JSON_BYTES), which bounds what parsing any body can cost.
Numbers are strict: ``false`` is not 0 and ``"2"`` is not 2, so a body means what it says.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictInt

MAX_GRID = 32          # the stepper's input, per side
MAX_KERNEL = 7         # the stepper's and gallery's custom kernels, per side
MAX_UPLOAD_BYTES = 8 * 2**20
MAX_JSON_BYTES = 256 * 2**10  # any other request body: a 3 x 32 x 32 grid as text is about 60 KiB
MAX_UPLOAD_PIXELS = 4_000_000
MAX_FILTER_SIZE = 512  # the longest side a filtered photo is shown at (uploads are kept at this size)
MAX_VALUE = 1e6        # |value| of a stepper cell or kernel weight: products and sums stay finite in float32
MAX_SHAPE_ELEMENTS = 2**40  # the shape calculator's input: shapes only (meta device), so only a sanity bound

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]


def Int(default: Any = ..., **limits: Any) -> Any:
    """An integer field that refuses booleans, floats and strings."""
    return Field(default, strict=True, **limits)


class StepperRequest(BaseModel):
    """An input of 1-3 channels (C, H, W) and a kernel (C, kH, kW); or 2-D lists for one channel."""

    input: list[list[float]] | list[list[list[float]]]
    kernel: list[list[float]] | list[list[list[float]]]
    stride: int = Int(1, ge=1, le=4)
    padding: Annotated[int, Field(strict=True, ge=0, le=3)] | Literal["same_upper", "same_lower"] = Field(
        0, description='cells on every side, or TensorFlow\'s "same" at any stride (ONNX\'s SAME_UPPER / SAME_LOWER: '
                       "ceil(size / stride) outputs, the odd cell after / before)")
    padding_mode: PaddingMode = "zeros"
    dilation: int = Int(1, ge=1, le=3)
    flip: bool = Field(False, strict=True)
    bias: float = Field(0.0, strict=True, ge=-MAX_VALUE, le=MAX_VALUE, allow_inf_nan=False,
                        description="added to every output cell after the channels' subtotals")


class FrameRequest(StepperRequest):
    index: int = Int(0, ge=0, le=32 * 32, description="which output cell, in reading order")


class FilterRequest(BaseModel):
    image: str = Field("camera", max_length=40, description="a sample photo's name, or an id returned by /api/upload")
    kernel: str | None = Field(None, max_length=40, description="a named kernel")
    weights: list[list[float]] | None = Field(None, description="a custom square kernel (3x3, 5x5 or 7x7)")
    padding_mode: Literal["zeros", "reflect", "symmetric", "replicate", "circular"] = "reflect"
    size: int = Int(256, ge=32, le=MAX_FILTER_SIZE, description="the longer side the photo is shown at")


class PixelRequest(FilterRequest):
    """One output pixel of a filter request, for the gallery's magnifier."""

    row: int = Int(..., ge=0, lt=MAX_FILTER_SIZE, description="the output pixel's row")
    col: int = Int(..., ge=0, lt=MAX_FILTER_SIZE, description="the output pixel's column")


class StackRequest(BaseModel):
    stack: str = Field(..., max_length=2000)
    input: list[StrictInt] | str = Field(..., min_length=1, max_length=60,
                                          description="(N, C, *spatial) as a list, or as text such as 1,3,32,32")
    unit: list[StrictInt] | None = Field(None, max_length=3,
                                         description="an output unit (row, column) of the last spatial layer")


class DigitRequest(BaseModel):
    pixels: list[list[float]] = Field(..., description="the drawing as a 32x32 grid of values in [0, 1]")


class EquivarianceRequest(BaseModel):
    position: int = Int(0, ge=0, le=24)
    stride: int = Int(1, ge=1, le=2)
    previous: int | None = Int(None, ge=0, le=24, description="an earlier position: the answer says how far "
                                                             "the pattern and the peak moved since")


class AnswerRequest(BaseModel):
    id: str = Field(..., max_length=100)
    choice: int = Int(..., ge=0, le=7)
