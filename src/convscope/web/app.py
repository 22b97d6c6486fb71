"""The local web lab: a JSON API (with its OpenAPI schema at /docs) and static pages.

Every widget calls the library through the API; the pages' JavaScript only draws. Bad
requests get 4xx with the library's message; nothing a request sends can crash the server
or make it allocate without bound (body size, upload pixels, grid and kernel sizes are all
capped); no endpoint reads a path the user names.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from ..engine.errors import ConvScopeError
from . import digits, interactive, lessons, model_page, services
from .docs import offline_docs
from .guards import LOOPBACK_NAMES, BodyLimit, Busy, ClientGone, Gate, HostGuard, return_freed_memory
from .schemas import (
    MAX_JSON_BYTES,
    MAX_UPLOAD_BYTES,
    AnswerRequest,
    DigitRequest,
    EquivarianceRequest,
    FilterRequest,
    FrameRequest,
    PixelRequest,
    StackRequest,
    StepperRequest,
)
from .served_models import builtins

STATIC = Path(__file__).with_name("static")
# Heavy requests (a filter, an upload) computing at once; the rest wait up to GATE_WAIT seconds.
GATE = Gate(slots=4, wait=30.0)


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"example": {"error": "... Fix: ..."}}}}


# Every status an endpoint can answer besides 200, declared so the schema tells the whole truth.
REFUSALS: dict[int | str, dict[str, Any]] = {
    400: _error("the library refused the request: the message says what was expected, what came and the fix"),
    403: _error("a request sent by another site's page"),
    413: _error("the body is larger than the endpoint accepts"),
    421: _error("a Host header that is not the lab's"),
    422: _error("the body does not match the schema"),
}
HEAVY: dict[int | str, dict[str, Any]] = {**REFUSALS, 503: _error("every worker is busy: try again")}
TRAINING: dict[int | str, dict[str, Any]] = {**REFUSALS, 503: _error("a built-in model is still training (the "
                                                                    "message says how far): try again in a moment")}


def create_app(models: tuple[Any, ...] = ()) -> FastAPI:
    """The lab; ``models``: the user's own (:class:`~convscope.web.served_models.ServedModel`), loaded
    and checked before the server starts."""
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        for builtin in builtins():  # trained (or loaded from their cache) in a thread: ready before the first drawing
            builtin.start()
        yield

    app = FastAPI(title="convscope lab", description="The kernel that slides, multiplies, sums: computed by "
                  "convscope's engine, drawn by the pages.", version="0.1.0", docs_url=None, redoc_url=None,
                  lifespan=lifespan)
    app.state.models = models  # the user's models, loaded before listening; the built-in CNNs join once trained

    @app.exception_handler(ConvScopeError)
    async def refused(request: Request, error: ConvScopeError) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=503 if isinstance(error, Busy) else 400)

    @app.exception_handler(ClientGone)
    async def gone(request: Request, error: ClientGone) -> Response:
        return Response(status_code=499)  # nobody reads it: the client has closed the connection

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        where = f"at character {where} of the body" if where.isdigit() else (where or "the body")
        return JSONResponse({"error": f"malformed request ({where}): {first.get('msg', 'invalid')}",
                             "details": [{"loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in error.errors()]},
                            status_code=422)

    async def heavy(request: Request, work: Any) -> Any:
        """``work`` through the gate, in a worker thread; dropped unstarted if the client has left."""
        from anyio.from_thread import run as on_loop

        return await run_in_threadpool(GATE.run, work, lambda: not on_loop(request.is_disconnected))

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/static/index.html")

    offline_docs(app, STATIC)

    @app.get("/api/health", responses=REFUSALS)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/models", responses=REFUSALS)
    def served_models() -> dict[str, Any]:
        """The models this lab shows: the ones named by convscope serve --model, then the built-in
        digit and shapes CNNs (not ready while they train: their status says how far)."""
        from .served_models import catalogue

        return catalogue(models)

    name_query = Query(max_length=200, description="a model from /api/models")
    input_query = Query("random", max_length=40, description="random, a sample photo (" + ", ".join(model_page.PHOTOS)
                        + "), an id from /api/upload (a photo or a drawing), or example-K for a built-in model")
    layer_query = Query(max_length=300, description="a layer's name from /api/model/layers")

    @app.get("/api/model/layers", responses=TRAINING)
    async def model_layers(request: Request, model: str = name_query, input: str = input_query) -> dict[str, Any]:
        """Every leaf layer of a served model on an input (random, or a sample photo resized to the
        model's input), the prediction, and the engine's convolutions checked against torch."""
        return await heavy(request, lambda: model_page.layers(models, model, input))

    @app.get("/api/model/maps", responses=TRAINING)
    async def model_maps(request: Request, model: str = name_query, layer: str = layer_query,
                         input: str = input_query, start: int = Query(0, ge=0, le=100_000),
                         count: int = Query(16, ge=1, le=64)) -> dict[str, Any]:
        """One layer's feature maps, a page of them, computed when first asked for."""
        return await heavy(request, lambda: model_page.maps(models, model, input, layer, start, count))

    @app.get("/api/model/unit", responses=TRAINING)
    async def model_unit(request: Request, model: str = name_query, layer: str = layer_query,
                         channel: int = Query(ge=0, le=100_000), input: str = input_query) -> dict[str, Any]:
        """One map's strongest unit: its kernels, statistics, receptive-field box and input patch."""
        return await heavy(request, lambda: model_page.unit(models, model, input, layer, channel))

    @app.post("/api/stepper", responses=REFUSALS)
    def stepper(body: StepperRequest) -> dict[str, Any]:
        return services.stepper(body)

    @app.post("/api/stepper/frame", responses=REFUSALS)
    def stepper_frame(body: FrameRequest) -> dict[str, Any]:
        return services.stepper_frame(body)

    @app.get("/api/kernels", responses=REFUSALS)
    def kernels() -> list[dict[str, Any]]:
        from ..filters import KERNELS

        return [{"name": k.name, "weights": k.weights.tolist(), "responds_to": k.responds_to, "signed": k.signed}
                for k in KERNELS.values()]

    @app.get("/api/samples", responses=REFUSALS)
    def samples() -> list[str]:
        from ..images import SAMPLES

        return sorted(SAMPLES)

    @app.post("/api/upload", responses=HEAVY)
    async def upload(request: Request, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            return JSONResponse({"error": "the upload is too large. Fix: choose a smaller image "
                                          f"({services.UPLOAD_LIMITS})"}, status_code=413)  # type: ignore[return-value]
        return await heavy(request, lambda: services.add_upload(data, file.filename))

    @app.get("/api/image/{key}.png", response_class=Response, responses={**REFUSALS, 404: _error("no such image")})
    def image(key: str) -> Response:
        data = services.IMAGES.get(key) if key.isascii() and key.isalnum() and len(key) == 20 else None
        if data is None:
            return JSONResponse({"error": "no such image; it may have been dropped from the cache. Fix: ask "
                                          "/api/filter again"}, status_code=404)
        return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @app.post("/api/filter", responses=HEAVY)
    async def filter_image(request: Request, body: FilterRequest) -> dict[str, Any]:
        return await heavy(request, lambda: services.filter_image(body))

    @app.post("/api/filter/pixel", responses=HEAVY)
    async def filter_pixel(request: Request, body: PixelRequest) -> dict[str, Any]:
        return await heavy(request, lambda: services.filter_pixel(body))

    @app.post("/api/shape", responses=REFUSALS)
    def shape(body: StackRequest) -> dict[str, Any]:
        return interactive.shape_report(body)

    @app.get("/api/digit/status", responses=REFUSALS)
    def digit_status() -> dict[str, Any]:
        return digits.DIGITS.status()

    @app.post("/api/digit", responses=TRAINING)
    def digit(body: DigitRequest) -> dict[str, Any]:
        return digits.read_digit(body)

    @app.get("/api/digit/kernel", responses=TRAINING)
    def digit_kernel(layer: int = Query(..., ge=1, le=3, description="which convolution, 1-3"),
                     index: int = Query(..., alias="map", ge=0, le=31, description="which of its maps")
                     ) -> dict[str, Any]:
        return digits.kernel(layer, index)

    @app.get("/api/digit/sample", responses=REFUSALS)
    def digit_sample(digit: int = Query(..., ge=0, le=9)) -> dict[str, Any]:
        return digits.sample(digit)

    @app.post("/api/equivariance", responses=REFUSALS)
    def equivariance(body: EquivarianceRequest) -> dict[str, Any]:
        return interactive.equivariance(body)

    @app.get("/api/quiz", responses=REFUSALS)
    def quiz(difficulty: str = Query("mixed", max_length=20), n: int = Query(5, ge=1, le=20),
             seed: int = Query(0, ge=0, lt=2**63)) -> list[dict[str, Any]]:
        return interactive.quiz(difficulty, n, seed)

    @app.post("/api/quiz/answer", responses=REFUSALS)
    def answer(body: AnswerRequest) -> dict[str, Any]:
        return interactive.answer(body.id, body.choice)

    # "CNN vs flattened MLP": the page starts the quick `shuffle` experiment, then polls its progress
    @app.post("/api/lessons/shuffle", responses=REFUSALS)
    def start_shuffle() -> dict[str, Any]:
        return lessons.SHUFFLE.start()

    @app.get("/api/lessons/shuffle", responses=REFUSALS)
    def shuffle_status() -> dict[str, Any]:
        return lessons.SHUFFLE.status()

    @app.get("/api/lessons/shuffle.png", response_class=Response,
             responses={**REFUSALS, 404: _error("the experiment has not finished")})
    def shuffle_figure() -> Response:
        if lessons.SHUFFLE.png is None:
            return JSONResponse({"error": "the experiment has not finished yet; its figure appears when it has"},
                                status_code=404)
        return Response(lessons.SHUFFLE.png, media_type="image/png", headers={"Cache-Control": "no-store"})

    app.mount("/static", StaticFiles(directory=STATIC, html=True), name="static")
    return app


def limited_app(host: str = "127.0.0.1", allow_hosts: tuple[str, ...] = (), models: tuple[Any, ...] = ()) -> Any:
    """The app as `convscope serve` runs it: behind the Host/Origin check and the body-size limits
    (uploads up to MAX_UPLOAD_BYTES, every other body up to MAX_JSON_BYTES).

    ``host`` is the address it listens on: requests must name it, a loopback name, or one of
    ``allow_hosts`` (``"*"`` allows any, for a lab served to a class on purpose).
    """
    return_freed_memory()
    app = create_app(models)
    uploads = BodyLimit(app, MAX_UPLOAD_BYTES + 64 * 1024)
    other = BodyLimit(app, MAX_JSON_BYTES)

    async def by_path(scope: dict, receive: Any, send: Any) -> None:
        limit = uploads if scope.get("path") == "/api/upload" else other
        await limit(scope, receive, send)

    wildcard = host in ("0.0.0.0", "::", "")
    names = (*LOOPBACK_NAMES, *(() if wildcard else (host,)), *allow_hosts)
    return HostGuard(by_path, names)
