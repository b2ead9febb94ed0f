"""The parser against the 2023 seed's ground truth, its variants and bad input."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path

import pytest

from app.domain.vocabulary import Role
from app.parser import NoticeFormatError, ParsedNotice, parse_notice, parse_notice_bytes
from app.parser.normalise import normalise
from app.parser.records import LINE_KINDS

FULL_WIDTH = str.maketrans({"(": "（", ")": "）", ",": "，", ":": "："})


def _projection(notice: ParsedNotice) -> object:
    """The records with every string punctuation-normalised: what must not depend on the copy."""

    def walk(value: object) -> object:
        if isinstance(value, str):
            return normalise(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: walk(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, tuple | list):
            return [walk(v) for v in value]
        return value

    return walk(notice)


class TestSeedGroundTruth:
    def test_metadata(self, notice: ParsedNotice) -> None:
        assert notice.title == "2023年全民科学素质行动工作要点"
        assert notice.year == 2023
        assert notice.issuer == "全民科学素质纲要实施工作办公室"
        assert notice.issuer_note == "中国科协办公厅代章"
        assert notice.issue_date is not None and notice.issue_date.isoformat() == "2023-03-22"
        assert notice.published_at is not None and notice.published_at.strftime("%Y-%m-%d %H:%M") == "2023-03-24 13:58"
        assert notice.addressees == "全民科学素质纲要实施工作办公室各成员单位"
        assert notice.contact is not None and "010-68583659" in notice.contact
        assert len(notice.intro) == 1 and notice.intro[0].startswith("2023年全民科学素质工作要坚持")
        assert notice.ledger_title == "2023年全民科学素质行动重点工作任务台账"

    def test_sections_hold_2_2_4_4_key_points(self, notice: ParsedNotice) -> None:
        assert [s.label for s in notice.sections] == ["一", "二", "三", "四"]
        per_section = Counter(kp.section for kp in notice.key_points)
        assert [per_section[i] for i in range(4)] == [2, 2, 4, 4]

    def test_twelve_key_points_numbered_across_sections(self, notice: ParsedNotice) -> None:
        assert [kp.number for kp in notice.key_points] == list(range(1, 13))

    def test_key_point_title_is_first_sentence(self, notice: ParsedNotice) -> None:
        kp5 = notice.key_points[4]
        assert kp5.title == "加强科普基础设施建设"
        assert kp5.body.startswith("完善科普基础设施建设管理的规范和标准")
        assert "。" not in kp5.title

    def test_key_point_9_has_six_sub_paragraphs(self, notice: ParsedNotice) -> None:
        counts = {kp.number: len(kp.sub_paragraphs) for kp in notice.key_points}
        assert counts[9] == 6
        assert sum(counts.values()) == 6
        assert notice.key_points[8].sub_paragraphs[0].startswith("利用科普资源助推“双减”工作")

    def test_sixty_seven_tasks(self, notice: ParsedNotice) -> None:
        assert [t.number for t in notice.tasks] == list(range(1, 68))

    def test_thirty_four_departments(self, notice: ParsedNotice) -> None:
        assert len(notice.departments) == 34
        assert "各成员单位参与" not in notice.departments
        assert "各成员单位" not in notice.departments

    def test_cast_roles(self, notice: ParsedNotice) -> None:
        involved = [t for t in notice.tasks if any(d.name == "中国科协" for d in t.departments)]
        leads = [t for t in involved if any(d.name == "中国科协" and d.role == "lead" for d in t.departments)]
        assert len(involved) == 31
        assert len(leads) == 16
        assert 55 in [t.number for t in leads]

    def test_moe_takes_part_in_twelve(self, notice: ParsedNotice) -> None:
        assert sum(any(d.name == "教育部" for d in t.departments) for t in notice.tasks) == 12

    def test_task_55_all_member_units(self, notice: ParsedNotice) -> None:
        task = notice.tasks[54]
        assert [(d.name, d.role) for d in task.departments] == [("中国科协", "lead")]
        assert task.all_member_units is True
        assert sum(t.all_member_units for t in notice.tasks) == 1

    def test_first_listed_unit_leads(self, notice: ParsedNotice) -> None:
        task7 = notice.tasks[6]
        assert task7.departments[0] == dataclasses.replace(task7.departments[0], name="中央宣传部", role=Role.LEAD)
        assert {d.role for d in task7.departments[1:]} == {"participant"}
        assert len(task7.departments) == 9

    @pytest.mark.parametrize(
        ("number", "units", "inner"),
        [
            (1, ["中央组织部"], "中央党校(国家行政学院)"),
            (48, ["文物局"], "博物馆(纪念馆)"),
            (29, ["生态环境部"], "(科普类)"),
        ],
    )
    def test_parentheses_inside_a_sentence_are_text(
        self, notice: ParsedNotice, number: int, units: list[str], inner: str
    ) -> None:
        task = notice.tasks[number - 1]
        assert [d.name for d in task.departments] == units
        assert inner in task.body
        assert not task.body.endswith(")")

    def test_every_unit_list_in_the_seed_is_read(self, notice: ParsedNotice, seed_text: str) -> None:
        # Independent count from the text: the names inside each ledger line's final parentheses.
        ledger = seed_text.split("任务台账", 2)[-1]
        lists = re.findall(r"^\s*\d+\..*\(([^()]*)\)\s*$", ledger, flags=re.M)
        assert len(lists) == 67
        for task, raw in zip(notice.tasks, lists, strict=True):
            named = [n for n in re.split("[、,]", raw) if "成员单位" not in n]
            assert len(task.departments) == len(named), task.number


class TestVariants:
    def test_full_width_punctuation_gives_identical_records(self, seed_text: str, notice: ParsedNotice) -> None:
        variant = parse_notice(seed_text.translate(FULL_WIDTH))
        assert variant.tasks[0].text != notice.tasks[0].text or "(" not in notice.tasks[0].text
        assert _projection(variant) == _projection(notice)
        assert variant.content_hash == notice.content_hash

    def test_gb18030_gives_identical_records(self, seed_text: str, notice: ParsedNotice) -> None:
        assert parse_notice_bytes(seed_text.encode("gb18030")) == notice

    def test_crlf_with_bom_gives_identical_records(self, seed_text: str, notice: ParsedNotice) -> None:
        raw = "\ufeff".encode() + seed_text.replace("\n", "\r\n").encode("utf-8")
        assert parse_notice_bytes(raw) == notice

    def test_full_width_gb18030_crlf_together(self, seed_text: str, notice: ParsedNotice) -> None:
        raw = seed_text.translate(FULL_WIDTH).replace("\n", "\r\n").encode("gb18030")
        assert _projection(parse_notice_bytes(raw)) == _projection(notice)

    def test_gb18030_with_a_byte_order_mark_gives_identical_records(self, seed_text: str, notice: ParsedNotice) -> None:
        # The same notice in another encoding is the same notice: same records, same content hash.
        assert parse_notice_bytes("\ufeff".encode("gb18030") + seed_text.encode("gb18030")) == notice

    def test_text_with_old_mac_line_ends_gives_identical_records(self, seed_text: str, notice: ParsedNotice) -> None:
        assert parse_notice(seed_text.replace("\n", "\r")) == notice


class TestOtherEditions:
    def test_edition_without_ledger_puts_units_on_key_points(self) -> None:
        text = (
            "2024年某省全民科学素质行动工作要点\n"
            "一、加强组织领导\n"
            "1.强化统筹协调。建立联席会议制度。(省科协牵头,各成员单位参与)\n"
            "2.开展科普宣传。举办2024年全省科普日活动。（省科协、省教育厅）\n"
            "二、加强保障\n"
            "3.完善政策。推进条例修订。\n"
        )
        notice = parse_notice(text)
        assert notice.year == 2024 and not notice.tasks
        kp1, kp2, kp3 = notice.key_points
        assert [(d.name, d.role) for d in kp1.departments] == [("省科协", "lead")] and kp1.all_member_units
        assert [(d.name, d.role) for d in kp2.departments] == [("省科协", "lead"), ("省教育厅", "participant")]
        assert kp2.body == "举办2024年全省科普日活动。"
        assert kp3.departments == ()

    def test_middle_level_sections_are_kept(self) -> None:
        text = (
            "2025年全民科学素质行动工作要点\n"
            "一、总体要求\n（一）强化引领\n1.学习贯彻。内容。\n（二）夯实基础\n2.建设设施。内容。\n"
            "附件\n任务台账\n1.建设设施。(中国科协、教育部)\n"
        )
        notice = parse_notice(text)
        assert [(s.label, s.level, s.parent) for s in notice.sections] == [("一", 1, None), ("一", 2, 0), ("二", 2, 0)]
        assert [kp.section for kp in notice.key_points] == [1, 2]
        assert notice.tasks[0].departments[1].name == "教育部"
        # Each of the three heading lines is accounted as a section, the middle levels too.
        assert Counter(a.kind for a in notice.lines)["section"] == 3

    def test_letter_prose_without_a_heading_is_the_intro_and_accounted_as_such(self) -> None:
        text = (
            "关于印发《2025年全民科学素质行动工作要点》的通知\n"
            "各成员单位:\n"
            "现将工作要点印发给你们,请认真贯彻落实。\n"
            "一、总体要求\n1.学习贯彻。内容。\n"
            "附件\n任务台账\n1.建设设施。(中国科协、教育部)\n"
        )
        notice = parse_notice(text)
        assert notice.intro == ("现将工作要点印发给你们,请认真贯彻落实。",) and notice.cover_letter == ()
        assert [a.kind for a in notice.lines[:3]] == ["title", "addressees", "intro"]

    def test_a_task_wrapped_after_a_parenthesis_that_names_no_unit_reads_as_one(
        self, seed_text: str, notice: ParsedNotice
    ) -> None:
        # "(纪念馆)" closes the line like a unit list would, but names no unit: the item goes on.
        text = seed_text.replace("48.指导博物馆(纪念馆)围绕", "48.指导博物馆(纪念馆)\n  围绕")
        assert text != seed_text
        assert _task_projection(parse_notice(text)) == _task_projection(notice)

    def test_explicit_lead_marker_wins_over_order(self) -> None:
        text = "2025年工作要点\n一、任务\n1.甲。乙。\n附件\n1.开展评估。(教育部、中国科学技术协会牵头)\n"
        task = parse_notice(text).tasks[0]
        assert [(d.name, d.role) for d in task.departments] == [("教育部", "participant"), ("中国科协", "lead")]


class TestBadInput:
    def test_empty(self) -> None:
        with pytest.raises(NoticeFormatError, match="empty"):
            parse_notice_bytes(b"  \n\n")

    def test_blank_text(self) -> None:
        with pytest.raises(NoticeFormatError, match="the file is empty"):
            parse_notice(" \n\t\n")

    def test_sections_without_key_points(self) -> None:
        with pytest.raises(NoticeFormatError) as info:
            parse_notice("2025年全民科学素质行动工作要点\n一、总体要求\n二、保障措施\n")
        assert info.value.line == 2
        assert str(info.value) == (
            "line 2: expected numbered key points ('1.…') under the section headings; found none"
        )

    def test_a_second_attachment_heading_inside_the_ledger(self, seed_text: str) -> None:
        text = seed_text.replace("\n  13.举办第九届", "\n  附件2\n  13.举办第九届")
        line = text.split("\n").index("  附件2") + 1
        with pytest.raises(NoticeFormatError) as info:
            parse_notice(text)
        assert info.value.line == line
        assert str(info.value) == (
            f"line {line}: expected ledger task 13 or the end of the ledger, found a second attachment heading '附件2'"
        )

    def test_binary(self) -> None:
        with pytest.raises(NoticeFormatError, match="binary"):
            parse_notice_bytes(bytes(range(256)) * 4)

    def test_not_of_this_family(self) -> None:
        with pytest.raises(NoticeFormatError, match="section heading") as info:
            parse_notice("Dear all,\nthe meeting is on Monday.\n")
        assert info.value.line == 1

    def test_cut_off_mid_item(self, seed_text: str) -> None:
        cut = seed_text[: seed_text.index("67.推进全民数字素养") + len("67.推进全民数字素养")]
        with pytest.raises(NoticeFormatError) as info:
            parse_notice(cut)
        assert info.value.line == cut.count("\n") + 1
        assert "task 67" in str(info.value) or "mid-item" in str(info.value)

    def test_cut_off_in_the_key_points(self, seed_text: str) -> None:
        cut = seed_text[: seed_text.index("开展全国科普工作先进集体") + 6]
        with pytest.raises(NoticeFormatError, match="mid-item") as info:
            parse_notice(cut)
        assert info.value.line is not None and info.value.line > 1

    def test_skipped_task_number(self, seed_text: str) -> None:
        broken = seed_text.replace("\n  13.举办第九届", "\n  14.举办第九届")
        with pytest.raises(NoticeFormatError, match="expected ledger task 13, found 14"):
            parse_notice(broken)

    def test_task_without_unit_list(self, seed_text: str) -> None:
        broken = seed_text.replace(
            "2.加强和改进公务员考录工作,注重对科学素质的测查和评价。(中央组织部)", "2.加强和改进公务员考录工作。"
        )
        with pytest.raises(NoticeFormatError, match="ledger task 2 has no unit list"):
            parse_notice(broken)


DATA = Path(__file__).resolve().parent / "data"


def _ledger_renumbered(seed_text: str, written: str) -> str:
    """The seed with its ledger numbered in another style: written.format(n) for each task n."""
    head, ledger = seed_text.rsplit("任务台账\n", 1)
    ledger = re.sub(r"^(\s*)(\d+)\.", lambda m: m.group(1) + written.format(m.group(2)), ledger, flags=re.M)
    return head + "任务台账\n" + ledger


def _task_projection(notice: ParsedNotice) -> list[tuple[int, str, object]]:
    return [(t.number, t.body, t.departments) for t in notice.tasks]


class TestNumberingStyles:
    @pytest.mark.parametrize("written", ["({})", "（{}）", "{}、", "{}．"])
    def test_ledger_in_another_style_reads_the_same_67_tasks(
        self, seed_text: str, notice: ParsedNotice, written: str
    ) -> None:
        variant = parse_notice(_ledger_renumbered(seed_text, written))
        assert _task_projection(variant) == _task_projection(notice)
        assert len(variant.key_points) == 12 and variant.ledger_title == notice.ledger_title

    def test_the_shipped_style_variants_match_the_seed(self, notice: ParsedNotice) -> None:
        for name in ("2023-ledger-paren.txt", "2023-ledger-fullwidth-paren.txt", "2023-ledger-dun.txt"):
            assert _task_projection(parse_notice((DATA / name).read_text("utf-8"))) == _task_projection(notice), name

    def test_circled_ledger_full_width_key_points_and_numbered_sub_paragraphs(self) -> None:
        notice = parse_notice((DATA / "2025-province-circled.txt").read_text("utf-8"))
        assert [kp.number for kp in notice.key_points] == [1, 2, 3, 4]
        assert notice.key_points[1].sub_paragraphs == (
            "(1)省级层面,建立联席会议制度,定期会商重点工作。",
            "(2)市县层面,落实属地责任,推动任务落地见效。",
        )
        assert [t.number for t in notice.tasks] == [1, 2, 3, 4]
        assert (
            notice.tasks[2].text
            == "推进县级科技馆建设,支持基层科普阵地提质增效,完善科普设施布局。(省科协、省发展改革委)"
        )

    def test_more_than_9999_tasks_are_each_their_own(self, seed_text: str) -> None:
        head = seed_text.rsplit("任务台账\n", 1)[0]
        ledger = "\n".join(f"{n}.推进第{n}项工作。(中国科协)" for n in range(1, 10_051))
        notice = parse_notice(f"{head}任务台账\n{ledger}\n")
        assert len(notice.tasks) == 10_050
        assert notice.tasks[9_999].number == 10_000 and notice.tasks[9_999].body == "推进第10000项工作。"
        assert max(len(t.text) for t in notice.tasks) < 30

    def test_unknown_style_is_refused_with_the_lines_and_the_known_styles(self, seed_text: str) -> None:
        text = _ledger_renumbered(seed_text, "{})")
        with pytest.raises(NoticeFormatError, match="followed by no ledger task") as info:
            parse_notice(text)
        message = str(info.value)
        assert "'1)印发实施" in message and "'2)加强和改进" in message
        assert all(style in message for style in ("'1.'", "'1、'", "'(1)'", "'①'"))
        assert info.value.line == 75

    def test_attachment_with_a_title_and_nothing_readable(self) -> None:
        text = "2025年工作要点\n一、任务\n1.甲。乙。\n附件\n任务台账\n来源:办公室\n"
        with pytest.raises(NoticeFormatError, match="followed by no ledger task") as info:
            parse_notice(text)
        assert info.value.line == 5
        text = text.replace("附件\n", "附件:2025年任务台账\n附件\n")
        with pytest.raises(NoticeFormatError, match="first lines not read: line 6: '任务台账'") as info:
            parse_notice(text)
        assert info.value.line == 6

    def test_attachment_named_but_not_included_is_fine(self) -> None:
        notice = parse_notice("2025年工作要点\n一、任务\n1.甲。乙。\n附件:2025年任务台账\n来源:办公室\n")
        assert notice.tasks == () and notice.ledger_title is None

    def test_switch_of_style_in_the_ledger_is_an_error(self, seed_text: str) -> None:
        text = seed_text.replace("\n  13.举办第九届", "\n  (13)举办第九届")
        with pytest.raises(NoticeFormatError, match=r"switched from '1\.' to '\(1\)' in the ledger") as info:
            parse_notice(text)
        assert "'13.'" in str(info.value) and info.value.line == 99

    def test_switch_of_style_in_the_key_points_is_an_error(self, seed_text: str) -> None:
        text = seed_text.replace("\n  5.加强科普基础设施建设", "\n  5、加强科普基础设施建设")
        with pytest.raises(NoticeFormatError, match=r"switched from '1\.' to '1、' in the key points") as info:
            parse_notice(text)
        assert info.value.line == 37


class TestLimits:
    def test_a_task_over_the_limit_is_refused_with_its_number_and_first_words(self, seed_text: str) -> None:
        long = "开展" + "科普" * 1_000 + "。(中央宣传部)"
        text = seed_text.replace("4.开展文化科技卫生“三下乡”活动。(中央宣传部)", f"4.{long}")
        with pytest.raises(NoticeFormatError, match=r"ledger task 4 is over 2,000 characters") as info:
            parse_notice(text)
        assert "'开展科普科普" in str(info.value) and info.value.line == 81

    def test_unnumbered_lines_cannot_grow_a_task_past_the_limit(self, seed_text: str) -> None:
        wrapped = "\n".join(["  67.推进全民数字素养与技能监测评估,"] + ["  并持续开展相关工作,"] * 200)
        text = seed_text.replace("  67.推进全民数字素养与技能监测评估。", wrapped)
        with pytest.raises(NoticeFormatError, match="ledger task 67 is over 2,000"):
            parse_notice(text)


class TestEveryLineAccountedFor:
    def test_every_non_blank_line_has_one_place(self, seed_text: str, notice: ParsedNotice) -> None:
        non_blank = [i for i, line in enumerate(seed_text.split("\n"), start=1) if line.strip()]
        assert [a.line for a in notice.lines] == non_blank
        assert {a.kind for a in notice.lines} <= set(LINE_KINDS)

    def test_the_seed_by_kind(self, notice: ParsedNotice) -> None:
        kinds = Counter(a.kind for a in notice.lines)
        assert (kinds["section"], kinds["key_point"], kinds["sub_paragraph"], kinds["task"]) == (4, 12, 6, 67)
        assert (kinds["title"], kinds["wrapper"], kinds["ledger_title"], kinds["footer"]) == (3, 2, 2, 1)

    def test_a_second_value_of_a_header_field_is_kept_as_text(self, seed_text: str) -> None:
        text = seed_text.replace("  2023年3月22日\n", "  2023年3月22日\n  2023年3月23日\n", 1)
        notice = parse_notice(text)
        assert notice.issue_date is not None and notice.issue_date.day == 22
        assert "2023年3月23日" in notice.cover_letter

    def test_a_line_after_the_footer_fits_nowhere(self, seed_text: str) -> None:
        text = seed_text + "\n68.再加一项任务。(中国科协)\n"
        with pytest.raises(NoticeFormatError, match="fits nowhere: it follows the page footer") as info:
            parse_notice(text)
        assert info.value.line == seed_text.count("\n") + 2

    def test_footer_furniture_is_accounted_as_footer(self, seed_text: str) -> None:
        notice = parse_notice(seed_text + "\n责任编辑:张三\n【打印本页】\n关闭窗口\n")
        assert [a.kind for a in notice.lines[-4:]] == ["footer"] * 4

    def test_a_line_after_a_closed_task_fits_nowhere(self, seed_text: str) -> None:
        text = seed_text.replace("(中央组织部)\n\n  3.", "(中央组织部)\n以上任务按年度推进\n  3.")
        with pytest.raises(NoticeFormatError, match="fits nowhere: ledger task 2 already ends") as info:
            parse_notice(text)
        assert info.value.line == 78
