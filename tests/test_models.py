"""Model families: the parsed record, the table row and the public schema agree on the fields their base shares."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel, col, select

from app import models as m
from app.db import unit_of_work
from app.parser import ParsedNotice
from app.services import catalogue
from app.services.importer import import_notice


def _shared(base: type[SQLModel], record: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The base's fields of a row, a public model or a parser record (tuples as lists, as the models hold them)."""
    values = {name: getattr(record, name) for name in base.model_fields if name not in skip}
    return {name: list(v) if isinstance(v, tuple) else v for name, v in values.items()}


class TestTheImporterStoresEveryBaseField:
    def test_document_sections_key_points_tasks_activities(self, seeded_engine: Engine, notice: ParsedNotice) -> None:
        with Session(seeded_engine) as session:
            doc = session.exec(select(m.Document)).one()
            # source_name is the importer's argument, not the notice's.
            skip = ("source_name",)
            assert _shared(m.DocumentBase, doc, skip=skip) == _shared(m.DocumentBase, notice, skip=skip)
            sections = session.exec(select(m.Section).order_by(col(m.Section.ordinal))).all()
            skip = ("parent_id",)  # the parser's is an index into its sections
            assert [_shared(m.SectionBase, x, skip=skip) for x in sections] == [
                _shared(m.SectionBase, x, skip=skip) for x in notice.sections
            ]
            ids = [x.id for x in sections]
            assert [x.parent_id for x in sections] == [
                ids[x.parent] if x.parent is not None else None for x in notice.sections
            ]
            key_points = session.exec(select(m.KeyPoint).order_by(col(m.KeyPoint.number))).all()
            assert [_shared(m.KeyPointBase, k) for k in key_points] == [
                _shared(m.KeyPointBase, k) for k in notice.key_points
            ]
            assert [k.all_member_units for k in key_points] == [k.all_member_units for k in notice.key_points]
            tasks = session.exec(select(m.Task).order_by(col(m.Task.number))).all()
            assert [_shared(m.TaskBase, t) for t in tasks] == [_shared(m.TaskBase, t) for t in notice.tasks]
            assert [t.all_member_units for t in tasks] == [t.all_member_units for t in notice.tasks]
            activities = session.exec(select(m.Activity).order_by(col(m.Activity.name))).all()
            parsed_activities = sorted(notice.activities, key=lambda a: a.name)
            assert [_shared(m.ActivityBase, a) for a in activities] == [
                _shared(m.ActivityBase, a) for a in parsed_activities
            ]

    def test_paragraphs_are_one_text_column_a_line_each(self, engine: Engine, notice: ParsedNotice) -> None:
        # Stores written before the models held lists must read the same: the column format is the contract.
        sections = (replace(notice.sections[0], lead=("首段。", "次段。")), *notice.sections[1:])
        notice = replace(notice, cover_letter=("现将要点印发。", "请认真贯彻落实。"), intro=("一。", "二。", "三。"))
        with unit_of_work(engine) as session:
            import_notice(session, replace(notice, sections=sections))
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT cover_letter, intro FROM document")).one()
            lead = conn.execute(text("SELECT lead FROM section ORDER BY ordinal")).scalars().first()
        assert tuple(stored) == ("现将要点印发。\n请认真贯彻落实。", "一。\n二。\n三。") and lead == "首段。\n次段。"
        with Session(engine) as session:
            doc = session.exec(select(m.Document)).one()
            assert (doc.cover_letter, doc.intro) == (["现将要点印发。", "请认真贯彻落实。"], ["一。", "二。", "三。"])


class TestTheTableAndItsPublicSchemaAgree:
    def test_document_and_sections(self, seeded_engine: Engine) -> None:
        with Session(seeded_engine) as session:
            doc = session.exec(select(m.Document)).one()
            public = catalogue.get_document(session, m.row_id(doc))
            assert _shared(m.DocumentBase, public) == _shared(m.DocumentBase, doc)
            assert (public.id, public.imported_at) == (doc.id, doc.imported_at)
            rows = session.exec(select(m.Section).order_by(col(m.Section.ordinal))).all()
            assert [(x.id, _shared(m.SectionBase, x)) for x in public.sections] == [
                (x.id, _shared(m.SectionBase, x)) for x in rows
            ]

    def test_tasks_and_key_points(self, seeded_engine: Engine) -> None:
        with Session(seeded_engine) as session:
            tasks = session.exec(select(m.Task).order_by(col(m.Task.id))).all()
            public_tasks = catalogue.tasks_public(session, tasks)
            assert [(t.id, t.document.id, t.all_member_units, _shared(m.TaskBase, t)) for t in public_tasks] == [
                (t.id, t.document_id, t.all_member_units, _shared(m.TaskBase, t)) for t in tasks
            ]
            key_points = session.exec(select(m.KeyPoint).order_by(col(m.KeyPoint.id))).all()
            public_points = catalogue.key_points_public(session, key_points)
            assert [(k.id, k.section.id, k.all_member_units, _shared(m.KeyPointBase, k)) for k in public_points] == [
                (k.id, k.section_id, k.all_member_units, _shared(m.KeyPointBase, k)) for k in key_points
            ]

    def test_activities(self, seeded_engine: Engine) -> None:
        with Session(seeded_engine) as session:
            rows = session.exec(select(m.Activity).order_by(col(m.Activity.id))).all()
            public = catalogue.activities_public(session, rows)
            assert [(a.id, _shared(m.ActivityBase, a)) for a in public] == [
                (a.id, _shared(m.ActivityBase, a)) for a in rows
            ]
