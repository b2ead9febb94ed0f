"""BM25F ranking and facet counts over the Whoosh index's posting lists, with NumPy.

Whoosh's matcher tree costs tens of microseconds for every matching document, and a
query here is a tree of dozens of terms (two fields, sub-words, units, synonyms). So
each leaf term's posting list is read once per searcher into two arrays — document
numbers (sorted) and their BM25F scores — and a query is evaluated with array
operations: Or sums, And intersects and sums, AndNot removes. One pass yields the
ranking, the exact total and the matching set that facets are counted on. Phrases
still ask Whoosh, which has the positions.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from whoosh import query as wq
from whoosh.searching import Searcher

from app.search.text import fold

K1 = 1.2
B = 0.75
TERM_CACHE_POSTINGS = 8_000_000  # ≈ 128 MB of (docnum, score) pairs
TEXT_CACHE_SIZE = 200_000
Docs = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Hits:
    """Matching documents (sorted, unique) and their scores, index for index."""

    docs: Docs
    scores: Scores

    def __len__(self) -> int:
        return int(self.docs.size)

    def scaled(self, boost: float) -> Hits:
        """The same documents with scores multiplied by `boost`."""
        return self if boost == 1.0 else Hits(self.docs, self.scores * boost)

    def keep(self, mask: npt.NDArray[np.bool_]) -> Hits:
        """The documents where `mask` is true."""
        return Hits(self.docs[mask], self.scores[mask])


EMPTY = Hits(np.empty(0, np.int64), np.empty(0, np.float64))


class SubstringPhrase(wq.And):  # type: ignore[misc]
    """All of a phrase's bigrams, kept only where the stored text holds the phrase itself.

    The bigram field keeps no positions (it would cost a tenth of the indexing speed);
    a quoted phrase's candidates are few, so checking their stored text is cheap.
    """

    def __init__(self, grams: list[wq.Query], phrase: str, boost: float = 1.0) -> None:
        super().__init__(grams, boost=boost)
        self.phrase = phrase


class Ranker:
    """Scores queries and counts facets against one searcher; a new one per searcher."""

    def __init__(self, searcher: Searcher, facet_fields: Iterable[str] = (), scored_fields: Iterable[str] = ()) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.schema = searcher.schema
        self.size = int(self.reader.doc_count_all())
        self.doc_count = max(1, int(self.reader.doc_count()))
        self._lengths: dict[str, Scores] = {}
        self._terms: OrderedDict[tuple[str, str], Hits] = OrderedDict()
        self._cached_postings = 0
        self._texts: dict[int, str] = {}
        self._live: Docs | None = None
        self._unions: dict[tuple[str, tuple[str, ...]], Docs] = {}
        self._lock = threading.Lock()
        # Facet value → its documents; counting a query's facets is then one boolean
        # mask of its matches indexed by each value's documents.
        self.facets: dict[str, dict[str, Docs]] = {
            name: {value: self.term(name, value).docs for value in self._values(name)} for name in facet_fields
        }
        # Field lengths are read once per searcher (~1 µs a document and field); reading them
        # here, not on the first query that needs them, keeps that query's latency normal.
        for name in scored_fields:
            self._field_lengths(name)

    # --- terms -----------------------------------------------------------------

    def term(self, fieldname: str, text: str) -> Hits:
        """The documents holding a term, with their BM25F scores (cached per searcher)."""
        key = (fieldname, text)
        with self._lock:
            cached = self._terms.get(key)
            if cached is not None:
                self._terms.move_to_end(key)
                return cached
        hits = self._read_term(fieldname, text)
        with self._lock:
            if key not in self._terms:
                self._terms[key] = hits
                self._cached_postings += len(hits)
            # Bounded by postings, not terms: one frequent term can hold every document.
            while self._cached_postings > TERM_CACHE_POSTINGS and len(self._terms) > 1:
                _, evicted = self._terms.popitem(last=False)
                self._cached_postings -= len(evicted)
        return hits

    def _read_term(self, fieldname: str, text: str) -> Hits:
        if (fieldname, text) not in self.reader:
            return EMPTY
        postings = self.reader.postings(fieldname, text)
        if not self.schema[fieldname].scorable:  # ID/KEYWORD filters: membership only
            docs = np.fromiter(postings.all_ids(), np.int64)
            return Hits(docs, np.zeros(docs.size))
        pairs = np.array(list(postings.items_as("weight")), dtype=np.float64).reshape(-1, 2)
        docs = pairs[:, 0].astype(np.int64)
        weights = pairs[:, 1]  # term frequency × field boost, as Whoosh stores it
        lengths = self._field_lengths(fieldname)[docs]
        # Whoosh's own BM25F: its idf, and the boosted weight saturated by K1.
        df = self.reader.doc_frequency(fieldname, text)
        idf = np.log(self.doc_count / (df + 1)) + 1
        norm = K1 * ((1 - B) + B * lengths / self._average(fieldname))
        return Hits(docs, idf * (weights * (K1 + 1)) / (weights + norm))

    def _field_lengths(self, fieldname: str) -> Scores:
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            length = self.reader.doc_field_length
            lengths = np.fromiter((length(d, fieldname, 1) for d in range(self.size)), np.float64, self.size)
            self._lengths[fieldname] = lengths
        return lengths

    def _average(self, fieldname: str) -> float:
        return max(1.0, float(self.reader.field_length(fieldname)) / self.doc_count)

    def _values(self, fieldname: str) -> list[str]:
        return [v.decode("utf-8") if isinstance(v, bytes) else v for v in self.reader.lexicon(fieldname)]

    # --- queries ---------------------------------------------------------------

    def scores(self, q: wq.Query) -> Hits:
        """Every document matching `q`, with its score."""
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text).scaled(q.boost)
        if isinstance(q, wq.Prefix):
            expanded = [self.term(q.fieldname, t) for t in self._expand(q.fieldname, q.text)]
            return _sum(expanded).scaled(q.boost)
        if isinstance(q, SubstringPhrase):
            candidates = _intersect([self.scores(sub) for sub in q.subqueries])
            holds = [q.phrase in self.folded_text(int(d)) for d in candidates.docs]
            return candidates.keep(np.array(holds, dtype=bool)).scaled(q.boost)
        if isinstance(q, wq.AndNot):
            positive, negative = self.scores(q.a), self.scores(q.b)
            return positive.keep(~np.isin(positive.docs, negative.docs, assume_unique=True))
        if isinstance(q, wq.And):
            return _intersect([self.scores(sub) for sub in q.subqueries]).scaled(q.boost)
        if isinstance(q, wq.Or):
            return _sum([self.scores(sub) for sub in q.subqueries]).scaled(q.boost)
        if isinstance(q, wq.Phrase):
            words = _intersect([self.term(q.fieldname, w) for w in q.words])
            positional = np.fromiter(q.docs(self.searcher), np.int64)
            return words.keep(np.isin(words.docs, positional)).scaled(q.boost)
        raise TypeError(f"cannot rank a {type(q).__name__} query")

    def live_docs(self) -> Docs:
        """Every document not deleted, in index order."""
        if self._live is None:
            self._live = np.fromiter(self.reader.all_doc_ids(), np.int64)
        return self._live

    def folded_text(self, docnum: int) -> str:
        """A record's title and body, folded (cached, bounded)."""
        # Reading stored fields costs a decompression and an unpickling; phrase checks
        # revisit the same documents, so their folded text is kept (bounded).
        text = self._texts.get(docnum)
        if text is None:
            stored = self.searcher.stored_fields(docnum)
            text = fold(f"{stored.get('title', '')}\n{stored.get('body', '')}")
            with self._lock:
                if len(self._texts) >= TEXT_CACHE_SIZE:
                    self._texts.clear()
                self._texts[docnum] = text
        return text

    def _expand(self, fieldname: str, prefix: str) -> list[str]:
        return [t.decode("utf-8") if isinstance(t, bytes) else t for t in self.reader.expand_prefix(fieldname, prefix)]

    def docs_with(self, fieldname: str, values: tuple[str, ...]) -> Docs:
        """Live documents holding any of `values` in a filter field (cached per searcher)."""
        key = (fieldname, values)
        docs = self._unions.get(key)
        if docs is None:
            docs = np.unique(np.concatenate([self.term(fieldname, v).docs for v in values]))
            self._unions[key] = docs
        return docs

    def facet_counts(self, name: str, matched: Hits) -> dict[str, int]:
        """How many matches carry each value of a facet field, most first."""
        mask = np.zeros(self.size, dtype=bool)
        mask[matched.docs] = True
        counts = {value: int(np.count_nonzero(mask[docs])) for value, docs in self.facets[name].items()}
        return dict(sorted(((v, n) for v, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0])))


def _sum(parts: list[Hits]) -> Hits:
    parts = [p for p in parts if len(p)]
    if not parts:
        return EMPTY
    if len(parts) == 1:
        return parts[0]
    docs = np.concatenate([p.docs for p in parts])
    scores = np.concatenate([p.scores for p in parts])
    unique, inverse = np.unique(docs, return_inverse=True)
    return Hits(unique, np.bincount(inverse, weights=scores, minlength=unique.size).astype(np.float64))


def _intersect(parts: list[Hits]) -> Hits:
    if not parts or any(not len(p) for p in parts):
        return EMPTY
    parts = sorted(parts, key=len)
    docs, scores = parts[0].docs, parts[0].scores
    for part in parts[1:]:
        docs, mine, theirs = np.intersect1d(docs, part.docs, assume_unique=True, return_indices=True)
        scores = scores[mine] + part.scores[theirs]
        if not docs.size:
            return EMPTY
    return Hits(docs, scores)
