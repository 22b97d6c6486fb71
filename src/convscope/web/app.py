"""The local web lab: a JSON API (with its OpenAPI schema at /docs) and static pages.

Every widget calls the library through the API; the pages' JavaScript only draws. Bad
requests get 4xx with the library's message; nothing a request sends can crash the server
or make it allocate without bound (body size, upload pixels, grid and kernel sizes are all
capped); no endpoint reads a path the user names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from ..engine.errors import ConvScopeError
from . import interactive, services
from .schemas import (MAX_UPLOAD_BYTES, AnswerRequest, DigitRequest, EquivarianceRequest, FilterRequest, FrameRequest,
                      StackRequest, StepperRequest)

STATIC = Path(__file__).with_name("static")


class BodyLimit:
    """An ASGI layer that answers 413 as soon as a request body passes ``limit`` bytes."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message
        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send, self.limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Any, limit: int) -> None:
    body = (b'{"error": "the request body is too large; expected at most ' + str(limit).encode()
            + b' bytes. Fix: send a smaller image"}')
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def create_app() -> FastAPI:
    app = FastAPI(title="convscope lab", description="The kernel that slides, multiplies, sums: computed by "
                  "convscope's engine, drawn by the pages.", version="0.1.0")

    @app.exception_handler(ConvScopeError)
    async def refused(request: Request, error: ConvScopeError) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        where = f"at character {where} of the body" if where.isdigit() else (where or "the body")
        return JSONResponse({"error": f"malformed request ({where}): {first.get('msg', 'invalid')}",
                             "details": [{"loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in error.errors()]},
                            status_code=422)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/static/index.html")

    @app.get("/api/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/stepper")
    def stepper(body: StepperRequest) -> dict[str, Any]:
        return services.stepper(body)

    @app.post("/api/stepper/frame")
    def stepper_frame(body: FrameRequest) -> dict[str, Any]:
        return services.stepper_frame(body)

    @app.get("/api/kernels")
    def kernels() -> list[dict[str, Any]]:
        from ..filters import KERNELS

        return [{"name": k.name, "weights": k.weights.tolist(), "responds_to": k.responds_to, "signed": k.signed}
                for k in KERNELS.values()]

    @app.get("/api/samples")
    def samples() -> list[str]:
        from ..images import SAMPLES

        return sorted(SAMPLES)

    @app.post("/api/upload")
    async def upload(file: UploadFile = File(...)) -> dict[str, Any]:
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise services.RequestError("the upload is too large", expected=f"at most {MAX_UPLOAD_BYTES:,} bytes",
                                        got="more", fix="send a smaller image")
        return services.add_upload(data)

    @app.get("/api/image/{key}.png", response_class=Response)
    def image(key: str) -> Response:
        data = services.IMAGES.get(key) if key.isalnum() and len(key) == 20 else None
        if data is None:
            return JSONResponse({"error": "no such image; it may have been dropped from the cache. Fix: ask "
                                          "/api/filter again"}, status_code=404)
        return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @app.post("/api/filter")
    def filter_image(body: FilterRequest) -> dict[str, Any]:
        return services.filter_image(body)

    @app.post("/api/shape")
    def shape(body: StackRequest) -> dict[str, Any]:
        return interactive.shape_report(body)

    @app.post("/api/digit")
    def digit(body: DigitRequest) -> dict[str, Any]:
        return interactive.read_digit(body)

    @app.post("/api/equivariance")
    def equivariance(body: EquivarianceRequest) -> dict[str, Any]:
        return interactive.equivariance(body)

    @app.get("/api/quiz")
    def quiz(difficulty: str = Query("mixed"), n: int = Query(5, ge=1, le=20), seed: int = Query(0, ge=0)
             ) -> list[dict[str, Any]]:
        return interactive.quiz(difficulty, n, seed)

    @app.post("/api/quiz/answer")
    def answer(body: AnswerRequest) -> dict[str, Any]:
        return interactive.answer(body.id, body.choice)

    app.mount("/static", StaticFiles(directory=STATIC, html=True), name="static")
    return app


def limited_app() -> Any:
    """The app behind the body-size limit (what `convscope serve` runs)."""
    return BodyLimit(create_app(), MAX_UPLOAD_BYTES + 64 * 1024)
