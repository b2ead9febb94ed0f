"""Counts of what the store holds; readiness."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from app import models as m
from app.errors import STORE_FAILURES, store_failure_reason

_COUNTED = {
    "documents": m.Document,
    "sections": m.Section,
    "key_points": m.KeyPoint,
    "tasks": m.Task,
    "departments": m.Department,
    "activities": m.Activity,
    "references": m.Reference,
    "trace_links": m.TraceLink,
}


def store_counts(session: Session) -> dict[str, int]:
    """Rows per kind of record."""
    return {name: int(session.exec(select(func.count()).select_from(model)).one()) for name, model in _COUNTED.items()}


def store_generation(session: Session) -> int:
    """The store's write counter (0 before the first import)."""
    state = session.get(m.StoreState, 1)
    return state.generation if state else 0


def last_import_time(engine: Engine) -> dt.datetime | None:
    """When the newest document was imported."""
    with Session(engine) as session:
        value = session.exec(select(func.max(m.Document.imported_at))).one()
    if value is not None and value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=dt.UTC)
    return value


def readiness(engine: Engine) -> tuple[bool, dict[str, Any]]:
    """Whether the store answers and holds data, with the reason when not."""
    try:
        with Session(engine) as session:
            counts = store_counts(session)
    except SQLAlchemyError as exc:
        state = "unreachable" if isinstance(exc, STORE_FAILURES) else "not migrated or broken"
        return False, {"store": state, "reason": store_failure_reason(exc)}
    if counts["documents"] == 0:
        return False, {"store": "reachable", "documents": 0, "reason": "no notice imported yet"}
    return True, {"store": "reachable", **counts}
