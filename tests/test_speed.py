"""The fast paths give the answers the straightforward ones give (issue 12: speed)."""

from __future__ import annotations

import math
import random
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine
from whoosh import query as wq
from whoosh.index import FileIndex, create_in
from whoosh.searching import Searcher

from app.db import unit_of_work
from app.domain.departments import DepartmentDirectory, load_directory
from app.parser import parse_notice
from app.search import ranking
from app.search.errors import QueryError
from app.search.highlight import densest_window, snippet
from app.search.index import FACET_FIELDS, SCORED_FIELDS, SearchIndex
from app.search.matching import match
from app.search.query import CompiledQuery, build_query, parse_query
from app.search.ranking import K1, SEGMENTS, B, Hits, Ranker, SubstringPhrase
from app.search.schema import build_schema
from app.search.text import fold
from app.search.understanding import understand
from app.services.importer import import_notice
from app.services.indexing import StoreRecords
from app.services.search import SearchService
from bench.quality import JUDGED_QUERIES, load_judged


def _straightforward_window(spans: list[tuple[int, int]], size: int) -> int:
    best = (0, 0)
    for i, (s, _) in enumerate(spans):  # the window starting at each match; most matches wins
        inside = sum(1 for _, e2 in spans[i:] if e2 <= s + size)
        if inside > best[0]:
            best = (inside, s)
    return best[1]


def _random_spans(rng: random.Random, n: int) -> list[tuple[int, int]]:
    spans, cursor = [], 0
    for _ in range(n):
        cursor += rng.randint(0, 40)
        length = rng.randint(1, 6)
        spans.append((cursor, cursor + length))
        cursor += length
    return spans


class TestDensestWindow:
    def test_equals_the_straightforward_search_on_small_inputs(self) -> None:
        rng = random.Random(12)
        for _ in range(500):
            spans = _random_spans(rng, rng.randint(0, 30))
            size = rng.choice([1, 5, 20, 110])
            assert densest_window(spans, size) == _straightforward_window(spans, size), (spans, size)

    def test_thousands_of_matches_find_the_dense_cluster(self) -> None:
        # 3,000 scattered matches, then 30 packed ones: the snippet shows the packed ones
        # (a window among the scattered ones holds at most 11 matches).
        text = "科幻甲乙丙丁戊己庚辛" * 3000 + "科普" * 30 + "尾" * 200
        html, count = snippet(text, ["科幻", "科普"])
        assert count == html.count("<em>") > 20 and html.startswith("…") and "<em>科普</em>" in html
        spans = [(m, m + 2) for m in range(0, 30000, 10)] + [(30000 + 2 * k, 30002 + 2 * k) for k in range(30)]
        assert densest_window(spans, 110) == _straightforward_window(spans, 110)


# --- the array evaluation against a straightforward one --------------------------------


@pytest.fixture
def search_index(store: Engine, tmp_path: Path) -> Iterator[SearchIndex]:
    """The seed's index, opened over the store (it also sets the jieba segmenter)."""
    ix = SearchIndex(tmp_path / "index").open(StoreRecords(store))
    yield ix
    ix.close()


def _seed_records(search_index: SearchIndex) -> list[dict[str, Any]]:
    """The seed index's stored records, with the grams field made again from their text."""
    with search_index.reading() as searcher:
        stored = [searcher.stored_fields(d) for d in searcher.reader().all_doc_ids()]
    return [{**fields, "grams": f"{fields['title']}\n{fields.get('body', '')}"} for fields in stored]


def _one_segment(folder: Path, records: list[dict[str, Any]]) -> FileIndex:
    """A Whoosh index of `records` in one segment, written directly."""
    folder.mkdir()
    ix = create_in(str(folder), build_schema())
    writer = ix.writer()
    for record in records:
        writer.add_document(**record)
    writer.commit()
    return ix


@pytest.fixture
def segmented(search_index: SearchIndex, tmp_path: Path) -> Iterator[FileIndex]:
    """The seed's records in three segments, with deletions in the first two.

    Written with Whoosh directly: one segment of every record, a second where 40 records
    are replaced (so deleted from the first) and 5 added, a third deleting 10 more.
    """
    records = _seed_records(search_index)
    ix = _one_segment(tmp_path / "segmented", records)
    writer = ix.writer()
    for record in records[10:50]:
        writer.update_document(**{**record, "body": record.get("body", "") + "。科幻科普活动"})
    for k, record in enumerate(records[60:65]):
        writer.add_document(**{**record, "uid": f"copy:{k}", "title": record["title"] + "科学幻想"})
    writer.commit(merge=False)
    writer = ix.writer()
    for record in records[30:40]:
        writer.delete_by_term("uid", record["uid"])
    for record in records[100:105]:
        writer.update_document(**{**record, "title": "青少年科技教育"})
    writer.commit(merge=False)
    yield ix
    ix.close()


class _Straightforward:
    """One query at a time through Whoosh's own postings, Python sets and stored fields."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.doc_count = max(1, self.reader.doc_count())

    def term(self, fieldname: str, text: str) -> dict[int, float]:
        if (fieldname, text) not in self.reader:
            return {}
        pairs = list(self.reader.postings(fieldname, text).items_as("weight"))  # deletions filtered by Whoosh
        if not self.searcher.schema[fieldname].scorable:
            return {int(d): 0.0 for d, _ in pairs}
        idf = math.log(self.doc_count / (self.reader.doc_frequency(fieldname, text) + 1)) + 1
        average = max(1.0, self.reader.field_length(fieldname) / self.doc_count)
        scores = {}
        for d, w in pairs:
            length = self.reader.doc_field_length(d, fieldname)
            scores[int(d)] = idf * w * (K1 + 1) / (w + K1 * ((1 - B) + B * length / average))
        return scores

    def evaluate(self, q: wq.Query) -> dict[int, float]:
        if isinstance(q, wq.Term):
            found = self.term(q.fieldname, q.text)
        elif isinstance(q, wq.Prefix):
            found = _or([self.term(q.fieldname, t.decode()) for t in self.reader.expand_prefix(q.fieldname, q.text)])
        elif isinstance(q, SubstringPhrase):
            candidates = _and([self.evaluate(sub) for sub in q.subqueries])
            found = {d: s for d, s in candidates.items() if q.phrase in self._folded(d)}
        elif isinstance(q, wq.AndNot):
            negative = self.evaluate(q.b)
            return {d: s for d, s in self.evaluate(q.a).items() if d not in negative}
        elif isinstance(q, wq.And):
            found = _and([self.evaluate(sub) for sub in q.subqueries])
        elif isinstance(q, wq.Or):
            found = _or([self.evaluate(sub) for sub in q.subqueries])
        elif isinstance(q, wq.Phrase):
            positional = set(q.docs(self.searcher))
            found = {d: s for d, s in _and([self.term(q.fieldname, w) for w in q.words]).items() if d in positional}
        else:
            raise TypeError(type(q).__name__)
        return {d: s * q.boost for d, s in found.items()}

    def facets(self, name: str, docs: Iterable[int]) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for d in docs:
            value = self.searcher.stored_fields(d).get(name) or ""
            counts.update({v.strip() for v in value.split(",") if v.strip()} if name != "kind" else {value})
        return dict(counts)

    def _folded(self, docnum: int) -> str:
        fields = self.searcher.stored_fields(docnum)
        return fold(f"{fields.get('title', '')}\n{fields.get('body', '')}")


def _and(parts: list[dict[int, float]]) -> dict[int, float]:
    common = set.intersection(*(set(p) for p in parts)) if parts else set()
    return {d: sum(p[d] for p in parts) for d in common}


def _or(parts: list[dict[int, float]]) -> dict[int, float]:
    summed: dict[int, float] = {}
    for part in parts:
        for d, s in part.items():
            summed[d] = summed.get(d, 0.0) + s
    return summed


def _compiled(q: str, directory: DepartmentDirectory) -> CompiledQuery | None:
    try:
        parsed = parse_query(q, max_chars=200)
    except QueryError:
        return None
    return build_query(understand(parsed, directory, years={2023}).query, directory)


def _judged_queries() -> list[str]:
    return [j.q for j in load_judged(JUDGED_QUERIES)]


class TestArraysAgainstStraightforward:
    @pytest.mark.parametrize("sets", ["measured", "binary search", "bitmap"])
    def test_every_judged_query_gives_the_same_matches_scores_and_facets(
        self, segmented: FileIndex, sets: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The seed's index is small, so the measured rules mostly pick dense arrays: each way
        # (And, AndNot, Or and facet counts: sorted arrays or dense ones) is forced once.
        if sets != "measured":
            monkeypatch.setattr(ranking, "_dense_wins", lambda *_: sets == "bitmap")
            monkeypatch.setattr(ranking, "DENSE_SHARE", 10**9 if sets == "bitmap" else 0)
        directory = load_directory()
        with segmented.searcher() as searcher:
            assert len(searcher.reader().leaf_readers()) == 3 and searcher.reader().has_deletions()
            ranker = Ranker(searcher, FACET_FIELDS, SCORED_FIELDS)
            plain = _Straightforward(searcher)
            assert ranker.live_docs().tolist() == sorted(searcher.reader().all_doc_ids())
            compared = 0
            for q in _judged_queries():
                compiled = _compiled(q, directory)
                whole = compiled.combined() if compiled else None
                if compiled is None or whole is None:
                    continue
                for query in [whole, *(c.query for c in compiled.required)]:
                    fast, slow = ranker.scores(query), plain.evaluate(query)
                    assert fast.docs.tolist() == sorted(slow), q
                    assert np.allclose(fast.scores, [slow[d] for d in sorted(slow)]), q
                together = ranker.facets(FACET_FIELDS, ranker.scores(whole))  # the fields' block, counted once
                for name in FACET_FIELDS:
                    expected = plain.facets(name, plain.evaluate(whole))
                    assert ranker.facet_counts(name, ranker.scores(whole)) == expected == together[name], q
                compared += 1
            assert compared > 140
            everything = Hits(ranker.live_docs(), np.zeros(ranker.live_docs().size))
            together = ranker.facets(FACET_FIELDS, everything)
            for name in FACET_FIELDS:  # a match set large enough for the dense count
                expected = plain.facets(name, ranker.live_docs().tolist())
                assert ranker.facet_counts(name, everything) == expected == together[name]

    def test_one_character_prefixes_expand_over_every_segment(self, segmented: FileIndex) -> None:
        # A lone character matches the bigrams it begins; each segment keeps its own list, so
        # a searcher after a write must still see the new segment's bigrams.
        def check(searcher: Searcher) -> None:
            ranker, plain = Ranker(searcher, FACET_FIELDS, SCORED_FIELDS), _Straightforward(searcher)
            for character in ("科", "青", "3", "鑫"):
                query = wq.Prefix("grams", character)
                fast, slow = ranker.scores(query), plain.evaluate(query)
                assert fast.docs.tolist() == sorted(slow), character
                assert np.allclose(fast.scores, [slow[d] for d in sorted(slow)]), character

        with segmented.searcher() as searcher:
            check(searcher)
        writer = segmented.writer()
        writer.add_document(uid="new:1", kind="task", title="科鑫任务", body="鑫犇", grams="科鑫任务\n鑫犇")
        writer.commit(merge=False)
        with segmented.searcher() as searcher:
            check(searcher)
            assert "科鑫" in Ranker(searcher, FACET_FIELDS, SCORED_FIELDS)._expand("grams", "科")

    def test_search_results_are_those_of_the_straightforward_evaluation(self, segmented: FileIndex) -> None:
        # Through matching (relaxation, proximity, filters): totals and pages agree with the
        # array code run on a searcher whose caches are cold.
        directory = load_directory()
        with segmented.searcher() as searcher:
            warm_ranker = Ranker(searcher, FACET_FIELDS, SCORED_FIELDS)
            for q in _judged_queries()[:40]:
                compiled = _compiled(q, directory)
                if compiled is None:
                    continue
                SEGMENTS.clear()
                cold = match(Ranker(searcher, FACET_FIELDS, SCORED_FIELDS), compiled, allowed=None, limit=20)
                warm_match = match(warm_ranker, compiled, allowed=None, limit=20)
                assert (len(cold.hits), cold.page) == (len(warm_match.hits), warm_match.page), q


def _record_decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every (field, term) decoded from a segment from now on."""
    decoded: list[tuple[str, str]] = []
    real = ranking._decode

    def recording(leaf: Any, fieldname: str, text: str) -> Any:
        decoded.append((fieldname, text))
        return real(leaf, fieldname, text)

    monkeypatch.setattr(ranking, "_decode", recording)
    return decoded


class TestSegmentCaches:
    def test_a_searcher_after_a_write_decodes_only_the_new_segment(
        self, segmented: FileIndex, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        decoded = _record_decodes(monkeypatch)
        with segmented.searcher() as searcher:
            before = Ranker(searcher, FACET_FIELDS, SCORED_FIELDS)
            before.term("body", "科普")
        writer = segmented.writer()
        writer.add_document(uid="new:1", kind="task", title="科普新任务", body="科普", grams="科普新任务\n科普")
        writer.commit(merge=False)
        decoded.clear()
        with segmented.searcher() as searcher:
            after = Ranker(searcher, FACET_FIELDS, SCORED_FIELDS)
            assert [leaf[2] for leaf in after.leaves[:3]] == [leaf[2] for leaf in before.leaves]
            facet_decodes = len(decoded)  # the new segment's facet columns, nothing of the old ones
            assert facet_decodes == sum(len(list(after.leaves[3][0].lexicon(name))) for name in FACET_FIELDS)
            after.term("body", "科普")
            assert len(decoded) == facet_decodes + 1  # the one new segment
            assert len(after.term("body", "科普")) == len(before.term("body", "科普")) + 1

    def test_deletions_after_a_search_are_masked(self, segmented: FileIndex) -> None:
        with segmented.searcher() as searcher:
            before = Ranker(searcher, FACET_FIELDS, SCORED_FIELDS)
            kinds = before.facet_counts("kind", before.term("body", "科普"))
        writer = segmented.writer()
        writer.delete_by_term("kind", "key_point")
        writer.commit(merge=False)
        with segmented.searcher() as searcher:
            after = Ranker(searcher, FACET_FIELDS, SCORED_FIELDS)
            assert [leaf[2] for leaf in after.leaves] == [leaf[2] for leaf in before.leaves]  # same segments
            hits = after.term("body", "科普")
            assert kinds["key_point"] > 0 and "key_point" not in after.facet_counts("kind", hits)
            assert len(hits) == len(before.term("body", "科普")) - kinds["key_point"]

    def test_a_rebuild_is_warmed_before_it_is_switched_in(
        self, search_index: SearchIndex, store: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ranker = search_index.ranker
        assert ranker is not None
        ranker.term("body", "科幻")
        ranker.term("grams", "科普")
        ledger = ranker.docs_with("kind", ("task", "key_point"))
        decoded = _record_decodes(monkeypatch)
        at_switch: list[tuple[str, str]] = []
        real_switch = search_index._point_current_at

        def switch(build: str) -> None:
            at_switch.extend(decoded)
            real_switch(build)

        monkeypatch.setattr(search_index, "_point_current_at", switch)
        search_index.rebuild(StoreRecords(store))
        assert {("body", "科幻"), ("grams", "科普")} <= set(at_switch)  # decoded before CURRENT moved
        decoded.clear()
        fresh = search_index.ranker
        assert fresh is not None and fresh is not ranker
        assert len(fresh.term("body", "科幻")) == len(ranker.term("body", "科幻")) > 0
        fresh.term("grams", "科普")
        assert decoded == []  # the first searches on the new build decode nothing
        assert fresh.hot_filters() == [("kind", ("task", "key_point"))]  # the ledger's records, listed already
        assert fresh.docs_with("kind", ("task", "key_point")).tolist() == ledger.tolist()

    def test_a_rebuild_reads_its_records_and_last_phrases_before_it_is_switched_in(
        self, search_index: SearchIndex, store: Engine
    ) -> None:
        # Snippets and the proximity check read each hit's stored text; a phrase's positions are
        # checked document by document: done before the switch, not by the first searches.
        ranker = search_index.ranker
        assert ranker is not None
        phrase = wq.Phrase("body", ["基础设施", "建设"])
        asked = ranker.scores(phrase)
        quoted = SubstringPhrase([wq.Term("grams", g) for g in ("科学", "学教", "教育")], "科学教育")
        quoted_asked = ranker.scores(quoted)
        search_index.rebuild(StoreRecords(store))
        fresh = search_index.ranker
        assert fresh is not None and fresh is not ranker and len(fresh.leaves) == 1
        segment = fresh.leaves[0][2]
        assert len(segment.texts) == len(segment.stored) == segment.doccount > 0
        assert ("body", "基础设施\x00建设", phrase.slop, segment.doccount) in segment.phrases
        assert fresh.scores(phrase).docs.tolist() == asked.docs.tolist() != []
        assert ("", "科学教育", -1, -1) in segment.phrases
        assert fresh.scores(quoted).docs.tolist() == quoted_asked.docs.tolist() != []
        # The old build's decoded arrays are let go: nothing will read its segments again.
        assert ranker.segment_keys().isdisjoint(SEGMENTS.segments)
        assert all(key[0] in SEGMENTS.segments for key in SEGMENTS.postings)

    def test_a_rebuild_too_big_to_read_whole_reads_the_records_last_shown(
        self, search_index: SearchIndex, store: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(ranking, "WARM_RECORDS", 10)  # the seed's build counts as big
        ranker = search_index.ranker
        assert ranker is not None
        shown = [int(d) for d in ranker.scores(wq.Term("body", "科幻")).docs[:3]]
        uids = {ranker.stored_fields(d)["uid"] for d in shown}
        search_index.rebuild(StoreRecords(store))
        fresh = search_index.ranker
        assert fresh is not None and fresh is not ranker and len(fresh.leaves) == 1
        segment = fresh.leaves[0][2]
        assert segment.doccount > 10 and len(segment.stored) < segment.doccount  # not read whole
        assert {fields["uid"] for fields in segment.stored.values()} >= uids and len(segment.texts) >= len(uids)

    def test_warmers_see_the_new_ranker_before_the_switch_and_may_fail(
        self, search_index: SearchIndex, store: Engine
    ) -> None:
        seen: list[tuple[object, object]] = []

        def record(ranker: Ranker) -> None:
            seen.append((ranker, search_index.ranker))

        def broken(ranker: Ranker) -> None:
            raise RuntimeError("a warmer that fails")

        search_index.warmers[:] = [broken, record]
        old = search_index.ranker
        search_index.rebuild(StoreRecords(store))
        assert seen == [(search_index.ranker, old)] and old is not search_index.ranker


def test_a_write_does_not_look_up_the_records_last_shown(
    search_index: SearchIndex, store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its new segment is small and read whole: the last records shown matter to a big rebuild only.
    asked: list[Ranker] = []
    real = Ranker.hot_records

    def counted(self: Ranker) -> list[str]:
        asked.append(self)
        return real(self)

    monkeypatch.setattr(Ranker, "hot_records", counted)
    notice = parse_notice(
        "2024年某省科学素质工作要点\n一、甲\n1.举办航天科普周。内容。\n附件\n1.举办航天科普周。(中国科协)\n"
    )
    with unit_of_work(store) as session:
        result = import_notice(session, notice)
    search_index.update_documents(StoreRecords(store), [result.document_id])
    assert asked == []
    monkeypatch.setattr(ranking, "WARM_RECORDS", 10)  # the same write into a big segment: they are read
    search_index.rebuild(StoreRecords(store))
    assert len(asked) == 1


def test_a_write_makes_the_pinyin_table_before_the_switch(search_index: SearchIndex, store: Engine) -> None:
    service = SearchService(search_index, store, load_directory(), max_query_chars=200, cache_size=0)
    first = service._pinyin()
    assert not first.exact("hangtiankepuzhou")
    notice = parse_notice(
        "2024年某省科学素质工作要点\n一、甲\n1.举办航天科普周。内容。\n附件\n1.举办航天科普周。(中国科协)\n"
    )
    with unit_of_work(store) as session:
        result = import_notice(session, notice)
    search_index.update_documents(StoreRecords(store), [result.document_id])
    table = service._pinyin()  # the first search after the write: the new activity is read at once
    assert table is not first and [r.word for r in table.exact("hangtiankepuzhou")] == ["航天科普周"]
    assert not service._pinyin_refresh.is_alive()


def test_a_write_that_adds_no_word_keeps_the_pinyin_table(search_index: SearchIndex, store: Engine) -> None:
    service = SearchService(search_index, store, load_directory(), max_query_chars=200, cache_size=0)
    with search_index.reading() as searcher:
        # Two new searchers over the same names and dictionary (a progress report, say).
        first, second = (Ranker(searcher, FACET_FIELDS, SCORED_FIELDS) for _ in range(2))
        service._prepare_pinyin(first)
        service._prepare_pinyin(second)
        assert service._pinyin_ready[second] is service._pinyin_ready[first]
        notice = parse_notice(
            "2024年某省科学素质工作要点\n一、甲\n1.举办航天科普周。内容。\n附件\n1.举办航天科普周。(中国科协)\n"
        )
        with unit_of_work(store) as session:
            import_notice(session, notice)  # a new activity: its name must read in pinyin
        third = Ranker(searcher, FACET_FIELDS, SCORED_FIELDS)
        service._prepare_pinyin(third)
        assert service._pinyin_ready[third] is not service._pinyin_ready[first]
        assert service._pinyin_ready[third].exact("hangtiankepuzhou")


def test_the_pinyin_table_is_rebuilt_off_the_request_path(search_index: SearchIndex, store: Engine) -> None:
    service = SearchService(search_index, store, load_directory(), max_query_chars=200, cache_size=0)
    first = service._pinyin()
    assert first.exact("kehuan")
    # A searcher switched on the request path (another process wrote) runs no warmers.
    search_index.warmers.clear()
    search_index.rebuild(StoreRecords(store))  # a new generation
    assert service._pinyin() is first  # the old readings answer at once
    service._pinyin_refresh.join(timeout=60)
    table = service._pinyin_table
    assert table is not None and table[0] == search_index.generation and table[1] is not first
    assert service._pinyin() is table[1] and table[1].exact("kehuan")


def test_an_empty_index_ranks_nothing(search_index: SearchIndex, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    ix = create_in(str(tmp_path / "empty"), build_schema())
    with ix.searcher() as searcher:
        ranker = Ranker(searcher, FACET_FIELDS, SCORED_FIELDS)
        hits = ranker.scores(wq.Or([wq.Term("body", "科普"), wq.Term("grams", "科普")]))
        assert len(hits) == 0 and ranker.live_docs().size == 0 and ranker.facet_counts("kind", hits) == {}
    ix.close()


# --- review: findings on the warmed switch (branch review) -----------------------------


def test_a_switch_while_the_pinyin_table_is_looked_up_does_not_pin_the_old_table(
    search_index: SearchIndex, store: Engine
) -> None:
    # suggest() asks for the table outside the index lock: the follower may switch between
    # _pinyin() reading index.ranker and reading index.generation.
    service = SearchService(search_index, store, load_directory(), max_query_chars=200, cache_size=0)
    search_index.rebuild(StoreRecords(store))  # the live ranker now has a table made for it
    assert not service._pinyin().exact("hangtiankepuzhou")
    ready = service._pinyin_ready
    switched: list[int] = []

    class SwitchDuringLookup(weakref.WeakKeyDictionary[Ranker, Any]):
        def get(self, key: Ranker, default: Any = None) -> Any:
            found = ready.get(key, default)
            if not switched:  # another thread's write lands right after the old ranker was read
                switched.append(search_index.generation)
                notice = parse_notice(
                    "2024年某省科学素质工作要点\n一、甲\n1.举办航天科普周。内容。\n附件\n1.举办航天科普周。(中国科协)\n"
                )
                with unit_of_work(store) as session:
                    result = import_notice(session, notice)
                search_index.update_documents(StoreRecords(store), [result.document_id])
            return found

    service._pinyin_ready = SwitchDuringLookup()
    for ranker, table in ready.items():
        weakref.WeakKeyDictionary.__setitem__(service._pinyin_ready, ranker, table)
    service._pinyin()
    assert switched and search_index.generation != switched[0]
    if service._pinyin_refresh.is_alive():
        service._pinyin_refresh.join(timeout=60)
    assert [r.word for r in service._pinyin().exact("hangtiankepuzhou")] == ["航天科普周"]


@pytest.mark.parametrize("kind", ["quoted", "positional"])
def test_two_searchers_of_one_segment_with_other_deletions_find_a_phrase_alike(
    search_index: SearchIndex, tmp_path: Path, kind: str
) -> None:
    # The segment key (id and doc_count_all) does not change with deletions, yet the phrase
    # caches hold only the documents live for the searcher that filled them. The old
    # searcher keeps answering while a new one is warmed (prefetch_phrases), and two
    # SearchIndex objects over copies of one index (the tests' copied seeded_index) share keys.
    quoted = SubstringPhrase([wq.Term("grams", g) for g in ("科学", "学教", "教育")], "科学教育")
    positional = wq.Phrase("body", ["科学素质", "建设"])
    q = quoted if kind == "quoted" else positional
    ix = _one_segment(tmp_path / "one", _seed_records(search_index))
    SEGMENTS.clear()
    with ix.searcher() as before:
        old = Ranker(before)
        holders = [old.stored_fields(int(d))["uid"] for d in old.scores(q).docs]
        assert len(holders) >= 2
        SEGMENTS.clear()  # as after the segment's phrase cache was cleared (PHRASE_CACHE_SIZE)
        old = Ranker(before)
        writer = ix.writer()
        writer.delete_by_term("uid", holders[0])
        writer.commit(merge=False)
        with ix.searcher() as after:
            new = Ranker(after)
            assert new.segment_keys() == old.segment_keys()
            assert len(new.scores(q)) == len(holders) - 1  # the new searcher asks first (the warm)
            assert len(old.scores(q)) == len(holders)  # the old one still holds that record
    ix.close()


def test_a_rebuild_that_fails_before_the_switch_leaves_no_build_behind(
    search_index: SearchIndex, store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = sorted(p.name for p in search_index.root.glob("build-*"))
    current = (search_index.root / "CURRENT").read_text("utf-8")

    def broken(self: Ranker, skip: Any = frozenset()) -> None:
        raise OSError("a stored-fields file that cannot be read")

    monkeypatch.setattr(Ranker, "read_all_stored", broken)
    with pytest.raises(OSError):
        search_index.rebuild(StoreRecords(store))
    assert (search_index.root / "CURRENT").read_text("utf-8") == current
    # Each failed attempt (the follower retries every interval) would leave a whole build.
    assert sorted(p.name for p in search_index.root.glob("build-*")) == before
