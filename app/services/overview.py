"""The overview pictures' data: key points × units task counts, and the key point → task trace."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from app import models as m


@dataclass
class Overview:
    """Rows are key points (plus tasks traced to none); columns are units, busiest first."""

    document: m.Document
    key_points: list[m.KeyPoint]
    departments: list[str]
    counts: dict[tuple[int | None, str], int] = field(default_factory=dict)
    tasks: list[m.Task] = field(default_factory=list)
    trace: dict[tuple[int, int], float] = field(default_factory=dict)  # (key point id, task id) → score

    @property
    def max_count(self) -> int:
        """The largest cell, for the colour scale."""
        return max(self.counts.values(), default=0)


def build_overview(session: Session, document_id: int | None = None) -> Overview | None:
    """The overview of one document (the newest when none is given)."""
    query = select(m.Document).order_by(col(m.Document.year).desc(), col(m.Document.id).desc())
    doc = session.get(m.Document, document_id) if document_id else session.exec(query).first()
    if doc is None:
        return None
    key_points = list(
        session.exec(select(m.KeyPoint).where(m.KeyPoint.document_id == doc.id).order_by(col(m.KeyPoint.number)))
    )
    tasks = list(session.exec(select(m.Task).where(m.Task.document_id == doc.id).order_by(col(m.Task.number))))
    task_ids = [t.id for t in tasks]
    links: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for task_id, kp_id, score in session.exec(
        select(m.TraceLink.task_id, m.TraceLink.key_point_id, m.TraceLink.score).where(
            col(m.TraceLink.task_id).in_(task_ids)
        )
    ):
        links[task_id].append((kp_id, score))
    counts: dict[tuple[int | None, str], int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    for task_id, name in session.exec(
        select(m.TaskDepartment.task_id, m.Department.name)
        .join(m.Department)
        .where(col(m.TaskDepartment.task_id).in_(task_ids))
    ):
        totals[name] += 1
        traced: list[int | None] = [point for point, _ in links.get(task_id, [])] or [None]
        for point in traced:
            counts[(point, name)] += 1
    departments = sorted(totals, key=lambda n: (-totals[n], n))
    trace = {(kp_id, task_id): score for task_id, pairs in links.items() for kp_id, score in pairs}
    return Overview(doc, key_points, departments, dict(counts), tasks, trace)
