"""Snippets: the stored text around the matches, matches in <em>, everything else escaped.

Matches are found as substrings of the folded text (traditional → simplified, full-width →
ASCII, one character for one), so no re-tokenising is needed and offsets carry over.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape

from app.search.text import fold

SNIPPET_CHARS = 110
_SPECIAL = re.compile(r"[&<>\"']")  # what html.escape changes


def highlight_terms(texts: Iterable[str]) -> list[str]:
    """Folded strings worth marking, longest first (single characters only when typed alone)."""
    terms = {fold(t) for t in texts if t.strip()}
    return sorted(terms, key=len, reverse=True)


def _spans(folded: str, terms: list[str]) -> list[tuple[int, int]]:
    taken = bytearray(len(folded))  # 1 where a longer term already matched
    spans = []
    for term in terms:
        start = folded.find(term)
        while start != -1:
            end = start + len(term)
            if taken.find(1, start, end) == -1:
                spans.append((start, end))
                taken[start:end] = b"\x01" * (end - start)
            start = folded.find(term, end)
    return sorted(spans)


def densest_window(spans: list[tuple[int, int]], size: int) -> int:
    """Start of the first match whose window of `size` characters holds the most whole matches.

    Spans are sorted and never overlap, so their ends rise with their starts: one pointer
    runs ahead to the last span ending inside the window, and the whole search is linear
    in the number of matches (a record with thousands of them used to take a second).
    """
    best_count, best_start = 0, 0
    ahead = 0
    for i, (s, _) in enumerate(spans):
        ahead = max(ahead, i)
        while ahead < len(spans) and spans[ahead][1] <= s + size:
            ahead += 1
        if ahead - i > best_count:
            best_count, best_start = ahead - i, s
    return best_start


def snippet(text: str, terms: list[str], *, size: int = SNIPPET_CHARS, folded: str | None = None) -> tuple[str, int]:
    """HTML snippet of `text` around the densest matches, and how many matches it holds.

    `folded` is `text` already folded, when the caller keeps it (the ranker does).
    """
    folded = fold(text) if folded is None or len(folded) != len(text) else folded
    spans = _spans(folded, terms)
    start, end = 0, len(text)
    if len(text) > size:
        start = max(0, min(densest_window(spans, size) - size // 5, len(text) - size))
        end = start + size
    # Most notices hold none of the characters HTML escapes: then no piece needs escaping.
    quote = escape if _SPECIAL.search(text, start, end) else str
    parts = ["…" if start > 0 else ""]
    cursor = start
    shown = 0
    for s, e in spans:
        if s < start or e > end:
            continue
        parts.append(quote(text[cursor:s]))
        parts.append(f"<em>{quote(text[s:e])}</em>")
        cursor = e
        shown += 1
    parts.append(quote(text[cursor:end]))
    parts.append("…" if end < len(text) else "")
    return "".join(parts), shown
