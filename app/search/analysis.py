"""Whoosh analyzers: jieba precise-mode words and CJK bigrams, both with sequential positions.

jieba's own ChineseAnalyzer emits overlapping search-mode tokens whose positions are
character offsets, which breaks phrase queries; here each token's position is one more
than the last, so "全国科普日" is a phrase on either field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import Token, Tokenizer

from app.search.dictionary import Segmenter
from app.search.text import fold

_WORD = re.compile(r"\w", re.UNICODE)
_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffa-z0-9]+")
STOP_WORDS = frozenset("的 和 与 及 等 了 在 对 为 是 将 把 以 并 或 之".split())

_segmenter: Segmenter | None = None


def use_segmenter(segmenter: Segmenter) -> None:
    """Make `segmenter` the one analyzers use in this process (the index opens it once)."""
    global _segmenter
    _segmenter = segmenter


def active_segmenter() -> Segmenter:
    """The process's segmenter; analyzers are pickled into Whoosh's schema, so they look it up."""
    if _segmenter is None:
        raise RuntimeError("no segmenter loaded: open the SearchIndex (or call use_segmenter) first")
    return _segmenter


def words(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) of the jieba words of `text`, stop words and punctuation dropped."""
    folded = fold(text)
    out = []
    offset = 0
    for word in active_segmenter().cut(folded):
        start, offset = offset, offset + len(word)
        if word.strip() and _WORD.search(word) and word not in STOP_WORDS:
            out.append((word, start, offset))
    return out


def parts(word: str) -> list[str]:
    """The dictionary words inside a folded compound word, shortest path first (may be empty)."""
    return active_segmenter().parts(word) if len(word) >= 4 else []


def gram_texts(text: str) -> list[str]:
    """The texts of `bigrams(text)`, in the same order, without offsets (what an index build needs)."""
    out: list[str] = []
    for chars in _RUN.findall(fold(text)):
        if len(chars) == 1:
            out.append(chars)
        else:
            out.extend([chars[i : i + 2] for i in range(len(chars) - 1)])
    return out


def bigrams(text: str) -> list[tuple[str, int, int]]:
    """(gram, start, end): character bigrams of each run of CJK, digits and letters.

    Digits take part like characters, so 第37届 is 第3/37/7届 and matches inside
    第37届全国青少年科技创新大赛; a run of one character stands alone.
    """
    folded = fold(text)
    out = []
    for run in _RUN.finditer(folded):
        chars, base = run.group(0), run.start()
        if len(chars) == 1:
            out.append((chars, base, run.end()))
            continue
        out.extend((chars[i : i + 2], base + i, base + i + 2) for i in range(len(chars) - 1))
    return out


class _SequentialTokenizer(Tokenizer):  # type: ignore[misc]
    """Emits the pieces of `split` with positions 0, 1, 2 … and character offsets."""

    def split(self, text: str) -> list[tuple[str, int, int]]:
        raise NotImplementedError

    def texts(self, text: str) -> list[str]:
        """The pieces' texts alone, in order."""
        return [piece for piece, _, _ in self.split(text)]

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pieces = self.split(value) if tokenize else [(fold(value), 0, len(value))]
        for pos, (text, start, end) in enumerate(pieces, start_pos):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = pos
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


class JiebaTokenizer(_SequentialTokenizer):
    """jieba precise mode with the domain dictionary."""

    def split(self, text: str) -> list[tuple[str, int, int]]:
        return words(text)


class BigramTokenizer(_SequentialTokenizer):
    """CJK bigrams: the sub-word recall path (气象 in 气象局, 科普日 in 全国科普日)."""

    def split(self, text: str) -> list[tuple[str, int, int]]:
        return bigrams(text)

    def texts(self, text: str) -> list[str]:
        """The bigrams' texts alone, in order."""
        return gram_texts(text)
