"""Which task of one edition is which task of another: folded character n-grams plus unit overlap.

Pure: items in, links out. A link needs a score of at least MIN_LINK_SCORE, and each side
must be the other's clear best (no rival within AMBIGUITY_MARGIN); anything less is left
unlinked rather than guessed. The thresholds are measured on the seed against the
synthetic next-year edition (tests/data/editions/): every kept, reworded or reassigned
task scores ≥ 0.73, the best-scoring unrelated pair 0.42.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.text import fold_characters

NGRAM = 2
"""Character bigrams: the unit of Chinese wording that survives reordering and small edits."""
TEXT_WEIGHT = 0.8
UNIT_WEIGHT = 0.2
"""Wording decides; the units confirm (a task moved to another unit keeps its wording)."""
MIN_LINK_SCORE = 0.55
"""Below this two tasks are not the same task. Reworded tasks of the corpus score ≥ 0.73 (a year or an
edition number changed, a clause added); the best-scoring unrelated pair scores 0.42 (two 举办…大赛
tasks of different units), so 0.55 sits in the gap with room on both sides."""
AMBIGUITY_MARGIN = 0.05
"""A best match this close to the runner-up is ambiguous (two near-identical tasks): left unlinked."""
SAME_TEXT = 1.0

_NOT_TEXT = re.compile(r"[\s\W_]+")


@dataclass(frozen=True)
class Item:
    """A task as compared: an id, its wording without the unit list, its units."""

    key: int
    text: str
    units: frozenset[str]


@dataclass(frozen=True)
class Link:
    """`current` continues `previous`; the score and its parts, 0–1."""

    previous: int
    current: int
    score: float
    text_score: float
    unit_score: float


def grams(text: str) -> Counter[str]:
    """The character n-grams of folded text, punctuation and spaces left out."""
    folded = _NOT_TEXT.sub("", fold_characters(text))
    if len(folded) < NGRAM:
        return Counter([folded]) if folded else Counter()
    return Counter(folded[i : i + NGRAM] for i in range(len(folded) - NGRAM + 1))


def text_similarity(a: Counter[str], b: Counter[str]) -> float:
    """Dice coefficient of two n-gram multisets."""
    total = sum(a.values()) + sum(b.values())
    return 2 * sum((a & b).values()) / total if total else 0.0


def unit_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard overlap of two unit sets (two empty sets agree)."""
    return len(a & b) / len(a | b) if a or b else 1.0


def same_wording(a: str, b: str) -> bool:
    """True when two texts differ at most in width, characters' form, punctuation and spacing."""
    return _NOT_TEXT.sub("", fold_characters(a)) == _NOT_TEXT.sub("", fold_characters(b))


def link(previous: Sequence[Item], current: Sequence[Item]) -> list[Link]:
    """Links from `current` items to their counterparts in `previous`, clear mutual best matches only."""
    before = [(p, grams(p.text)) for p in previous]
    after = [(c, grams(c.text)) for c in current]
    scores: dict[tuple[int, int], Link] = {}
    for c, c_grams in after:
        for p, p_grams in before:
            text = text_similarity(p_grams, c_grams)
            if text * TEXT_WEIGHT + UNIT_WEIGHT < MIN_LINK_SCORE - AMBIGUITY_MARGIN:
                continue  # can neither be linked nor be a rival close enough to make a link ambiguous
            units = unit_similarity(p.units, c.units)
            score = TEXT_WEIGHT * text + UNIT_WEIGHT * units
            scores[(p.key, c.key)] = Link(p.key, c.key, round(score, 4), round(text, 4), round(units, 4))
    by_current: dict[int, list[float]] = defaultdict(list)
    by_previous: dict[int, list[float]] = defaultdict(list)
    for candidate in scores.values():
        by_current[candidate.current].append(candidate.score)
        by_previous[candidate.previous].append(candidate.score)
    links = []
    for candidate in scores.values():
        if candidate.score < MIN_LINK_SCORE:
            continue
        rival = max(_runner_up(by_current[candidate.current]), _runner_up(by_previous[candidate.previous]))
        if candidate.score - rival >= AMBIGUITY_MARGIN:
            links.append(candidate)
    return sorted(links, key=lambda x: x.current)


def _runner_up(scores: list[float]) -> float:
    """The second-best score (0 when there is only one): what the best must clearly beat."""
    return sorted(scores, reverse=True)[1] if len(scores) > 1 else 0.0
