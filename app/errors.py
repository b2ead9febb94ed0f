"""Error types services raise, and the one handler that renders every error as problem+json."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """A failure a client can act on; `status` and `slug` say which."""

    status = 400
    slug = "bad-request"
    title = "Bad request"
    headers: dict[str, str] | None = None  # extra response headers (WWW-Authenticate, Retry-After)

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(AppError):
    """No such resource."""

    status = 404
    slug = "not-found"
    title = "Not found"


class UnknownDepartment(NotFound):
    """A department name or alias that matches no member unit."""

    slug = "unknown-department"
    title = "Unknown department"

    def __init__(self, name: str, suggestions: list[str], *, status: int = 404) -> None:
        hint = f"; did you mean {'、'.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no member unit is called {name!r}{hint}", name=name, suggestions=suggestions)
        self.status = status


class InvalidParameter(AppError):
    """A parameter whose value is well-formed but not acceptable."""

    status = 422
    slug = "invalid-parameter"
    title = "Invalid parameter"


class NoticeRejected(AppError):
    """A notice that cannot be imported (format error, wrong size)."""

    status = 422
    slug = "notice-rejected"
    title = "Notice rejected"


class DocumentConflict(AppError):
    """Another version of the same notice is already stored."""

    status = 409
    slug = "document-conflict"
    title = "Document already stored"


class ServiceUnavailable(AppError):
    """A part the answer needs (the store, the search index) cannot answer right now."""

    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"


class StoreUnavailable(ServiceUnavailable):
    """The database is down, refuses, or did not answer within its timeouts."""

    slug = "store-unavailable"
    title = "Store unavailable"


class IndexUnavailable(ServiceUnavailable):
    """The search index could not be read; it is being rebuilt from the store."""

    slug = "index-unavailable"
    title = "Search index unavailable"


# A store that is down, refuses, is still starting, or stays silent past a timeout; a
# statement cancelled by statement_timeout is an OperationalError too. Retry-After tells
# clients (and proxies) when it is worth asking again.
STORE_FAILURES: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeout)
RETRY_AFTER_SECONDS = 5


def store_failure_reason(exc: BaseException) -> str:
    """One line saying why the store failed, without the SQL or the connection's password."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return f"{type(orig).__name__}: {lines[0] if lines else 'no detail'}"


class InvalidQuery(AppError):
    """A search query that cannot be parsed or is out of bounds."""

    status = 400
    slug = "invalid-query"
    title = "Invalid search query"


class Unauthorized(AppError):
    """A write without a valid bearer token (missing, malformed, unknown or revoked)."""

    status = 401
    slug = "unauthorized"
    title = "Unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="kepu"'}


class Forbidden(AppError):
    """A valid token that may not do this (another unit's task, an office-only list)."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class TooManyAttempts(AppError):
    """Too many failed token attempts from one address; Retry-After says when to try again."""

    status = 429
    slug = "too-many-attempts"
    title = "Too many failed attempts"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


class PreconditionFailed(AppError):
    """If-Match names a version of the task that is no longer current."""

    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"


class PreconditionRequired(AppError):
    """A correction without If-Match: it must say which version it corrects."""

    status = 428
    slug = "precondition-required"
    title = "Precondition required"


class PayloadTooLarge(AppError):
    """A request body over the limit."""

    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(AppError):
    """A body in a content type the endpoint does not read."""

    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


def problem(
    status: int, slug: str, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem+json response (RFC 9457)."""
    body = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _wants_html(request: Request) -> bool:
    # People browsing the pages get an HTML error page; API clients always get problem+json.
    path = request.url.path
    api = path.startswith(("/api/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/static"))
    return not api and "text/html" in request.headers.get("accept", "")


# How a person's error page is drawn (request, status, title, detail); the pages layer
# provides it, so that this module, below the pages, does not import them.
HtmlErrorPage = Callable[[Request, int, str, str], Response]


def install_error_handlers(app: FastAPI, html_error_page: HtmlErrorPage) -> None:
    """Render AppError, validation errors, HTTP errors and anything unexpected in one shape."""
    _html_error = html_error_page

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        headers = dict(exc.headers or {})
        if exc.status == 503:
            headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
        if _wants_html(request):
            response = _html_error(request, exc.status, exc.title, exc.detail)
            response.headers.update(headers)
            return response
        return problem(exc.status, exc.slug, exc.title, exc.detail, headers=headers or None, **exc.extra)

    async def _store_down(request: Request, exc: Exception) -> Response:
        # The reason (host, port, server message) goes to the log and /readyz, not to clients.
        log.warning("store unavailable: %s", store_failure_reason(exc))
        detail = "the database is unavailable or did not answer in time; try again shortly"
        return await _app_error(request, StoreUnavailable(detail))

    for failure in STORE_FAILURES:
        app.add_exception_handler(failure, _store_down)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"location": list(err.get("loc", ())), "message": err.get("msg", ""), "type": err.get("type", "")}
            for err in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(str(p) for p in e['location'])}: {e['message']}" for e in errors)
        if _wants_html(request):
            return _html_error(request, 422, "请求参数有误", detail)
        return problem(422, "validation-error", "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        if _wants_html(request):
            return _html_error(request, exc.status_code, str(exc.detail), "页面不存在或地址有误。")
        # Keep the exception's headers: a 405 must say which methods are allowed (Allow).
        return problem(exc.status_code, slug, str(exc.detail), str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal-error", "Internal error", "an unexpected error occurred; it has been logged")
