"""Activities, cited documents, target groups and trace links read from the text."""

from __future__ import annotations

import re

import pytest

from app.parser import ParsedNotice, parse_notice
from app.parser.activities import find_activity_names, series_of
from app.parser.normalise import normalise
from app.parser.trace import bigram_set


def _activity(notice: ParsedNotice, name: str):  # type: ignore[no-untyped-def]
    found = [a for a in notice.activities if a.name == name]
    assert found, f"{name} not found among {[a.name for a in notice.activities]}"
    return found[0]


class TestActivities:
    @pytest.mark.parametrize(
        ("name", "kind"),
        [
            ("全国科普日", "observance"),
            ("全国科技活动周", "observance"),
            ("中国科幻大会", "conference"),
            ("英才计划", "programme"),
            ("第37届全国青少年科技创新大赛", "competition"),
            ("银龄科普行动", "campaign"),
            ("世界公众科学素质促进大会", "conference"),
            ("全国防灾减灾日", "observance"),
            ("三下乡", "campaign"),
        ],
    )
    def test_named_activities_are_found_with_their_kind(self, notice: ParsedNotice, name: str, kind: str) -> None:
        assert _activity(notice, name).kind == kind

    @pytest.mark.parametrize(
        ("task", "named"),
        [
            # Read off the ledger (附件): every event, campaign or contest each task names.
            (4, {"三下乡"}),
            (6, set()),  # 科幻电影 services, no named activity
            (8, {"全国双创活动"}),
            (11, {"英才计划", "五项学科竞赛"}),
            (15, {"全国科技活动周"}),
            (26, {"第二届全国技能大赛", "第二届全国乡村振兴职业技能大赛", "第47届世界技能大赛", "第48届世界技能大赛"}),
            (28, {"世界地球日", "2023年自然资源科普讲解大赛", "科普微视频大赛"}),
            (30, {"中国航海日", "水上交通安全知识进校园", "交通运输科普讲解大赛", "交通科技云论坛"}),
            (37, {"全国防灾减灾日", "全国安全生产月", "全国消防宣传月"}),
            (61, {"银龄跨越数字鸿沟科普专项行动"}),
            (64, {"全国科普日", "典赞·科普中国", "中国科幻大会"}),
        ],
    )
    def test_activities_named_in_a_task(self, notice: ParsedNotice, task: int, named: set[str]) -> None:
        assert {a.name for a in notice.activities if task in a.tasks} == named

    def test_activities_named_in_task_50(self, notice: ParsedNotice) -> None:
        found = {a.name for a in notice.activities if 50 in a.tasks}
        # Key point 9's “大国工匠” (a brand) may link here too: task 50 names it inside longer
        # names. "中国梦·劳动美——…" is the theme of a talk series, not a named activity.
        assert found - {"大国工匠"} == {
            "大国工匠年度人物",
            "劳模工匠进校园",
            "第二届大国工匠创新交流大会暨大国工匠论坛",
            "第七届全国职工优秀技术创新成果交流活动",
        }

    @pytest.mark.parametrize(
        ("key_point", "named"),
        [
            (7, {"国培计划", "中小学教师科学素养提升行动计划"}),
            (8, {"中国科幻大会", "世界公众科学素质促进大会"}),
        ],
    )
    def test_activities_named_in_a_key_point(self, notice: ParsedNotice, key_point: int, named: set[str]) -> None:
        assert {a.name for a in notice.activities if key_point in a.key_points} == named

    def test_science_day_links(self, notice: ParsedNotice) -> None:
        day = _activity(notice, "全国科普日")
        assert day.tasks == (64,) and day.key_points == (9,)

    @pytest.mark.parametrize(
        "phrase", ["双减", "13个强国", "5个中国", "科幻十条", "中央厨房", "群众性示范科普活动", "专项行动"]
    )
    def test_policy_terms_and_generic_phrases_are_not_activities(self, notice: ParsedNotice, phrase: str) -> None:
        assert phrase not in {a.name for a in notice.activities}

    def test_rules_work_on_another_years_wording(self) -> None:
        found = find_activity_names(
            "举办第38届全国青少年科技创新大赛和第十届全国青年科普创新实验暨作品大赛。"
            "开展“科普新春行”活动,组织全国科普月、世界海洋日等主题科普活动。实施乡村科普振兴计划。"
        )
        assert found["第38届全国青少年科技创新大赛"] == "competition"
        assert found["第十届全国青年科普创新实验暨作品大赛"] == "competition"
        assert found["科普新春行"] == "campaign"
        assert found["乡村科普振兴计划"] == "programme"
        assert found["世界海洋日"] == "observance"

    def test_a_quoted_name_may_end_in_a_word_that_only_quotes_make_a_name(self) -> None:
        assert find_activity_names("推动“科学家精神进校园”。") == {"科学家精神进校园": "campaign"}

    def test_a_time_word_alone_is_no_observance(self) -> None:
        assert find_activity_names("利用“节日”“本月”做好宣传。") == {}

    def test_in_a_list_what_precedes_deng_is_the_name(self) -> None:
        found = find_activity_names("举办全国科普讲解大赛等赛事、全国科普日活动。")
        assert found == {"全国科普讲解大赛": "competition", "全国科普日": "observance"}

    def test_series_drops_the_edition(self) -> None:
        assert series_of("第37届全国青少年科技创新大赛") == "全国青少年科技创新大赛"
        assert series_of("2023全国专精特新中小企业发展大会") == "全国专精特新中小企业发展大会"


class TestReferences:
    def test_cited_documents(self, notice: ParsedNotice) -> None:
        # Every 《…》 in the notice but its own title, with the key points and tasks citing it.
        assert {r.title: (r.key_points, r.tasks) for r in notice.references} == {
            "家庭教育促进法": ((9,), (53,)),
            "全国职工素质建设工程五年规划(2021—2025年)": ((9,), ()),
            "2023—2027年全国干部教育培训规划": ((9,), (1,)),
            "关于新时代进一步加强科学技术普及工作的意见": ((11,), ()),
            "科普法": ((12,), (17,)),
            "关于新时代加强社区科普工作的意见": ((), (23,)),
            "纲要": ((), (55,)),
        }


class TestTargetGroups:
    def test_key_point_9_names_all_five_groups(self, notice: ParsedNotice) -> None:
        assert notice.key_points[8].target_groups == ("青少年", "农民", "产业工人", "老年人", "领导干部和公务员")

    @pytest.mark.parametrize(
        ("task", "group"), [(1, "领导干部和公务员"), (61, "老年人"), (33, "农民"), (11, "青少年"), (25, "产业工人")]
    )
    def test_tasks_are_tagged(self, notice: ParsedNotice, task: int, group: str) -> None:
        assert group in notice.tasks[task - 1].target_groups


class TestTraceLinks:
    def test_tasks_copied_from_a_key_point_trace_to_it_first(self, notice: ParsedNotice) -> None:
        copied = 0
        for task in notice.tasks:
            clauses = [c for c in re.split(r"[。]", normalise(task.body)) if len(c) > 8]
            homes = [
                kp.number for kp in notice.key_points if clauses and all(c in normalise(kp.full_text) for c in clauses)
            ]
            if len(homes) == 1:
                copied += 1
                assert task.key_points and task.key_points[0][0] == homes[0], task.number
        assert copied >= 10

    def test_task_joining_two_key_points_links_both(self, notice: ParsedNotice) -> None:
        assert {n for n, _ in notice.tasks[23].key_points} >= {5, 6}

    def test_scores_are_best_first_and_in_range(self, notice: ParsedNotice) -> None:
        for task in notice.tasks:
            scores = [s for _, s in task.key_points]
            assert scores == sorted(scores, reverse=True)
            assert all(0 < s <= 1 for s in scores)

    def test_a_task_unrelated_to_any_key_point_has_no_link(self) -> None:
        notice = parse_notice(
            "2025年工作要点\n一、甲\n1.建设科技馆。完善设施。\n附件\n1.举办航海日活动。(交通运输部)\n"
        )
        assert notice.tasks[0].key_points == ()
        assert bigram_set("建设科技馆") >= {"科技", "技馆"}
