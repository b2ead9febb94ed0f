"""What hangs off key points and tasks, one loader per kind of link, for the catalogue and the index alike.

Tasks and key points have parallel link tables that differ only in the owner column, so
each loader takes the owner column and the owners (a list of ids, or a SELECT of them)
and returns {owner id: [row, …]} in the notice's order, in one query. The catalogue turns
the rows into public models, the index into records.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app import models as m
from app.db import group_by_first

Owners = Any  # a list of ids, or a SELECT of ids
Grouped = dict[Any, list[Any]]  # group_by_first's: a missing owner reads as []


class UnitRole(NamedTuple):
    """A unit named on a task or key point: (name, full name, role), as the index stores it."""

    name: str
    full_name: str
    role: str


class TracedKeyPoint(NamedTuple):
    """A key point a task is traced to."""

    id: int
    number: int
    title: str
    score: float


class NamedActivity(NamedTuple):
    """An activity a task or key point names."""

    id: int
    name: str
    kind: str


class Mention(NamedTuple):
    """A task or key point naming an activity."""

    id: int
    number: int
    document_id: int


def unit_roles(session: Session, link: Any, owner: Any, owners: Owners) -> Grouped:
    """Owner id → its UnitRoles, in the order the notice lists them."""
    return group_by_first(
        session.exec(
            select(owner, m.Department.name, m.Department.full_name, link.role)
            .join(m.Department)
            .where(col(owner).in_(owners))
            .order_by(col(link.position))
        ),
        lambda r: UnitRole(*r[1:]),
    )


def target_groups(session: Session, link: Any, owner: Any, owners: Owners) -> Grouped:
    """Owner id → the target groups it is about."""
    return group_by_first(session.exec(select(owner, link.name).where(col(owner).in_(owners))))


def activities(session: Session, owner: Any, owners: Owners) -> Grouped:
    """Owner id → the NamedActivities it names, oldest first."""
    return group_by_first(
        session.exec(
            select(owner, m.Activity.id, m.Activity.name, m.Activity.kind)
            .join(m.Activity)
            .where(col(owner).in_(owners))
            .order_by(col(m.Activity.id))
        ),
        lambda r: NamedActivity(*r[1:]),
    )


def reference_titles(session: Session, owner: Any, owners: Owners) -> Grouped:
    """Owner id → the titles of the documents it cites."""
    return group_by_first(
        session.exec(
            select(owner, m.Reference.title)
            .join(m.Reference)
            .where(col(owner).in_(owners))
            .order_by(col(m.Reference.id))
        )
    )


def sub_paragraphs(session: Session, owners: Owners) -> Grouped:
    """Key point id → its sub-paragraphs, in order."""
    return group_by_first(
        session.exec(
            select(m.SubParagraph.key_point_id, m.SubParagraph.text)
            .where(col(m.SubParagraph.key_point_id).in_(owners))
            .order_by(col(m.SubParagraph.position))
        )
    )


def traced_key_points(session: Session, owners: Owners) -> Grouped:
    """Task id → the TracedKeyPoints it implements, best first."""
    # Five columns: past SQLModel's typed select() overloads, so SQLAlchemy's own.
    return group_by_first(
        session.execute(
            sa_select(
                col(m.TraceLink.task_id),
                col(m.TraceLink.key_point_id),
                col(m.KeyPoint.number),
                col(m.KeyPoint.title),
                col(m.TraceLink.score),
            )
            .join(m.KeyPoint)
            .where(col(m.TraceLink.task_id).in_(owners))
            .order_by(col(m.TraceLink.rank))
        ),
        lambda r: TracedKeyPoint(*r[1:]),
    )


def mentions(session: Session, link: Any, record: Any, activity_ids: Owners | None) -> Grouped:
    """Activity id → the Mentions of it by key points or tasks (`link` and `record` say which), by document and number.

    All activities when `activity_ids` is None."""
    owner = link.key_point_id if record is m.KeyPoint else link.task_id
    query = select(link.activity_id, record.id, record.number, record.document_id).join(record, col(owner) == record.id)
    if activity_ids is not None:
        query = query.where(col(link.activity_id).in_(activity_ids))
    return group_by_first(
        session.exec(query.order_by(col(record.document_id), col(record.number))), lambda r: Mention(*r[1:])
    )


def activities_named_in(document_ids: Owners) -> ColumnElement[bool]:
    """A condition on Activity.id: named by a task or a key point of these documents."""
    return or_(
        col(m.Activity.id).in_(
            select(m.TaskActivity.activity_id).join(m.Task).where(col(m.Task.document_id).in_(document_ids))
        ),
        col(m.Activity.id).in_(
            select(m.KeyPointActivity.activity_id).join(m.KeyPoint).where(col(m.KeyPoint.document_id).in_(document_ids))
        ),
    )
