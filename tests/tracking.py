"""Helpers for the tracking tests: a writable seeded store, an app over it, tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.config import Settings
from app.db import make_engine, unit_of_work
from app.domain.departments import load_directory
from app.migrate import upgrade
from app.parser import ParsedNotice
from app.search.index import SearchIndex
from app.services import tokens
from app.services.importer import import_notice


def make_token(engine: Engine, unit: str | None = None, *, office: bool = False) -> str:
    """A fresh token for a unit or the office."""
    with unit_of_work(engine) as session:
        _, token = tokens.create_token(session, load_directory(), unit, office=office)
    return token


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def seeded_index(tmp_path_factory: pytest.TempPathFactory, notice: ParsedNotice) -> Path:
    """A data folder with an index of a freshly seeded store, built once; copy it beside another fresh seeded store
    (same ids, generation and content: the index matches it, so opening it costs no rebuild)."""
    data = tmp_path_factory.mktemp("tracking-index")
    url = f"sqlite:///{data / 'build.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        import_notice(session, notice, source_name="2023-work-points.txt")
    settings = Settings(KEPU_DATA_DIR=data)
    SearchIndex(settings.resolved_index_dir, cache_dir=data / "cache").open(engine).close()
    engine.dispose()
    (data / "build.sqlite3").unlink()
    for extra in data.glob("build.sqlite3-*"):
        extra.unlink()
    return data
