"""Pinyin and initials for the domain vocabulary: kexie → 科协, kepuri → 科普日, lnr → 老年人.

People type pinyin on a phone or an English keyboard before picking characters, or give
up and send the pinyin itself. The vocabulary (unit names, activity names, dictionary
words, frequent index words) is small, so every word's toneless full pinyin and its
initials are computed once per index build and looked up exactly or by prefix.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]{2,}$")
PINYIN_QUERY = re.compile(r"^[a-z]{2,40}$")


@dataclass(frozen=True)
class Reading:
    """A word and how much it counts (a unit or activity name, or its document frequency)."""

    word: str
    weight: float


@functools.lru_cache(maxsize=200_000)
def spellings(word: str) -> tuple[str, str]:
    """A word's full toneless pinyin and its initials (kept: the table is remade after every write)."""
    full = "".join(lazy_pinyin(word, errors="ignore"))
    return full, "".join(lazy_pinyin(word, style=Style.FIRST_LETTER, errors="ignore"))


class PinyinTable:
    """Full pinyin and initials of every vocabulary word, for exact and prefix lookup."""

    def __init__(self, vocabulary: Iterable[tuple[str, float]]) -> None:
        best: dict[str, float] = {}
        for word, weight in vocabulary:
            if _CJK.match(word) and weight > best.get(word, -1.0):
                best[word] = weight
        keys: list[tuple[str, str, float]] = []
        for word, weight in best.items():
            full, initials = spellings(word)
            # A full spelling beats initials: "kexie" is meant more surely than "kx".
            keys.append((full, word, weight + 0.5))
            if initials != full:
                keys.append((initials, word, weight))
        keys.sort()
        self._keys = [k for k, _, _ in keys]
        self._entries = [Reading(w, weight) for _, w, weight in keys]

    def __len__(self) -> int:
        return len(self._keys)

    def exact(self, typed: str) -> list[Reading]:
        """Words whose pinyin or initials are exactly `typed`, most weighty first."""
        lo = bisect.bisect_left(self._keys, typed)
        hi = bisect.bisect_right(self._keys, typed)
        return _ranked(self._entries[lo:hi])

    def prefixed(self, typed: str, limit: int) -> list[Reading]:
        """Words whose pinyin or initials start with `typed`, most weighty first."""
        lo = bisect.bisect_left(self._keys, typed)
        hi = bisect.bisect_left(self._keys, typed + "{")  # "{" sorts after every letter
        return _ranked(self._entries[lo:hi])[:limit]


def _ranked(entries: list[Reading]) -> list[Reading]:
    best: dict[str, Reading] = {}
    for entry in entries:
        if entry.word not in best or entry.weight > best[entry.word].weight:
            best[entry.word] = entry
    return sorted(best.values(), key=lambda r: (-r.weight, len(r.word), r.word))
