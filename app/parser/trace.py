"""Trace links: which key point(s) a ledger task implements.

Most tasks restate clauses of a key point, so the score is the share of the task's
character bigrams found in the key point's best-matching clauses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from app.parser.normalise import normalise
from app.parser.records import ParsedKeyPoint, ParsedTask

MIN_SCORE = 0.3
MAX_LINKS = 3
SENTENCE_COVERAGE = 0.6
_CLAUSE_END = re.compile(r"[。;!?,\n]")
MIN_CLAUSE_BIGRAMS = 4
_NOT_CJK_WORD = re.compile(r"[^\w]|[\d_]")
# Bigrams that occur everywhere in these notices and say nothing about the topic.
_COMMON = frozenset(
    {"开展", "推进", "推动", "加强", "工作", "建设", "组织", "举办", "实施", "科普", "活动", "进一", "一步"}
)


def bigram_set(text: str) -> set[str]:
    """Character bigrams of the CJK/word characters of a text, punctuation dropped."""
    chars = _NOT_CJK_WORD.sub("", normalise(text))
    return {chars[i : i + 2] for i in range(len(chars) - 1)} - _COMMON


def trace_tasks(tasks: Sequence[ParsedTask], key_points: Sequence[ParsedKeyPoint]) -> list[ParsedTask]:
    """Copies of the tasks with `key_points` = [(number, score)], best first."""
    point_sentences = [
        (kp.number, [bigram_set(s) for s in _CLAUSE_END.split(normalise(kp.full_text)) if s.strip()])
        for kp in key_points
    ]
    traced = []
    for task in tasks:
        sentences = [bigram_set(s) for s in _CLAUSE_END.split(normalise(task.body)) if s.strip()]
        scores: list[tuple[int, float]] = []
        for number, kp_sentences in point_sentences:
            # Each task sentence finds its best sentence in the key point; weight by length.
            matched = total = 0
            best_coverage = 0.0
            for sentence in sentences:
                if not sentence:
                    continue
                best = max((len(sentence & kp_s) for kp_s in kp_sentences), default=0)
                matched += best
                total += len(sentence)
                if len(sentence) >= MIN_CLAUSE_BIGRAMS:
                    best_coverage = max(best_coverage, best / len(sentence))
            score = round(matched / total, 3) if total else 0.0
            # A task that joins two key points restates one sentence of each: a single
            # well-covered sentence is enough for a link, even if the average is low.
            if score >= MIN_SCORE or best_coverage >= SENTENCE_COVERAGE:
                scores.append((number, score))
        scores.sort(key=lambda pair: (-pair[1], pair[0]))
        traced.append(replace(task, key_points=tuple(scores[:MAX_LINKS])))
    return traced
