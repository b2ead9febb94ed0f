"""Dependencies, each defined once as an Annotated alias."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy import Engine
from sqlmodel import Session

from app.config import Settings
from app.domain.departments import DepartmentDirectory, load_directory
from app.services.catalogue import Window
from app.services.search import SearchService

MAX_LIMIT = 200


def get_engine(request: Request) -> Engine:
    """The engine the lifespan opened."""
    return request.app.state.engine  # type: ignore[no-any-return]


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """A session per request, closed afterwards."""
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
