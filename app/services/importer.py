"""Import a parsed notice into the store in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, exists
from sqlmodel import Session, SQLModel, col, select

from app import models as m
from app.domain.departments import DepartmentDirectory, load_directory
from app.errors import DocumentConflict
from app.models import row_id
from app.parser import ParsedNotice, ParsedSection
from app.services.indexing import record_changes
from app.services.lineage import relink_editions, relink_group


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    document_id: int
    status: Literal["created", "unchanged", "replaced", "kept"]
    title: str
    tasks: int
    key_points: int
    replaced_id: int | None = None


def import_notice(
    session: Session,
    notice: ParsedNotice,
    *,
    replace: bool = False,
    keep_existing: bool = False,
    source_name: str | None = None,
    directory: DepartmentDirectory | None = None,
) -> ImportResult:
    """Store a notice. Same content again: no-op. Same title, other content: conflict unless `replace`
    (store this one instead) or `keep_existing` (keep the stored version: a container start
    importing its bundled seed must not undo a replacement, nor fail on it).

    Only flushes; the caller's unit of work commits (or rolls everything back).
    """
    directory = directory or load_directory()
    same = session.exec(select(m.Document).where(col(m.Document.content_hash) == notice.content_hash)).first()
    if same is not None:
        return ImportResult(row_id(same), "unchanged", same.title, len(notice.tasks), len(notice.key_points))
    older = session.exec(
        select(m.Document).where(col(m.Document.title) == notice.title, col(m.Document.year) == notice.year)
    ).first()
    if older is not None and keep_existing:
        return ImportResult(row_id(older), "kept", older.title, len(notice.tasks), len(notice.key_points))
    if older is not None and not replace:
        raise DocumentConflict(
            f"document {older.id} is another version of {notice.title!r}; import with --replace to replace it",
            document_id=older.id,
        )
    reports = _progress_reports(session, row_id(older)) if older is not None else []
    if older is not None:
        _check_reports_carry_over(reports, notice)
        delete_document(session, row_id(older), relink=False)
    document_id = _insert(session, notice, source_name, directory)
    _carry_reports_over(session, reports, document_id)
    relink_editions(session, document_id)
    record_changes(session, documents=[document_id])
    return ImportResult(
        document_id,
        "replaced" if older else "created",
        notice.title,
        len(notice.tasks),
        len(notice.key_points),
        row_id(older) if older else None,
    )


# --- progress reports survive a replacement -------------------------------------------
# A replacement deletes the old version's tasks, and with them (ON DELETE CASCADE) the
# reports units filed on them. The reports are history: they are copied onto the task with
# the same number in the new version, in the same transaction, and a replacement that
# would leave some without a task is refused instead.


def _progress_reports(session: Session, document_id: int) -> list[tuple[int, m.ProgressReport]]:
    rows = session.exec(
        select(m.Task.number, m.ProgressReport)
        .join(m.ProgressReport, col(m.ProgressReport.task_id) == m.Task.id)
        .where(m.Task.document_id == document_id)
        .order_by(col(m.ProgressReport.id))
    ).all()
    # Detached: the database deletes the rows with their tasks, and may reuse their ids.
    for _, report in rows:
        session.expunge(report)
    return [(number, report) for number, report in rows]


def _check_reports_carry_over(reports: list[tuple[int, m.ProgressReport]], notice: ParsedNotice) -> None:
    numbers = {t.number for t in notice.tasks}
    orphaned = sorted({number for number, _ in reports if number not in numbers})
    if orphaned:
        raise DocumentConflict(
            f"the new version has no task {', '.join(map(str, orphaned))}, which hold progress reports; "
            "replacing it would lose them, so nothing was changed"
        )


def _carry_reports_over(session: Session, reports: list[tuple[int, m.ProgressReport]], document_id: int) -> None:
    if not reports:
        return
    tasks = session.exec(select(m.Task).where(m.Task.document_id == document_id)).all()
    task_ids = {t.number: row_id(t) for t in tasks}
    new_ids: dict[int, int] = {}
    for number, old in reports:  # in id order: a correction comes after what it corrects
        copy = m.ProgressReport.model_validate(
            old.model_dump(exclude={"id"}),
            update={
                "task_id": task_ids[number],
                "corrects_id": new_ids[old.corrects_id] if old.corrects_id is not None else None,
            },
        )
        session.add(copy)
        session.flush()
        new_ids[row_id(old)] = row_id(copy)


def delete_document(session: Session, document_id: int, *, relink: bool = True) -> None:
    """Delete a document with everything that hangs off it, then the orphans it leaves; the
    editions it stood between are linked to each other (unless the caller relinks after)."""
    doc = session.get(m.Document, document_id)
    group = (doc.issuer, doc.province) if doc is not None else None
    session.execute(delete(m.Document).where(col(m.Document.id) == document_id))
    session.execute(
        delete(m.Activity).where(
            ~exists().where(col(m.TaskActivity.activity_id) == m.Activity.id),
            ~exists().where(col(m.KeyPointActivity.activity_id) == m.Activity.id),
        )
    )
    session.execute(
        delete(m.Reference).where(
            ~exists().where(col(m.TaskReference.reference_id) == m.Reference.id),
            ~exists().where(col(m.KeyPointReference.reference_id) == m.Reference.id),
        )
    )
    session.execute(
        delete(m.Department).where(
            ~exists().where(col(m.TaskDepartment.department_id) == m.Department.id),
            ~exists().where(col(m.KeyPointDepartment.department_id) == m.Department.id),
        )
    )
    if relink and group is not None:
        relink_group(session, *group)
    record_changes(session, documents=[document_id])


def _get_or_create(
    session: Session, cache: dict[str, int], model: type[SQLModel], key: str, source: object, **update: object
) -> int:
    """The id of the row named `key`, made from `source` (with `update`) when the store has none yet."""
    if key in cache:
        return cache[key]
    column = getattr(model, "name" if "name" in model.model_fields else "title")
    row = session.exec(select(model).where(column == key)).first()
    if row is None:
        row = model.model_validate(source, update=update)
        session.add(row)
        session.flush()
    cache[key] = row_id(row)
    return cache[key]


def _insert(session: Session, notice: ParsedNotice, source_name: str | None, directory: DepartmentDirectory) -> int:
    """Store a parsed notice: the document, then each part, rows of one kind flushed together
    (one batched INSERT … RETURNING) before they are linked."""
    document_id = _insert_document(session, notice, source_name)
    section_ids = _insert_sections(session, document_id, notice.sections)
    departments = _insert_departments(session, notice.departments, directory)
    kp_ids = _insert_key_points(session, document_id, notice, section_ids, departments)
    task_ids = _insert_tasks(session, document_id, notice, kp_ids, departments)
    _insert_activities(session, notice, kp_ids, task_ids)
    _insert_references(session, notice, kp_ids, task_ids)
    session.flush()
    return document_id


def _insert_document(session: Session, notice: ParsedNotice, source_name: str | None) -> int:
    doc = m.Document.model_validate(notice, update={"source_name": source_name})
    session.add(doc)
    session.flush()
    return row_id(doc)


def _insert_sections(session: Session, document_id: int, sections: Sequence[ParsedSection]) -> list[int]:
    """Section ids in the parser's order; a middle level refers to a section stored before it."""
    section_ids: list[int] = []
    for section in sections:
        parent_id = section_ids[section.parent] if section.parent is not None else None
        row = m.Section.model_validate(section, update={"document_id": document_id, "parent_id": parent_id})
        session.add(row)
        session.flush()
        section_ids.append(row_id(row))
    return section_ids


def _insert_departments(session: Session, names: Sequence[str], directory: DepartmentDirectory) -> dict[str, int]:
    """Canonical unit name → id, creating the units not stored yet."""
    departments: dict[str, int] = {}
    for name in names:
        _get_or_create(session, departments, m.Department, name, directory.info(name))
    return departments


def _insert_key_points(
    session: Session, document_id: int, notice: ParsedNotice, section_ids: list[int], departments: dict[str, int]
) -> dict[int, int]:
    """Key points with their sub-paragraphs, units and target groups; number → id."""
    rows = [
        m.KeyPoint.model_validate(kp, update={"document_id": document_id, "section_id": section_ids[kp.section]})
        for kp in notice.key_points
    ]
    session.add_all(rows)
    session.flush()
    kp_ids = {kp.number: row_id(row) for kp, row in zip(notice.key_points, rows, strict=True)}
    for kp in notice.key_points:
        kp_id = kp_ids[kp.number]
        session.add_all(
            m.SubParagraph(key_point_id=kp_id, position=i, text=t) for i, t in enumerate(kp.sub_paragraphs, 1)
        )
        session.add_all(
            m.KeyPointDepartment(key_point_id=kp_id, department_id=departments[d.name], role=d.role, position=i)
            for i, d in enumerate(kp.departments, 1)
        )
        session.add_all(m.KeyPointTargetGroup(key_point_id=kp_id, name=g) for g in kp.target_groups)
    return kp_ids


def _insert_tasks(
    session: Session, document_id: int, notice: ParsedNotice, kp_ids: dict[int, int], departments: dict[str, int]
) -> dict[int, int]:
    """Ledger tasks with their units, target groups and trace links; number → id."""
    rows = [m.Task.model_validate(t, update={"document_id": document_id}) for t in notice.tasks]
    session.add_all(rows)
    session.flush()
    task_ids = {task.number: row_id(row) for task, row in zip(notice.tasks, rows, strict=True)}
    for task in notice.tasks:
        task_id = task_ids[task.number]
        session.add_all(
            m.TaskDepartment(task_id=task_id, department_id=departments[d.name], role=d.role, position=i)
            for i, d in enumerate(task.departments, 1)
        )
        session.add_all(m.TaskTargetGroup(task_id=task_id, name=g) for g in task.target_groups)
        session.add_all(
            m.TraceLink(task_id=task_id, key_point_id=kp_ids[number], score=score, rank=rank)
            for rank, (number, score) in enumerate(task.key_points, 1)
        )
    return task_ids


def _insert_activities(
    session: Session, notice: ParsedNotice, kp_ids: dict[int, int], task_ids: dict[int, int]
) -> None:
    """Activities (one row per name, shared by editions) and where this notice names them."""
    activities: dict[str, int] = {}
    for activity in notice.activities:
        aid = _get_or_create(session, activities, m.Activity, activity.name, activity)
        session.add_all(m.KeyPointActivity(key_point_id=kp_ids[n], activity_id=aid) for n in activity.key_points)
        session.add_all(m.TaskActivity(task_id=task_ids[n], activity_id=aid) for n in activity.tasks)


def _insert_references(
    session: Session, notice: ParsedNotice, kp_ids: dict[int, int], task_ids: dict[int, int]
) -> None:
    """Cited documents (one row per title) and where this notice cites them."""
    references: dict[str, int] = {}
    for ref in notice.references:
        rid = _get_or_create(session, references, m.Reference, ref.title, ref)
        session.add_all(m.KeyPointReference(key_point_id=kp_ids[n], reference_id=rid) for n in ref.key_points)
        session.add_all(m.TaskReference(task_id=task_ids[n], reference_id=rid) for n in ref.tasks)
