"""Progress reports: write one (checked, audited, in one transaction), list a task's, publish to the index."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.db import unit_of_work
from app.domain.departments import DepartmentDirectory
from app.domain.vocabulary import AuditAction, Role
from app.errors import DocumentConflict, Forbidden, InvalidParameter, NotFound, PreconditionFailed, PreconditionRequired
from app.models import row_id
from app.search.index import SearchIndex
from app.services import audit
from app.services.catalogue import Window, resolve_department
from app.services.indexing import StoreRecords, bump_generation, record_changes
from app.services.progress import NOT_STARTED, matches, task_etag, task_progress
from app.services.tokens import Principal

log = logging.getLogger(__name__)
# Called with (written report ids, replaced report ids) once a write has committed.
Publisher = Callable[[list[int], list[int]], None]


def may_report(session: Session, principal: Principal, task_id: int) -> bool:
    """Whether the principal may write on the task: the office always; a unit named on it, or any unit for all-member tasks."""
    task = session.get(m.Task, task_id)
    if task is None:
        raise NotFound(f"no task with id {task_id}")
    if principal.is_office or task.all_member_units:
        return True
    return principal.department in _units(session, task_id)


def create_report(
    engine: Engine,
    directory: DepartmentDirectory,
    *,
    principal: Principal,
    task_id: int,
    data: s.ReportCreate,
    origin: audit.Origin,
    if_match: str | None = None,
    publish: Publisher | None = None,
) -> s.ReportWritten:
    """Store a report (or an office correction) and its audit entry in one transaction, then publish it.

    A refused write (another unit's task, a unit correcting) leaves an audit entry and nothing else.
    """
    with Session(engine) as session:
        if not may_report(session, principal, task_id):
            _deny(engine, principal, task_id, origin, _not_yours(session, principal, task_id))
        if data.corrects is not None and not principal.is_office:
            _deny(engine, principal, task_id, origin, "only the office token may correct a report")
        if data.department is not None and not principal.is_office:
            raise InvalidParameter("department is for the office token; a unit reports for itself")
    with unit_of_work(engine) as session:
        # The generation bump comes first: it takes the write lock (SQLite) or the row lock
        # (PostgreSQL), so concurrent writers queue here and the If-Match check below holds.
        bump_generation(session)
        etag = task_etag(session, task_id)
        if data.corrects is not None and if_match is None:
            raise PreconditionRequired(f"a correction must send If-Match with the task's ETag ({etag})")
        if if_match is not None and not matches(if_match, etag):
            raise PreconditionFailed(f"task {task_id} has changed: its ETag is now {etag}; reload and try again")
        before = task_progress(session, [task_id]).get(task_id, NOT_STARTED)
        replaced: list[int] = []
        if data.corrects is not None:
            original = _correctable(session, task_id, data.corrects)
            department = original.department
            replaced.append(data.corrects)
        elif principal.is_office:
            department = (
                resolve_department(session, directory, data.department, status=422)
                if data.department is not None
                else _default_unit(session, task_id)
            )
        else:
            assert principal.department is not None
            department = principal.department
        report = m.ProgressReport(
            task_id=task_id,
            department=department,
            status=data.status.value,
            note=data.note,
            reported_on=data.reported_on,
            corrects_id=data.corrects,
            author=principal.label,
            token_id=principal.token_id,
        )
        session.add(report)
        session.flush()
        # In the change log with the report itself: every replica's index catches up from it.
        record_changes(session, records=[f"report:{i}" for i in (row_id(report), *replaced)])
        after = task_progress(session, [task_id]).get(task_id, NOT_STARTED)
        audit.record(
            session,
            actor=principal.label,
            action=AuditAction.REPORT_CORRECTED if data.corrects else AuditAction.REPORT_CREATED,
            target=f"task:{task_id}",
            before={"status": before.status, "last_reported_on": before.last_reported_on, "corrects": data.corrects},
            after={"report": row_id(report), **_snapshot(report), "status": after.status},
            origin=origin,
        )
        written = _public(session, report)
        result = s.ReportWritten(**written.model_dump(), task_status=after.status, etag=task_etag(session, task_id))
    if publish is not None:
        publish([result.id], replaced)
    return result


def list_reports(
    session: Session, task_id: int, window: Window, *, include_corrected: bool = True
) -> s.Page[s.ReportPublic]:
    """A task's reports, newest first; corrected ones name their correction."""
    if session.get(m.Task, task_id) is None:
        raise NotFound(f"no task with id {task_id}")
    query = select(m.ProgressReport).where(m.ProgressReport.task_id == task_id)
    rows = session.exec(query.order_by(col(m.ProgressReport.reported_on).desc(), col(m.ProgressReport.id).desc())).all()
    corrected_by = {r.corrects_id: row_id(r) for r in rows if r.corrects_id is not None}
    if not include_corrected:
        rows = [r for r in rows if row_id(r) not in corrected_by]
    page = rows[window.offset : window.offset + window.limit]
    number = _task_number(session, task_id)
    return s.Page(
        items=[_public(session, r, number=number, corrected_by=corrected_by.get(row_id(r))) for r in page],
        total=len(rows),
        limit=window.limit,
        offset=window.offset,
    )


def index_publisher(index: SearchIndex, engine: Engine) -> Publisher:
    """The one place a committed report reaches this process's search index at once.

    The report is in the change log already (written with it), so this is the catch-up every
    replica makes at its next sync, made now. A failure here leaves the store right and the
    index behind it, and the next sync catches up.
    """

    def publish(written: list[int], replaced: list[int]) -> None:
        try:
            index.sync(StoreRecords(engine), force=True)
        except Exception:
            log.exception("report %s stored but not yet searchable; the next index sync catches up", written)

    return publish


# --- helpers -------------------------------------------------------------------


def _deny(engine: Engine, principal: Principal, task_id: int, origin: audit.Origin, reason: str) -> None:
    with unit_of_work(engine) as session:
        audit.record(
            session,
            actor=principal.label,
            action=AuditAction.REPORT_DENIED,
            target=f"task:{task_id}",
            after={"reason": reason},
            origin=origin,
        )
    raise Forbidden(reason)


def _not_yours(session: Session, principal: Principal, task_id: int) -> str:
    units = "、".join(_units(session, task_id)) or "no unit"
    return (
        f"{principal.department} is neither lead nor participant of task {task_id} "
        f"(task {_task_number(session, task_id)} is for {units}); it may report only on its own tasks"
    )


def _units(session: Session, task_id: int) -> list[str]:
    return list(
        session.exec(
            select(m.Department.name)
            .join(m.TaskDepartment)
            .where(m.TaskDepartment.task_id == task_id)
            .order_by(col(m.TaskDepartment.position))
        ).all()
    )


def _default_unit(session: Session, task_id: int) -> str:
    lead = session.exec(
        select(m.Department.name)
        .join(m.TaskDepartment)
        .where(m.TaskDepartment.task_id == task_id, m.TaskDepartment.role == Role.LEAD)
        .order_by(col(m.TaskDepartment.position))
    ).first()
    return lead or "office"


def _correctable(session: Session, task_id: int, report_id: int) -> m.ProgressReport:
    original = session.get(m.ProgressReport, report_id)
    if original is None or original.task_id != task_id:
        raise NotFound(f"task {task_id} has no report {report_id}")
    newer = session.exec(select(m.ProgressReport.id).where(m.ProgressReport.corrects_id == report_id)).first()
    if newer is not None:
        raise DocumentConflict(f"report {report_id} was already corrected by report {newer}; correct that one")
    return original


def _task_number(session: Session, task_id: int) -> int:
    task = session.get(m.Task, task_id)
    return task.number if task else 0


def _snapshot(report: m.ProgressReport) -> dict[str, Any]:
    return {
        "department": report.department,
        "status": report.status,
        "note": report.note,
        "reported_on": report.reported_on.isoformat(),
    }


def _public(
    session: Session, report: m.ProgressReport, *, number: int | None = None, corrected_by: int | None = None
) -> s.ReportPublic:
    task = s.TaskRef(id=report.task_id, number=number if number is not None else _task_number(session, report.task_id))
    return s.ReportPublic.model_validate(
        {**report.model_dump(), "task": task, "corrects": report.corrects_id, "corrected_by": corrected_by}
    )
