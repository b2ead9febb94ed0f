"""The search engine on its own: records in memory, no store, no web framework (issue 11's interface)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.domain.departments import load_directory
from app.search.errors import QueryError
from app.search.index import FACET_FIELDS, SearchIndex
from app.search.matching import match
from app.search.pinyin import PinyinTable
from app.search.query import build_query, parse_query
from app.search.ranking import EMPTY
from app.search.records import Record, make_record
from app.search.source import InMemorySource

from .conftest import ROOT

LEAD, PART = "lead", "participant"


def _records() -> list[Record]:
    science = ("中国科协", "中国科学技术协会", LEAD)
    education = ("教育部", "中华人民共和国教育部", LEAD)
    publicity = ("中央宣传部", "中共中央宣传部", PART)
    return [
        make_record("task", 1, 1, 2023, 1, "举办中国科幻大会", "推动科幻产业发展", [science], ["三"], []),
        make_record("task", 2, 1, 2023, 2, "开展科幻电影放映", "", [publicity, science], ["三"], ["青少年"]),
        make_record("task", 3, 1, 2023, 3, "提升老年人数字素养", "开展老年人培训", [education], ["一"], ["老年人"]),
        make_record("key_point", 1, 1, 2023, 1, "繁荣科普创作", "科幻作品与科普影视", [science], ["三"], []),
    ]


def _search(index: SearchIndex, q: str) -> tuple[list[str], dict[str, dict[str, int]]]:
    compiled = build_query(parse_query(q, max_chars=200), load_directory())
    with index.reading() as searcher:
        ranker = index.ranker
        assert ranker is not None
        matched = match(ranker, compiled, allowed=None, limit=10)
        uids = sorted(searcher.stored_fields(docnum)["uid"] for docnum, _ in matched.page)
        facets = {name: ranker.facet_counts(name, matched.hits) for name in FACET_FIELDS}
    return uids, facets


def test_a_match_can_reuse_the_scores_its_caller_has(tmp_path: Path) -> None:
    # The ledger list and the activity chips rank one query over two kinds: scored once.
    index = SearchIndex(tmp_path / "index", cache_dir=tmp_path / "cache").open(InMemorySource(_records()))
    try:
        compiled = build_query(parse_query("科幻 电影", max_chars=200), load_directory())
        with index.reading():
            ranker = index.ranker
            assert ranker is not None
            whole = compiled.combined()
            assert whole is not None
            alone = match(ranker, compiled, allowed=None, limit=10)
            reused = match(ranker, compiled, allowed=None, limit=10, scored=ranker.scores(whole))
            assert reused.page == alone.page and reused.full_on_page == alone.full_on_page >= 1
            assert match(ranker, compiled, allowed=None, limit=10, scored=EMPTY, relax=False).page == []
    finally:
        index.close()


def test_an_index_built_and_searched_from_records_in_memory(tmp_path: Path) -> None:
    source = InMemorySource(_records())
    index = SearchIndex(tmp_path / "index", cache_dir=tmp_path / "cache").open(source)
    try:
        assert index.record_count() == 4
        uids, facets = _search(index, "科幻")
        assert uids == ["key_point:1", "task:1", "task:2"]
        assert facets["department"] == {"中国科协": 3, "中央宣传部": 1}
        assert facets["kind"] == {"task": 2, "key_point": 1}
        assert _search(index, "老年人")[0] == ["task:3"]

        # A write to the source: the next sync sees the new generation and follows it.
        source.replace([r for r in _records() if r["uid"] != "task:1"])
        assert index.sync(source, force=True) is True
        assert _search(index, "科幻")[0] == ["key_point:1", "task:2"]
        assert index.sync(source, force=True) is False  # now in step: nothing to do
    finally:
        index.close()


def test_the_engine_runs_without_the_store_or_the_web_framework(tmp_path: Path) -> None:
    """In a fresh interpreter: build, search, and not one database or HTTP module loaded."""
    script = textwrap.dedent(
        f"""
        import json, sys
        from pathlib import Path
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from app.search.index import SearchIndex
        from app.search.source import InMemorySource
        from app.search.records import make_record
        from app.search.query import parse_query, build_query
        from app.search.matching import match
        from app.domain.departments import load_directory
        unit = ("中国科协", "中国科学技术协会", "lead")
        records = [make_record("task", n, 1, 2023, n, t, "", [unit], ["一"], []) for n, t in
                   [(1, "举办科幻大会"), (2, "建设科普基地"), (3, "科幻电影放映")]]
        index = SearchIndex(Path({str(tmp_path / "index")!r}), cache_dir=Path({str(tmp_path / "cache")!r}))
        index.open(InMemorySource(records))
        compiled = build_query(parse_query("科幻", max_chars=50), load_directory())
        with index.reading() as searcher:
            hits = match(index.ranker, compiled, allowed=None, limit=5)
            uids = sorted(searcher.stored_fields(d)["uid"] for d, _ in hits.page)
        index.close()
        loaded = sorted(m for m in ("sqlalchemy", "sqlmodel", "psycopg", "fastapi", "starlette", "app.models",
                                     "app.db", "app.errors", "app.services") if m in sys.modules)
        print(json.dumps({{"uids": uids, "loaded": loaded}}))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"uids": ["task:1", "task:3"], "loaded": []}


@pytest.mark.parametrize(
    ("q", "extra"),
    [('"科幻', {"position": 0}), ("科普 -", {"position": 3}), ("x" * 300, {"limit": 200})],
)
def test_query_errors_are_the_engines_own_and_say_where(q: str, extra: dict[str, int]) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(q, max_chars=200)
    assert caught.value.extra == extra
    assert not hasattr(caught.value, "status")  # no HTTP in the engine: the service maps it to a 400


def _clauses(q: str) -> list[list[str]]:
    return [[("-" if t.negated else "") + t.text for t in clause] for clause in parse_query(q, max_chars=200).clauses]


@pytest.mark.parametrize(
    ("q", "clauses"),
    [
        ("科普日 OR 科技周 科幻", [["科普日", "科技周"], ["科幻"]]),
        ("科幻 科普日 OR 科技周", [["科幻"], ["科普日", "科技周"]]),
        ("科普日 OR 科技周 OR 科幻", [["科普日", "科技周", "科幻"]]),
        ("科幻 -电影 科普", [["科幻"], ["-电影"], ["科普"]]),
    ],
)
def test_or_joins_its_neighbours_into_one_clause(q: str, clauses: list[list[str]]) -> None:
    # Found by mutation testing: the OR bookkeeping could be flipped without a test failing.
    assert _clauses(q) == clauses


@pytest.mark.parametrize(
    ("q", "says"),
    [
        ("OR 科幻", "OR needs a term on each side"),
        ("科幻 OR", "OR needs a term on each side"),
        ("-科幻 OR 科普", "an excluded term (-word) cannot be one side of OR"),
        ("科普 OR -科幻", "an excluded term (-word) cannot be one side of OR"),
        ("-科幻 -科普", "the query only excludes; add a word to search for"),
        ("   ", "the query is empty; type at least one word"),
    ],
)
def test_query_errors_say_what_is_wrong(q: str, says: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(q, max_chars=200)
    assert caught.value.detail.startswith(says)


def test_a_term_relaxes_to_its_words_and_a_compound_to_the_words_inside_it(tmp_path: Path) -> None:
    """Relaxation weighs a term's pieces: its words, or a compound's dictionary words; never a unit's name."""
    index = SearchIndex(tmp_path / "index", cache_dir=tmp_path / "cache").open(InMemorySource(_records()))
    try:

        def pieces(q: str) -> list[list[str]]:
            compiled = build_query(parse_query(q, max_chars=200), load_directory())
            return [[part.text for part in clause.parts] for clause in compiled.required]

        assert pieces("老年人数字素养") == [["老年人", "数字", "素养"]]  # several words: each is a piece
        assert pieces("全国科普日") == [["全国", "科普日"]]  # one dictionary word: the words inside it
        assert pieces("中国科协") == [[]]  # a unit is matched whole or not at all
        assert pieces("科普 基地") == [[], []]  # short words have nothing inside
    finally:
        index.close()


def test_one_pass_folding_equals_the_three_tables_applied_in_turn() -> None:
    from app.domain.text import _DIGITS, _PUNCTUATION, _t2s_table, fold_characters, normalise, simplify

    every = "".join(chr(c) for c in [*_t2s_table(), *_PUNCTUATION, *_DIGITS]) + "科普ABC（１）"
    assert fold_characters(every) == simplify(normalise(every))
    assert fold_characters("衛健委（２０２３）") == "卫健委(2023)"


class TestPinyinTable:
    TABLE = [("素质", 5.0), ("数字", 3.0), ("素养", 2.0), ("科普", 4.0)]

    def test_run_together_full_spellings_are_split(self) -> None:
        assert PinyinTable(self.TABLE).read("shuzisuyang") == ["数字", "素养"]

    def test_initials_are_cut_only_where_the_words_stand_together(self) -> None:
        table = PinyinTable(self.TABLE)
        assert table.read("szsy") == []  # blind, sz is 素质 (weightier) as much as 数字
        assert table.read("szsy", occurs=lambda text: text == "数字素养") == ["数字素养"]
        assert table.read("szsy", occurs=lambda text: False) == []


def test_a_segmenter_keeps_the_cuts_of_its_own_dictionary(tmp_path: Path) -> None:
    from app.search.dictionary import Segmenter

    plain = Segmenter(tmp_path / "plain").load()
    named = Segmenter(tmp_path / "named", ["星火燎原计划"]).load()
    for _ in range(2):  # the second time from each segmenter's kept cuts
        assert "星火燎原计划" not in plain.cut("星火燎原计划")
        assert named.cut("星火燎原计划") == ["星火燎原计划"]
    first = named.cut("科普基地建设")
    first.append("改动")  # a caller's list is its own
    assert named.cut("科普基地建设") == first[:-1]
    assert plain.parts("科普基地") == ["科普", "基地"] == plain.parts("科普基地")


def test_facets_of_several_fields_equal_each_fields_own_count(tmp_path: Path) -> None:
    index = SearchIndex(tmp_path / "index", cache_dir=tmp_path / "cache").open(InMemorySource(_records()))
    with index.reading():
        ranker = index.ranker
        assert ranker is not None
        for q in ("科幻", "老年人", "科普 OR 科幻 OR 老年人"):  # few matches and, for the last, all
            hits = ranker.scores(build_query(parse_query(q, max_chars=200), load_directory()).required[0].query)
            assert len(hits)
            together = ranker.facets(FACET_FIELDS, hits)
            assert together == {name: ranker.facet_counts(name, hits) for name in FACET_FIELDS}
            assert sum(together["kind"].values()) == len(hits)


def test_a_memo_evaluates_each_subquery_once_and_answers_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = SearchIndex(tmp_path / "index", cache_dir=tmp_path / "cache").open(InMemorySource(_records()))
    compiled = build_query(parse_query("科幻 老年人 培训", max_chars=200), load_directory())
    whole = compiled.combined()
    assert whole is not None
    with index.reading():
        ranker = index.ranker
        assert ranker is not None
        plain = [ranker.scores(c.query) for c in compiled.required]
        evaluated: list[object] = []
        inner = ranker._scores

        def counted(q: object, memo: object) -> object:
            evaluated.append(q)
            return inner(q, memo)  # type: ignore[arg-type]

        monkeypatch.setattr(ranker, "_scores", counted)
        memo: dict[int, object] = {}
        ranker.scores(whole, memo)  # type: ignore[arg-type]
        once = len(evaluated)
        again = [ranker.scores(c.query, memo) for c in compiled.required]  # type: ignore[arg-type]
        assert len(evaluated) == once > len(compiled.required)  # nothing evaluated twice
        assert [(h.docs.tolist(), h.scores.tolist()) for h in again] == [
            (h.docs.tolist(), h.scores.tolist()) for h in plain
        ]
        # A literal inside a widened clause is the same object: its words were evaluated for
        # the whole query, and only their sum is made again (nested ORs are summed in one go).
        elderly = compiled.required[1]
        assert elderly.literal is not None and ranker.scores(elderly.literal, memo) is not None  # type: ignore[arg-type]
        assert evaluated[once:] == [elderly.literal]


def test_the_proximity_pool_is_the_stable_best_k_however_many_ties() -> None:
    import numpy as np

    from app.search.matching import _top

    rng = np.random.default_rng(7)
    for n in (0, 1, 49, 50, 51, 400):
        for _ in range(20):
            scores = rng.integers(0, 4, n).astype(np.float64)  # many ties at the boundary
            assert _top(scores, 50).tolist() == np.argsort(-scores, kind="stable")[:50].tolist()


def test_a_synonyms_query_is_remade_for_another_dictionary(tmp_path: Path) -> None:
    from app.search import analysis
    from app.search.dictionary import Segmenter
    from app.search.query import _synonym_queries

    before = analysis._segmenter
    try:
        queries = []
        for extra in ([], ["星火燎原计划"]):
            analysis.use_segmenter(Segmenter(tmp_path / str(len(extra)), extra).load())
            queries.append(_synonym_queries(["星火燎原计划"])[0])
        assert queries[0] != queries[1]  # cut into words by one dictionary, whole by the other
        assert "Term('title', '星火燎原计划')" in repr(queries[1]) and "Term('title', '星火燎原计划')" not in repr(
            queries[0]
        )
        assert _synonym_queries(["星火燎原计划"])[0] is queries[1]  # made once per dictionary
    finally:
        analysis._segmenter = before
