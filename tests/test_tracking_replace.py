"""A replaced notice keeps its progress reports: they move to the same-numbered task of the new version."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.db import unit_of_work
from app.domain.departments import load_directory
from app.domain.vocabulary import TaskStatus
from app.errors import DocumentConflict
from app.parser import ParsedNotice, parse_notice_bytes
from app.services import audit, reports, tokens
from app.services.importer import import_notice
from app.services.progress import task_progress

from .conftest import SEED
from .tracking import make_token


def _task_id(session: Session, document_id: int, number: int) -> int:
    task = session.exec(select(m.Task).where(m.Task.document_id == document_id, m.Task.number == number)).one()
    assert task.id is not None
    return task.id


def _report(
    engine: Engine, token: str, task_id: int, note: str, corrects: int | None = None, etag: str | None = None
) -> s.ReportWritten:
    with Session(engine) as session:
        principal = tokens.authenticate(session, token)
    data = s.ReportCreate(status=TaskStatus.IN_PROGRESS, note=note, reported_on=dt.date(2023, 6, 1), corrects=corrects)
    return reports.create_report(
        engine, load_directory(), principal=principal, task_id=task_id, data=data, origin=audit.Origin(), if_match=etag
    )


@pytest.fixture
def store(engine: Engine, notice: ParsedNotice) -> tuple[Engine, int]:
    with unit_of_work(engine) as session:
        document_id = import_notice(session, notice, source_name=SEED.name).document_id
    return engine, document_id


def _edited(seed: str, old: str, new: str) -> ParsedNotice:
    assert old in seed
    return parse_notice_bytes(seed.replace(old, new, 1).encode("utf-8"))


def test_reports_and_their_corrections_follow_the_task_into_the_new_version(
    store: tuple[Engine, int], seed_text: str
) -> None:
    engine, document_id = store
    with Session(engine) as session:
        task_9 = _task_id(session, document_id, 9)
    moe, office = make_token(engine, "教育部"), make_token(engine, office=True)
    first = _report(engine, moe, task_9, "已印发实施方案")
    fixed = _report(engine, office, task_9, "已印发实施方案,完成首批培训", corrects=first.id, etag=first.etag)

    with unit_of_work(engine) as session:
        result = import_notice(session, _edited(seed_text, "科学教育", "科学教育工作"), replace=True)
    assert result.status == "replaced"

    with Session(engine) as session:
        new_task_9 = _task_id(session, result.document_id, 9)
        carried = session.exec(
            select(m.ProgressReport).where(m.ProgressReport.task_id == new_task_9).order_by(col(m.ProgressReport.id))
        ).all()
        assert [r.note for r in carried] == [first.note, fixed.note]
        assert carried[1].corrects_id == carried[0].id  # the correction still names what it corrects
        assert carried[0].created_at.replace(tzinfo=None) == first.created_at.replace(tzinfo=None)
        progress = task_progress(session, [new_task_9])[new_task_9]
        assert (progress.status, progress.last_note) == (TaskStatus.IN_PROGRESS, fixed.note)
        assert session.exec(select(m.Document.id)).all() == [result.document_id]  # the old version is gone


def test_a_replacement_without_a_reported_task_is_refused_and_changes_nothing(
    store: tuple[Engine, int], seed_text: str
) -> None:
    engine, document_id = store
    with Session(engine) as session:
        last_two = session.exec(
            select(m.Task).where(m.Task.document_id == document_id).order_by(col(m.Task.number).desc()).limit(2)
        ).all()
    office = make_token(engine, office=True)
    for task in last_two:
        assert task.id is not None
        _report(engine, office, task.id, "已完成评估")
    first, last = sorted(task.number for task in last_two)
    # The new version ends two tasks earlier: its last two tasks (and the reports on them) would go.
    lines = seed_text.splitlines(keepends=True)
    cut = max(i for i, line in enumerate(lines) if line.lstrip().startswith(f"{first}."))
    shorter = parse_notice_bytes(
        "".join(lines[:cut] + [line for line in lines[cut:] if line.startswith("来源")]).encode()
    )

    with pytest.raises(DocumentConflict, match=f"no task {first}, {last}, which"), unit_of_work(engine) as session:
        import_notice(session, shorter, replace=True)
    with Session(engine) as session:
        assert session.exec(select(m.Document.id)).all() == [document_id]
        assert len(session.exec(select(m.ProgressReport)).all()) == 2
