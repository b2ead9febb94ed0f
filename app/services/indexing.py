"""The store as the search engine's record source: the SQL the engine must not run itself.

`StoreRecords(engine)` implements app.search.source.RecordSource: the services hand it to
SearchIndex, which never imports the models or the database.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app import models as m
from app.db import group_by_first
from app.domain.departments import load_directory
from app.models import row_id
from app.search.records import Record, first_sentence, make_record
from app.search.source import SourceVersion


class StoreRecords:
    """The store's records, version and dictionary names, read through an engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def version(self) -> SourceVersion:
        """The store's generation, a fingerprint of its documents, and how many records it indexes to."""
        return read_store_version(self.engine)

    def terms(self) -> list[str]:
        """Names for the jieba dictionary: activities and every unit spelling."""
        return store_terms(self.engine)

    def records(self, document_ids: Iterable[int] | None = None) -> Iterator[Record]:
        """Every searchable record of the given documents (all when None), read in one session."""
        with Session(self.engine) as session:
            yield from iter_records(session, document_ids)


def read_store_version(engine: Engine) -> SourceVersion:
    """The store's generation, a fingerprint of its documents, and how many records it indexes to."""
    with Session(engine) as session:
        state = session.get(m.StoreState, 1)
        hashes = session.exec(select(m.Document.id, m.Document.content_hash).order_by(col(m.Document.id))).all()
        count = sum(
            int(session.exec(select(func.count()).select_from(model)).one())
            for model in (m.Task, m.KeyPoint, m.Activity)
        )
        count += current_report_count(session)
    digest = hashlib.sha256(json.dumps([list(h) for h in hashes]).encode()).hexdigest()[:16]
    return SourceVersion(state.generation if state else 0, digest, count)


def store_terms(engine: Engine) -> list[str]:
    """Names from the store for the jieba dictionary: activities and every unit spelling."""
    directory = load_directory()
    with Session(engine) as session:
        activities = session.exec(select(m.Activity.name)).all()
        units = session.exec(select(m.Department.name)).all()
    return [*activities, *units, *directory.all_spellings()]


def iter_records(session: Session, document_ids: Iterable[int] | None = None) -> Iterator[Record]:
    """Every searchable record of the given documents (all documents when None)."""
    docs = session.exec(select(m.Document)).all()
    if document_ids is not None:
        wanted = set(document_ids)
        docs = [d for d in docs if d.id in wanted]
    if not docs:
        return
    years = {d.id: d.year for d in docs}
    ids = list(years)
    sections = {s.id: s.label for s in session.exec(select(m.Section).where(col(m.Section.document_id).in_(ids)))}
    # Records are written in (document, key points before tasks, number) order: Whoosh breaks
    # score ties by document number, so that order is the tie-break users see.
    key_points = session.exec(
        select(m.KeyPoint)
        .where(col(m.KeyPoint.document_id).in_(ids))
        .order_by(col(m.KeyPoint.document_id), col(m.KeyPoint.number))
    ).all()
    kp_section = {kp.id: sections[kp.section_id] for kp in key_points}

    paragraphs: dict[int, list[str]] = defaultdict(list)
    for kp_id, text in session.exec(
        select(m.SubParagraph.key_point_id, m.SubParagraph.text)
        .join(m.KeyPoint)
        .where(col(m.KeyPoint.document_id).in_(ids))
        .order_by(col(m.SubParagraph.position))
    ):
        paragraphs[kp_id].append(text)
    kp_groups = group_by_first(
        session.exec(
            select(m.KeyPointTargetGroup.key_point_id, m.KeyPointTargetGroup.name)
            .join(m.KeyPoint)
            .where(col(m.KeyPoint.document_id).in_(ids))
        )
    )
    kp_units = group_by_first(
        session.exec(
            select(
                m.KeyPointDepartment.key_point_id, m.Department.name, m.Department.full_name, m.KeyPointDepartment.role
            )
            .join(m.Department)
            .join(m.KeyPoint)
            .where(col(m.KeyPoint.document_id).in_(ids))
            .order_by(col(m.KeyPointDepartment.position))
        ),
        lambda row: tuple(row[1:]),
    )
    task_units = group_by_first(
        session.exec(
            select(m.TaskDepartment.task_id, m.Department.name, m.Department.full_name, m.TaskDepartment.role)
            .join(m.Department)
            .join(m.Task)
            .where(col(m.Task.document_id).in_(ids))
            .order_by(col(m.TaskDepartment.position))
        ),
        lambda row: tuple(row[1:]),
    )
    task_groups = group_by_first(
        session.exec(
            select(m.TaskTargetGroup.task_id, m.TaskTargetGroup.name)
            .join(m.Task)
            .where(col(m.Task.document_id).in_(ids))
        )
    )
    task_points = group_by_first(
        session.exec(
            select(m.TraceLink.task_id, m.TraceLink.key_point_id)
            .join(m.Task)
            .where(col(m.Task.document_id).in_(ids))
            .order_by(col(m.TraceLink.rank))
        )
    )

    tasks = session.exec(
        select(m.Task).where(col(m.Task.document_id).in_(ids)).order_by(col(m.Task.document_id), col(m.Task.number))
    ).all()
    points_by_doc: dict[int, list[m.KeyPoint]] = defaultdict(list)
    for kp in key_points:
        points_by_doc[kp.document_id].append(kp)
    tasks_by_doc: dict[int, list[m.Task]] = defaultdict(list)
    for task in tasks:
        tasks_by_doc[task.document_id].append(task)
    for document_id in sorted(years):  # type: ignore[type-var]
        for kp in points_by_doc[document_id]:  # type: ignore[index]
            body = "\n".join([kp.body, *paragraphs[kp.id]])  # type: ignore[index]
            yield make_record(
                "key_point",
                row_id(kp),
                kp.document_id,
                years[kp.document_id],
                kp.number,
                kp.title,
                body,
                kp_units[kp.id],
                [kp_section[kp.id]],
                kp_groups[kp.id],
            )
        for task in tasks_by_doc[document_id]:  # type: ignore[index]
            title, body = first_sentence(task.body)
            section = [kp_section[k] for k in task_points[task.id][:1]]
            yield make_record(
                "task",
                row_id(task),
                task.document_id,
                years[task.document_id],
                task.number,
                title,
                body,
                task_units[task.id],
                section,
                task_groups[task.id],
            )
    yield from _activity_records(session, [row_id(d) for d in docs], years, kp_section)
    yield from _report_records(session, col(m.Task.document_id).in_(ids))


def _activity_records(
    session: Session, ids: list[int], years: dict[int | None, int], kp_section: dict[int | None, str]
) -> Iterator[Record]:
    mentions: dict[int, dict[str, set[Any]]] = defaultdict(lambda: {"tasks": set(), "kps": set(), "docs": set()})
    for activity_id, task_id, document_id, number in session.exec(
        select(m.TaskActivity.activity_id, m.TaskActivity.task_id, m.Task.document_id, m.Task.number)
        .join(m.Task)
        .where(col(m.Task.document_id).in_(ids))
    ):
        mentions[activity_id]["tasks"].add((document_id, number, task_id))
        mentions[activity_id]["docs"].add(document_id)
    for activity_id, kp_id, document_id in session.exec(
        select(m.KeyPointActivity.activity_id, m.KeyPointActivity.key_point_id, m.KeyPoint.document_id)
        .join(m.KeyPoint)
        .where(col(m.KeyPoint.document_id).in_(ids))
    ):
        mentions[activity_id]["kps"].add(kp_id)
        mentions[activity_id]["docs"].add(document_id)
    activities = session.exec(
        select(m.Activity).where(col(m.Activity.id).in_(list(mentions))).order_by(col(m.Activity.id))
    ).all()
    for activity in activities:
        seen = mentions[activity.id]  # type: ignore[index]
        # An activity shared by several editions is indexed once, under its earliest document.
        document_id = min(seen["docs"])
        yield make_record(
            "activity",
            row_id(activity),
            document_id,
            years[document_id],
            0,
            activity.name,
            activity.series,
            # No units: an activity is found by its name, not by who runs the tasks naming it.
            [],
            sorted({kp_section[k] for k in seen["kps"]}),
            [],
            extra={
                "activity_kind": activity.kind,
                "tasks": [[task_id, number] for doc, number, task_id in sorted(seen["tasks"]) if doc == document_id],
            },
        )


def report_records(session: Session, report_ids: Iterable[int]) -> list[Record]:
    """The index records of the given reports (those still current: a corrected report has none)."""
    return list(_report_records(session, col(m.ProgressReport.id).in_(list(report_ids))))


def current_report_count(session: Session) -> int:
    """How many reports the index holds: those no correction replaced."""
    corrected = select(m.ProgressReport.corrects_id).where(col(m.ProgressReport.corrects_id).is_not(None))
    return len(session.exec(select(m.ProgressReport.id).where(col(m.ProgressReport.id).not_in(corrected))).all())


def _report_records(session: Session, condition: Any) -> Iterator[Record]:
    # Progress reports are searched by their note (kind=report, never in the default ledger list).
    corrected = select(m.ProgressReport.corrects_id).where(col(m.ProgressReport.corrects_id).is_not(None))
    rows = session.exec(
        select(m.ProgressReport, m.Task, m.Document.year)
        .join(m.Task, col(m.Task.id) == m.ProgressReport.task_id)
        .join(m.Document, col(m.Document.id) == m.Task.document_id)
        .where(condition, col(m.ProgressReport.id).not_in(corrected))
        .order_by(col(m.ProgressReport.id))
    ).all()
    roles = {
        (task_id, name): (full_name, role)
        for task_id, name, full_name, role in session.exec(
            select(m.TaskDepartment.task_id, m.Department.name, m.Department.full_name, m.TaskDepartment.role)
            .join(m.Department)
            .where(col(m.TaskDepartment.task_id).in_({task.id for _, task, _ in rows}))
        )
    }
    for report, task, year in rows:
        full_name, role = roles.get((row_id(task), report.department), (report.department, "participant"))
        yield make_record(
            "report",
            row_id(report),
            task.document_id,
            year,
            task.number,
            f"{report.department} {report.reported_on.isoformat()} 进展",
            report.note,
            [(report.department, full_name, role)],
            [],
            [],
            extra={
                "task": [task.id, task.number],
                "status": report.status,
                "reported_on": report.reported_on.isoformat(),
            },
        )
