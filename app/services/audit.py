"""The audit trail: every write and refused write, appended, never changed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.domain.vocabulary import AuditAction
from app.services.catalogue import Window


@dataclass(frozen=True)
class Origin:
    """Where a write came from: the client address and the request id (None from the command line)."""

    address: str | None = None
    request_id: str | None = None


CLI = Origin(address="cli")


def record(
    session: Session,
    *,
    actor: str,
    action: AuditAction,
    target: str,
    origin: Origin,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> m.AuditEntry:
    """Append an entry in the caller's transaction: it commits with the write it records, or not at all."""
    entry = m.AuditEntry(
        actor=actor,
        action=action.value,
        target=target,
        before=_dump(before),
        after=_dump(after),
        address=origin.address,
        request_id=origin.request_id,
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(
    session: Session, window: Window, *, actor: str | None = None, action: AuditAction | None = None
) -> s.Page[s.AuditEntryPublic]:
    """Entries, newest first."""
    query = select(m.AuditEntry)
    if actor is not None:
        query = query.where(m.AuditEntry.actor == actor)
    if action is not None:
        query = query.where(m.AuditEntry.action == action.value)
    total = int(session.exec(select(func.count()).select_from(query.subquery())).one())
    rows = session.exec(query.order_by(col(m.AuditEntry.id).desc()).limit(window.limit).offset(window.offset)).all()
    return s.Page(items=[public(e) for e in rows], total=total, limit=window.limit, offset=window.offset)


def public(entry: m.AuditEntry) -> s.AuditEntryPublic:
    """The entry as the API shows it."""
    before = json.loads(entry.before) if entry.before else None
    after = json.loads(entry.after) if entry.after else None
    return s.AuditEntryPublic.model_validate({**entry.model_dump(), "before": before, "after": after})


def _dump(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
