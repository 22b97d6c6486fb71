"""The API's documentation pages served offline: /docs (Swagger UI) and /redoc (ReDoc) with their
scripts from the fastapi-offline wheel, and the lab's favicon. FastAPI's own pages load them, a
favicon and fonts from CDNs, so offline they were blank."""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles


def offline_docs(app: FastAPI, static: Path) -> None:
    """/docs and /redoc with Swagger UI's and ReDoc's scripts from the fastapi-offline wheel (FastAPI's
    own pages load them, a favicon and fonts from CDNs: blank offline); /favicon.ico for every page."""
    from importlib.resources import files

    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html

    assets = Path(str(files("fastapi_offline") / "static"))

    def english(page: Response) -> Response:
        """FastAPI's templates have a bare <html> (screen readers need the language) and some of Swagger
        UI's and ReDoc's colours fail contrast checks: name the language and add /static/docs.css."""
        html = bytes(page.body).replace(b"<html>", b'<html lang="en">', 1)
        return Response(html.replace(b"</head>", b'<link rel="stylesheet" href="/static/docs.css"></head>', 1),
                        media_type="text/html")

    @functools.cache
    def redoc_script() -> bytes:
        # ReDoc's menu footer loads Redocly's logo from its CDN, an outside request on every visit
        script = (assets / "redoc.standalone.js").read_bytes()
        return script.replace(b"https://cdn.redoc.ly/redoc/logo-mini.svg", b"/favicon.ico")

    @app.get("/docs-assets/redoc-offline.js", include_in_schema=False)
    def redoc_js() -> Response:
        return Response(redoc_script(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/docs", include_in_schema=False)
    def swagger() -> Response:
        # validatorUrl null: Swagger UI would otherwise send the schema to an outside validator;
        # deepLinking off: it nests a link inside each operation's button, which screen readers cannot use
        return english(get_swagger_ui_html(openapi_url="/openapi.json", title="convscope lab API",
                                           swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                           swagger_css_url="/docs-assets/swagger-ui.css",
                                           swagger_favicon_url="/favicon.ico",
                                           swagger_ui_parameters={"validatorUrl": None,
                                                                  "deepLinking": False}))

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> Response:
        return english(get_redoc_html(openapi_url="/openapi.json", title="convscope lab API",
                                      redoc_js_url="/docs-assets/redoc-offline.js", redoc_favicon_url="/favicon.ico",
                                      with_google_fonts=False))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response((static / "favicon.svg").read_bytes(), media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})

    # after the routes above: a mount matches everything under its prefix
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")
