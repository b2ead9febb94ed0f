"""Task lineage across editions: each task linked to its counterpart in the previous edition of the same issuer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app import models as m
from app.domain.text import fold_characters
from app.models import row_id
from app.parser.lineage import Item, Link, link


def relink_editions(session: Session, document_id: int) -> None:
    """Recompute the lineage of the editions sharing this document's issuer (and province)."""
    doc = session.get(m.Document, document_id)
    if doc is not None:
        relink_group(session, doc.issuer, doc.province)


def relink_group(session: Session, issuer: str | None, province: str | None) -> None:
    """Recompute every lineage link among the editions of one issuer: after an import, a replacement or a
    deletion an edition may have come between two others, or gone from between them."""
    editions = _editions(session, issuer, province)
    ids = [row_id(d) for d in editions]
    tasks = _task_items(session, ids)
    session.execute(
        delete(m.TaskLineage).where(
            col(m.TaskLineage.task_id).in_(select(m.Task.id).where(col(m.Task.document_id).in_(ids)))
        )
    )
    previous: m.Document | None = None
    for doc in editions:
        if previous is not None and previous.year < doc.year:
            session.add_all(
                m.TaskLineage(task_id=x.current, previous_id=x.previous, score=x.score)
                for x in link(tasks[row_id(previous)], tasks[row_id(doc)])
            )
        if tasks[row_id(doc)] and (previous is None or previous.year < doc.year):
            previous = doc  # an edition without a ledger has no tasks to continue
    session.flush()


def match_tasks(session: Session, before: int, after: int) -> list[Link]:
    """Links between the tasks of any two documents, as lineage would make them."""
    tasks = _task_items(session, [before, after])
    return link(tasks[before], tasks[after])


def _editions(session: Session, issuer: str | None, province: str | None) -> list[m.Document]:
    """The documents of one issuer (folded, so a traditional copy's issuer is the same), oldest first."""
    key = (fold_characters(issuer or ""), province)
    docs = session.exec(select(m.Document).order_by(col(m.Document.year), col(m.Document.id))).all()
    return [d for d in docs if (fold_characters(d.issuer or ""), d.province) == key]


def _task_items(session: Session, document_ids: Sequence[int]) -> dict[int, list[Item]]:
    units: dict[int, set[str]] = defaultdict(set)
    for task_id, name in session.exec(
        select(m.TaskDepartment.task_id, m.Department.name)
        .join(m.Department)
        .join(m.Task)
        .where(col(m.Task.document_id).in_(document_ids))
    ):
        units[task_id].add(name)
    items: dict[int, list[Item]] = {d: [] for d in document_ids}
    for task in session.exec(
        select(m.Task).where(col(m.Task.document_id).in_(document_ids)).order_by(col(m.Task.number))
    ):
        items[task.document_id].append(Item(row_id(task), task.body, frozenset(units[row_id(task)])))
    return items
