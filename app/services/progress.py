"""Where tasks stand: current reports, a task's status and version, the progress overview."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.domain.vocabulary import Role, TaskStatus


@dataclass(frozen=True)
class Progress:
    """A task's status (from its lead's latest report) and its latest report by anyone."""

    status: TaskStatus
    last_reported_on: dt.date | None
    last_note: str | None


NOT_STARTED = Progress(TaskStatus.NOT_STARTED, None, None)


def current_reports() -> Any:
    """Reports that no correction has replaced (a query to refine)."""
    corrected = select(m.ProgressReport.corrects_id).where(col(m.ProgressReport.corrects_id).is_not(None))
    return select(m.ProgressReport).where(col(m.ProgressReport.id).not_in(corrected))


def task_progress(session: Session, task_ids: Iterable[int] | None = None) -> dict[int, Progress]:
    """Progress of the given tasks (every task with a report when None); tasks without reports are left out."""
    query = current_reports()
    ids = None if task_ids is None else list(task_ids)
    if ids is not None:
        query = query.where(col(m.ProgressReport.task_id).in_(ids))
    reports = session.exec(query.order_by(col(m.ProgressReport.reported_on), col(m.ProgressReport.id))).all()
    if not reports:
        return {}
    leads = _leads(session, {r.task_id for r in reports})
    latest: dict[int, m.ProgressReport] = {}
    latest_lead: dict[int, m.ProgressReport] = {}
    for report in reports:  # oldest first: the last one seen wins
        latest[report.task_id] = report
        task_leads = leads.get(report.task_id)
        if not task_leads or report.department in task_leads:
            latest_lead[report.task_id] = report
    return {
        task_id: Progress(
            TaskStatus(latest_lead[task_id].status) if task_id in latest_lead else TaskStatus.NOT_STARTED,
            report.reported_on,
            report.note,
        )
        for task_id, report in latest.items()
    }


def _leads(session: Session, task_ids: set[int]) -> dict[int, set[str]]:
    leads: dict[int, set[str]] = defaultdict(set)
    for task_id, name in session.exec(
        select(m.TaskDepartment.task_id, m.Department.name)
        .join(m.Department)
        .where(col(m.TaskDepartment.task_id).in_(list(task_ids)), m.TaskDepartment.role == Role.LEAD)
    ):
        leads[task_id].add(name)
    return leads


def task_ids_with_status(session: Session, status: TaskStatus) -> tuple[bool, list[int]]:
    """For a status filter: (True, ids having it) or, for not_started, (False, ids having another status)."""
    progress = task_progress(session)
    if status == TaskStatus.NOT_STARTED:
        return False, [i for i, p in progress.items() if p.status != TaskStatus.NOT_STARTED]
    return True, [i for i, p in progress.items() if p.status == status]


def task_etag(session: Session, task_id: int) -> str:
    """The task's version for If-Match: changes with every report written on it."""
    newest = session.exec(select(func.max(m.ProgressReport.id)).where(m.ProgressReport.task_id == task_id)).one()
    return f'"task-{task_id}-{newest or 0}"'


def matches(if_match: str, etag: str) -> bool:
    """RFC 9110 If-Match: a list of entity tags or *; weak tags never match."""
    candidates = [c.strip() for c in if_match.split(",")]
    return "*" in candidates or etag in candidates


# --- the overview ----------------------------------------------------------------


def counts(statuses: Iterable[TaskStatus]) -> s.StatusCounts:
    """Tasks by status, every status present, with the share done."""
    by_status = dict.fromkeys(TaskStatus, 0)
    for status in statuses:
        by_status[status] += 1
    total = sum(by_status.values())
    done = by_status[TaskStatus.DONE]
    return s.StatusCounts(total=total, by_status=by_status, completion=round(done / total, 4) if total else 0.0)


def progress_stats(session: Session, *, stale_days: int, today: dt.date | None = None) -> s.ProgressStats:
    """Per unit (as lead, as participant), per section and key point, and overall."""
    today = today or dt.datetime.now(s.CHINA).date()
    tasks = session.exec(select(m.Task.id)).all()
    progress = task_progress(session)
    status = {t: progress.get(t, NOT_STARTED).status for t in tasks if t is not None}

    roles: dict[str, dict[str, list[TaskStatus]]] = defaultdict(lambda: {Role.LEAD: [], Role.PARTICIPANT: []})
    for task_id, name, role in session.exec(
        select(m.TaskDepartment.task_id, m.Department.name, m.TaskDepartment.role).join(m.Department)
    ):
        roles[name][role].append(status[task_id])
    corrected = select(m.ProgressReport.corrects_id).where(col(m.ProgressReport.corrects_id).is_not(None))
    last_report: dict[str, dt.date] = dict(
        session.exec(
            select(m.ProgressReport.department, func.max(m.ProgressReport.reported_on))
            .where(col(m.ProgressReport.id).not_in(corrected))
            .group_by(col(m.ProgressReport.department))
        ).all()
    )
    cutoff = today - dt.timedelta(days=stale_days)
    departments = [
        s.DepartmentProgress(
            name=name,
            lead=counts(by_role[Role.LEAD]),
            participant=counts(by_role[Role.PARTICIPANT]),
            last_reported_on=last_report.get(name),
            stale=last_report.get(name) is None or last_report[name] < cutoff,
        )
        for name, by_role in roles.items()
    ]
    departments.sort(key=lambda d: (-d.lead.total - d.participant.total, d.name))

    first_link = dict(
        session.exec(select(m.TraceLink.task_id, m.TraceLink.key_point_id).where(m.TraceLink.rank == 1)).all()
    )
    by_kp: dict[int, list[TaskStatus]] = defaultdict(list)
    for task_id, kp_id in first_link.items():
        by_kp[kp_id].append(status[task_id])
    sections = {x.id: x for x in session.exec(select(m.Section))}
    key_points = session.exec(select(m.KeyPoint).order_by(col(m.KeyPoint.document_id), col(m.KeyPoint.number))).all()
    by_section: dict[str, list[TaskStatus]] = defaultdict(list)
    section_titles: dict[str, str] = {}
    kp_rows = []
    for kp in key_points:
        top = sections[kp.section_id]
        while top.parent_id is not None:
            top = sections[top.parent_id]
        section_titles.setdefault(top.label, top.title)
        statuses = by_kp.get(kp.id or 0, [])
        by_section[top.label].extend(statuses)
        kp_rows.append(
            s.KeyPointProgress(
                id=kp.id or 0, number=kp.number, title=kp.title, section=top.label, counts=counts(statuses)
            )
        )
    return s.ProgressStats(
        overall=counts(status.values()),
        departments=departments,
        sections=[s.SectionProgress(label=k, title=section_titles[k], counts=counts(v)) for k, v in by_section.items()],
        key_points=kp_rows,
        stale_days=stale_days,
    )
