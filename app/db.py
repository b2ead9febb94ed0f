"""Engine and sessions. SQLite is the embedded default; PostgreSQL via DATABASE_URL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine


def make_engine(url: str) -> Engine:
    """An engine for `url`, with SQLite set up for a multi-threaded web server."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if url in ("sqlite://", "sqlite:///:memory:"):
        kwargs["poolclass"] = StaticPool
    else:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # Cascading deletes need foreign keys on; WAL lets readers go on during an import.
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    return engine


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed together, or rolled back together on any error."""
    with Session(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def group_by_first(rows: Iterable[Any], make: Callable[[Any], Any] = lambda row: row[1]) -> dict[Any, list[Any]]:
    """Query rows grouped by their first column: {row[0]: [make(row), …]}, in row order."""
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(make(row))
    return grouped
