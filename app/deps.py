"""Dependencies, each defined once as an Annotated alias."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session

from app.config import Settings
from app.domain.departments import DepartmentDirectory, load_directory
from app.errors import Unauthorized
from app.services import tokens
from app.services.attempts import FailureLimiter
from app.services.audit import Origin
from app.services.catalogue import Window
from app.services.search import SearchService

MAX_LIMIT = 200


def get_engine(request: Request) -> Engine:
    """The engine the lifespan opened."""
    return request.app.state.engine  # type: ignore[no-any-return]


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """A session per request, reading one snapshot of the store (see make_engine), closed afterwards."""
    with Session(engine) as session:
        yield session


def get_settings_from_app(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings  # type: ignore[no-any-return]


def get_search(request: Request) -> SearchService:
    """The search service the lifespan opened."""
    return request.app.state.search  # type: ignore[no-any-return]


def get_window(
    limit: Annotated[int, Query(examples=[20], ge=1, le=MAX_LIMIT, description=f"Items per page, 1–{MAX_LIMIT}.")] = 50,
    offset: Annotated[int, Query(examples=[0], ge=0, le=1_000_000, description="Items to skip.")] = 0,
) -> Window:
    """Pagination parameters, validated."""
    return Window(limit=limit, offset=offset)


EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_from_app)]
DirectoryDep = Annotated[DepartmentDirectory, Depends(load_directory)]
WindowDep = Annotated[Window, Depends(get_window)]
SearchDep = Annotated[SearchService, Depends(get_search)]


# --- tracking: who writes, from where ---------------------------------------------

BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="UnitToken",
    description="A member unit's (or the office's) write token from `kepu token create`: `Authorization: Bearer kepu_…`.",
)


def client_address(request: Request) -> str:
    """The client's address, as the server sees it (behind a proxy, configure it to pass the real one)."""
    return request.client.host if request.client else "unknown"


def get_origin(request: Request) -> Origin:
    """Where a write comes from, for the audit trail."""
    return Origin(address=client_address(request), request_id=getattr(request.state, "request_id", None))


def get_limiter(request: Request) -> FailureLimiter:
    """The failed-attempt limiter of this process."""
    return request.app.state.auth_limiter  # type: ignore[no-any-return]


def get_principal(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    limiter: Annotated[FailureLimiter, Depends(get_limiter)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> tokens.Principal:
    """The unit or office behind the bearer token; 401 without a valid one, 429 after too many failures."""
    address = client_address(request)
    limiter.check(address)
    if credentials is None:
        raise Unauthorized("this write needs a member unit's token: Authorization: Bearer kepu_…")
    try:
        return tokens.authenticate(session, credentials.credentials)
    except Unauthorized:
        limiter.fail(address)
        raise


OriginDep = Annotated[Origin, Depends(get_origin)]
LimiterDep = Annotated[FailureLimiter, Depends(get_limiter)]
PrincipalDep = Annotated[tokens.Principal, Depends(get_principal)]
