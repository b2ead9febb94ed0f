"""BM25F ranking over the Whoosh index's posting lists, evaluated as sets and dicts.

Whoosh's matcher tree costs tens of microseconds for every matching document, and a
query here is a tree of dozens of terms (two fields, sub-words, units, synonyms). So
each leaf term's posting list is read once per searcher into {docnum: BM25 weight}
(cached), and a query is evaluated with dict and set operations: Or sums, And
intersects and sums, AndNot removes. One pass yields the ranking, the exact total and
the matching set the facets are counted on. Phrases still go through Whoosh, which
has the positions.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import OrderedDict
from collections.abc import Set as AbstractSet

from whoosh import query as wq
from whoosh.searching import Searcher

from app.search.text import fold

K1 = 1.2
B = 0.75
TERM_CACHE_SIZE = 8192
Scores = dict[int, float]


class SubstringPhrase(wq.And):  # type: ignore[misc]
    """All of a phrase's bigrams, kept only where the stored text holds the phrase itself.

    The bigram field keeps no positions (it would cost a tenth of the indexing speed);
    a quoted phrase's candidates are few, so checking their stored text is cheap.
    """

    def __init__(self, grams: list[wq.Query], phrase: str, boost: float = 1.0) -> None:
        super().__init__(grams, boost=boost)
        self.phrase = phrase


class Ranker:
    """Scores queries against one searcher; build a new one when the searcher changes."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.schema = searcher.schema
        self.doc_count = max(1, self.reader.doc_count())
        self._avg_length: dict[str, float] = {}
        self._terms: OrderedDict[tuple[str, str], Scores] = OrderedDict()
        self._lock = threading.Lock()

    def term(self, fieldname: str, text: str) -> Scores:
        """{docnum: BM25F score} for one term (cached)."""
        key = (fieldname, text)
        with self._lock:
            cached = self._terms.get(key)
            if cached is not None:
                self._terms.move_to_end(key)
                return cached
        scores = self._read_term(fieldname, text)
        with self._lock:
            self._terms[key] = scores
            while len(self._terms) > TERM_CACHE_SIZE:
                self._terms.popitem(last=False)
        return scores

    def _read_term(self, fieldname: str, text: str) -> Scores:
        if (fieldname, text) not in self.reader:
            return {}
        field = self.schema[fieldname]
        postings = self.reader.postings(fieldname, text)
        if not field.scorable:  # ID/KEYWORD filters: membership only
            return dict.fromkeys(postings.all_ids(), 0.0)
        # Whoosh's own BM25F: its idf, and a posting weight that already carries the
        # field boost (term frequency × boost), saturated by K1 like any frequency.
        df = self.reader.doc_frequency(fieldname, text)
        idf = math.log(self.doc_count / (df + 1)) + 1
        avg = self._avg(fieldname)
        length = self.reader.doc_field_length
        scores: Scores = {}
        for docnum, weight in postings.items_as("weight"):
            norm = K1 * ((1 - B) + B * length(docnum, fieldname, 1) / avg)
            scores[docnum] = idf * (weight * (K1 + 1)) / (weight + norm)
        return scores

    def _avg(self, fieldname: str) -> float:
        if fieldname not in self._avg_length:
            self._avg_length[fieldname] = max(1.0, self.reader.field_length(fieldname) / self.doc_count)
        return self._avg_length[fieldname]

    def scores(self, q: wq.Query) -> Scores:
        """{docnum: score} of every document matching `q`."""
        if isinstance(q, wq.Term):
            return _scaled(self.term(q.fieldname, q.text), q.boost)
        if isinstance(q, wq.Prefix):
            expanded = [
                wq.Term(q.fieldname, t.decode() if isinstance(t, bytes) else t)
                for t in self.reader.expand_prefix(q.fieldname, q.text)
            ]
            return _scaled(_sum([self.scores(t) for t in expanded]), q.boost)
        if isinstance(q, SubstringPhrase):
            candidates = _intersect([self.scores(sub) for sub in q.subqueries])
            return {d: s * q.boost for d, s in candidates.items() if q.phrase in self._folded_text(d)}
        if isinstance(q, wq.AndNot):
            positive = self.scores(q.a)
            negative = self.scores(q.b)
            return {d: s for d, s in positive.items() if d not in negative}
        if isinstance(q, wq.And):
            return _scaled(_intersect([self.scores(sub) for sub in q.subqueries]), q.boost)
        if isinstance(q, wq.Or):
            return _scaled(_sum([self.scores(sub) for sub in q.subqueries]), q.boost)
        if isinstance(q, wq.Phrase):
            allowed = set(q.docs(self.searcher))
            words = _intersect([self.term(q.fieldname, w) for w in q.words])
            return {d: s * q.boost for d, s in words.items() if d in allowed}
        raise TypeError(f"cannot rank a {type(q).__name__} query")

    def _folded_text(self, docnum: int) -> str:
        stored = self.searcher.stored_fields(docnum)
        return fold(f"{stored.get('title', '')}\n{stored.get('body', '')}")

    def top(
        self, q: wq.Query, limit: int, allowed: AbstractSet[int] | None = None
    ) -> tuple[list[tuple[int, float]], Scores]:
        """The best `limit` (docnum, score), ties to the lower docnum, and all matches."""
        scores = self.scores(q)
        if allowed is not None:
            scores = {d: s for d, s in scores.items() if d in allowed}
        best = heapq.nsmallest(limit, scores.items(), key=lambda item: (-item[1], item[0]))
        return best, scores


def _scaled(scores: Scores, boost: float) -> Scores:
    return scores if boost == 1.0 else {d: s * boost for d, s in scores.items()}


def _sum(parts: list[Scores]) -> Scores:
    parts = [p for p in parts if p]
    if not parts:
        return {}
    parts.sort(key=len, reverse=True)
    total = dict(parts[0])
    for part in parts[1:]:
        for docnum, score in part.items():
            total[docnum] = total.get(docnum, 0.0) + score
    return total


def _intersect(parts: list[Scores]) -> Scores:
    if not parts or any(not p for p in parts):
        return {}
    parts = sorted(parts, key=len)
    keys = set(parts[0]).intersection(*parts[1:])
    return {d: sum(p[d] for p in parts) for d in keys}
