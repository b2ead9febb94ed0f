"""Activities, cited documents, target groups and trace links read from the text."""

from __future__ import annotations

import re

import pytest

from app.parser import ParsedNotice, parse_notice
from app.parser.activities import find_activity_names, series_of
from app.parser.normalise import normalise
from app.parser.trace import bigrams


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

    def test_each_activity_links_to_every_mention(self, notice: ParsedNotice) -> None:
        for activity in notice.activities:
            for task in notice.tasks:
                mentioned = activity.name in re.sub("[“”‘’]", "", normalise(task.body))
                assert (task.number in activity.tasks) == mentioned, (activity.name, task.number)

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

    def test_series_drops_the_edition(self) -> None:
        assert series_of("第37届全国青少年科技创新大赛") == "全国青少年科技创新大赛"
        assert series_of("2023全国专精特新中小企业发展大会") == "全国专精特新中小企业发展大会"


class TestReferences:
    def test_cited_documents(self, notice: ParsedNotice, seed_text: str) -> None:
        titles = {r.title for r in notice.references}
        cited_in_text = set(re.findall(r"《([^《》]+)》", seed_text)) - {notice.title}
        assert titles == cited_in_text
        law = next(r for r in notice.references if r.title == "家庭教育促进法")
        assert law.key_points == (9,) and law.tasks == (53,)


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
        assert bigrams("建设科技馆") >= {"科技", "技馆"}
