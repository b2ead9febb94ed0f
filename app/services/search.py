"""Search and suggestions over the index: filters, facets, ranking, snippets, a small result cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select
from whoosh import query as wq

from app import models as m
from app import schemas as s
from app.errors import InvalidQuery
from app.parser.departments import DepartmentDirectory
from app.search.highlight import highlight_terms, snippet
from app.search.index import FACET_FIELDS, SearchIndex
from app.search.query import build_query, parse_query
from app.search.text import fold
from app.services.catalogue import Window, check_target_group, resolve_department

SUGGEST_MAX_CHARS = 50
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
        self.directory = directory
        self.max_query_chars = max_query_chars
        self.cache = ResultCache(cache_size)
        self.sync_seconds = sync_seconds
        self._names: tuple[int, list[str], dict[int, s.DocumentRef]] | None = None

    def search(self, q: str, filters: SearchFilters, window: Window) -> s.SearchResponse:
        """Ranked, filtered, faceted, highlighted hits for a query in the query language."""
        self.index.sync_in_background(self.engine, every=self.sync_seconds)  # another replica may have written
        parsed = parse_query(q, max_chars=self.max_query_chars)
        filters = self._canonical(filters)
        key = (self.index.generation, " ".join(fold(q).split()), filters, window)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        query, analyses = build_query(parsed, self.directory)
        terms = highlight_terms(
            [t for a in analyses if not a.excluded for t in [a.term, *[w for w in a.words if len(w) > 1], *a.synonyms]]
        )
        documents = self._documents()
        with self.index.reading() as searcher:
            # BM25F over posting lists (app.search.ranking); score ties go to the lower
            # document number, which follows (document, number) order, so pages are stable.
            ranker = self.index.ranker
            assert ranker is not None
            filter_query = _filter_query(filters)
            allowed = ranker.scores(filter_query).docs if filter_query is not None else None
            best, matched = ranker.top(query, window.offset + window.limit, allowed)
            total = len(matched)
            facets = {name: ranker.facet_counts(name, matched) for name in FACET_FIELDS}
            items = [
                self._item(searcher.stored_fields(docnum), score, terms, documents)
                for docnum, score in best[window.offset :]
            ]
        response = s.SearchResponse(
            items=items,
            total=total,
            limit=window.limit,
            offset=window.offset,
            facets=facets,
            query=s.QueryReport(text=q, tokens=[s.TermReport(**asdict(a)) for a in analyses]),
        )
        self.cache.put(key, response)
        return response

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

        def offer(text: str, weight: float) -> None:
            key = (not fold(text).startswith(prefix), -weight)
            if fold(text) != prefix and (text not in scored or scored[text] > key):
                scored[text] = key

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

    def _canonical(self, filters: SearchFilters) -> SearchFilters:
        check_target_group(filters.target_group)
        section = filters.section.strip() if filters.section else None
        if section and section.isdigit():
            section = chinese_numeral(int(section))
        department = filters.department
        if department is not None:
            with Session(self.engine) as session:
                department = resolve_department(session, self.directory, department, status=422)
        return SearchFilters(filters.kind, department, section, filters.target_group, filters.document)

    def _documents(self) -> dict[int, s.DocumentRef]:
        return self._lookups()[2]

    def _names_list(self) -> list[str]:
        return self._lookups()[1]

    def _lookups(self) -> tuple[int, list[str], dict[int, s.DocumentRef]]:
        # Small tables, re-read only when the index (hence the store) changed.
        if self._names is None or self._names[0] != self.index.generation:
            with Session(self.engine) as session:
                names = list(session.exec(select(m.Activity.name)).all())
                docs = {
                    d.id: s.DocumentRef(id=d.id, year=d.year, title=d.title) for d in session.exec(select(m.Document))
                }
            self._names = (self.index.generation, names, docs)  # type: ignore[assignment]
        return self._names  # type: ignore[return-value]

    def _item(
        self, fields: dict[str, Any], score: float, terms: list[str], documents: dict[int, s.DocumentRef]
    ) -> s.SearchItem:
        title, body = fields["title"], fields.get("body", "")
        full = f"{title}。{body}" if fields["kind"] != "activity" and body else title
        html, _ = snippet(full, terms)
        document_id = int(fields["document"])
        return s.SearchItem(
            kind=fields["kind"],
            id=fields["ref"],
            number=fields["number"] or None,
            title=title,
            snippet=html,
            score=round(float(score), 4),
            departments=[s.DepartmentRole(name=n, full_name=f, role=r) for n, f, r in fields["extra"]["departments"]],
            document=documents.get(document_id) or s.DocumentRef(id=document_id, year=fields["year"], title=""),
        )


def chinese_numeral(n: int) -> str:
    """3 → 三, 12 → 十二: section labels as the notices write them."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def _filter_query(filters: SearchFilters) -> wq.Query | None:
    terms = [
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
    return wq.And(terms) if terms else None
