"""Read-side use cases: lists and details of documents, key points, tasks, departments, activities."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.db import group_by_first
from app.domain.departments import DepartmentDirectory
from app.domain.vocabulary import Role, TaskStatus
from app.errors import InvalidParameter, NotFound, UnknownDepartment
from app.models import row_id
from app.parser.target_groups import target_group_words
from app.services import links
from app.services.lineage import lineage_steps
from app.services.progress import NOT_STARTED, task_ids_with_status, task_progress

TaskSort = Literal["number", "-number", "document", "-document"]


@dataclass(frozen=True)
class Window:
    """Pagination: how many and from where."""

    limit: int
    offset: int


def resolve_department(session: Session, directory: DepartmentDirectory, spelling: str, *, status: int = 404) -> str:
    """Canonical name for any spelling of a unit, or UnknownDepartment with close matches."""
    name = directory.resolve(spelling)
    if name is not None:
        return name
    stored = session.exec(select(m.Department.name).where(m.Department.name == spelling.strip())).first()
    if stored is not None:
        return stored
    raise UnknownDepartment(spelling, directory.close_matches(spelling), status=status)


def check_target_group(name: str | None) -> str | None:
    """The name if it is one of the outline's target groups, else a 422 listing them."""
    groups = list(target_group_words())
    if name is not None and name not in groups:
        raise InvalidParameter(f"unknown target group {name!r}; one of {'、'.join(groups)}", allowed=groups)
    return name


# --- documents ---------------------------------------------------------------


def list_documents(session: Session, window: Window, *, year: int | None = None) -> s.Page[s.DocumentPublic]:
    """Documents, newest year first."""
    query = select(m.Document)
    if year is not None:
        query = query.where(m.Document.year == year)
    total = _count(session, query)
    rows = session.exec(
        query.order_by(col(m.Document.year).desc(), col(m.Document.id)).limit(window.limit).offset(window.offset)
    ).all()
    return s.Page(items=[_document(session, d) for d in rows], total=total, limit=window.limit, offset=window.offset)


def get_document(session: Session, document_id: int) -> s.DocumentPublic:
    """One document with its sections and counts."""
    doc = session.get(m.Document, document_id)
    if doc is None:
        raise NotFound(f"no document with id {document_id}")
    return _document(session, doc)


def _document(session: Session, doc: m.Document) -> s.DocumentPublic:
    sections = session.exec(
        select(m.Section).where(m.Section.document_id == doc.id).order_by(col(m.Section.ordinal))
    ).all()
    task_ids = select(m.Task.id).where(m.Task.document_id == doc.id)
    kp_ids = select(m.KeyPoint.id).where(m.KeyPoint.document_id == doc.id)
    counts = s.DocumentCounts(
        sections=len(sections),
        key_points=_count(session, select(m.KeyPoint).where(m.KeyPoint.document_id == doc.id)),
        tasks=_count(session, select(m.Task).where(m.Task.document_id == doc.id)),
        # Units named on tasks, or on key points in an edition without a ledger (units inline).
        departments=session.exec(
            select(func.count(func.distinct(m.Department.id))).where(
                or_(
                    col(m.Department.id).in_(
                        select(m.TaskDepartment.department_id).where(col(m.TaskDepartment.task_id).in_(task_ids))
                    ),
                    col(m.Department.id).in_(
                        select(m.KeyPointDepartment.department_id).where(
                            col(m.KeyPointDepartment.key_point_id).in_(kp_ids)
                        )
                    ),
                )
            )
        ).one(),
        activities=session.exec(
            select(func.count(func.distinct(m.Activity.id))).where(links.activities_named_in([doc.id]))
        ).one(),
    )
    return s.DocumentPublic.model_validate(doc, update={"counts": counts, "sections": [_section(x) for x in sections]})


def _section(x: m.Section) -> s.SectionRef:
    return s.SectionRef.model_validate(x)


# --- tasks -------------------------------------------------------------------


def list_tasks(
    session: Session,
    directory: DepartmentDirectory,
    window: Window,
    *,
    department: str | None = None,
    role: str | None = None,
    include_all_members: bool = False,
    key_point: int | None = None,
    activity: str | None = None,
    target_group: str | None = None,
    document: int | None = None,
    year: int | None = None,
    province: str | None = None,
    issuer: str | None = None,
    sort: TaskSort = "document",
    status: TaskStatus | None = None,
) -> s.Page[s.TaskPublic]:
    """Tasks matching every filter given."""
    query = select(m.Task)
    if status is not None:
        having, ids = task_ids_with_status(session, status)
        query = query.where(col(m.Task.id).in_(ids) if having else col(m.Task.id).not_in(ids))
    if document is not None:
        query = query.where(m.Task.document_id == document)
    if year is not None or province is not None or issuer is not None:
        query = query.where(col(m.Task.document_id).in_(_edition_ids(year, province, issuer)))
    if department is not None:
        name = resolve_department(session, directory, department, status=422)
        roles = select(m.TaskDepartment.task_id).join(m.Department).where(m.Department.name == name)
        if role is not None:
            roles = roles.where(m.TaskDepartment.role == role)
        condition: ColumnElement[bool] = col(m.Task.id).in_(roles)
        if include_all_members and role != Role.LEAD:
            condition = or_(condition, col(m.Task.all_member_units))
        query = query.where(condition)
    elif role is not None:
        raise InvalidParameter("role filters a department's tasks: give department= too")
    if key_point is not None:
        query = query.where(
            col(m.Task.id).in_(select(m.TraceLink.task_id).join(m.KeyPoint).where(m.KeyPoint.number == key_point))
        )
    if activity is not None:
        activity_ids = _activity_ids(session, activity)
        query = query.where(
            col(m.Task.id).in_(select(m.TaskActivity.task_id).where(col(m.TaskActivity.activity_id).in_(activity_ids)))
        )
    if check_target_group(target_group) is not None:
        query = query.where(
            col(m.Task.id).in_(select(m.TaskTargetGroup.task_id).where(m.TaskTargetGroup.name == target_group))
        )
    total = _count(session, query)
    order = {
        "number": (col(m.Task.number), col(m.Task.document_id)),
        "-number": (col(m.Task.number).desc(), col(m.Task.document_id)),
        "document": (col(m.Task.document_id), col(m.Task.number)),
        "-document": (col(m.Task.document_id).desc(), col(m.Task.number)),
    }[sort]
    rows = session.exec(query.order_by(*order, col(m.Task.id)).limit(window.limit).offset(window.offset)).all()
    return s.Page(items=tasks_public(session, rows), total=total, limit=window.limit, offset=window.offset)


def get_task(session: Session, task_id: int) -> s.TaskPublic:
    """One task in full."""
    task = session.get(m.Task, task_id)
    if task is None:
        raise NotFound(f"no task with id {task_id}")
    return tasks_public(session, [task])[0]


def tasks_public(session: Session, tasks: Sequence[m.Task]) -> list[s.TaskPublic]:
    """Public models for tasks, loading their links in a fixed number of queries."""
    ids = [t.id for t in tasks]
    docs = _documents(session, {t.document_id for t in tasks})
    departments = _as(s.DepartmentRole, links.unit_roles(session, m.TaskDepartment, m.TaskDepartment.task_id, ids))
    key_points = _as(s.KeyPointLink, links.traced_key_points(session, ids))
    activities = _as(s.ActivityRef, links.activities(session, m.TaskActivity.task_id, ids))
    references = links.reference_titles(session, m.TaskReference.task_id, ids)
    groups = links.target_groups(session, m.TaskTargetGroup, m.TaskTargetGroup.task_id, ids)
    order = list(target_group_words())
    progress = task_progress(session, [i for i in ids if i is not None])
    lineage = lineage_steps(session, [row_id(t) for t in tasks])
    return [
        s.TaskPublic.model_validate(
            t,
            update={
                "document": docs[t.document_id],
                "departments": departments[row_id(t)],
                "key_points": key_points[row_id(t)],
                "activities": activities[row_id(t)],
                "references": references[row_id(t)],
                "target_groups": sorted(groups[row_id(t)], key=order.index),
                "status": progress.get(row_id(t), NOT_STARTED).status,
                "last_reported_on": progress.get(row_id(t), NOT_STARTED).last_reported_on,
                "last_note": progress.get(row_id(t), NOT_STARTED).last_note,
                "lineage": lineage[row_id(t)],
            },
        )
        for t in tasks
    ]


# --- key points --------------------------------------------------------------


def list_key_points(
    session: Session,
    window: Window,
    *,
    document: int | None = None,
    section: str | None = None,
    target_group: str | None = None,
    year: int | None = None,
    province: str | None = None,
    issuer: str | None = None,
) -> s.Page[s.KeyPointPublic]:
    """Key points matching every filter given, in document and number order."""
    query = select(m.KeyPoint)
    if document is not None:
        query = query.where(m.KeyPoint.document_id == document)
    if year is not None or province is not None or issuer is not None:
        query = query.where(col(m.KeyPoint.document_id).in_(_edition_ids(year, province, issuer)))
    if section is not None:
        query = query.where(col(m.KeyPoint.section_id).in_(_section_ids(section)))
    if check_target_group(target_group) is not None:
        query = query.where(
            col(m.KeyPoint.id).in_(
                select(m.KeyPointTargetGroup.key_point_id).where(m.KeyPointTargetGroup.name == target_group)
            )
        )
    total = _count(session, query)
    rows = session.exec(
        query.order_by(col(m.KeyPoint.document_id), col(m.KeyPoint.number)).limit(window.limit).offset(window.offset)
    ).all()
    return s.Page(items=key_points_public(session, rows), total=total, limit=window.limit, offset=window.offset)


def get_key_point(session: Session, key_point_id: int) -> s.KeyPointPublic:
    """One key point in full."""
    kp = session.get(m.KeyPoint, key_point_id)
    if kp is None:
        raise NotFound(f"no key point with id {key_point_id}")
    return key_points_public(session, [kp])[0]


def key_points_public(session: Session, key_points: Sequence[m.KeyPoint]) -> list[s.KeyPointPublic]:
    """Public models for key points, loading their links in a fixed number of queries."""
    ids = [k.id for k in key_points]
    docs = _documents(session, {k.document_id for k in key_points})
    sections = {
        x.id: _section(x)
        for x in session.exec(select(m.Section).where(col(m.Section.id).in_({k.section_id for k in key_points})))
    }
    paragraphs = links.sub_paragraphs(session, ids)
    departments = _as(
        s.DepartmentRole, links.unit_roles(session, m.KeyPointDepartment, m.KeyPointDepartment.key_point_id, ids)
    )
    activities = _as(s.ActivityRef, links.activities(session, m.KeyPointActivity.key_point_id, ids))
    references = links.reference_titles(session, m.KeyPointReference.key_point_id, ids)
    groups = links.target_groups(session, m.KeyPointTargetGroup, m.KeyPointTargetGroup.key_point_id, ids)
    tasks = group_by_first(
        session.exec(
            select(m.TraceLink.key_point_id, m.Task.id, m.Task.number, m.TraceLink.score)
            .join(m.Task)
            .where(col(m.TraceLink.key_point_id).in_(ids))
            .order_by(col(m.TraceLink.score).desc(), col(m.Task.number))
        ),
        lambda r: s.TaskLink(id=r[1], number=r[2], score=r[3]),
    )
    order = list(target_group_words())
    return [
        s.KeyPointPublic.model_validate(
            k,
            update={
                "document": docs[k.document_id],
                "section": sections[k.section_id],
                "sub_paragraphs": paragraphs[row_id(k)],
                "departments": departments[row_id(k)],
                "activities": activities[row_id(k)],
                "references": references[row_id(k)],
                "target_groups": sorted(groups[row_id(k)], key=order.index),
                "tasks": tasks[row_id(k)],
            },
        )
        for k in key_points
    ]


# --- departments -------------------------------------------------------------


def list_departments(
    session: Session, directory: DepartmentDirectory, *, document: int | None = None
) -> list[s.DepartmentPublic]:
    """Units named in the store, most tasks first."""
    counts = _department_counts(session, document=document)
    rows = session.exec(select(m.Department).order_by(col(m.Department.id))).all()
    items = [_department(directory, d.name, d.full_name, counts.get(d.name, {})) for d in rows]
    items = [d for d in items if d.task_count or document is None]
    return sorted(items, key=lambda d: (-d.task_count, -d.lead_count))


def get_department(session: Session, directory: DepartmentDirectory, spelling: str) -> s.DepartmentPublic:
    """One unit, under any of its names, with its task counts."""
    name = resolve_department(session, directory, spelling)
    row = session.exec(select(m.Department).where(m.Department.name == name)).first()
    full_name = row.full_name if row else directory.info(name).full_name
    return _department(directory, name, full_name, _department_counts(session).get(name, {}))


def _department(
    directory: DepartmentDirectory, name: str, full_name: str, counts: dict[str, int]
) -> s.DepartmentPublic:
    lead, participant = counts.get(Role.LEAD, 0), counts.get(Role.PARTICIPANT, 0)
    aliases = [a for a in directory.spellings(name) if a not in (name, full_name)]
    return s.DepartmentPublic(
        name=name,
        full_name=full_name,
        aliases=aliases,
        lead_count=lead,
        participant_count=participant,
        task_count=lead + participant,
    )


def _department_counts(session: Session, *, document: int | None = None) -> dict[str, dict[str, int]]:
    query = (
        select(m.Department.name, m.TaskDepartment.role, func.count())
        .join(m.Department)
        .group_by(m.Department.name, m.TaskDepartment.role)
    )
    if document is not None:
        query = query.join(m.Task).where(m.Task.document_id == document)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for name, role, n in session.exec(query):
        counts[name][role] = n
    return counts


# --- activities --------------------------------------------------------------


def list_activities(
    session: Session, window: Window, *, kind: str | None = None, document: int | None = None
) -> s.Page[s.ActivityPublic]:
    """Activities, in order of first mention."""
    query = select(m.Activity)
    if kind is not None:
        query = query.where(m.Activity.kind == kind)
    if document is not None:
        query = query.where(links.activities_named_in([document]))
    total = _count(session, query)
    rows = session.exec(query.order_by(col(m.Activity.id)).limit(window.limit).offset(window.offset)).all()
    return s.Page(items=activities_public(session, rows), total=total, limit=window.limit, offset=window.offset)


def get_activity(session: Session, activity_id: int) -> s.ActivityPublic:
    """One activity with where it is named."""
    row = session.get(m.Activity, activity_id)
    if row is None:
        raise NotFound(f"no activity with id {activity_id}")
    return activities_public(session, [row])[0]


def activities_public(session: Session, rows: Sequence[m.Activity]) -> list[s.ActivityPublic]:
    """Public models for activities with their key points and tasks."""
    ids = [a.id for a in rows]
    kps = _as(s.NumberedRef, links.mentions(session, m.KeyPointActivity, m.KeyPoint, ids))
    tasks = _as(s.NumberedRef, links.mentions(session, m.TaskActivity, m.Task, ids))
    return [
        s.ActivityPublic.model_validate(a, update={"key_points": kps[row_id(a)], "tasks": tasks[row_id(a)]})
        for a in rows
    ]


def _activity_ids(session: Session, activity: str) -> list[int]:
    if activity.isdigit() and len(activity) <= 9:  # an id (longer digit strings cannot be one)
        return [int(activity)]
    ids = session.exec(
        select(col(m.Activity.id)).where(or_(col(m.Activity.name) == activity, col(m.Activity.series) == activity))
    ).all()
    if not ids:
        raise InvalidParameter(f"no activity is called {activity!r}; see /api/v1/activities")
    return [i for i in ids if i is not None]


def _edition_ids(year: int | None, province: str | None, issuer: str | None) -> Any:
    """The documents of a year, a province and/or an issuer, as a subquery."""
    query = select(m.Document.id)
    if issuer is not None:
        query = query.where(m.Document.issuer == issuer.strip())
    if year is not None:
        query = query.where(m.Document.year == year)
    if province is not None:
        query = query.where(m.Document.province == province.strip())
    return query


def _section_ids(section: str) -> Any:
    section = section.strip()
    if section.isdigit() and len(section) <= 3:
        return select(m.Section.id).where(m.Section.ordinal == int(section))
    return select(m.Section.id).where(m.Section.label == section)


# --- helpers -----------------------------------------------------------------


def _as(model: type[BaseModel], grouped: links.Grouped) -> links.Grouped:
    """A loader's rows as public models, a missing owner still reading as []."""
    converted: links.Grouped = defaultdict(list)
    for owner, rows in grouped.items():
        converted[owner] = [model.model_validate(row, from_attributes=True) for row in rows]
    return converted


def _count(session: Session, query: Any) -> int:
    return int(session.exec(select(func.count()).select_from(query.subquery())).one())


def _documents(session: Session, ids: Iterable[int]) -> dict[int, s.DocumentRef]:
    return {
        row_id(d): s.DocumentRef.model_validate(d, from_attributes=True)
        for d in session.exec(select(m.Document).where(col(m.Document.id).in_(list(ids))))
    }
