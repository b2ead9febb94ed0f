"""Task lineage across editions: each task linked to its counterpart in the previous edition of the same issuer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import cast

from sqlalchemy import delete
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.domain.text import fold_characters
from app.models import row_id
from app.parser.lineage import Item, Link, link


def relink_editions(session: Session, document_id: int) -> None:
    """Recompute the lineage of the editions sharing this document's issuer (and province)."""
    doc = session.get(m.Document, document_id)
    if doc is not None:
        relink_group(session, doc.issuer, doc.province)


def relink_group(session: Session, issuer: str | None, province: str | None) -> None:
    """Bring the lineage among the editions of one issuer up to date: after an import, a replacement or a
    deletion an edition may have come between two others, or gone from between them.

    Each edition with a ledger is linked to the latest earlier-year edition with a ledger. Only the
    pairs of editions that are new are matched (their tasks loaded and compared); links between
    editions that are no longer neighbours are deleted; the others are kept as they are.
    """
    editions = _editions(session, issuer, province)
    ids = [row_id(d) for d in editions]
    with_tasks = set(session.exec(select(m.Task.document_id).where(col(m.Task.document_id).in_(ids)).distinct()))
    wanted: set[tuple[int, int]] = set()  # (previous edition, edition)
    previous: m.Document | None = None
    for doc in editions:
        if row_id(doc) not in with_tasks:
            continue  # an edition without a ledger has no tasks to continue
        if previous is None or previous.year < doc.year:
            if previous is not None:
                wanted.add((row_id(previous), row_id(doc)))
            previous = doc
    existing = _linked_pairs(session, ids)
    for before, after in existing - wanted:
        session.execute(
            delete(m.TaskLineage).where(
                col(m.TaskLineage.task_id).in_(select(m.Task.id).where(col(m.Task.document_id) == after)),
                col(m.TaskLineage.previous_id).in_(select(m.Task.id).where(col(m.Task.document_id) == before)),
            )
        )
    for before, after in sorted(wanted - existing):
        session.add_all(
            m.TaskLineage(task_id=x.current, previous_id=x.previous, score=x.score)
            for x in match_tasks(session, before, after)
        )
    session.flush()


def _linked_pairs(session: Session, document_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(previous edition, edition) of the lineage links stored among these documents."""
    earlier = aliased(m.Task)
    rows = session.execute(
        sa_select(col(earlier.document_id), col(m.Task.document_id))
        .select_from(m.TaskLineage)
        .join(m.Task, col(m.Task.id) == col(m.TaskLineage.task_id))
        .join(earlier, col(earlier.id) == col(m.TaskLineage.previous_id))
        .where(col(m.Task.document_id).in_(document_ids))
        .distinct()
    )
    return {(cast(int, before), cast(int, after)) for before, after in rows}


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


def lineage_steps(session: Session, task_ids: Sequence[int]) -> dict[int, list[s.LineageStep]]:
    """Each task's lineage, oldest edition first, itself included; [] for a task no other edition holds.

    Walked one edition at a time (a query per step, for all the tasks at once), so a page of
    tasks costs as many queries as there are editions, not one per task.
    """
    previous: dict[int, tuple[int, float]] = {}
    following: dict[int, int] = {}
    frontier = set(task_ids)
    while frontier:
        rows = session.exec(select(m.TaskLineage).where(col(m.TaskLineage.task_id).in_(frontier))).all()
        previous.update({r.task_id: (r.previous_id, r.score) for r in rows})
        frontier = {r.previous_id for r in rows} - set(previous)
    frontier = set(task_ids)
    while frontier:
        rows = session.exec(select(m.TaskLineage).where(col(m.TaskLineage.previous_id).in_(frontier))).all()
        for r in rows:
            following[r.previous_id] = r.task_id
            previous[r.task_id] = (r.previous_id, r.score)
        frontier = {r.task_id for r in rows}  # years only grow along a lineage: no cycles
    chains: dict[int, list[int]] = {}
    for task_id in task_ids:
        chain = [task_id]
        while chain[0] in previous and len(chain) <= len(previous):
            chain.insert(0, previous[chain[0]][0])
        while chain[-1] in following and len(chain) <= len(previous) + 1:
            chain.append(following[chain[-1]])
        chains[task_id] = chain if len(chain) > 1 else []
    ids = {i for chain in chains.values() for i in chain}
    tasks = {row_id(t): t for t in session.exec(select(m.Task).where(col(m.Task.id).in_(ids)))}
    docs = {
        row_id(d): s.DocumentRef.model_validate(d, from_attributes=True)
        for d in session.exec(select(m.Document).where(col(m.Document.id).in_({t.document_id for t in tasks.values()})))
    }
    return {
        task_id: [
            s.LineageStep(
                id=i,
                number=tasks[i].number,
                document=docs[tasks[i].document_id],
                score=previous[i][1] if n else None,
            )
            for n, i in enumerate(chain)
        ]
        for task_id, chain in chains.items()
    }
