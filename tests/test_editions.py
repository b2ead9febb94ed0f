"""Other editions and copies of the notice: the corpus in tests/data/editions/, how each reads."""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, select
from typer.testing import CliRunner, Result

from app import models as m
from app.cli import cli
from app.config import Settings, get_settings
from app.db import make_engine, unit_of_work
from app.domain.vocabulary import Role
from app.main import create_app
from app.migrate import upgrade
from app.parser import NoticeFormatError, ParsedNotice, parse_notice
from app.parser.lineage import TEXT_WEIGHT, Item, link
from app.services import catalogue
from app.services.importer import delete_document, import_notice
from app.web.diff import highlight_changes

from .conftest import ROOT, SEED

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
        for name, content in generated.items():
            assert (EDITIONS / name).read_bytes() == content.encode("utf-8"), name

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

    def test_a_work_points_title_with_a_suffix_is_read(self, seed_text: str, notice: ParsedNotice) -> None:
        # Only a title naming another family and no work points is refused (the benchmark's 合成第N册 copies).
        text = seed_text.replace("2023年全民科学素质行动工作要点", "2023年全民科学素质行动工作要点(征求意见稿)")
        parsed = parse_notice(text)
        assert parsed.title == "2023年全民科学素质行动工作要点(征求意见稿)" and len(parsed.tasks) == 67
        # Only the wording of the title changed: every line goes where the seed's line goes (the
        # bare title over the text, which no longer looks like one, is still the title).
        assert [a.kind for a in parsed.lines] == [a.kind for a in notice.lines]


def _counts(parsed: ParsedNotice) -> tuple[int, int, int, int]:
    return len(parsed.sections), len(parsed.key_points), len(parsed.tasks), len(parsed.departments)


def _store(engine: Engine, *names: str) -> dict[str, int]:
    """Import corpus files (or 'seed') in order; file name → document id."""
    ids = {}
    for name in names:
        text = SEED.read_text("utf-8") if name == "seed" else edition(name)
        with unit_of_work(engine) as session:
            ids[name] = import_notice(session, parse_notice(text), source_name=name).document_id
    return ids


def _lineage(engine: Engine) -> dict[tuple[int, int], tuple[int, int]]:
    """(document id, task number) → (document id, task number) of its previous-edition counterpart."""
    with Session(engine) as session:
        numbers = {t.id: (t.document_id, t.number) for t in session.exec(select(m.Task))}
        return {numbers[x.task_id]: numbers[x.previous_id] for x in session.exec(select(m.TaskLineage))}


class TestStore:
    def test_upgrade_from_0001_keeps_the_data(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
        upgrade(url, "0001")
        eng = make_engine(url)
        try:
            with eng.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO document (id, title, year, cover_letter, intro, content_hash, imported_at) "
                        "VALUES (1, '2023年全民科学素质行动工作要点', 2023, '', '', 'abc', '2026-01-01 00:00:00')"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO section (id, document_id, ordinal, label, title, level) VALUES (1, 1, 1, '一', 'T', 1)"
                    )
                )
            upgrade(url)
            with Session(eng) as session:
                doc = session.get(m.Document, 1)
                section = session.get(m.Section, 1)
                assert doc is not None and doc.title == "2023年全民科学素质行动工作要点"
                assert doc.province is None and doc.source is None
                assert section is not None and section.title == "T" and section.lead == []
        finally:
            eng.dispose()

    def test_new_fields_are_stored(self, engine: Engine) -> None:
        ids = _store(engine, "2018-section-leads.txt", "2023-province.txt", "2023-news-site.txt")
        with Session(engine) as session:
            leads = session.exec(
                select(m.Section.lead).where(
                    m.Section.document_id == ids["2018-section-leads.txt"], m.Section.level == 1
                )
            ).all()
            assert leads[0] == ["各成员单位要把学习贯彻党的二十大精神作为首要任务,结合职责抓好落实。"]
            assert all(leads) and len(leads) == 4
            province = session.get(m.Document, ids["2023-province.txt"])
            assert province is not None and province.province == "某省"
            news = session.get(m.Document, ids["2023-news-site.txt"])
            assert news is not None and news.source == "中国科协科普部"

    def test_a_traditional_copy_of_a_stored_notice_is_unchanged(self, engine: Engine) -> None:
        _store(engine, "seed")
        with unit_of_work(engine) as session:
            result = import_notice(session, parse_notice(edition("2023-traditional.txt")))
        assert result.status == "unchanged"

    def test_lineage_links_the_next_year_to_the_seed(self, engine: Engine) -> None:
        ids = _store(engine, "seed", "2024-next-year.txt")
        seed, nxt = ids["seed"], ids["2024-next-year.txt"]
        links = _lineage(engine)
        assert len(links) == 64
        assert {v[1] for v in links.values()} == set(range(1, 68)) - {13, 32, 43}  # the dropped ones
        assert {k[1] for k in links} == set(range(1, 65))  # 65–67 are new
        assert links[(nxt, 12)] == (seed, 12) and links[(nxt, 13)] == (seed, 14)  # renumbered after a drop
        assert links[(nxt, 55)] == (seed, 58)  # 第37届 → 第38届: reworded, still linked

    def test_lineage_is_recomputed_when_an_edition_comes_between(self, engine: Engine) -> None:
        ids = _store(engine, "2018-section-leads.txt", "2024-next-year.txt")
        first, last = ids["2018-section-leads.txt"], ids["2024-next-year.txt"]
        assert {v[0] for v in _lineage(engine).values()} == {first}
        seed = _store(engine, "seed")["seed"]
        links = _lineage(engine)
        assert {k[0]: v[0] for k, v in links.items()} == {last: seed, seed: first}
        with unit_of_work(engine) as session:
            delete_document(session, seed)
        assert {v[0] for v in _lineage(engine).values()} == {first}

    def test_other_issuers_and_ledgerless_editions_are_not_linked(self, engine: Engine) -> None:
        ids = _store(engine, "2022-inline-units.txt", "seed", "2023-province.txt")
        assert _lineage(engine) == {}  # 2022 has no ledger; the province is another issuer
        assert len(ids) == 3

    def test_several_editions_keep_their_own_counts(self, engine: Engine) -> None:
        ids = _store(engine, "seed", "2024-next-year.txt", "2018-section-leads.txt", "2022-inline-units.txt")
        with Session(engine) as session:
            counts = {name: catalogue.get_document(session, i).counts for name, i in ids.items()}
        assert [(c.sections, c.key_points, c.tasks, c.departments) for c in counts.values()] == [
            (4, 12, 67, 34),
            (4, 12, 67, 33),
            (8, 12, 67, 34),
            (10, 12, 0, 12),  # no ledger: the units named on the key points
        ]


@pytest.fixture(scope="module")
def two_editions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, int]]]:
    """An app over a store holding the seed and the synthetic next year (SQLite; read-only tests)."""
    tmp = tmp_path_factory.mktemp("two-editions")
    url = f"sqlite:///{tmp / 'kepu.sqlite3'}"
    upgrade(url)
    eng = make_engine(url)
    ids = _store(eng, "seed", "2024-next-year.txt")
    app = create_app(Settings(KEPU_DATA_DIR=tmp / "data"), engine=eng)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, ids
    eng.dispose()


def _numbers(items: list[dict[str, Any]]) -> list[int]:
    return [t["number"] for t in items]


class TestCompare:
    def test_known_changes_are_listed_exactly(self, two_editions: tuple[TestClient, dict[str, int]]) -> None:
        client, ids = two_editions
        response = client.get(f"/api/v1/documents/{ids['seed']}/compare/{ids['2024-next-year.txt']}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["a"]["year"] == 2023 and body["b"]["year"] == 2024
        assert _numbers(body["dropped"]) == [13, 32, 43]
        assert _numbers(body["new"]) == [65, 66, 67]
        changed = {(x["a"]["number"], x["b"]["number"]): x["change"] for x in body["matched"] if x["change"] != "same"}
        assert changed == {
            (15, 14): "reworded",
            (41, 39): "reworded",
            (58, 55): "reworded",
            (67, 64): "reworded",
            (38, 36): "units_changed",
            (61, 58): "units_changed",
        }
        assert body["counts"] == {"same": 58, "reworded": 4, "units_changed": 2, "new": 3, "dropped": 3}

    def test_a_document_is_named_alike_everywhere(self, two_editions: tuple[TestClient, dict[str, int]]) -> None:
        # The comparison and a task's lineage give the same reference as the task lists do.
        client, ids = two_editions
        body = client.get(f"/api/v1/documents/{ids['seed']}/compare/{ids['2024-next-year.txt']}").json()
        tasks = client.get("/api/v1/tasks", params={"document": ids["2024-next-year.txt"], "limit": 200}).json()
        listed = tasks["items"][0]["document"]
        assert listed["issuer"] and body["b"] == listed
        lineage = next(t for t in tasks["items"] if t["number"] == 55)["lineage"]
        assert lineage[-1]["document"] == listed

    def test_per_unit_gains_and_losses(self, two_editions: tuple[TestClient, dict[str, int]]) -> None:
        client, ids = two_editions
        body = client.get(f"/api/v1/documents/{ids['seed']}/compare/{ids['2024-next-year.txt']}").json()
        units = {u["name"]: (_numbers(u["gained"]), _numbers(u["lost"])) for u in body["units"]}
        assert units["市场监管总局"] == ([], [38])
        assert units["卫生健康委"] == ([36], [])
        assert units["民政部"] == ([58, 67], [])
        assert units["中国科协"] == ([65, 67], [])
        assert units["教育部"] == ([66], [13])
        assert units["水利部"] == ([], [32])
        assert units["中科院"] == ([], [43])
        reassigned = next(x for x in body["matched"] if x["a"]["number"] == 38)
        assert (reassigned["units_gained"], reassigned["units_lost"]) == (["卫生健康委"], ["市场监管总局"])

    def test_bad_pairs_are_problems(self, two_editions: tuple[TestClient, dict[str, int]]) -> None:
        client, ids = two_editions
        seed = ids["seed"]
        same = client.get(f"/api/v1/documents/{seed}/compare/{seed}")
        assert same.status_code == 422 and same.headers["content-type"] == "application/problem+json"
        assert "another" in same.json()["detail"]
        unknown = client.get(f"/api/v1/documents/{seed}/compare/999")
        assert unknown.status_code == 404 and unknown.json()["detail"] == "no document with id 999"
        assert client.get(f"/api/v1/documents/{seed}/compare/x").status_code == 422
        assert client.get(f"/api/v1/documents/0/compare/{seed}").status_code == 422

    def test_task_carries_its_lineage(self, two_editions: tuple[TestClient, dict[str, int]]) -> None:
        client, ids = two_editions
        tasks = client.get("/api/v1/tasks", params={"document": ids["2024-next-year.txt"], "limit": 200}).json()
        by_number = {t["number"]: t for t in tasks["items"]}
        lineage = by_number[55]["lineage"]
        assert [(x["document"]["year"], x["number"]) for x in lineage] == [(2023, 58), (2024, 55)]
        assert lineage[0]["score"] is None and 0.55 <= lineage[1]["score"] < 1
        assert by_number[65]["lineage"] == []  # new this year
        seed_task = client.get(f"/api/v1/tasks/{lineage[0]['id']}").json()
        assert [x["id"] for x in seed_task["lineage"]] == [x["id"] for x in lineage]


class TestPages:
    def test_task_page_shows_its_lineage(self, two_editions: tuple[TestClient, dict[str, int]]) -> None:
        client, ids = two_editions
        tasks = client.get("/api/v1/tasks", params={"document": ids["2024-next-year.txt"], "limit": 200}).json()
        task = next(t for t in tasks["items"] if t["number"] == 55)
        page = client.get(f"/tasks/{task['id']}")
        assert page.status_code == 200
        line = re.search(r'<dd class="lineage">(.*?)</dd>', page.text, re.S)
        assert line is not None
        assert re.sub(r"<[^>]+>", "", line.group(1)).split("(")[0].strip() == "2023 → 2024"
        assert f"/compare?a={ids['seed']}&amp;b={ids['2024-next-year.txt']}" in line.group(1)
        new = next(t for t in tasks["items"] if t["number"] == 65)
        assert "仅见于本版" in client.get(f"/tasks/{new['id']}").text

    def test_compare_page_highlights_changed_words(self, two_editions: tuple[TestClient, dict[str, int]]) -> None:
        client, ids = two_editions
        page = client.get("/compare", params={"a": ids["seed"], "b": ids["2024-next-year.txt"]})
        assert page.status_code == 200
        html = page.text
        assert "相同 58 项,措辞调整 4 项,单位调整 2 项,新增 3 项,删去 3 项" in html
        changed = html[html.index('id="changed"') : html.index('id="dropped"')]
        assert changed.count("<tr data-change=") == 6
        assert "第<del>37</del>届" in changed and "第<ins>38</ins>届" in changed
        assert "<ins>,发布年度监测报告</ins>" in changed
        assert "<ins>+卫生健康委</ins>" in changed and "<del>−市场监管总局</del>" in changed
        dropped = html[html.index('id="dropped"') : html.index('id="new"')]
        assert dropped.count("<li>") == 3 and "节约用水知识大赛" in dropped

    def test_compare_page_without_ids_offers_the_editions(
        self, two_editions: tuple[TestClient, dict[str, int]]
    ) -> None:
        client, _ = two_editions
        page = client.get("/compare")
        assert page.status_code == 200 and page.text.count("<option") == 4  # two editions in each of two lists

    def test_compare_page_of_one_document_is_an_error_page(
        self, two_editions: tuple[TestClient, dict[str, int]]
    ) -> None:
        client, ids = two_editions
        page = client.get("/compare", params={"a": ids["seed"], "b": ids["seed"]}, headers={"accept": "text/html"})
        assert page.status_code == 422 and "another" in page.text


def test_highlighted_changes_are_escaped() -> None:
    left, right = highlight_changes("举办<b>大赛</b>。", "举办<script>x</script>大赛。")
    assert left == "举办&lt;<del>b</del>&gt;大赛<del>&lt;/b&gt;</del>。"
    assert right == "举办&lt;<ins>script&gt;x&lt;/script</ins>&gt;大赛。"
    same_left, same_right = highlight_changes("開展科普活動", "开展科普活动")
    assert "<del>" not in same_left and "<ins>" not in same_right  # other characters, same words


class TestSearchAcrossEditions:
    def test_year_facet_counts_both_editions(self, two_editions: tuple[TestClient, dict[str, int]]) -> None:
        client, ids = two_editions
        # Quoted: only records holding it (a short page of an unquoted query is filled with partial ones).
        body = client.get("/api/v1/search", params={"q": '"科技活动周"'}).json()
        # 全国科技活动周, 气象科技活动周 and key point 9 in each edition
        assert body["facets"]["year"] == {"2024": 3, "2023": 3}
        assert body["facets"]["document"] == {str(ids["2024-next-year.txt"]): 3, str(ids["seed"]): 3}
        assert {item["document"]["year"] for item in body["items"]} == {2023, 2024}

    def test_year_filter_keeps_one_edition(self, two_editions: tuple[TestClient, dict[str, int]]) -> None:
        client, _ = two_editions
        body = client.get("/api/v1/search", params={"q": "科技活动周", "year": 2024}).json()
        full = [(i["kind"], i["number"]) for i in body["items"] if not i["partial"]]
        # 全国科技活动周, 气象科技活动周 and key point 9, as in 2023's 15, 46 and 9
        assert full == [("task", 14), ("task", 43), ("key_point", 9)]
        assert {item["document"]["year"] for item in body["items"]} == {2024}  # relaxed matches too
        assert body["facets"]["year"] == {"2024": body["total"]}
        unknown = client.get("/api/v1/search", params={"q": "科普", "year": 2019})
        assert unknown.status_code == 422 and "stored years: 2023、2024" in unknown.json()["detail"]

    def test_a_dropped_task_is_found_in_its_year_only(self, two_editions: tuple[TestClient, dict[str, int]]) -> None:
        client, _ = two_editions
        body = client.get("/api/v1/search", params={"q": "节约用水知识大赛", "kind": "task"}).json()
        assert [(i["document"]["year"], i["number"]) for i in body["items"] if not i["partial"]] == [(2023, 32)]

    def test_list_endpoints_filter_by_year(self, two_editions: tuple[TestClient, dict[str, int]]) -> None:
        client, _ = two_editions
        assert client.get("/api/v1/tasks", params={"year": 2024}).json()["total"] == 67
        assert client.get("/api/v1/tasks", params={"year": 2019}).json()["total"] == 0
        assert client.get("/api/v1/key-points", params={"year": 2023}).json()["total"] == 12
        assert client.get("/api/v1/tasks").json()["total"] == 134

    def test_search_page_shows_years_and_a_year_facet(self, two_editions: tuple[TestClient, dict[str, int]]) -> None:
        client, _ = two_editions
        html = client.get("/", params={"q": '"科技活动周"'}).text
        assert 'data-facet="year" data-value="2023"' in html and 'data-facet="year" data-value="2024"' in html
        assert html.count('data-year="2024"') == 3 and html.count('data-year="2023"') == 3
        narrowed = client.get("/", params={"q": "科技活动周", "year": 2023}).text
        assert 'data-year="2024"' not in narrowed and narrowed.count('data-year="2023"') >= 2


@pytest.fixture
def kepu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """Run `kepu` against a data directory of its own."""
    monkeypatch.setenv("KEPU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, list(args))
    get_settings.cache_clear()


class TestCommandLine:
    """Each file through `kepu import --json`, as a new user would try it."""

    @pytest.mark.parametrize(
        ("name", "found"),
        [
            ("2023-traditional.txt", (4, 12, 67, 34)),
            ("2018-section-leads.txt", (8, 12, 67, 34)),
            ("2023-news-site.txt", (4, 12, 67, 34)),
            ("2022-inline-units.txt", (10, 12, 0, 12)),
            ("2023-province.txt", (4, 12, 67, 34)),
            ("2024-next-year.txt", (4, 12, 67, 33)),
        ],
    )
    def test_each_edition_imports_with_its_counts(
        self, kepu: Callable[..., Result], name: str, found: tuple[int, int, int, int]
    ) -> None:
        result = kepu("import", "--json", str(EDITIONS / name))
        assert result.exit_code == 0, result.output
        (report,) = json.loads(result.stdout)
        assert report["status"] == "created"
        assert tuple(report["found"][k] for k in ("sections", "key_points", "tasks", "units")) == found

    @pytest.mark.parametrize(
        ("name", "line", "says"),
        [
            ("2023-cut-off.txt", 133, "ends mid-item"),
            ("2021-outline.txt", 1, "looks like the outline (纲要) itself"),
            ("2021-province-plan.txt", 1, "looks like an implementation plan (实施方案)"),
        ],
    )
    def test_refused_files_name_the_line_and_write_nothing(
        self, kepu: Callable[..., Result], name: str, line: int, says: str
    ) -> None:
        result = kepu("import", "--json", str(EDITIONS / name))
        assert result.exit_code == 1, result.output
        (report,) = json.loads(result.stdout)
        assert report["status"] == "rejected" and report["line"] == line and says in report["error"]
        stats = kepu("stats")
        assert json.loads(stats.output)["documents"] == 0

    def test_all_editions_together_keep_their_counts(self, kepu: Callable[..., Result]) -> None:
        names = ["2018-section-leads.txt", "2022-inline-units.txt", "2024-next-year.txt", "2023-province.txt"]
        result = kepu("import", "--json", str(SEED), *(str(EDITIONS / n) for n in names))
        assert result.exit_code == 0, result.output
        assert [r["status"] for r in json.loads(result.stdout)] == ["created"] * 5
        again = kepu("import", "--json", str(EDITIONS / "2023-traditional.txt"))
        assert json.loads(again.stdout)[0]["status"] == "unchanged"
        stats = json.loads(kepu("stats").output)
        assert (stats["documents"], stats["tasks"]) == (5, 67 * 4)


def test_province_and_issuer_select_the_provincial_edition(engine: Engine, tmp_path: Path) -> None:
    ids = _store(engine, "seed", "2023-province.txt")
    app = create_app(Settings(KEPU_DATA_DIR=tmp_path / "data"), engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        both = client.get("/api/v1/search", params={"q": "科普日"}).json()
        assert both["facets"]["year"] == {"2023": both["total"]}
        assert both["facets"]["province"] == {"某省": both["facets"]["document"][str(ids["2023-province.txt"])]}
        issuers = both["facets"]["issuer"]
        assert sum(issuers.values()) == both["total"] and len(issuers) == 2  # the office's and the province's
        provincial = client.get("/api/v1/search", params={"q": "科普日", "province": "某省"}).json()
        assert {i["document"]["province"] for i in provincial["items"]} == {"某省"}
        office = "全民科学素质纲要实施工作办公室"
        national = client.get("/api/v1/search", params={"q": "科普日", "issuer": office}).json()
        assert {i["document"]["id"] for i in national["items"]} == {ids["seed"]}
        assert client.get("/api/v1/search", params={"q": "科普日", "province": "另省"}).status_code == 422
        assert client.get("/api/v1/search", params={"q": "科普日", "issuer": "某办公室"}).status_code == 422
        tasks = client.get("/api/v1/tasks", params={"province": "某省"}).json()
        assert tasks["total"] == 67 and tasks["items"][0]["document"]["id"] == ids["2023-province.txt"]
        assert client.get("/api/v1/key-points", params={"issuer": office}).json()["total"] == 12


class TestLinking:
    """The matcher alone: what it links, and what it leaves unlinked rather than guess."""

    def test_same_reworded_and_moved_tasks_link(self) -> None:
        before = [
            Item(1, "举办第37届全国青少年科技创新大赛。", frozenset({"中国科协"})),
            Item(2, "开展全国食品安全宣传周活动。", frozenset({"市场监管总局"})),
        ]
        after = [
            Item(10, "開展全國食品安全宣傳周活動。", frozenset({"卫生健康委"})),
            Item(11, "举办第38届全国青少年科技创新大赛。", frozenset({"中国科协"})),
        ]
        assert [(x.previous, x.current) for x in link(before, after)] == [(2, 10), (1, 11)]
        moved = link(before, after)[0]
        assert (moved.text_score, moved.unit_score, moved.score) == (1.0, 0.0, TEXT_WEIGHT)

    def test_units_dropped_or_added_share_none(self) -> None:
        # Jaccard overlap: a unit list against none has nothing in common (only two empty lists agree).
        task = "开展全国食品安全宣传周活动。"
        dropped = link([Item(1, task, frozenset({"市场监管总局"}))], [Item(2, task, frozenset())])
        added = link([Item(1, task, frozenset())], [Item(2, task, frozenset({"市场监管总局"}))])
        unlisted = link([Item(1, task, frozenset())], [Item(2, task, frozenset())])
        assert [(x.unit_score, x.score) for x in dropped + added] == [(0.0, TEXT_WEIGHT)] * 2
        assert [(x.unit_score, x.score) for x in unlisted] == [(1.0, 1.0)]

    def test_items_without_wording_link_to_nothing(self) -> None:
        assert link([Item(1, "。", frozenset())], [Item(2, "", frozenset())]) == []

    def test_weak_matches_are_left_unlinked(self) -> None:
        before = [Item(1, "举办第三届全国节约用水知识大赛。", frozenset({"水利部"}))]
        after = [Item(2, "举办第十八届全国大学生课外学术科技作品竞赛。", frozenset({"水利部"}))]
        assert link(before, after) == []

    def test_two_equally_good_counterparts_are_ambiguous(self) -> None:
        twins = [
            Item(1, "开展科普宣传活动。", frozenset({"中国科协"})),
            Item(2, "开展科普宣传活动。", frozenset({"中国科协"})),
        ]
        assert link(twins, [Item(3, "开展科普宣传活动。", frozenset({"中国科协"}))]) == []
        assert link([Item(3, "开展科普宣传活动。", frozenset({"中国科协"}))], twins) == []

    def test_a_rival_just_under_the_threshold_still_makes_a_link_ambiguous(self) -> None:
        # 40 characters; the candidate keeps the first 19, the rival the first 17: 0.569 against 0.528.
        target = "一二三四五六七八九十甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥春夏秋冬东南西北"
        candidate = target[:19] + "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋"
        rival = target[:17] + "玉出昆冈剑号巨阙珠称夜光果珍李柰菜重芥姜海咸河"
        items = [Item(1, candidate, frozenset()), Item(2, rival, frozenset())]
        alone = link(items[:1], [Item(9, target, frozenset())])
        assert [round(x.score, 3) for x in alone] == [0.569]
        assert link(items[1:], [Item(9, target, frozenset())]) == []  # 0.528: too weak to link
        assert link(items, [Item(9, target, frozenset())]) == []  # but close enough to make the first ambiguous
