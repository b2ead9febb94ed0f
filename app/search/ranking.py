"""BM25F ranking and facet counts over the Whoosh index's posting lists, with NumPy.

Whoosh's matcher tree costs tens of microseconds for every matching document, and a
query here is a tree of dozens of terms (two fields, sub-words, units, synonyms). So
each leaf term's posting list is read into two arrays — document numbers (sorted) and
their BM25F scores — and a query is evaluated with array operations: Or sums, And
intersects and sums, AndNot removes. One pass yields the ranking, the exact total and
the matching set that facets are counted on. Phrases still ask Whoosh, which has the
positions.

What is read from disk is kept per *segment* (`SegmentData`): Whoosh segments are
immutable, so a segment's decoded posting lists, field lengths, facet columns and
display fields serve every searcher that holds it. A searcher opened after an
incremental write (one new segment, maybe some deletions) decodes only the new segment,
and deletions are applied as a mask. What depends on the whole index (idf, average
field lengths, hence scores) is computed per searcher, from the cached arrays.
"""

from __future__ import annotations

import bisect
import os
import pickle
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.reading import IndexReader
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from app.search.text import fold

K1 = 1.2
B = 0.75
TERM_CACHE_POSTINGS = 8_000_000  # scored postings per searcher ≈ 128 MB of (docnum, score) pairs
SEGMENT_CACHE_POSTINGS = 16_000_000  # decoded postings across segments ≈ 128 MB of (int32, float32)
SEGMENTS_KEPT = 64  # segments whose lengths, facet columns and display fields stay decoded
TEXT_CACHE_SIZE = 200_000  # stored records kept per segment
RECORDS_SHOWN_KEPT = 4000  # the last records a searcher read, for a new build too big to read whole
PHRASE_CACHE_SIZE = 10_000  # phrases (and prefixes) whose documents (terms) a segment keeps
WARM_RECORDS = 20_000  # a new segment up to this size has every record read before the switch (~3 kB each)
HOT_PHRASES = 200  # recent phrases a new build or segment looks up before it is switched in
DENSE_SHARE = 8  # an Or over more than size / DENSE_SHARE postings (or facets over as many matches) goes dense
Docs = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float64]
LocalDocs = npt.NDArray[np.int32]
Weights = npt.NDArray[np.float32]
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


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
# One query's evaluations so far: id(subquery) → (subquery, its hits).
Memo = dict[int, tuple[wq.Query, Hits]]


class SubstringPhrase(wq.And):  # type: ignore[misc]
    """All of a phrase's bigrams, kept only where the stored text holds the phrase itself.

    The bigram field keeps no positions (it would cost a tenth of the indexing speed);
    a quoted phrase's candidates are few, so checking their stored text is cheap.
    """

    def __init__(self, grams: list[wq.Query], phrase: str, boost: float = 1.0) -> None:
        super().__init__(grams, boost=boost)
        self.phrase = phrase


@dataclass(frozen=True)
class FacetColumn:
    """A facet field by document: the values of document d are ids[offsets[d]:offsets[d + 1]]."""

    values: list[str]
    offsets: Docs  # one more than there are documents
    ids: Docs
    owners: Docs  # the document of each entry of ids (for counting large match sets)


class SegmentData:
    """What one immutable segment yields, decoded once and shared by every searcher holding it."""

    def __init__(self, key: str, doccount: int) -> None:
        self.key = key
        self.doccount = doccount
        self.lengths: dict[str, Scores] = {}
        self.columns: dict[str, FacetColumn] = {}
        self.stored: dict[int, dict[str, Any]] = {}
        self.texts: dict[int, str] = {}
        self.phrases: dict[
            tuple[str, str, int, int], Docs
        ] = {}  # documents holding a phrase (field, words, slop, live records)
        self.prefixes: dict[tuple[str, str], list[str]] = {}  # the segment's terms starting with a prefix
        self.lock = threading.Lock()

    def field_lengths(self, leaf: IndexReader, fieldname: str) -> Scores:
        """Every document's length in a field, read in one go from the lengths column."""
        lengths = self.lengths.get(fieldname)
        if lengths is None:
            lengths = _read_lengths(leaf, fieldname, self.doccount)
            self.lengths[fieldname] = lengths
        return lengths

    def column(self, leaf: IndexReader, fieldname: str) -> FacetColumn:
        """The facet field `fieldname` as a column (built from its postings on first use)."""
        column = self.columns.get(fieldname)
        if column is None:
            column = _load_column(leaf, fieldname, self.doccount)
            if column is not None:
                self.columns[fieldname] = column
                return column
            values = [_text(v) for v in leaf.lexicon(fieldname)]
            docs, ids = [], []
            for vid, value in enumerate(values):
                local, _ = _decode(leaf, fieldname, value)
                docs.append(local.astype(np.int64))
                ids.append(np.full(local.size, vid, np.int64))
            owners = np.concatenate(docs) if docs else np.empty(0, np.int64)
            order = np.argsort(owners, kind="stable")
            owners = owners[order]
            value_ids = (np.concatenate(ids) if ids else np.empty(0, np.int64))[order]
            offsets = np.searchsorted(owners, np.arange(self.doccount + 1), side="left").astype(np.int64)
            column = FacetColumn(values, offsets, value_ids, owners)
            self.columns[fieldname] = column
        return column

    def read_all_stored(self, leaf: IndexReader) -> None:
        """Unpickle and fold every live record now (a new segment, off the request path).

        A new build's first searches would otherwise read each hit's stored fields and fold
        its text one by one while the user waits: the snippets and the proximity check need them.
        """
        if self.doccount > WARM_RECORDS or len(self.texts) >= self.doccount:
            return
        for local, fields in leaf.iter_docs():
            with self.lock:
                self.stored.setdefault(local, fields)
            self.texts.setdefault(local, _folded(fields))

    def folded_text(self, leaf: IndexReader, local: int) -> str:
        """A record's title and body, folded (kept per segment, bounded)."""
        text = self.texts.get(local)
        if text is None:
            text = self.texts[local] = _folded(self.stored_fields(leaf, local))
        return text

    def keep_phrase(self, key: tuple[str, str, int, int], local: Docs) -> None:
        """Remember which of the segment's records hold a phrase (bounded)."""
        with self.lock:
            if len(self.phrases) >= PHRASE_CACHE_SIZE:
                self.phrases.clear()
            self.phrases[key] = local

    def stored_fields(self, leaf: IndexReader, local: int) -> dict[str, Any]:
        """A record's stored fields, unpickled once per segment (bounded)."""
        fields = self.stored.get(local)
        if fields is None:
            fields = leaf.stored_fields(local)
            with self.lock:
                if len(self.stored) >= TEXT_CACHE_SIZE:
                    self.stored.clear()
                    self.texts.clear()
                self.stored[local] = fields
        return fields


class _SegmentCache:
    """Process-wide: segments by id (most recently used last) and their decoded postings."""

    def __init__(self) -> None:
        self.segments: OrderedDict[str, SegmentData] = OrderedDict()
        self.postings: OrderedDict[tuple[str, str, str], tuple[LocalDocs, Weights]] = OrderedDict()
        self.cached_postings = 0
        self.lock = threading.Lock()

    def segment(self, leaf: IndexReader) -> SegmentData:
        key = _segment_key(leaf)
        with self.lock:
            data = self.segments.get(key)
            if data is None:
                data = SegmentData(key, int(leaf.doc_count_all()))
                self.segments[key] = data
                while len(self.segments) > SEGMENTS_KEPT:
                    gone, _ = self.segments.popitem(last=False)
                    for posting_key in [k for k in self.postings if k[0] == gone]:
                        self.cached_postings -= len(self.postings.pop(posting_key)[0])
            else:
                self.segments.move_to_end(key)
            return data

    def term(self, leaf: IndexReader, segment: SegmentData, fieldname: str, text: str) -> tuple[LocalDocs, Weights]:
        key = (segment.key, fieldname, text)
        with self.lock:
            cached = self.postings.get(key)
            if cached is not None:
                self.postings.move_to_end(key)
                return cached
        decoded = _decode(leaf, fieldname, text)
        with self.lock:
            if key not in self.postings:
                self.postings[key] = decoded
                self.cached_postings += len(decoded[0])
            while self.cached_postings > SEGMENT_CACHE_POSTINGS and len(self.postings) > 1:
                _, (evicted, _) = self.postings.popitem(last=False)
                self.cached_postings -= len(evicted)
        return decoded

    def forget(self, keys: Iterable[str]) -> None:
        """Drop what these segments yielded (their build is gone: nothing will ask again)."""
        with self.lock:
            for key in keys:
                self.segments.pop(key, None)
            for posting_key in [k for k in self.postings if k[0] not in self.segments]:
                self.cached_postings -= len(self.postings.pop(posting_key)[0])

    def clear(self) -> None:
        with self.lock:
            self.segments.clear()
            self.postings.clear()
            self.cached_postings = 0


SEGMENTS = _SegmentCache()


class Ranker:
    """Scores queries and counts facets against one searcher; a new one per searcher."""

    def __init__(self, searcher: Searcher, facet_fields: Iterable[str] = (), scored_fields: Iterable[str] = ()) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.schema = searcher.schema
        self.size = int(self.reader.doc_count_all())
        self.doc_count = max(1, int(self.reader.doc_count()))
        self.leaves = [(leaf, int(offset), SEGMENTS.segment(leaf)) for leaf, offset in self.reader.leaf_readers()]
        # A list, not an array: bisect on a Python int is ~0.2 µs, np.searchsorted ~30 µs (per
        # stored text a phrase check or a page of hits reads, once a write adds a segment).
        self._offsets = [offset for _, offset, _ in self.leaves]
        deleted = [
            offset + np.fromiter(getattr(leaf, "deleted_docs_set", ()), np.int64) for leaf, offset, _ in self.leaves
        ]
        self._deleted = np.sort(np.concatenate(deleted)) if deleted else np.empty(0, np.int64)
        self._is_live: npt.NDArray[np.bool_] | None = None
        if self._deleted.size:
            self._is_live = np.ones(self.size, dtype=bool)
            self._is_live[self._deleted] = False
        self._lengths: dict[str, Scores] = {}
        self._terms: OrderedDict[tuple[str, str], Hits] = OrderedDict()
        self._cached_postings = 0
        self._live: Docs | None = None
        self._unions: dict[tuple[str, tuple[str, ...]], Docs] = {}
        self._prefixes: dict[tuple[str, str], list[str]] = {}
        self._phrases_asked: OrderedDict[tuple[str, str, int, int], wq.Query] = OrderedDict()
        self._shown: deque[int] = deque(maxlen=RECORDS_SHOWN_KEPT)  # documents read for display, last last
        self._lock = threading.Lock()
        # Facet columns: counting a query's facets is one gather and a bincount over its matches;
        # the ranker's own fields together in one block, so all of them are one gather too.
        self.columns: dict[str, FacetColumn] = {name: self._column(name) for name in facet_fields}
        self._block = _combine([(name, self.columns[name]) for name in facet_fields], self.size)
        # Field lengths are read when the ranker is made, not by the first query that needs them.
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

    def segment_keys(self) -> set[str]:
        """The keys of the segments this ranker reads (see SEGMENTS)."""
        return {segment.key for _, _, segment in self.leaves}

    def hot_terms(self, limit: int = 2000) -> list[tuple[str, str]]:
        """The terms this searcher was asked for, most recent last (what a new build should warm)."""
        with self._lock:
            return list(self._terms)[-limit:]

    def hot_phrases(self) -> list[wq.Query]:
        """The phrases this searcher was asked for (checked document by document, per segment, slowly)."""
        with self._lock:
            return list(self._phrases_asked.values())

    def prefetch_phrases(self, phrases: Iterable[wq.Query]) -> None:
        """Find these phrases in every segment (a no-op for segments that know them)."""
        for q in phrases:
            self.scores(q)

    def hot_records(self) -> list[str]:
        """The uids of the records this searcher last read (snippets, proximity), most recent last."""
        recent = dict.fromkeys(reversed(list(self._shown)))  # each once, at its latest reading
        uids = [self.stored_fields(d).get("uid") for d in recent]
        return [str(uid) for uid in reversed(uids) if uid is not None]

    def prefetch_records(self, previous: Ranker) -> None:
        """Read and fold the records `previous` last showed, in new segments too big to read whole.

        A rebuild's one large segment is not read whole (WARM_RECORDS); the records the last
        searcher was showing are the ones the first searches after the switch will show.
        """
        known = previous.segment_keys()
        big = [
            (leaf, segment)
            for leaf, _, segment in self.leaves
            if segment.key not in known and segment.doccount > WARM_RECORDS
        ]
        for uid in previous.hot_records() if big else ():  # a write's small segment was read whole
            for leaf, segment in big:
                for local in _decode(leaf, "uid", uid)[0].tolist():
                    segment.folded_text(leaf, local)

    def hot_filters(self) -> list[tuple[str, tuple[str, ...]]]:
        """The filter unions this searcher made (kinds, units …): a new searcher makes them again."""
        return list(self._unions)

    def prefetch(self, terms: Iterable[tuple[str, str]]) -> None:
        """Decode these terms' postings in every segment (a no-op for segments already cached)."""
        for fieldname, text in terms:
            if fieldname in self.schema:
                for leaf, _, segment in self.leaves:
                    SEGMENTS.term(leaf, segment, fieldname, text)

    def _read_term(self, fieldname: str, text: str) -> Hits:
        if (fieldname, text) not in self.reader:
            return EMPTY
        parts = [(SEGMENTS.term(leaf, segment, fieldname, text), offset) for leaf, offset, segment in self.leaves]
        docs = np.concatenate([local.astype(np.int64) + offset for (local, _), offset in parts])
        weights = np.concatenate([w for (_, w), _ in parts]).astype(np.float64)
        if self._is_live is not None:
            live = self._is_live[docs]
            docs, weights = docs[live], weights[live]
        if not self.schema[fieldname].scorable:  # ID/KEYWORD filters: membership only
            return Hits(docs, np.zeros(docs.size))
        lengths = self._field_lengths(fieldname)[docs]
        # Whoosh's own BM25F: its idf, and the boosted weight saturated by K1.
        df = self.reader.doc_frequency(fieldname, text)
        idf = np.log(self.doc_count / (df + 1)) + 1
        norm = K1 * ((1 - B) + B * lengths / self._average(fieldname))
        return Hits(docs, idf * (weights * (K1 + 1)) / (weights + norm))

    def _field_lengths(self, fieldname: str) -> Scores:
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            parts = [segment.field_lengths(leaf, fieldname) for leaf, _, segment in self.leaves]
            lengths = np.concatenate(parts) if parts else np.empty(0)
            self._lengths[fieldname] = lengths
        return lengths

    def _column(self, fieldname: str) -> FacetColumn:
        parts = [(segment.column(leaf, fieldname), offset) for leaf, offset, segment in self.leaves]
        if len(parts) == 1 and parts[0][1] == 0:
            return parts[0][0]
        values = sorted({v for column, _ in parts for v in column.values})
        position = {v: i for i, v in enumerate(values)}
        ids, owners, offsets = [], [], [np.zeros(1, np.int64)]
        for column, offset in parts:
            mapping = np.array([position[v] for v in column.values] or [0], dtype=np.int64)
            ids.append(mapping[column.ids])
            owners.append(column.owners + offset)
            offsets.append(column.offsets[1:] + offsets[-1][-1])
        return FacetColumn(values, np.concatenate(offsets), np.concatenate(ids), np.concatenate(owners))

    def _average(self, fieldname: str) -> float:
        return max(1.0, float(self.reader.field_length(fieldname)) / self.doc_count)

    # --- queries ---------------------------------------------------------------

    def scores(self, q: wq.Query, memo: Memo | None = None) -> Hits:
        """Every document matching `q`, with its score.

        `memo`: one query's answers so far, by subquery object: relaxation asks again for
        the clauses, words and literals the whole query was made of, and gets them free.
        """
        if memo is None:
            return self._scores(q, {})
        known = memo.get(id(q))
        if known is not None and known[0] is q:
            return known[1]
        found = self._scores(q, memo)
        memo[id(q)] = (q, found)  # the query is held, so its id cannot be reused meanwhile
        return found

    def _scores(self, q: wq.Query, memo: Memo) -> Hits:
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text).scaled(q.boost)
        if isinstance(q, wq.Prefix):
            expanded = [self.term(q.fieldname, t) for t in self._expand(q.fieldname, q.text)]
            return _sum(expanded, self.size).scaled(q.boost)
        if isinstance(q, SubstringPhrase):
            candidates = _intersect([self.scores(sub, memo) for sub in q.subqueries], self.size)
            holding = self._holding(q)
            return candidates.keep(contains(holding, candidates.docs, self.size)).scaled(q.boost)
        if isinstance(q, wq.AndNot):
            positive, negative = self.scores(q.a, memo), self.scores(q.b, memo)
            return positive.keep(~contains(negative.docs, positive.docs, self.size))
        if isinstance(q, wq.And):
            return _intersect([self.scores(sub, memo) for sub in q.subqueries], self.size).scaled(q.boost)
        if isinstance(q, wq.Or):
            # Nested ORs (a term's fields, its sub-words, its synonyms) are summed in one go:
            # one merge of all their leaves, not one per level.
            leaves: list[Hits] = []
            self._or_leaves(q, 1.0, memo, leaves)
            return _sum(leaves, self.size)
        if isinstance(q, wq.Phrase):
            words = _intersect([self.term(q.fieldname, w) for w in q.words], self.size)
            return words.keep(contains(self._phrase(q), words.docs, self.size)).scaled(q.boost)
        raise TypeError(f"cannot rank a {type(q).__name__} query")

    def _or_leaves(self, q: wq.Or, boost: float, memo: Memo, out: list[Hits]) -> None:
        boost *= q.boost
        for sub in q.subqueries:
            if type(sub) is wq.Or and id(sub) not in memo:
                self._or_leaves(sub, boost, memo, out)
            else:
                out.append(self.scores(sub, memo).scaled(boost))

    def _holding(self, q: SubstringPhrase) -> Docs:
        # Which candidates' stored text holds the phrase: fixed for a segment, like its
        # postings, so kept per segment (a new build looks up the last phrases before the switch).
        key = ("", q.phrase, -1, -1)  # a quoted phrase checked against the stored text
        self._asked(key, q)
        parts = []
        for leaf, offset, segment in self.leaves:
            local = segment.phrases.get(key)
            if local is None:
                # From the segment's own postings, deleted records included, never from this
                # searcher's live candidates: another searcher of the segment may see other
                # deletions. The caller keeps only its own live candidates.
                within = self._segment_candidates(leaf, segment, q)
                local = np.array([d for d in within.tolist() if q.phrase in segment.folded_text(leaf, d)], np.int64)
                segment.keep_phrase(key, local)
            parts.append(local + offset)
        return np.concatenate(parts) if parts else np.empty(0, np.int64)

    @staticmethod
    def _segment_candidates(leaf: IndexReader, segment: SegmentData, q: SubstringPhrase) -> LocalDocs:
        found: LocalDocs | None = None
        for sub in q.subqueries:
            local = SEGMENTS.term(leaf, segment, sub.fieldname, sub.text)[0]
            found = local if found is None else np.intersect1d(found, local, assume_unique=True)
        return found if found is not None else np.empty(0, np.int32)

    def _asked(self, key: tuple[str, str, int, int], q: wq.Query) -> None:
        with self._lock:
            self._phrases_asked[key] = q
            self._phrases_asked.move_to_end(key)
            while len(self._phrases_asked) > HOT_PHRASES:
                self._phrases_asked.popitem(last=False)

    def _phrase(self, q: wq.Phrase) -> Docs:
        # Whoosh checks positions document by document (tens of microseconds each); the
        # documents holding a phrase are, like a term's postings, fixed for a segment: kept
        # per segment, so a searcher after a write checks only the new segment.
        key = (q.fieldname, "\x00".join(q.words), q.slop, -1)
        self._asked(key, q)
        parts = []
        for (leaf_searcher, offset), (leaf, _, segment) in zip(
            self.searcher.leaf_searchers(), self.leaves, strict=True
        ):
            # Whoosh leaves deleted records out of q.docs(): the entry is for this many live
            # records (deletions only grow), so a searcher seeing other deletions makes its own.
            live_key = (*key[:3], int(leaf.doc_count()))
            local = segment.phrases.get(live_key)
            if local is None:
                local = np.fromiter(sorted(q.docs(leaf_searcher)), np.int64)
                segment.keep_phrase(live_key, local)
            parts.append(local + offset)
        return np.concatenate(parts) if parts else np.empty(0, np.int64)

    def live_docs(self) -> Docs:
        """Every document not deleted, in index order."""
        if self._live is None:
            self._live = (
                np.arange(self.size, dtype=np.int64) if self._is_live is None else np.flatnonzero(self._is_live)
            )
        return self._live

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        """A record's stored fields (kept per segment, so they survive a refresh)."""
        leaf, offset, segment = self._leaf(docnum)
        self._shown.append(docnum)
        return segment.stored_fields(leaf, docnum - offset)

    def folded_text(self, docnum: int) -> str:
        """A record's title and body, folded (kept per segment, bounded)."""
        leaf, offset, segment = self._leaf(docnum)
        self._shown.append(docnum)
        return segment.folded_text(leaf, docnum - offset)

    def read_all_stored(self, skip: set[str] | frozenset[str] = frozenset()) -> None:
        """Every segment's records unpickled and folded, but those of the segments in `skip`.

        See SegmentData.read_all_stored; a searcher after a write skips the segments the
        last one read, so the write is not held up reading them now.
        """
        for leaf, _, segment in self.leaves:
            if segment.key not in skip:
                segment.read_all_stored(leaf)

    def _leaf(self, docnum: int) -> tuple[IndexReader, int, SegmentData]:
        if len(self.leaves) == 1:
            return self.leaves[0]
        return self.leaves[bisect.bisect_right(self._offsets, docnum) - 1]

    def _expand(self, fieldname: str, prefix: str) -> list[str]:
        # Walking Whoosh's term index costs ~0.3 ms a prefix a segment; a segment's terms never
        # change, so a searcher after a write walks only the new segment's.
        key = (fieldname, prefix)
        terms = self._prefixes.get(key)
        if terms is None:
            found: set[str] = set()
            for leaf, _, segment in self.leaves:
                local = segment.prefixes.get(key)
                if local is None:
                    local = [_text(t) for t in leaf.expand_prefix(fieldname, prefix)]
                    with segment.lock:
                        if len(segment.prefixes) >= PHRASE_CACHE_SIZE:
                            segment.prefixes.clear()
                        segment.prefixes[key] = local
                found.update(local)
            terms = self._prefixes[key] = sorted(found)
        return terms

    def docs_with(self, fieldname: str, values: tuple[str, ...]) -> Docs:
        """Live documents holding any of `values` in a filter field (cached per searcher)."""
        key = (fieldname, values)
        docs = self._unions.get(key)
        if docs is None:
            docs = np.unique(np.concatenate([self.term(fieldname, v).docs for v in values]))
            self._unions[key] = docs
        return docs

    def facets(self, names: Iterable[str], matched: Hits) -> dict[str, dict[str, int]]:
        """`facet_counts` for several fields: one count over the ranker's block when it holds them all."""
        names = list(names)
        block = self._block
        if not set(names) <= set(block.fields):
            return {name: self.facet_counts(name, matched) for name in names}
        bins = _bins(block.column, matched.docs, self.size)
        return {
            name: _named(block.column.values, bins, block.bases[i], block.bases[i + 1])
            for i, name in enumerate(block.fields)
            if name in names
        }

    def facet_counts(self, name: str, matched: Hits) -> dict[str, int]:
        """How many matches carry each value of a facet field, most first."""
        column = self.columns.get(name)
        if column is None:  # a field this ranker was not made with: its column, made once
            column = self.columns[name] = self._column(name)
        return _named(column.values, _bins(column, matched.docs, self.size), 0, len(column.values))


@dataclass(frozen=True)
class FacetBlock:
    """Several facet fields as one column: field i's values are ids bases[i] up to bases[i + 1]."""

    fields: tuple[str, ...]
    bases: tuple[int, ...]
    column: FacetColumn


def _combine(columns: list[tuple[str, FacetColumn]], size: int) -> FacetBlock:
    """One column holding each document's entries of every field in turn (no sort: a scatter by field)."""
    counts = [np.diff(c.offsets)[:size] for _, c in columns]
    per_doc = np.sum(counts, axis=0) if counts else np.zeros(size, np.int64)
    offsets = np.concatenate(([0], np.cumsum(per_doc))).astype(np.int64)
    ids = np.empty(int(offsets[-1]), np.int64)
    owners = np.empty(int(offsets[-1]), np.int64)
    bases, values, before = [0], list[str](), np.zeros(size, np.int64)
    for (_, column), count in zip(columns, counts, strict=True):
        n = int(count.sum())
        within = np.arange(n) - np.repeat(column.offsets[:size], count)
        where = np.repeat(offsets[:-1] + before, count) + within
        ids[where] = column.ids[:n] + bases[-1]
        owners[where] = column.owners[:n]
        before += count
        values += column.values
        bases.append(len(values))
    return FacetBlock(tuple(name for name, _ in columns), tuple(bases), FacetColumn(values, offsets, ids, owners))


def _bins(column: FacetColumn, docs: Docs, size: int) -> npt.NDArray[np.int64]:
    """How many of `docs` carry each value id of `column`."""
    if not docs.size or not column.ids.size:
        return np.zeros(len(column.values), np.int64)
    if docs.size * DENSE_SHARE > size:  # many matches: one mask over every entry
        mask = np.zeros(size, dtype=bool)
        mask[docs] = True
        picked = column.ids[mask[column.owners]]
    else:  # few: gather each match's entries
        starts = column.offsets[docs]
        counts = column.offsets[docs + 1] - starts
        total = int(counts.sum())
        within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        picked = column.ids[np.repeat(starts, counts) + within]
    return np.bincount(picked, minlength=len(column.values))


def _named(values: list[str], bins: npt.NDArray[np.int64], start: int, end: int) -> dict[str, int]:
    """The value ids start..end that occur, as value → count, most first."""
    found = [(values[i], int(bins[i])) for i in np.flatnonzero(bins[start:end]) + start]
    return dict(sorted(found, key=lambda kv: (-kv[1], kv[0])))


def persist_columns(searcher: Searcher, facet_fields: Iterable[str]) -> None:
    """Save each segment's facet columns beside it, so a process opening the index need not rebuild them.

    A segment never changes, so neither do its columns; a file is keyed by the segment's id.
    """
    for leaf, _ in searcher.reader().leaf_readers():
        path = _columns_path(leaf)
        if path is None or path.exists():
            continue
        segment = SEGMENTS.segment(leaf)
        arrays: dict[str, Any] = {}
        for name in facet_fields:
            column = segment.column(leaf, name)
            arrays[f"{name}.values"] = list(column.values)
            arrays[f"{name}.ids"], arrays[f"{name}.owners"] = column.ids, column.owners
        tmp = path.with_suffix(".tmp.npy")
        with open(tmp, "wb") as handle:
            pickle.dump(arrays, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)


def _folded(stored: dict[str, Any]) -> str:
    return fold(f"{stored.get('title', '')}\n{stored.get('body', '')}")


def _columns_path(leaf: IndexReader) -> Path | None:
    storage = getattr(leaf, "_storage", None)
    storage = getattr(storage, "b", storage)  # a compound segment's overlay: the index's own storage beneath
    folder = getattr(storage, "folder", None)
    segment = leaf.segment() if hasattr(leaf, "segment") else None
    if folder is None or segment is None:
        return None
    return Path(folder) / f"kepu-columns-{segment.segment_id()}-{leaf.doc_count_all()}.pickle"


def _load_column(leaf: IndexReader, fieldname: str, doccount: int) -> FacetColumn | None:
    path = _columns_path(leaf)
    if path is None or not path.exists():
        return None
    try:
        with open(path, "rb") as handle:
            arrays = pickle.load(handle)
        values = [str(v) for v in arrays[f"{fieldname}.values"]]
        ids, owners = arrays[f"{fieldname}.ids"], arrays[f"{fieldname}.owners"]
    except (OSError, KeyError, ValueError, pickle.UnpicklingError, EOFError):
        return None  # damaged or from another layout: decode from the postings instead
    if ids.shape != owners.shape or (ids.size and int(ids.max()) >= len(values)):
        return None
    offsets = np.searchsorted(owners, np.arange(doccount + 1), side="left").astype(np.int64)
    return FacetColumn(values, offsets, ids, owners)


def contains(haystack: Docs, needles: Docs, size: int = 0) -> npt.NDArray[np.bool_]:
    """Which of `needles` are in the sorted array `haystack` (binary search, or a bitmap when large)."""
    if not haystack.size or not needles.size:
        return np.zeros(needles.size, dtype=bool)
    if _dense_wins(needles.size, haystack.size, size):
        mask = np.zeros(size, dtype=bool)
        mask[haystack] = True
        dense: npt.NDArray[np.bool_] = mask[needles]
        return dense
    at = np.searchsorted(haystack, needles)
    at[at == haystack.size] = 0
    found: npt.NDArray[np.bool_] = haystack[at] == needles
    return found


def _dense_wins(looked_up: int, looked_in: int, size: int) -> bool:
    # Measured by bench/set_ops.py: a binary search costs about log2(n) steps a lookup, a
    # bitmap about a quarter of a step per document of the index to clear and fill.
    return bool(size) and looked_up * np.log2(looked_in + 1) * 4 > size


def _sum(parts: list[Hits], size: int = 0) -> Hits:
    parts = [p for p in parts if len(p)]
    if not parts:
        return EMPTY
    if len(parts) == 1:
        return parts[0]
    total = sum(len(p) for p in parts)
    if size and total * DENSE_SHARE > size:
        # Many postings: add them into a dense array (each part's docs are unique), no sort.
        summed = np.zeros(size, dtype=np.float64)
        present = np.zeros(size, dtype=bool)
        for p in parts:
            summed[p.docs] += p.scores
            present[p.docs] = True
        docs = np.flatnonzero(present)
        return Hits(docs, summed[docs])
    # Few postings: one stable sort of them all, then each run of a document summed.
    docs = np.concatenate([p.docs for p in parts])
    order = np.argsort(docs, kind="stable")
    docs, scores = docs[order], np.concatenate([p.scores for p in parts])[order]
    starts = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
    return Hits(docs[starts], np.add.reduceat(scores, starts))


def _intersect(parts: list[Hits], size: int = 0) -> Hits:
    if not parts or any(not len(p) for p in parts):
        return EMPTY
    parts = sorted(parts, key=len)
    docs, scores = parts[0].docs, parts[0].scores
    for part in parts[1:]:
        if _dense_wins(docs.size, part.docs.size, size):
            # Both large: the other set's scores spread over the index, NaN where absent.
            spread = np.full(size, np.nan)
            spread[part.docs] = part.scores
            theirs = spread[docs]
            found = ~np.isnan(theirs)
            docs, scores = docs[found], scores[found] + theirs[found]
        else:
            # The smaller set looked up in the larger by binary search: no concatenation, no sort.
            at = np.searchsorted(part.docs, docs)
            at[at == part.docs.size] = 0
            found = part.docs[at] == docs
            docs, scores = docs[found], scores[found] + part.scores[at[found]]
        if not docs.size:
            return EMPTY
    return Hits(docs, scores)


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _segment_key(leaf: IndexReader) -> str:
    segment = leaf.segment() if hasattr(leaf, "segment") else None
    if segment is None:  # not a segment reader (an empty index): never shared
        return f"reader-{id(leaf)}"
    return f"{segment.segment_id()}:{leaf.doc_count_all()}"


def _read_lengths(leaf: IndexReader, fieldname: str, doccount: int) -> Scores:
    perdoc = getattr(leaf, "_perdoc", None)
    reader = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN) if perdoc is not None else None
    raw = getattr(reader, "_dbfile", None)
    if reader is None or raw is None:  # no lengths column (or another codec): ask one by one
        length = leaf.doc_field_length
        return np.array([length(d, fieldname, 1) or 0 for d in range(doccount)], dtype=np.float64)
    count = min(reader._count, doccount)
    codes = np.frombuffer(bytes(raw.get(reader._basepos, count)), dtype=np.uint8)
    lengths = np.zeros(doccount, dtype=np.float64)
    lengths[:count] = _LENGTH_OF_BYTE[codes]
    return lengths


def _decode(leaf: IndexReader, fieldname: str, text: str) -> tuple[LocalDocs, Weights]:
    """A term's postings in one segment, deletions included, as arrays (block by block)."""
    terms = getattr(leaf, "_terms", None)
    fieldobj = leaf.schema[fieldname]
    btext = fieldobj.to_bytes(text)
    if terms is None or (fieldname, btext) not in terms:
        return np.empty(0, np.int32), np.empty(0, np.float32)
    matcher = terms.matcher(fieldname, btext, fieldobj.format)
    if not isinstance(matcher, W3LeafMatcher):  # postings inlined in the term info: a few
        pairs = np.array(list(matcher.items_as("weight")), dtype=np.float64).reshape(-1, 2)
        return pairs[:, 0].astype(np.int32), pairs[:, 1].astype(np.float32)
    # Whoosh's matcher yields one posting per Python call; a block's ids and weights are
    # already arrays (ids delta-coded), so read them a block at a time.
    ids: list[LocalDocs] = []
    weights: list[Weights] = []
    while matcher.is_active():
        matcher._read_data()
        block_ids, block_weights = matcher._data[0], matcher._data[1]
        count = matcher._blocklength
        raw = np.asarray(block_ids, dtype=np.int64)
        ids.append((raw if matcher._byteids else np.cumsum(raw)).astype(np.int32))
        if block_weights is None:
            weights.append(np.ones(count, np.float32))
        elif isinstance(block_weights, float):
            weights.append(np.full(count, block_weights, np.float32))
        else:
            weights.append(np.asarray(block_weights, dtype=np.float32))
        matcher._next_block()
    return np.concatenate(ids), np.concatenate(weights)
