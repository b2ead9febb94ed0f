"""Other editions and copies of the notice: the corpus in tests/data/editions/, how each reads."""

from __future__ import annotations

import importlib.util
from collections import Counter
from types import ModuleType

import pytest

from app.domain.vocabulary import Role
from app.parser import NoticeFormatError, ParsedNotice, parse_notice

from .conftest import ROOT

EDITIONS = ROOT / "tests" / "data" / "editions"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_editions", EDITIONS / "make_editions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def edition(name: str) -> str:
    """A corpus file's text."""
    return (EDITIONS / name).read_text("utf-8")


class TestCorpus:
    def test_the_script_regenerates_the_files_byte_for_byte(self) -> None:
        generated: dict[str, str] = _generator().generate()
        on_disk = {p.name for p in EDITIONS.glob("*.txt")}
        assert set(generated) == on_disk
        for name, text in generated.items():
            assert (EDITIONS / name).read_bytes() == text.encode("utf-8"), name

    def test_each_file_differs_from_the_seed(self, seed_text: str) -> None:
        for path in EDITIONS.glob("*.txt"):
            assert path.read_text("utf-8") != seed_text, path.name


class TestReading:
    """Each file parses (or is refused) as its generator says it should."""

    def test_traditional_copy_reads_as_the_seed(self, notice: ParsedNotice) -> None:
        parsed = parse_notice(edition("2023-traditional.txt"))
        assert _counts(parsed) == _counts(notice) == (4, 12, 67, 34)
        assert parsed.title == notice.title and parsed.year == 2023
        assert parsed.content_hash == notice.content_hash  # the same notice, in other characters
        assert [t.departments for t in parsed.tasks] == [t.departments for t in notice.tasks]
        # Display keeps the copy's own characters.
        assert parsed.tasks[54].text == "開展《綱要》實施情況中期評估。(中國科協牽頭,各成員單位參與)"
        assert parsed.tasks[54].all_member_units
        assert parsed.source == "全民科學素質綱要實施工作辦公室"

    def test_section_leads_are_stored_on_their_sections(self) -> None:
        parsed = parse_notice(edition("2018-section-leads.txt"))
        assert (parsed.title, parsed.year) == ("2018年全民科学素质行动工作要点", 2018)
        assert _counts(parsed) == (8, 12, 67, 34)
        top = [s for s in parsed.sections if s.level == 1]
        middle = [s for s in parsed.sections if s.level == 2]
        assert [s.label for s in top] == ["一", "二", "三", "四"]
        assert [s.title for s in middle] == ["主要任务"] * 4
        assert top[0].lead == ("各成员单位要把学习贯彻党的二十大精神作为首要任务,结合职责抓好落实。",)
        assert all(len(s.lead) == 1 for s in top) and all(not s.lead for s in middle)
        # The key points hang under the middle headings.
        assert {parsed.sections[kp.section].level for kp in parsed.key_points} == {2}
        assert Counter(a.kind for a in parsed.lines)["section_lead"] == 4

    def test_news_site_wrapper_is_metadata(self, notice: ParsedNotice) -> None:
        parsed = parse_notice(edition("2023-news-site.txt"))
        assert _counts(parsed) == (4, 12, 67, 34)
        assert parsed.title == notice.title
        assert parsed.source == "中国科协科普部"
        assert parsed.published_at is not None and parsed.published_at.strftime("%Y-%m-%d %H:%M") == "2023-03-24 13:58"
        assert parsed.intro == notice.intro and parsed.cover_letter == notice.cover_letter
        kinds = Counter(a.kind for a in parsed.lines)
        assert kinds["site"] == 2  # the summary and the hit counter
        assert kinds["footer"] == 3  # 责任编辑, 来源, 【打印本页】【关闭窗口】
        assert kinds["title"] == 3

    def test_inline_units_and_three_levels(self) -> None:
        parsed = parse_notice(edition("2022-inline-units.txt"))
        assert (parsed.year, len(parsed.tasks), len(parsed.key_points)) == (2022, 0, 12)
        assert [s.level for s in parsed.sections] == [1, 2, 1, 2, 1, 2, 2, 1, 2, 2]
        kp4 = parsed.key_points[3]
        assert [(d.name, d.role) for d in kp4.departments][:2] == [
            ("中国科协", Role.LEAD),
            ("教育部", Role.PARTICIPANT),
        ]
        assert not kp4.body.endswith(")")
        assert parsed.key_points[8].all_member_units
        assert len(parsed.departments) == 12

    def test_provincial_edition_records_the_province(self) -> None:
        parsed = parse_notice(edition("2023-province.txt"))
        assert parsed.province == "某省"
        assert parsed.issuer == "某省全民科学素质工作领导小组办公室"
        assert _counts(parsed) == (4, 12, 67, 34)
        assert "省科协" in parsed.departments and "中国科协" not in parsed.departments
        assert parse_notice(edition("2024-next-year.txt")).province is None

    def test_next_year(self) -> None:
        parsed = parse_notice(edition("2024-next-year.txt"))
        assert (parsed.title, parsed.year) == ("2024年全民科学素质行动工作要点", 2024)
        assert _counts(parsed) == (4, 12, 67, 33)  # 3 dropped, 3 added; 市场监管总局 lost its only task

    def test_cut_off_copy_names_the_line_and_what_was_expected(self) -> None:
        text = edition("2023-cut-off.txt")
        with pytest.raises(NoticeFormatError) as info:
            parse_notice(text)
        assert info.value.line == len(text.rstrip("\n").split("\n"))
        assert "ends mid-item" in info.value.reason and "30.举办" in info.value.reason

    @pytest.mark.parametrize(
        ("name", "looks_like"),
        [
            ("2021-outline.txt", "the outline (纲要) itself"),
            ("2021-province-plan.txt", "an implementation plan (实施方案)"),
        ],
    )
    def test_another_family_is_refused_naming_what_it_looks_like(self, name: str, looks_like: str) -> None:
        with pytest.raises(NoticeFormatError) as info:
            parse_notice(edition(name))
        assert f"looks like {looks_like}" in info.value.reason
        assert info.value.line == 1


def _counts(parsed: ParsedNotice) -> tuple[int, int, int, int]:
    return len(parsed.sections), len(parsed.key_points), len(parsed.tasks), len(parsed.departments)
