"""From a compiled query to ranked documents: full matches, proximity, relaxation.

Ranking follows the order of Meilisearch's rules, with BM25F underneath:
1. words — records holding every required clause come first; when fewer than
   RELAX_BELOW (a page) do, records holding most of the query's weight follow, ordered by that
   share (each clause, or each part of a compound, weighs its idf, so the rarest words
   count most, as Meilisearch's "frequency" matching strategy and Elasticsearch's
   minimum_should_match do; a clause matching nothing is dropped). Phrases and OR groups
   are never relaxed; exclusions always hold.
2. proximity and exactness — among full matches, a record holding a clause verbatim, or
   two clauses side by side, gains over one that matches through sub-words, synonyms or
   scattered words.
3. BM25F score, then the index order (document, number), so pages are stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from whoosh import query as wq

from app.search.query import Clause, CompiledQuery
from app.search.ranking import EMPTY, Docs, Hits, Memo, Ranker, Scores, contains
from app.search.text import fold

RELAX_BELOW = 10
FEW_FULL_MATCHES = 3  # below this, relaxed records may hold less than MIN_COVERAGE
PROXIMITY_POOL = 50  # only the best full matches are read back for the proximity check
VERBATIM_BONUS = 0.3  # × the share of clauses that stand verbatim in the record
ADJACENT_BONUS = 0.5  # × the share of neighbouring clauses that stand side by side
MIN_COVERAGE = 0.5  # a relaxed record holds at least this share of the query's weight
SYNONYM_SHARE = 0.75  # a synonym holds the word's meaning, if less surely than the word


@dataclass
class Matched:
    """Every listed match (for totals and facets) and the best page of them."""

    hits: Hits
    page: list[tuple[int, float]]  # full matches first, then relaxed ones (`relaxed` of them in all)
    dropped: list[str] = field(default_factory=list)
    relaxed: int = 0  # how many of the hits match only the relaxed query
    full_on_page: int = 0  # page[:full_on_page] hold every word


def match(
    ranker: Ranker,
    compiled: CompiledQuery,
    *,
    allowed: Docs | None,
    limit: int,
    relax: bool = True,
    scored: Hits | None = None,
    memo: Memo | None = None,
) -> Matched:
    """Rank the documents `allowed` (None: all) for a compiled query.

    `scored`: the whole query's matches over every document, when the caller has them
    already (the ledger list and the activity chips rank the same query over two kinds);
    `memo`: the evaluations that made them (Ranker.scores), for relaxation to reuse.
    """
    memo = {} if memo is None else memo
    whole = compiled.combined()
    if whole is None:  # only filters: every allowed record, in index order
        docs = ranker.live_docs() if allowed is None else allowed
        hits = Hits(docs, np.zeros(docs.size))
        page = [(int(d), 0.0) for d in docs[:limit]]
        return Matched(hits, page, full_on_page=len(page))  # nothing to miss: every record is whole
    full = _within(scored if scored is not None else ranker.scores(whole, memo), allowed, ranker.size)
    full = _proximity(ranker, full, compiled.required)
    relaxed, coverage, dropped = EMPTY, np.empty(0), list[str]()
    weighable = sum(max(1, len(c.parts)) for c in compiled.required if c.relaxable)
    if relax and len(full) < RELAX_BELOW and weighable > 1:
        relaxed, coverage, dropped = _relax(ranker, compiled, allowed, full, memo)
    page = _best(full, limit)
    full_on_page = len(page)
    if len(page) < limit:
        # Relaxed records: more of the query's weight first, BM25F within the same share.
        page += _best(relaxed, limit - len(page), coverage)
    hits = _union(full, relaxed)
    return Matched(hits, page, dropped, len(relaxed), full_on_page)


def _relax(
    ranker: Ranker, compiled: CompiledQuery, allowed: Docs | None, full: Hits, memo: Memo
) -> tuple[Hits, Scores, list[str]]:
    """Records holding most of the query's weight, ranked by that share, then by score.

    A clause weighs its idf among the allowed records, so rare words count most; a clause
    that matches nothing is dropped outright. Records need MIN_COVERAGE of the weight of
    the clauses that do match (or the best share any record reaches, if less), and every
    clause that cannot be relaxed (phrases, OR groups); exclusions still hold.
    """
    fixed = [c for c in compiled.required if not c.relaxable]
    # What is weighed: each clause, or its parts; with, per match, the share of the weight it earns.
    units: list[tuple[str, Hits, Scores]] = []
    dropped: list[str] = []
    for clause in (c for c in compiled.required if c.relaxable):
        whole = _within(ranker.scores(clause.query, memo), allowed, ranker.size)
        pieces = [
            (p.text, _within(ranker.scores(p.query, memo), allowed, ranker.size), p.literal) for p in clause.parts
        ]
        pieces = [piece for piece in pieces if len(piece[1])]
        if len(pieces) > 1:
            units.extend((text, h, _earned(ranker, h, literal, memo)) for text, h, literal in pieces)
        elif len(whole):
            units.append((clause.text, whole, _earned(ranker, whole, clause.literal, memo)))
        else:
            dropped.append(clause.text)
    if not units:
        return EMPTY, np.empty(0), dropped
    population = max(1, len(allowed) if allowed is not None else len(ranker.live_docs()))
    weights = np.array([np.log(population / (1 + len(h))) + 1 for _, h, _ in units])
    docs = np.concatenate([h.docs for _, h, _ in units])
    scores = np.concatenate([h.scores for _, h, _ in units])
    shares = np.concatenate([earned * w for (_, _, earned), w in zip(units, weights, strict=True)])
    unique, inverse = np.unique(docs, return_inverse=True)
    coverage = np.bincount(inverse, weights=shares) / weights.sum()
    # One character alone (周, 馆) says too little to stand for the query: a relaxed record
    # must also hold a longer word.
    longer = np.concatenate([np.full(len(h), len(text) > 1) for text, h, _ in units])
    coverage[np.bincount(inverse, weights=longer) == 0] = 0.0
    summed = np.bincount(inverse, weights=scores)
    # At least MIN_COVERAGE of the weight; with (almost) no full match, less when that
    # leaves too few to show (never an empty page when something is close).
    outside = ~contains(full.docs, unique, ranker.size)
    wanted = RELAX_BELOW - len(full)
    levels = np.sort(coverage[outside])[::-1]
    floor = MIN_COVERAGE
    if len(full) < FEW_FULL_MATCHES and levels.size:
        floor = min(MIN_COVERAGE, float(levels[min(wanted, levels.size) - 1]))
    keep = outside & (coverage >= floor - 1e-9)
    constraint = compiled.combined(fixed) if fixed else None
    if compiled.excluded is not None and constraint is None:
        keep &= ~contains(ranker.scores(compiled.excluded, memo).docs, unique, ranker.size)
    if constraint is not None:
        keep &= contains(_within(ranker.scores(constraint, memo), allowed, ranker.size).docs, unique, ranker.size)
    unique, coverage, summed = unique[keep], coverage[keep], summed[keep]
    relaxed = Hits(unique, summed)
    best = _best(relaxed, 1, np.round(coverage, 6))
    if best:
        top = best[0][0]
        dropped += [text for text, h, _ in units if top not in h.docs]
    return relaxed, np.round(coverage, 6), dropped


def _earned(ranker: Ranker, hits: Hits, literal: wq.Query | None, memo: Memo) -> Scores:
    """The share of a word's weight each match earns: all of it, or SYNONYM_SHARE through a synonym."""
    earned = np.ones(len(hits))
    if literal is not None:
        earned[~contains(ranker.scores(literal, memo).docs, hits.docs, ranker.size)] = SYNONYM_SHARE
    return earned


def _within(hits: Hits, allowed: Docs | None, size: int = 0) -> Hits:
    return hits if allowed is None else hits.keep(contains(allowed, hits.docs, size))


def _proximity(ranker: Ranker, hits: Hits, clauses: list[Clause]) -> Hits:
    needles = [fold(c.text) for c in clauses if c.relaxable]
    if not needles or not len(hits):
        return hits
    pairs = [a + b for a, b in zip(needles, needles[1:], strict=False)]
    pool = _top(hits.scores, PROXIMITY_POOL)
    texts = [ranker.folded_text(d) for d in hits.docs[pool].tolist()]
    verbatim = np.array([sum(n in text for n in needles) for text in texts], np.float64) / len(needles)
    bonus = 1 + VERBATIM_BONUS * verbatim
    if pairs:
        bonus += ADJACENT_BONUS * np.array([sum(p in text for p in pairs) for text in texts], np.float64) / len(pairs)
    scores = hits.scores.copy()
    scores[pool] *= bonus
    return Hits(hits.docs, scores)


def _top(scores: Scores, k: int) -> npt.NDArray[np.intp]:
    """np.argsort(-scores, kind="stable")[:k], without sorting more than the best k and their ties."""
    if scores.size <= k:
        return np.argsort(-scores, kind="stable")
    threshold = np.partition(scores, scores.size - k)[scores.size - k]
    candidates = np.flatnonzero(scores >= threshold)
    return candidates[np.argsort(-scores[candidates], kind="stable")][:k]


def _best(hits: Hits, limit: int, tiers: Scores | None = None) -> list[tuple[int, float]]:
    if limit <= 0 or not len(hits):
        return []
    docs, scores = hits.docs, hits.scores
    if tiers is not None:
        order = np.lexsort((docs, -scores, -tiers))[:limit]
        return [(int(docs[i]), float(scores[i])) for i in order]
    if docs.size > limit:
        # Everything scoring at least the limit-th best, ties included, then an exact sort.
        threshold = np.partition(scores, docs.size - limit)[docs.size - limit]
        keep = scores >= threshold
        docs, scores = docs[keep], scores[keep]
    order = np.lexsort((docs, -scores))[:limit]
    return [(int(docs[i]), float(scores[i])) for i in order]


def _union(a: Hits, b: Hits) -> Hits:
    if not len(b):
        return a
    docs = np.concatenate([a.docs, b.docs])
    order = np.argsort(docs, kind="stable")
    return Hits(docs[order], np.concatenate([a.scores, b.scores])[order])
