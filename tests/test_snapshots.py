"""Every read request sees one snapshot of the store, whatever another connection commits meanwhile.

A list or detail is read in several statements (the rows, then their documents, sections,
units …). A `kepu import --replace` that commits between two of them deletes the rows the
first statement found and inserts their successors under new ids; the request must still
answer from the store as it was when it began: 200, and the same body as before the write.
The write is made to commit at a chosen point of the request by an engine event, so the
outcome never depends on timing.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlmodel import Session

from app.config import Settings
from app.db import make_engine, unit_of_work
from app.main import create_app
from app.parser import parse_notice_bytes
from app.services.importer import import_notice
from app.services.indexing import bump_generation
from app.services.stats import store_generation

from .conftest import SEED

# A new edition of the same notice, stored with --replace: task 6 gains a participant, section 二 a word.
# SQLite hands the deleted rows' ids to their successors, so only changed content tells the editions apart.
CHANGED = (
    SEED.read_text("utf-8")
    .replace("顾问服务。(中央宣传部、中国科协)", "顾问服务。(中央宣传部、中国科协、科技部)")
    .replace("充分发挥科学素质建设价值引领作用", "充分发挥科学素质建设的价值引领作用")
)


@pytest.fixture
def api(store: Engine, tmp_path: Path, seeded_index: Path) -> Iterator[TestClient]:
    """An app over a writable seeded store."""
    shutil.copytree(seeded_index, tmp_path / "data")
    # No background sync during the test: only the request reads the store while the hook is armed.
    settings = Settings(KEPU_DATA_DIR=tmp_path / "data", KEPU_INDEX_SYNC_SECONDS=3600)
    with TestClient(create_app(settings, engine=store), raise_server_exceptions=False) as client:
        yield client


def replace_edition(engine: Engine) -> None:
    """What `kepu import --replace` does: delete the stored edition, insert the new one, commit."""
    with unit_of_work(engine) as session:
        result = import_notice(session, parse_notice_bytes(CHANGED.encode("utf-8")), replace=True)
    assert result.status == "replaced", result


class WriteBefore:
    """Commits a replacement from another connection just before the first statement reading `table`."""

    def __init__(self, engine: Engine, table: str) -> None:
        self.engine = engine
        self.needle = f"FROM {table} "
        self.fired = False

    def __enter__(self) -> WriteBefore:
        event.listen(self.engine, "before_cursor_execute", self._hook)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._hook)

    def _hook(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not self.fired and self.needle in statement:
            self.fired = True  # first: the write's own statements pass through
            replace_edition(self.engine)


# (path, the table whose read the write precedes): each is read in a later statement than the rows.
READS = [
    pytest.param("/api/v1/tasks?limit=200", "document", id="tasks-then-their-documents"),
    pytest.param("/api/v1/key-points?limit=200", "section", id="key-points-then-their-sections"),
    pytest.param("/api/v1/documents/1", "section", id="document-then-its-sections"),
]


@pytest.mark.parametrize(("path", "table"), READS)
def test_a_replace_committed_mid_request_is_not_seen_by_it(
    api: TestClient, store: Engine, path: str, table: str
) -> None:
    before = api.get(path)
    assert before.status_code == 200, before.text
    with WriteBefore(store, table) as write:
        during = api.get(path)
    assert write.fired, f"no statement of GET {path} read {table!r}: the write never happened"
    assert during.status_code == 200, during.text
    assert during.json() == before.json(), "the answer mixes the store before and after the write"
    # The next request sees the new edition: the snapshot lasted one request, no longer.
    after = api.get("/api/v1/tasks", params={"department": "科技部", "limit": 200})
    assert 6 in {t["number"] for t in after.json()["items"]}, after.text


def bump_elsewhere(engine: Engine) -> bool:
    """Bump the store's generation from another connection, without waiting for a lock; whether it committed."""
    if engine.dialect.name == "sqlite":
        raw = sqlite3.connect(str(engine.url.database), timeout=0, isolation_level=None)
        try:
            raw.execute("UPDATE storestate SET generation = generation + 1 WHERE id = 1")
        except sqlite3.OperationalError as exc:  # the unit of work holds the write lock: writers take turns
            assert "locked" in str(exc), exc
            return False
        finally:
            raw.close()
        return True
    with engine.begin() as connection:
        connection.execute(text("UPDATE storestate SET generation = generation + 1 WHERE id = 1"))
    return True


def test_a_write_committed_after_a_unit_of_work_read_does_not_fail_it(store: Engine) -> None:
    # Readers keep one snapshot; a writer must not: its write would be refused (SQLite's
    # SQLITE_BUSY_SNAPSHOT, PostgreSQL's "could not serialize access") for a row it read.
    with Session(store) as session:
        start = store_generation(session)
    with unit_of_work(store) as session:
        assert store_generation(session) == start
        other = bump_elsewhere(store)
        bump_generation(session)
    with Session(store) as session:
        assert store_generation(session) == start + 1 + other


def test_sessions_on_an_in_memory_store_may_nest() -> None:
    # In memory, every session shares one connection (StaticPool); a request's read session
    # and a unit of work inside it must not both BEGIN on it.
    engine = make_engine("sqlite://")
    with Session(engine) as outer:
        assert outer.execute(text("SELECT 1")).scalar() == 1
        with unit_of_work(engine) as inner:
            assert inner.execute(text("SELECT 2")).scalar() == 2
    engine.dispose()
