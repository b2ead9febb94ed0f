"""Importing into the store, on SQLite and PostgreSQL: all or nothing, idempotent, replaceable."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app import models as m
from app.db import unit_of_work
from app.errors import DocumentConflict
from app.parser import ParsedNotice, parse_notice
from app.services import importer
from app.services.importer import import_notice
from app.services.stats import store_counts, store_generation


def _import(engine: Engine, notice: ParsedNotice, **kwargs: object) -> importer.ImportResult:
    with unit_of_work(engine) as session:
        return import_notice(session, notice, **kwargs)  # type: ignore[arg-type]


class TestImport:
    def test_seed_counts(self, engine: Engine, notice: ParsedNotice) -> None:
        result = _import(engine, notice)
        assert result.status == "created"
        with Session(engine) as session:
            counts = store_counts(session)
            assert (counts["documents"], counts["sections"], counts["key_points"], counts["tasks"]) == (1, 4, 12, 67)
            assert counts["departments"] == 34
            roles = session.exec(
                select(m.TaskDepartment.role).join(m.Department).where(m.Department.name == "中国科协")
            ).all()
            assert len(roles) == 31 and roles.count("lead") == 16
            assert len(session.exec(select(m.SubParagraph)).all()) == 6

    def test_reimport_is_a_no_op(self, engine: Engine, notice: ParsedNotice) -> None:
        first = _import(engine, notice)
        with Session(engine) as session:
            generation = store_generation(session)
        second = _import(engine, notice)
        assert second.status == "unchanged" and second.document_id == first.document_id
        with Session(engine) as session:
            assert store_counts(session)["tasks"] == 67
            assert store_generation(session) == generation

    def test_another_edition_is_a_second_document(self, engine: Engine, notice: ParsedNotice, seed_text: str) -> None:
        _import(engine, notice)
        other = parse_notice(seed_text.replace("2023年", "2024年"))
        assert _import(engine, other).status == "created"
        with Session(engine) as session:
            assert store_counts(session)["documents"] == 2
            assert store_counts(session)["tasks"] == 134
            assert store_counts(session)["departments"] == 34  # units are shared, not duplicated

    def test_changed_copy_of_the_same_notice_conflicts(
        self, engine: Engine, notice: ParsedNotice, seed_text: str
    ) -> None:
        _import(engine, notice)
        edited = parse_notice(seed_text.replace("67.推进全民数字素养与技能监测评估。", "67.推进全民数字素养监测。"))
        with pytest.raises(DocumentConflict, match="--replace"):
            _import(engine, edited)
        with Session(engine) as session:
            assert store_counts(session)["documents"] == 1

    def test_replace_swaps_the_document_and_drops_orphans(
        self, engine: Engine, notice: ParsedNotice, seed_text: str
    ) -> None:
        _import(engine, notice)
        edited = parse_notice(seed_text.replace("举办第37届全国青少年科技创新大赛", "举办第38届全国青少年科技创新大赛"))
        assert _import(engine, edited, replace=True).status == "replaced"
        with Session(engine) as session:
            names = set(session.exec(select(m.Activity.name)).all())
            assert "第38届全国青少年科技创新大赛" in names and "第37届全国青少年科技创新大赛" not in names
            assert store_counts(session)["tasks"] == 67 and store_counts(session)["documents"] == 1

    def test_a_crash_mid_write_leaves_the_store_as_it_was(
        self, engine: Engine, notice: ParsedNotice, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _import(engine, notice)
        edited = parse_notice(
            notice.title and "2024年全民科学素质行动工作要点\n一、甲\n1.乙。丙。\n附件\n1.丁。(教育部)\n"
        )
        real_get_or_create = importer._get_or_create

        def crash_after_some_rows(*args: object, **kwargs: object) -> int:
            real_get_or_create(*args, **kwargs)  # type: ignore[arg-type]
            raise RuntimeError("power cut")

        monkeypatch.setattr(importer, "_get_or_create", crash_after_some_rows)
        with pytest.raises(RuntimeError, match="power cut"):
            _import(engine, edited)
        with Session(engine) as session:
            assert store_counts(session)["documents"] == 1
            assert store_counts(session)["tasks"] == 67
