"""Request bodies of the JSON API, with the limits that keep one request small."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

MAX_GRID = 32          # the stepper's input, per side
MAX_KERNEL = 7         # the stepper's and gallery's custom kernels, per side
MAX_UPLOAD_BYTES = 8 * 2**20
MAX_UPLOAD_PIXELS = 4_000_000

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]


class StepperRequest(BaseModel):
    """An input of 1-3 channels (C, H, W) and a kernel (C, kH, kW); or 2-D lists for one channel."""

    input: list[list[float]] | list[list[list[float]]]
    kernel: list[list[float]] | list[list[list[float]]]
    stride: int = Field(1, ge=1, le=4)
    padding: int = Field(0, ge=0, le=3)
    padding_mode: PaddingMode = "zeros"
    dilation: int = Field(1, ge=1, le=3)
    flip: bool = False


class FrameRequest(StepperRequest):
    index: int = Field(0, ge=0, description="which output cell, in reading order")


class FilterRequest(BaseModel):
    image: str = Field("camera", description="a sample photo's name, or an id returned by /api/upload")
    kernel: str | None = Field(None, description="a named kernel")
    weights: list[list[float]] | None = Field(None, description="a custom square kernel (3x3, 5x5 or 7x7)")
    padding_mode: Literal["zeros", "reflect", "symmetric", "replicate", "circular"] = "reflect"
    size: int = Field(256, ge=32, le=512, description="the longer side the photo is shown at")


class StackRequest(BaseModel):
    stack: str = Field(..., max_length=2000)
    input: list[int] = Field(..., min_length=2, max_length=5)
    unit: list[int] | None = Field(None, description="an output unit (row, column) of the last spatial layer")


class DigitRequest(BaseModel):
    pixels: list[list[float]] = Field(..., description="the drawing as a 32x32 grid of values in [0, 1]")


class EquivarianceRequest(BaseModel):
    position: int = Field(0, ge=0, le=24)
    stride: int = Field(1, ge=1, le=2)


class AnswerRequest(BaseModel):
    id: str = Field(..., max_length=100)
    choice: int = Field(..., ge=0, le=7)
