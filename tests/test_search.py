"""Search and suggestions over the seed: what a person typing Chinese expects to find."""

from __future__ import annotations

from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.search.dictionary import asking_phrases
from app.search.highlight import snippet
from app.search.text import fold

from .conftest import SEED


def _search(client: TestClient, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/search", params={"q": q, "limit": 50, **params})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _numbers(body: dict[str, Any], kind: str = "task") -> set[int]:
    return {item["number"] for item in body["items"] if item["kind"] == kind}


class TestFinding:
    def test_scifi_finds_tasks_6_64_and_key_point_8_highlighted(self, client: TestClient) -> None:
        body = _search(client, "科幻")
        assert _numbers(body) == {6, 64}
        assert 8 in _numbers(body, "key_point")
        for item in body["items"]:
            assert "<em>科幻</em>" in item["snippet"]

    def test_phrase_finds_science_day_task(self, client: TestClient) -> None:
        body = _search(client, '"全国科普日"')
        assert 64 in _numbers(body)
        assert body["query"]["tokens"][0]["phrase"] is True

    def test_department_abbreviation_and_keyword(self, client: TestClient) -> None:
        body = _search(client, "科协 科幻")
        full = [item for item in body["items"] if not item["partial"]]
        assert {item["number"] for item in full} == {6, 64}
        for item in full:
            assert "中国科协" in [d["name"] for d in item["departments"]]
        assert body["query"]["tokens"][0]["department"] == "中国科协"

    def test_full_name_finds_what_the_abbreviation_finds(self, client: TestClient) -> None:
        assert _numbers(_search(client, "中国科学技术协会 科幻")) == _numbers(_search(client, "科协 科幻"))
        assert _numbers(_search(client, "中国科学院")) == _numbers(_search(client, "中科院"))

    def test_quoted_department_name(self, client: TestClient) -> None:
        assert 38 in _numbers(_search(client, '"市场监管总局"'))

    def test_traditional_characters(self, client: TestClient) -> None:
        body = _search(client, "科幻電影")
        assert 6 in _numbers(body)
        assert "<em>科幻电影</em>" in body["items"][0]["snippet"]

    @pytest.mark.parametrize(("q", "task"), [("科普日", 64), ("气象", 46), ("挑战杯", 51), ("数字鸿沟", 61)])
    def test_words_inside_longer_words(self, client: TestClient, q: str, task: int) -> None:
        assert task in _numbers(_search(client, q))

    @pytest.mark.parametrize(("q", "task"), [("第37届", 58), ("2023", 20), ("47", 26)])
    def test_numbers_and_ordinals(self, client: TestClient, q: str, task: int) -> None:
        assert task in _numbers(_search(client, q))

    def test_a_lone_digit_is_a_query(self, client: TestClient) -> None:
        body = _search(client, "3")
        assert body["total"] > 0 and body["query"]["tokens"][0]["words"] == ["3"]

    def test_synonyms_widen_with_lower_weight(self, client: TestClient) -> None:
        body = _search(client, "老年人")
        assert 61 in _numbers(body)  # says 银龄, not 老年人
        scores = {i["number"]: i["score"] for i in body["items"] if i["kind"] == "task"}
        assert scores[35] > scores[61]  # 35 names 养老 and 老年; 61 only matches through a synonym

    def test_or_is_the_union(self, client: TestClient) -> None:
        either = _numbers(_search(client, "科幻 OR 气象"))
        assert either == _numbers(_search(client, "科幻")) | _numbers(_search(client, "气象"))

    def test_exclusion(self, client: TestClient) -> None:
        assert _numbers(_search(client, "科幻 -电影")) == {64}


class TestFilters:
    def test_kind(self, client: TestClient) -> None:
        body = _search(client, "科普", kind="key_point")
        assert body["items"] and {i["kind"] for i in body["items"]} == {"key_point"}

    def test_department_any_spelling(self, client: TestClient) -> None:
        body = _search(client, "科普", department="中国科学技术协会", kind="task")
        assert body["items"] and all("中国科协" in [d["name"] for d in i["departments"]] for i in body["items"])

    def test_section_label_or_ordinal(self, client: TestClient) -> None:
        by_label = _search(client, "科普", section="三", kind="key_point")
        assert _numbers(by_label, "key_point") <= {5, 6, 7, 8} and by_label["total"] > 0
        assert _numbers(_search(client, "科普", section="3", kind="key_point"), "key_point") == _numbers(
            by_label, "key_point"
        )

    def test_target_group(self, client: TestClient) -> None:
        assert 61 in _numbers(_search(client, "科普", target_group="老年人"))
        assert 6 not in _numbers(_search(client, "科幻", target_group="老年人"))

    def test_facets_count_all_hits(self, client: TestClient) -> None:
        body = _search(client, "科普", limit=5)
        kinds = body["facets"]["kind"]
        # The list holds the ledger's records; matching activities are counted beside them.
        assert kinds["task"] + kinds["key_point"] == body["total"] > 5
        assert kinds["activity"] > 0
        assert body["facets"]["department"]["中国科协"] >= 1
        narrowed = _search(client, "科普", department="中国科协", kind="task")
        assert narrowed["total"] == body["facets"]["department"]["中国科协"]

    def test_target_group_facet_matches_the_filter(self, client: TestClient) -> None:
        body = _search(client, "科普")
        elderly = body["facets"]["target_group"]["老年人"]
        assert elderly == _search(client, "科普", target_group="老年人")["total"] > 0

    def test_unknown_department_filter(self, client: TestClient) -> None:
        response = client.get("/api/v1/search", params={"q": "科普", "department": "火星局"})
        assert response.status_code == 422 and "火星局" in response.json()["detail"]


class TestRankingAndPages:
    def test_title_outranks_body(self, client: TestClient) -> None:
        body = _search(client, "科学家精神", kind="key_point")
        assert body["items"][0]["number"] == 4  # its title is 传承弘扬科学家精神

    def test_pages_are_stable(self, client: TestClient) -> None:
        whole = [(i["kind"], i["id"]) for i in _search(client, "科普", limit=40)["items"]]
        paged = []
        for offset in range(0, 40, 7):
            paged += [(i["kind"], i["id"]) for i in _search(client, "科普", limit=7, offset=offset)["items"]]
        assert paged[:40] == whole

    def test_a_repeated_search_is_answered_from_the_cache(self, client: TestClient) -> None:
        cache = cast(FastAPI, client.app).state.search.cache
        assert len(cache._data) == 0  # each test has an app, and a result cache, of its own
        first = _search(client, "科幻")
        assert _search(client, "科幻") == first and len(cache._data) == 1
        _search(client, "科幻", kind="task")
        assert len(cache._data) == 2

    def test_ties_broken_by_number(self, client: TestClient) -> None:
        items = _search(client, "中科院", kind="task")["items"]
        for a, b in zip(items, items[1:], strict=False):
            assert (-a["score"], a["number"]) <= (-b["score"], b["number"])


class TestBrokenQueries:
    @pytest.mark.parametrize(
        ("q", "says"),
        [
            ('"科普', "never closed"),
            ("OR", "OR needs"),
            ("科普 OR", "OR needs"),
            ("-", "followed by a term"),
            ("-科普", "only excludes"),
            ("", "empty"),
            ("   ", "empty"),
            ("科普\x00日", "control character"),
            ("，。！", "nothing searchable"),
            ('""', "enclose nothing"),
            ("科" * 5000, "limit"),
        ],
    )
    def test_400_with_a_message(self, client: TestClient, q: str, says: str) -> None:
        response = client.get("/api/v1/search", params={"q": q})
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["type"] == "/problems/invalid-query" and says in body["detail"]

    def test_missing_q_is_422(self, client: TestClient) -> None:
        assert client.get("/api/v1/search").status_code == 422

    def test_bad_pagination(self, client: TestClient) -> None:
        assert client.get("/api/v1/search", params={"q": "科普", "limit": 1000}).status_code == 422
        assert client.get("/api/v1/search", params={"q": "科普", "offset": -5}).status_code == 422


class TestSuggest:
    def test_completions(self, client: TestClient) -> None:
        body = client.get("/api/v1/suggest", params={"q": "科普"}).json()
        assert body["query"] == "科普"
        assert "科普中国" in body["suggestions"]
        assert all(s != "科普" for s in body["suggestions"])
        assert len(body["suggestions"]) == 10

    def test_department_and_activity_names(self, client: TestClient) -> None:
        assert "全国科普日" in client.get("/api/v1/suggest", params={"q": "全国科"}).json()["suggestions"]
        assert "中国科协" in client.get("/api/v1/suggest", params={"q": "中国科", "limit": 50}).json()["suggestions"]

    def test_opensearch_shape(self, client: TestClient) -> None:
        response = client.get("/api/v1/suggest", params={"q": "科普", "format": "opensearch", "limit": 3})
        assert response.headers["content-type"].startswith("application/x-suggestions+json")
        query, suggestions = response.json()
        assert query == "科普" and len(suggestions) == 3

    @pytest.mark.parametrize("params", [{"q": ""}, {"q": "科" * 60}])
    def test_bad_input(self, client: TestClient, params: dict[str, str]) -> None:
        assert client.get("/api/v1/suggest", params=params).status_code == 400
        assert client.get("/api/v1/suggest", params={"q": "科普", "limit": 0}).status_code == 422


class TestSnippets:
    def test_everything_but_matches_is_escaped(self) -> None:
        html, count = snippet('<script>alert("科幻")</script> 科幻', ["科幻"])
        assert html == "&lt;script&gt;alert(&quot;<em>科幻</em>&quot;)&lt;/script&gt; <em>科幻</em>"
        assert count == 2

    @pytest.mark.parametrize("special", ["&", "<", ">", '"', "'"])
    def test_each_character_html_escapes_is_escaped_alone(self, special: str) -> None:
        from html import escape

        html, _ = snippet(f"科幻{special}影视", ["科幻"])
        assert html == f"<em>科幻</em>{escape(special)}影视" != f"<em>科幻</em>{special}影视"

    def test_a_longer_term_wins_and_matches_never_nest_or_overlap(self) -> None:
        # Terms come longest first: 科普 and 基地 inside 科普基地 are not marked again; 普基
        # overlaps the first match and is skipped; the second 科普 stands alone.
        html, count = snippet("科普基地建设科普", ["科普基地", "科普", "普基", "基地"])
        assert html == "<em>科普基地</em>建设<em>科普</em>" and count == 2

    def test_long_text_is_cut_around_the_matches(self) -> None:
        text = "甲" * 300 + "科幻" + "乙" * 300
        html, count = snippet(text, ["科幻"])
        assert count == 1 and html.startswith("…") and html.endswith("…") and len(html) < 140


class TestWhatPeopleType:
    """Questions, intent, relaxation, pinyin and the ledger-first list (issue: search that answers)."""

    def test_ledger_first_activities_beside_it(self, client: TestClient) -> None:
        body = _search(client, "高素质")
        assert {item["kind"] for item in body["items"]} <= {"task", "key_point"}
        assert [item["number"] for item in body["items"][:2]] == [34, 33] or {33, 34} <= _numbers(body)
        chips = {chip["name"]: [t["number"] for t in chip["tasks"]] for chip in body["activities"]}
        assert chips["高素质农民培育计划"] == [33]
        assert body["facets"]["kind"]["activity"] == len(body["activities"])

    def test_kind_activity_still_lists_them(self, client: TestClient) -> None:
        body = _search(client, "大赛", kind="activity")
        assert body["items"] and {item["kind"] for item in body["items"]} == {"activity"}
        assert body["activities"] == []

    def test_question_words_are_not_matched(self, client: TestClient) -> None:
        body = _search(client, "如何提升老年人的数字素养")
        assert 61 in _numbers(body)
        usage = {t["term"]: t["usage"] for t in body["query"]["tokens"]}
        assert usage["如何"] == "question"
        assert "如何" not in [t["term"] for t in body["query"]["tokens"] if t["usage"] == "search"]

    def test_only_question_words_is_a_400(self, client: TestClient) -> None:
        response = client.get("/api/v1/search", params={"q": "如何 哪些 的"})
        assert response.status_code == 400
        assert "question" in response.json()["detail"]

    def test_unit_and_role_is_a_filter(self, client: TestClient) -> None:
        body = _search(client, "教育部牵头的任务")
        leads = client.get("/api/v1/tasks", params={"department": "教育部", "role": "lead", "limit": 100}).json()
        assert _numbers(body) == {task["number"] for task in leads["items"]} and len(_numbers(body)) == 7
        assert body["query"]["intent"] == {"department": "教育部", "role": "lead", "words": ["教育部", "牵头"]}
        assert not any(item["partial"] for item in body["items"]), "nothing to miss when only filters remain"

    @pytest.mark.parametrize(
        ("q", "number"),
        [
            ("全国科普日由哪个部门牵头", 64),  # 由 (by) is grammar, not part of 全国科普日
            ("哪个部门管气象科普", 46),  # 管 (is in charge of) asks, without naming a unit
            ("科普法什么时候修订", 17),  # 什么时候 (when) is 什么 + 时候 to jieba
            ("中国科幻大会是第几届", 64),  # 第几届 kept whole, set aside whole
            ("青少年科技创新大赛是第多少届", 58),
            ("科技馆是不是免费开放", 24),  # 是不是 asks; it is no part of the words around it
            ("中国科幻大会是第几回", 64),  # 回, alone after the asking 第几, is no word to match
        ],
    )
    def test_who_and_when_questions(self, client: TestClient, q: str, number: int) -> None:
        body = _search(client, q)
        assert body["items"][0]["number"] == number and not body["items"][0]["partial"]

    def test_asking_phrases_never_cut_the_notice(self) -> None:
        # They go into the segmenter's dictionary: one that occurs in the notice would cut its text.
        notice = fold(SEED.read_text("utf-8"))
        assert asking_phrases() and not [p for p in asking_phrases() if fold(p) in notice]

    def test_intent_narrows_what_is_searched(self, client: TestClient) -> None:
        body = _search(client, "科协牵头 科幻")
        assert [item["number"] for item in body["items"]] == [64]

    def test_participant_role(self, client: TestClient) -> None:
        body = _search(client, "科协参与 科幻")
        assert [item["number"] for item in body["items"]] == [6]

    def test_traditional_unit_name(self, client: TestClient) -> None:
        assert _numbers(_search(client, "衛健委")) == _numbers(_search(client, "卫健委")) != set()

    def test_relaxed_when_words_are_not_in_one_record(self, client: TestClient) -> None:
        body = _search(client, "科普 基地 建设 评估")
        assert body["query"]["relaxed"] is True and body["query"]["dropped"]
        assert 65 in _numbers(body)
        partial = [item["partial"] for item in body["items"]]
        assert partial == sorted(partial), "full matches come before partial ones"

    def test_a_short_page_is_filled_with_partial_matches_after_the_full_ones(self, client: TestClient) -> None:
        # Only tasks 6 and 64 hold both words: the rest of the page holds one of them.
        body = _search(client, "科协 科幻")
        assert body["query"]["full_matches"] == 2 and body["query"]["relaxed"] is True
        assert [item["number"] for item in body["items"][:2]] == [6, 64]
        assert [item["partial"] for item in body["items"]] == [False] * 2 + [True] * (len(body["items"]) - 2)
        assert len(body["items"]) >= 10 and body["total"] == len(body["items"])

    @pytest.mark.parametrize(
        ("everyday", "formal"),
        [
            ("老师", "教师"),
            ("大学", "高校"),
            ("电影", "影视"),
            ("老人", "老年人"),
            ("手机", "数字鸿沟"),
            ("资助", "扶持"),
            ("提高", "提升"),
            ("防灾", "防灾减灾"),
            ("激励", "鼓励"),
        ],
    )
    def test_everyday_words_find_what_the_notice_says_formally(
        self, client: TestClient, everyday: str, formal: str
    ) -> None:
        assert _numbers(_search(client, formal)) <= _numbers(_search(client, everyday)) != set()

    def test_a_word_in_two_synonym_groups_searches_both(self, client: TestClient) -> None:
        # 防震减灾 is a kind of 防灾减灾 (task 37's 全国防灾减灾日) and is about 地震 (task 49).
        body = _search(client, "防震减灾")
        assert {37, 49} <= {item["number"] for item in body["items"] if not item["partial"]}
        assert {"防灾减灾", "地震"} <= set(body["query"]["tokens"][0]["synonyms"])

    def test_a_literal_word_outweighs_a_synonym_when_relaxing(self, client: TestClient) -> None:
        # No record holds 资助; 62 and 45 hold 出版 itself, 24 only 资金 (a synonym of 资助)
        # and 28 only 图书 (a synonym of 出版): the literal word earns more of the weight.
        numbers = [item["number"] for item in _search(client, "科普 作品 出版 资助")["items"]]
        assert max(numbers.index(45), numbers.index(62)) < min(numbers.index(24), numbers.index(28))

    def test_a_synonym_carries_most_of_its_words_weight_when_relaxing(self, client: TestClient) -> None:
        # No record holds 激励. Task 18 (先进工作者评比表彰) holds 工作者 and 表彰, a synonym of
        # 激励: the two rarer words of the query. Tasks 5 and 22 hold only 科技工作者, the
        # commonest word and one rarer one; 18 comes first among the tasks.
        numbers = [item["number"] for item in _search(client, "科技 工作者 激励")["items"] if item["kind"] == "task"]
        assert numbers[0] == 18 and {5, 22} <= set(numbers)

    def test_a_part_of_a_compound_keeps_its_synonyms_when_relaxing(self, client: TestClient) -> None:
        # Only task 7 and key point 8 say 应急科普. Task 37 (全国防灾减灾日…科普宣传教育活动) holds
        # 科普 and 防灾减灾, a synonym of the part 应急: it outranks records holding 科普 alone.
        items = _search(client, "应急科普")["items"]
        keys = [(item["kind"], item["number"]) for item in items]
        assert keys[:2] == [("task", 7), ("key_point", 8)]
        assert keys.index(("task", 37)) < keys.index(("task", 54))  # 54: 家庭亲子科普活动, 科普 only

    def test_encouraging_is_read_as_motivating_but_not_as_an_award(self, client: TestClient) -> None:
        # Key point 10 支持鼓励…支持科技工作者参与: the one record with all three words once 激励
        # reads 鼓励. 鼓励 alone does not widen to the awards (表彰) of task 18.
        body = _search(client, "科技 工作者 激励")
        assert (body["items"][0]["kind"], body["items"][0]["number"]) == ("key_point", 10)
        assert body["query"]["full_matches"] == 1
        assert "表彰" not in _search(client, "鼓励")["query"]["tokens"][0]["synonyms"]

    def test_a_unit_finds_the_tasks_every_member_unit_takes_part_in_last(self, client: TestClient) -> None:
        # Task 55 is 中国科协牵头,各成员单位参与: 工信部 takes part without being named.
        body = _search(client, "工信部")
        unit, items = body["query"]["tokens"][0]["department"], body["items"]
        named = [item["number"] for item in items if any(d["name"] == unit for d in item["departments"])]
        assert named and [item["number"] for item in items] == [*named, 55]
        assert not items[-1]["partial"]

    @pytest.mark.parametrize("q", ["科技活动周", "哪里有科技活动周"])
    def test_a_lone_character_stays_with_its_word(self, client: TestClient, q: str) -> None:
        # 周 ends 全国科技活动周 (task 15) without beginning any of its bigrams.
        body = _search(client, q)
        full = [item["number"] for item in body["items"] if not item["partial"]]
        assert full[0] == 15 and 46 in full
        assert all(len(t["term"]) > 1 for t in body["query"]["tokens"] if t["usage"] == "search")

    def test_tasks_filed_under_a_key_point_follow_the_records_that_hold_the_words(self, client: TestClient) -> None:
        # Key point 4 is 传承弘扬科学家精神; tasks 5, 44, 56 and 57 implement it without saying so.
        items = _search(client, "科学家精神")["items"]
        keys = [(item["kind"], item["number"]) for item in items]
        holding = [k for k, item in zip(keys, items, strict=True) if "科学家精神" in item["title"] + item["snippet"]]
        assert ("key_point", 4) in holding and ("task", 63) in holding
        assert keys[len(holding) :] == [("task", n) for n in (5, 44, 56, 57)]

    def test_a_five_year_plan_finds_its_years(self, client: TestClient) -> None:
        # The notice writes 2021—2025年 (key point 9), never 十四五.
        assert [(i["kind"], i["number"]) for i in _search(client, "十四五")["items"]] == [("key_point", 9)]

    def test_no_relaxation_when_enough_match(self, client: TestClient) -> None:
        body = _search(client, "科普 活动")
        assert body["query"]["relaxed"] is False and not any(item["partial"] for item in body["items"])

    @pytest.mark.parametrize("q", ['"科普基地建设评估"', "科普基地 -科普 评估区块链"])
    def test_phrases_and_exclusions_are_never_relaxed(self, client: TestClient, q: str) -> None:
        body = _search(client, q)
        for item in body["items"]:
            text = item["title"] + item["snippet"]
            assert "科普基地建设评估" in text or "科普" not in text

    def test_a_phrase_in_quotes_is_not_widened_to_its_synonyms(self, client: TestClient) -> None:
        # 数字鸿沟 and 数字技能 are synonyms; only task 61 (and key point 9) say 数字鸿沟 itself.
        assert 67 in _numbers(_search(client, "数字鸿沟"))
        body = _search(client, '"数字鸿沟"')
        assert _numbers(body) == {61} and body["query"]["tokens"][0]["synonyms"] == []

    def test_adjacent_words_rank_first(self, client: TestClient) -> None:
        items = _search(client, "全国 科普日")["items"]
        assert items[0]["number"] == 64

    def test_pinyin_query(self, client: TestClient) -> None:
        body = _search(client, "kehuan")
        assert {6, 64} <= _numbers(body)
        token = body["query"]["tokens"][0]
        assert (token["term"], token["pinyin"]) == ("科幻", "kehuan")

    @pytest.mark.parametrize(
        ("typed", "term"),
        [
            ("kēhuàn", "科幻"),  # tone marks, as an IME or a dictionary prints them
            ("ke huan", "科幻"),  # syllables typed apart, none a word alone
            ("ｋｅｈｕａｎ", "科幻"),  # full-width letters
            ("kehuan大会", "科幻大会"),  # the spelling run into characters
        ],
    )
    def test_pinyin_as_people_type_it(self, client: TestClient, typed: str, term: str) -> None:
        body = _search(client, typed)
        assert body["query"]["tokens"][0]["term"] == term
        assert 64 in _numbers(body)

    def test_run_together_pinyin_is_split_into_words(self, client: TestClient) -> None:
        body = _search(client, "shuzisuyang")  # 数字素养: no single vocabulary word
        assert [t["pinyin"] for t in body["query"]["tokens"]] == ["shuzisuyang"]
        assert body["items"][0]["number"] == 67 and body["query"]["full_matches"] >= 1

    @pytest.mark.parametrize(("typed", "word", "number"), [("yingji", "应急", 37), ("xiangcun", "乡村", 52)])
    def test_pinyin_of_a_word_the_index_holds_only_inside_compounds(
        self, client: TestClient, typed: str, word: str, number: int
    ) -> None:
        # jieba keeps 应急科普 and 乡村振兴 whole, so 应急 and 乡村 are no index words of their own.
        body = _search(client, typed)
        assert [(t["term"], t["pinyin"]) for t in body["query"]["tokens"]] == [(word, typed)]
        assert number in _numbers(body) and body["query"]["full_matches"] >= 1

    @pytest.mark.parametrize("typed", ["kejihuodongzhou", "kjhdz"])
    def test_an_activity_typed_in_pinyin_without_its_scope(self, client: TestClient, typed: str) -> None:
        # The notice names it 全国科技活动周 (task 15); people say 科技活动周.
        body = _search(client, typed)
        assert [(t["term"], t["pinyin"]) for t in body["query"]["tokens"]] == [("科技活动周", typed)]
        assert body["items"][0]["number"] == 15

    def test_a_question_typed_in_pinyin(self, client: TestClient) -> None:
        body = _search(client, "ruhe tisheng kexue suzhi")
        usage = {t["term"]: (t["usage"], t["pinyin"]) for t in body["query"]["tokens"]}
        assert usage["如何"] == ("question", "ruhe") and usage["提升"] == ("search", "tisheng")
        assert body["items"] and not body["items"][0]["partial"]

    def test_a_unit_and_role_typed_in_pinyin_are_an_intent(self, client: TestClient) -> None:
        body = _search(client, "jiaoyubu qiantou")
        intent = body["query"]["intent"]
        assert (intent["department"], intent["role"]) == ("教育部", "lead")
        assert [t["pinyin"] for t in body["query"]["tokens"]] == ["jiaoyubu", "qiantou"]
        assert _numbers(body) == _numbers(_search(client, "教育部牵头的任务"))

    @pytest.mark.parametrize(("typed", "term", "number"), [("szsy", "数字素养", 67), ("kxjy", "科学教育", 9)])
    def test_initials_of_several_words_read_as_they_stand_in_the_notice(
        self, client: TestClient, typed: str, term: str, number: int
    ) -> None:
        body = _search(client, typed)
        assert body["query"]["tokens"][0]["term"] == term
        assert number in [item["number"] for item in body["items"] if not item["partial"]]

    @pytest.mark.parametrize(("typed", "word"), [("kexie", "科协"), ("kepuri", "科普日"), ("lnr", "老年人")])
    def test_pinyin_suggestions(self, client: TestClient, typed: str, word: str) -> None:
        response = client.get("/api/v1/suggest", params={"q": typed})
        assert response.json()["suggestions"][0] == word

    def test_year_selects_the_edition(self, client: TestClient) -> None:
        body = _search(client, "2023年 科普日")
        assert body["query"]["year"] == 2023 and 64 in _numbers(body)
        note = _search(client, "2019年 科普日")["query"]["notes"]
        assert note and "2019" in note[0]
