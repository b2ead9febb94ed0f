"""Importing into the store, on SQLite and PostgreSQL: all or nothing, idempotent, replaceable."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

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


# A province's edition without a ledger: its units, a cited document and an activity hang off key points only.
KEY_POINTS_ONLY = (
    "2024年某省全民科学素质行动工作要点\n一、加强组织领导\n"
    "1.强化统筹协调。贯彻落实《全民科学素质行动规划纲要(2021—2035年)》。(省科协牵头,各成员单位参与)\n"
    "2.开展科普宣传。举办2024年全省科普日活动。(省科协、省教育厅)\n"
)
# An edition with middle-level sections, and units on its one ledger task only.
MIDDLE_LEVELS = (
    "2025年全民科学素质行动工作要点\n一、总体要求\n(一)强化引领\n1.学习贯彻。内容。\n(二)夯实基础\n2.建设设施。内容。\n"
    "附件\n任务台账\n1.建设设施。(中国科协、教育部)\n"
)


class TestStoredShape:
    def test_a_middle_level_section_hangs_off_its_section(self, engine: Engine) -> None:
        _import(engine, parse_notice(MIDDLE_LEVELS))
        with Session(engine) as session:
            sections = session.exec(select(m.Section).order_by(col(m.Section.id))).all()
            top = sections[0]
            assert [(s.title, s.parent_id) for s in sections] == [
                ("总体要求", None),
                ("强化引领", top.id),
                ("夯实基础", top.id),
            ]

    def test_a_tasks_first_trace_link_is_ranked_one(self, engine: Engine, notice: ParsedNotice) -> None:
        # Ledger task 1 repeats a sub-paragraph of key point 9 word for word; progress by key point
        # counts a task under its rank-1 link.
        _import(engine, notice)
        with Session(engine) as session:
            first = session.exec(
                select(m.KeyPoint.number)
                .join(m.TraceLink, col(m.TraceLink.key_point_id) == m.KeyPoint.id)
                .join(m.Task, col(m.TraceLink.task_id) == m.Task.id)
                .where(m.Task.number == 1, m.TraceLink.rank == 1)
            ).all()
            assert first == [9]
            ranks: dict[int, list[int]] = {}
            for task_id, rank in session.exec(select(m.TraceLink.task_id, m.TraceLink.rank)).all():
                ranks.setdefault(task_id, []).append(rank)
            assert all(sorted(r) == list(range(1, len(r) + 1)) for r in ranks.values())

    def test_import_results_say_what_happened(self, engine: Engine, notice: ParsedNotice, seed_text: str) -> None:
        created = _import(engine, notice)
        assert created == importer.ImportResult(created.document_id, "created", notice.title, 67, 12)
        edited = parse_notice(seed_text.replace("67.推进全民数字素养与技能监测评估。", "67.推进全民数字素养监测。"))
        kept = _import(engine, edited, keep_existing=True)
        assert kept == importer.ImportResult(created.document_id, "kept", notice.title, 67, 12)
        with Session(engine) as session:
            assert store_counts(session)["documents"] == 1


class TestDelete:
    def test_units_documents_and_activities_still_named_elsewhere_stay(
        self, engine: Engine, notice: ParsedNotice
    ) -> None:
        others = [parse_notice(KEY_POINTS_ONLY), parse_notice(MIDDLE_LEVELS)]
        seed_id = _import(engine, notice).document_id
        for other in others:
            _import(engine, other)
        with unit_of_work(engine) as session:
            importer.delete_document(session, seed_id)
        with Session(engine) as session:
            assert set(session.exec(select(m.Department.name)).all()) == {"省科协", "省教育厅", "中国科协", "教育部"}
            assert session.exec(select(m.Reference.title)).all() == ["全民科学素质行动规划纲要(2021—2035年)"]
            assert session.exec(select(m.Activity.name)).all() == ["2024年全省科普日"]
