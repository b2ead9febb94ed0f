"""ReDoc without its one outside request.

fastapi-offline serves Swagger UI 5 and ReDoc from the package; ReDoc's bundle still
loads its "API docs by Redocly" logo from cdn.redoc.ly, which an isolated network
cannot reach (and which the browser test caught). We serve the bundle with that one URL
pointed at a local copy of the logo.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, Response

REDOC_LOGO_URL = "https://cdn.redoc.ly/redoc/logo-mini.svg"
LOCAL_LOGO = "/static/redoc-logo.svg"
router = APIRouter(include_in_schema=False)


@cache
def _redoc_bundle() -> bytes:
    path = Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js"
    return path.read_bytes().replace(REDOC_LOGO_URL.encode(), LOCAL_LOGO.encode())


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc, every asset from this service."""
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}/openapi.json",
        title="kepu-ledger - ReDoc",
        redoc_js_url=f"{root}/docs-assets/redoc.standalone.js",
        redoc_favicon_url=f"{root}/static-offline-docs/favicon.png",
        with_google_fonts=False,
    )


@router.get("/docs-assets/redoc.standalone.js")
def redoc_bundle() -> Response:
    """The ReDoc bundle with its logo served locally."""
    return Response(
        _redoc_bundle(), media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "public, max-age=86400"}
    )
