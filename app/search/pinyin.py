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
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

from app.search.query import ParsedQuery, Term
from app.search.text import fold

_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]{2,}$")
PINYIN_QUERY = re.compile(r"^[a-z]{2,40}$")
MIN_PIECE = 2  # letters: a one-letter piece of a run-together spelling is noise, not a word
INITIALS_PIECES = 3  # words a run of initials is cut into at most
INITIALS_READINGS = 4  # readings tried per piece (most weighty first)
INITIALS_CANDIDATES = 64  # cuts checked against the records at most


@dataclass(frozen=True)
class Reading:
    """A word and how much it counts (a unit or activity name, or its document frequency)."""

    word: str
    weight: float


def toneless(typed: str) -> str:
    """Pinyin as typed with tone marks (kēpǔ, lǜsè) in the plain letters the table keys on (kepu, lvse)."""
    plain = unicodedata.normalize("NFD", typed.replace("ü", "v").replace("Ü", "v"))
    return "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()


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
        self._full: dict[str, Reading] = {}
        for word, weight in best.items():
            full = spellings(word)[0]
            if full not in self._full or weight > self._full[full].weight:
                self._full[full] = Reading(word, weight)

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

    def read(self, typed: str, occurs: Callable[[str], bool] | None = None) -> list[str]:
        """The words `typed` spells: one word (pinyin or initials), or several run together.

        "shuzisuyang" is no vocabulary word but 数字 + 素养 spelt without a break; the split
        with the fewest words wins, then the weightier. Runs of initials ("szsy") are too
        ambiguous to cut blind (sz is 素质 as much as 数字): they are cut only when `occurs`
        confirms that the words stand side by side in the records (数字素养 does, 素质素养
        does not).
        """
        whole = self.exact(typed)
        if whole:
            return [whole[0].word]
        # best[i]: (words, -weight) of the best split of typed[:i]
        best: list[tuple[int, float, list[str]] | None] = [None] * (len(typed) + 1)
        best[0] = (0, 0.0, [])
        for end in range(MIN_PIECE, len(typed) + 1):
            for start in range(0, end - MIN_PIECE + 1):
                before, reading = best[start], self._full.get(typed[start:end])
                if before is None or reading is None:
                    continue
                candidate = (before[0] + 1, before[1] - reading.weight, [*before[2], reading.word])
                current = best[end]
                if current is None or candidate[:2] < current[:2]:
                    best[end] = candidate
        found = best[-1]
        if found is not None:
            return found[2]
        if occurs is not None:
            for _, _, words in sorted(self._initials_splits(typed)):
                if occurs("".join(words)):
                    return ["".join(words)]
        return []

    def _initials_splits(self, typed: str) -> list[tuple[int, float, list[str]]]:
        """(pieces, -weight, words) for cuts of `typed` into INITIALS_PIECES words at most."""
        found: list[tuple[int, float, list[str]]] = []

        def cut(start: int, words: list[str], weight: float) -> None:
            if len(found) >= INITIALS_CANDIDATES:
                return
            if start == len(typed):
                if len(words) > 1:
                    found.append((len(words), -weight, words))
                return
            if len(words) == INITIALS_PIECES:
                return
            for end in range(start + MIN_PIECE, len(typed) + 1):
                for reading in self.exact(typed[start:end])[:INITIALS_READINGS]:
                    cut(end, [*words, reading.word], weight + reading.weight)

        cut(0, [], 0.0)
        return found


def _ranked(entries: list[Reading]) -> list[Reading]:
    best: dict[str, Reading] = {}
    for entry in entries:
        if entry.word not in best or entry.weight > best[entry.word].weight:
            best[entry.word] = entry
    return sorted(best.values(), key=lambda r: (-r.weight, len(r.word), r.word))


_SCRIPT_RUNS = re.compile(r"[a-z]+|[^a-z]+")


def respell(
    parsed: ParsedQuery,
    table: Callable[[], PinyinTable],
    known: Callable[[str], bool],
    occurs: Callable[[str], bool] | None = None,
) -> tuple[ParsedQuery, dict[str, str]]:
    """The query with terms typed in pinyin replaced by the words they spell, and word → as typed.

    A term is read only when it matches nothing as typed (`known` says what the index
    holds; `occurs`, whether a text stands in some record). Tone marks are ignored; syllables typed apart ("ke pu") are read together when
    they spell nothing alone; a spelling run into characters ("kepu基地") is read up to
    them. The table is asked for only when some term may be pinyin: it is costly to make.
    """
    typed: dict[str, str] = {}

    def spell(text: str) -> list[str]:
        plain = toneless(fold(text))
        if not PINYIN_QUERY.match(plain) or known(plain):
            return []
        return table().read(plain, occurs)

    def plain_pinyin(clause: list[Term]) -> bool:
        (term,) = clause if len(clause) == 1 else (None,)
        return (
            term is not None
            and not term.phrase
            and not term.negated
            and PINYIN_QUERY.match(toneless(fold(term.text))) is not None
            and not spell(term.text)
        )

    clauses: list[list[Term]] = []
    position = 0
    while position < len(parsed.clauses):
        clause = parsed.clauses[position]
        # Syllables typed apart, none of which spells a word alone: read them as one.
        end = position
        while end < len(parsed.clauses) and plain_pinyin(parsed.clauses[end]):
            end += 1
        if end - position > 1:
            joined = "".join(toneless(fold(c[0].text)) for c in parsed.clauses[position:end])
            words = spell(joined)
            if words:
                as_typed = " ".join(c[0].text for c in parsed.clauses[position:end])
                typed.update(dict.fromkeys(words, as_typed))
                clauses.extend([Term(word)] for word in words)
                position = end
                continue
        clauses.append([_respelt(term, spell, typed) for term in clause])
        position += 1
    return ParsedQuery(parsed.text, clauses), typed


def _respelt(term: Term, spell: Callable[[str], list[str]], typed: dict[str, str]) -> Term:
    if term.phrase:
        return term
    pieces, changed = [], False
    for run in _SCRIPT_RUNS.findall(toneless(fold(term.text))):
        words = spell(run) if run.isascii() else []
        changed = changed or bool(words)
        pieces.append("".join(words) or run)
    if not changed:
        return term
    typed["".join(pieces)] = term.text
    return Term("".join(pieces), negated=term.negated)
