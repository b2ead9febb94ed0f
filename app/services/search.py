"""Search and suggestions over the index: filters, facets, ranking, snippets, a small result cache."""

from __future__ import annotations

import logging
import math
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, select
from whoosh import query as wq

from app import models as m
from app import schemas as s
from app.domain.departments import DepartmentDirectory
from app.domain.vocabulary import Role
from app.errors import InvalidParameter, InvalidQuery
from app.models import row_id
from app.search.errors import QueryError
from app.search.highlight import highlight_terms, snippet
from app.search.index import FACET_FIELDS, SearchIndex
from app.search.matching import match
from app.search.pinyin import PINYIN_QUERY, PinyinTable, respell
from app.search.query import build_query, parse_query, standing_query
from app.search.ranking import Docs, Memo, Ranker
from app.search.text import fold
from app.search.understanding import Intent, query_words, understand
from app.services.catalogue import Window, check_target_group, resolve_department
from app.services.indexing import StoreRecords
from app.services.repair import repairs_damage

log = logging.getLogger(__name__)
SUGGEST_MAX_CHARS = 50
LEDGER_KINDS = ("task", "key_point")
PINYIN_VOCABULARY = 5000  # most frequent index words per field that get a pinyin reading
UNIT_PINYIN_WEIGHT = 8.0  # units and activities are what pinyin is most often typed for
ACTIVITY_PINYIN_WEIGHT = 6.0
ROLE_PINYIN_WEIGHT = 2.0  # 牵头, 参与 …: typed after a unit more often than most words
QUESTION_PINYIN_WEIGHT = 0.5  # 如何, 哪些 …: any content word spelt the same is meant first
MIN_UNSCOPED_NAME = 3  # characters left of an activity name without its first word
ACTIVITY_CHIPS = 5
ACTIVITY_WEIGHT = 3.0
DEPARTMENT_WEIGHT = 3.0


@dataclass(frozen=True)
class SearchFilters:
    """Filters applied on top of the query."""

    kind: str | None = None
    department: str | None = None
    section: str | None = None
    target_group: str | None = None
    document: int | None = None
    year: int | None = None
    province: str | None = None
    issuer: str | None = None


class ResultCache:
    """LRU of rendered responses, keyed by index generation so any index change invalidates it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[tuple[Any, ...], s.SearchResponse] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> s.SearchResponse | None:
        if self.size <= 0:
            return None
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
            return hit

    def put(self, key: tuple[Any, ...], value: s.SearchResponse) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.size:
                self._data.popitem(last=False)


class SearchService:
    """Answers search and suggest requests from one SearchIndex."""

    def __init__(
        self,
        index: SearchIndex,
        engine: Engine,
        directory: DepartmentDirectory,
        *,
        max_query_chars: int,
        cache_size: int,
        sync_seconds: float = 5.0,
    ) -> None:
        self.index = index
        self.engine = engine
        self.source = StoreRecords(engine)
        self.directory = directory
        self.max_query_chars = max_query_chars
        self.cache = ResultCache(cache_size)
        self.sync_seconds = sync_seconds
        self._document_refs: tuple[int, dict[int, s.DocumentRef]] | None = None
        self._activity_names: tuple[int, list[str]] | None = None
        self._pinyin_table: tuple[int, PinyinTable] | None = None
        self._pinyin_refresh = threading.Thread()  # never started: no refresh running
        # Tables made for a ranker before it was switched in (by the index's warmers).
        self._pinyin_ready: weakref.WeakKeyDictionary[Ranker, PinyinTable] = weakref.WeakKeyDictionary()
        self._pinyin_made_from: tuple[tuple[str, int], PinyinTable] | None = None
        index.warmers.append(self._prepare_pinyin)

    @repairs_damage
    def search(self, q: str, filters: SearchFilters, window: Window) -> s.SearchResponse:
        """Ranked, filtered, faceted, highlighted hits for a query in the query language."""
        try:
            return self._search(q, filters, window)
        except QueryError as exc:  # the engine says what and where; the API answers 400 problem+json
            raise InvalidQuery(exc.detail, **exc.extra) from exc

    def _search(self, q: str, filters: SearchFilters, window: Window) -> s.SearchResponse:
        self.index.sync_in_background(self.source, every=self.sync_seconds)  # another replica may have written
        parsed = parse_query(q, max_chars=self.max_query_chars)
        filters = self._canonical(filters)
        key = (self.index.generation, " ".join(fold(q).split()), filters, window)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        documents = self._documents()
        with self.index.reading():
            ranker = self.index.ranker
            assert ranker is not None
            parsed, typed = respell(
                parsed,
                self._pinyin,
                known=lambda word: _in_index(ranker, word),
                occurs=lambda text: len(ranker.scores(standing_query(text))) > 0,
            )
            understood = understand(parsed, self.directory, years={d.year for d in documents.values()})
            compiled = build_query(understood.query, self.directory)
            analyses = compiled.analyses
            terms = highlight_terms(
                [
                    t
                    for a in analyses
                    if not a.excluded
                    for t in [a.term, *[w for w in a.words if len(w) > 1], *a.synonyms]
                ]
            )
            year_documents = _editions(documents, filters, understood.year)
            filter_query = _filter_query(filters, understood.intent, year_documents)
            allowed = ranker.scores(filter_query).docs if filter_query is not None else None
            # Without a kind filter the list is the ledger's own records; activities that
            # match are shown beside it (response.activities), never crowding it.
            listed = allowed if filters.kind else _kinds(ranker, LEDGER_KINDS, allowed)
            whole = compiled.combined()
            memo: Memo = {}  # every subquery evaluated once, for the list, its relaxation and the chips
            scored = ranker.scores(whole, memo) if whole is not None else None
            matched = match(
                ranker, compiled, allowed=listed, limit=window.offset + window.limit, scored=scored, memo=memo
            )
            facets = ranker.facets([*FACET_FIELDS, "document"], matched.hits)
            facets.update(_edition_facets(facets.pop("document"), documents))
            chips: list[s.ActivityChip] = []
            if not filters.kind and not understood.matches_everything:
                activities = _kinds(ranker, ("activity",), allowed)
                found = match(
                    ranker, compiled, allowed=activities, limit=ACTIVITY_CHIPS, relax=False, scored=scored, memo=memo
                )
                if len(found.hits):
                    facets["kind"] = {**facets["kind"], "activity": len(found.hits)}
                chips = [_chip(ranker.stored_fields(docnum)) for docnum, _ in found.page]
            items = [
                self._item_data(
                    ranker.stored_fields(docnum),
                    score,
                    terms,
                    documents,
                    partial=i >= matched.full_on_page,
                    folded=ranker.folded_text(docnum),
                )
                for i, (docnum, score) in enumerate(matched.page)
                if i >= window.offset
            ]
        # vars(), not asdict(): the analysis holds flat lists, which asdict would deep-copy.
        reports = [s.TermReport(**vars(a), pinyin=typed.get(a.term)) for a in analyses]
        reports += [
            s.TermReport(
                term=w.word,
                words=[fold(w.word)],
                grams=[],
                department=None,
                synonyms=[],
                phrase=False,
                excluded=False,
                usage=w.usage.value,
                pinyin=typed.get(w.word),
            )
            for w in understood.set_aside
        ]
        intent = understood.intent
        # One validation of the page, the hits given as plain data: pydantic-core builds
        # them all in one call.
        response = s.SearchResponse.model_validate(
            {
                "items": items,
                "total": len(matched.hits),
                "limit": window.limit,
                "offset": window.offset,
                "facets": facets,
                "query": s.QueryReport(
                    text=q,
                    tokens=reports,
                    intent=s.IntentReport(
                        department=intent.department, role=intent.role.value, words=list(intent.words)
                    )
                    if intent
                    else None,
                    year=understood.year,
                    relaxed=matched.relaxed > 0,
                    full_matches=None if understood.matches_everything else len(matched.hits) - matched.relaxed,
                    dropped=matched.dropped,
                    notes=understood.notes,
                ),
                "activities": chips,
            }
        )
        self.cache.put(key, response)
        return response

    @repairs_damage
    def suggest(self, q: str, limit: int) -> list[str]:
        """Completions for what has been typed so far: activity names, units, frequent words."""
        prefix = fold(q.strip())
        if not prefix:
            raise InvalidQuery("type at least one character to get suggestions")
        if len(prefix) > SUGGEST_MAX_CHARS:
            raise InvalidQuery(f"suggestions take at most {SUGGEST_MAX_CHARS} characters")
        # Completions that start with the prefix come first; among them the more often a
        # word occurs (document frequency) the higher; named activities and units count
        # as a fixed frequency; names that merely contain the prefix come last.
        scored: dict[str, tuple[bool, float]] = {}

        def offer(text: str, weight: float, starts: bool | None = None) -> None:
            key = (not (fold(text).startswith(prefix) if starts is None else starts), -weight)
            if fold(text) != prefix and (text not in scored or scored[text] > key):
                scored[text] = key

        if PINYIN_QUERY.match(prefix):  # kexie → 科协, lnr → 老年人
            for reading in self._pinyin().prefixed(prefix, limit * 2):
                offer(reading.word, reading.weight, starts=True)

        for name in self._names_list():
            if prefix in fold(name):
                offer(name, ACTIVITY_WEIGHT)
        for spelling in self.directory.all_spellings():
            if spelling.startswith(prefix):
                offer(spelling, DEPARTMENT_WEIGHT)
        with self.index.reading() as searcher:
            reader = searcher.reader()
            for fieldname in ("title", "body"):
                for term in reader.expand_prefix(fieldname, prefix):
                    text = term.decode("utf-8") if isinstance(term, bytes) else term
                    offer(text, float(reader.doc_frequency("title", text) + reader.doc_frequency("body", text)))
        ranked = sorted(scored.items(), key=lambda kv: (kv[1], len(kv[0]), kv[0]))
        return [text for text, _ in ranked[:limit]]

    # --- helpers ---------------------------------------------------------------

    def _pinyin(self) -> PinyinTable:
        # A few thousand words, tenths of a second to a second to make. A write by this
        # process, or one its follower saw, makes the new searcher's table before the switch
        # (_prepare_pinyin); otherwise the old readings keep answering while the new table is
        # made off the request path, so the first search after a write does not pay for it.
        current = self._pinyin_table
        # The generation before the ranker: should a switch come between the two reads, the
        # table is filed under the older generation and looked up again at the next call.
        generation = self.index.generation
        ranker = self.index.ranker
        ready = self._pinyin_ready.get(ranker) if ranker is not None else None
        if ready is not None and (current is None or current[0] != generation):
            current = self._pinyin_table = (generation, ready)
        if current is None:
            current = self._pinyin_table = (generation, self._build_pinyin())
        elif current[0] != self.index.generation and not self._pinyin_refresh.is_alive():
            self._pinyin_refresh = threading.Thread(target=self._refresh_pinyin, name="kepu-pinyin", daemon=True)
            self._pinyin_refresh.start()
        return current[1]

    def _refresh_pinyin(self) -> None:
        try:
            generation, ranker = self.index.generation, self.index.ranker
            if ranker is not None:
                # Without the index lock, so searches go on meanwhile; should the searcher be
                # replaced and closed mid-way, this fails and the next search tries again.
                self._pinyin_table = (generation, self._build_pinyin(ranker.reader))
        except Exception:
            log.warning("pinyin table refresh failed; the previous one keeps answering", exc_info=True)

    def _prepare_pinyin(self, ranker: Ranker) -> None:
        # A new ranker, not yet searched: its table is made now rather than by its first
        # searches, from the store as it is now (the cached names belong to the old one).
        # A write that adds no activity and no dictionary word (a progress report, a status)
        # keeps the table: remaking it would hold every report up by its cost (frequent
        # words shift too slowly for one write to matter).
        names = self._read_names()
        segmenter = self.index.segmenter
        inputs = (segmenter.fingerprint if segmenter else "", hash(tuple(sorted(names))))  # rows come in any order
        made = self._pinyin_made_from
        if made is None or made[0] != inputs:
            made = self._pinyin_made_from = (inputs, self._build_pinyin(ranker.reader, names=names))
        self._pinyin_ready[ranker] = made[1]

    def _build_pinyin(self, reader: Any = None, names: list[str] | None = None) -> PinyinTable:
        if reader is None:
            with self.index.reading() as searcher:
                return self._build_pinyin(searcher.reader())
        frequent = [
            (text.decode("utf-8") if isinstance(text, bytes) else text, math.log1p(freq))
            for fieldname in ("title", "body")
            for freq, text in reader.most_frequent_terms(fieldname, PINYIN_VOCABULARY)
        ]
        segmenter = self.index.segmenter
        vocabulary = [
            *((name, UNIT_PINYIN_WEIGHT) for name in self.directory.all_spellings()),
            *((name, ACTIVITY_PINYIN_WEIGHT) for name in (names if names is not None else self._names_list())),
            *((term, 1.0) for term in (segmenter.terms if segmenter else [])),
            *frequent,
        ]
        # The words inside compounds: the index holds 应急科普 and 乡村振兴 whole, yet "yingji"
        # means 应急 and "xiangcun" 乡村 (searched through their bigrams).
        inner = [(part, weight) for word, weight in vocabulary for part in segmenter.parts(word)] if segmenter else []
        # An activity named without its scope, as people say it: 科技活动周 for 全国科技活动周.
        unscoped = [
            (folded[len(head) :], ACTIVITY_PINYIN_WEIGHT - 1)
            for folded in map(fold, names if names is not None else self._names_list())
            # The name is one dictionary word; its first inner word is the scope.
            for head in (segmenter.parts(folded)[:1] if segmenter else [])
            if folded.startswith(head) and len(folded) - len(head) >= MIN_UNSCOPED_NAME
        ]
        # Role and question words, so that "jiaoyubu qiantou" reads as 教育部 牵头 (an intent)
        # and "ruhe tisheng" as 如何 提升 (a question).
        asking = [
            *((word, ROLE_PINYIN_WEIGHT) for word in query_words().roles),
            *((word, QUESTION_PINYIN_WEIGHT) for word in query_words().question),
        ]
        return PinyinTable([*vocabulary, *inner, *unscoped, *asking])

    def _canonical(self, filters: SearchFilters) -> SearchFilters:
        check_target_group(filters.target_group)
        section = filters.section.strip() if filters.section else None
        if section and section.isdigit():
            section = chinese_numeral(int(section))
        department = filters.department
        if department is not None:
            with Session(self.engine) as session:
                department = resolve_department(session, self.directory, department, status=422)
        years = {d.year for d in self._documents().values()}
        if filters.year is not None and filters.year not in years:
            stored = "、".join(str(y) for y in sorted(years)) or "none"
            raise InvalidParameter(f"no edition of {filters.year} is stored; stored years: {stored}")
        province = filters.province.strip() if filters.province else None
        if province is not None and province not in {d.province for d in self._documents().values()}:
            raise InvalidParameter(f"no provincial edition of {province!r} is stored")
        issuer = filters.issuer.strip() if filters.issuer else None
        if issuer is not None and issuer not in {d.issuer for d in self._documents().values()}:
            raise InvalidParameter(f"no stored edition was issued by {issuer!r}")
        return SearchFilters(
            filters.kind, department, section, filters.target_group, filters.document, filters.year, province, issuer
        )

    def _documents(self) -> dict[int, s.DocumentRef]:
        # A small table, re-read only when the index (hence the store) changed.
        cached = self._document_refs
        if cached is None or cached[0] != self.index.generation:
            generation = self.index.generation
            with Session(self.engine) as session:
                docs = {
                    row_id(d): s.DocumentRef.model_validate(d, from_attributes=True)
                    for d in session.exec(select(m.Document))
                }
            cached = self._document_refs = (generation, docs)
        return cached[1]

    def _names_list(self) -> list[str]:
        # Activity names, for suggestions and pinyin only: every search needs the documents,
        # but these are many at 100k tasks, so they are not read on the first search after a write.
        cached = self._activity_names
        if cached is None or cached[0] != self.index.generation:
            cached = self._activity_names = (self.index.generation, self._read_names())
        return cached[1]

    def _read_names(self) -> list[str]:
        with Session(self.engine) as session:
            return list(session.exec(select(m.Activity.name)).all())

    def _item_data(
        self,
        fields: dict[str, Any],
        score: float,
        terms: list[str],
        documents: dict[int, s.DocumentRef],
        *,
        partial: bool = False,
        folded: str | None = None,
    ) -> dict[str, Any]:
        title, body = fields["title"], fields.get("body", "")
        full = f"{title}。{body}" if fields["kind"] != "activity" and body else title
        # The ranker's folded "title\nbody" lines up with `full` character for character.
        html, _ = snippet(full, terms, folded=folded[: len(full)] if folded is not None else None)
        document_id = int(fields["document"])
        task = fields["extra"].get("task")
        # Plain data, validated with the whole page (SearchItem): a model built per hit and
        # per department in Python costs several times more.
        return {
            "kind": fields["kind"],
            "id": fields["ref"],
            "number": fields["number"] or None,
            "title": title,
            "snippet": html,
            "score": round(float(score), 4),
            "departments": [{"name": n, "full_name": f, "role": r} for n, f, r in fields["extra"]["departments"]],
            "document": documents.get(document_id) or s.DocumentRef(id=document_id, year=fields["year"], title=""),
            "partial": partial,
            "task": {"id": task[0], "number": task[1]} if task else None,
        }


def chinese_numeral(n: int) -> str:
    """3 → 三, 12 → 十二: section labels as the notices write them."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def _filter_query(
    filters: SearchFilters, intent: Intent | None = None, year_documents: list[int] | None = None
) -> wq.Query | None:
    terms: list[wq.Query] = [
        wq.Term(field, value)
        for field, value in (
            ("kind", filters.kind),
            ("department", filters.department),
            ("section", filters.section),
            ("target_group", filters.target_group),
            ("document", str(filters.document) if filters.document is not None else None),
        )
        if value is not None
    ]
    if intent is not None:
        if intent.role == Role.LEAD:
            terms.append(wq.Term("lead", intent.department))
        else:
            terms.append(wq.AndNot(wq.Term("department", intent.department), wq.Term("lead", intent.department)))
    if year_documents:
        terms.append(wq.Or([wq.Term("document", str(d)) for d in year_documents]))
    return wq.And(terms) if terms else None


def _editions(documents: dict[int, s.DocumentRef], filters: SearchFilters, query_year: int | None) -> list[int]:
    """The documents a year (filtered on or typed in the query) and a province select; [] when none selects."""
    if filters.year is None and query_year is None and filters.province is None and filters.issuer is None:
        return []
    chosen = [
        i
        for i, d in documents.items()
        if filters.year in (None, d.year)
        and query_year in (None, d.year)
        and filters.province in (None, d.province)
        and filters.issuer in (None, d.issuer)
    ]
    return chosen or [0]  # a year typed in the query and another filtered on: no document has both


def _edition_facets(counts: dict[str, int], documents: dict[int, s.DocumentRef]) -> dict[str, dict[str, int]]:
    """Hits per document, per year, per province and per issuer: facets over the stored editions, computed
    from the hits per document id (`counts`)."""
    per_document: dict[str, int] = {}
    per_year: dict[str, int] = {}
    per_province: dict[str, int] = {}
    per_issuer: dict[str, int] = {}
    # Only the editions with hits (facet counts are never 0): a store may hold thousands of notices.
    held = [(int(key), count) for key, count in counts.items() if key.isdigit() and int(key) in documents]
    for document_id, count in sorted(held, key=lambda kv: (-documents[kv[0]].year, kv[0])):
        ref = documents[document_id]
        per_document[str(document_id)] = count
        per_year[str(ref.year)] = per_year.get(str(ref.year), 0) + count
        if ref.province:
            per_province[ref.province] = per_province.get(ref.province, 0) + count
        if ref.issuer:
            per_issuer[ref.issuer] = per_issuer.get(ref.issuer, 0) + count
    return {"year": per_year, "document": per_document, "province": per_province, "issuer": per_issuer}


def _in_index(ranker: Ranker, word: str) -> bool:
    return any(len(ranker.term(fieldname, word)) for fieldname in ("title", "body", "grams"))


def _kinds(ranker: Ranker, kinds: tuple[str, ...], allowed: Docs | None) -> Docs:
    docs = ranker.docs_with("kind", kinds)
    return docs if allowed is None else np.intersect1d(docs, allowed, assume_unique=True)


def _chip(fields: dict[str, Any]) -> s.ActivityChip:
    extra = fields["extra"]
    return s.ActivityChip(
        id=fields["ref"],
        name=fields["title"],
        kind=extra.get("activity_kind", ""),
        tasks=[s.TaskRef(id=i, number=n) for i, n in extra.get("tasks", [])],
    )
