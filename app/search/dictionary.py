"""The jieba tokenizer with the domain dictionary, loaded once per process."""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import re
import threading
import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import jieba

from app.search.text import fold

log = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)
# Domain words get a frequency high enough that jieba keeps them whole.
DOMAIN_FREQ = 200_000
MAX_TERM_CHARS = 8
# Query words and the shipped vocabulary (synonyms, unit names) are cut again and again; a
# segmenter never changes its dictionary, so the words of short texts are kept.
CUT_CACHE_CHARS = 32
CUT_CACHE_SIZE = 8192
_PLAIN = re.compile(r"[\u4e00-\u9fff]+")


_SHARED: dict[str, Segmenter] = {}
_SHARED_LOCK = threading.Lock()


def shipped_terms() -> list[str]:
    """Key terms of these notices that jieba's general dictionary splits, and asking phrases (shipped files)."""
    raw = resources.files("app.data").joinpath("user_dict.txt").read_text("utf-8")
    terms = [line.split()[0] for line in raw.splitlines() if line.strip() and not line.startswith("#")]
    return terms + asking_phrases()


def asking_phrases() -> list[str]:
    """Question phrases jieba would cut apart ("第几届"): kept whole, so they can be set aside whole."""
    raw = resources.files("app.data").joinpath("query_words.toml").read_text("utf-8")
    return list(tomllib.loads(raw)["phrases"])


class Segmenter:
    """A jieba Tokenizer with the shipped terms and the store's own names added."""

    def __init__(self, cache_dir: Path, extra_terms: Iterable[str] = ()) -> None:
        # Long or numbered names ("第37届全国青少年科技创新大赛") stay split, so their parts
        # (37, 青少年, 大赛) remain words of their own.
        self.terms = sorted(
            {fold(t) for t in [*shipped_terms(), *extra_terms] if 1 < len(t) <= MAX_TERM_CHARS and _PLAIN.fullmatch(t)}
        )
        self.fingerprint = hashlib.sha256("\n".join(self.terms).encode()).hexdigest()[:16]
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.cache_dir = cache_dir
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.tmp_dir = str(cache_dir)
        self._tokenizer.cache_file = "jieba.cache"
        self._lock = threading.Lock()
        self._cuts: dict[str, tuple[str, ...]] = {}
        self._parts: dict[str, tuple[str, ...]] = {}

    def load(self) -> Segmenter:
        """Load jieba's dictionary with our terms added, from our own cache when it is there.

        jieba's initialize() takes ~0.6 s even from its cache; the finished word table
        (jieba's FREQ and total, what initialize() sets) marshals back in ~0.2 s.
        """
        with self._lock:
            if self._tokenizer.initialized:
                return self
            cached = self.cache_dir / f"jieba-{self.fingerprint}.marshal"
            try:
                with open(cached, "rb") as handle:
                    # loads(read()) is ~3x faster than load(file), which reads in small pieces.
                    self._tokenizer.FREQ, self._tokenizer.total = marshal.loads(handle.read())
                self._tokenizer.initialized = True
                return self
            except (OSError, EOFError, ValueError, TypeError):
                pass
            self._tokenizer.initialize()
            for term in self.terms:
                self._tokenizer.add_word(term, DOMAIN_FREQ)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as handle:
                marshal.dump((self._tokenizer.FREQ, self._tokenizer.total), handle)
            os.replace(tmp, cached)
        return self

    @classmethod
    def shared(cls, cache_dir: Path, extra_terms: Iterable[str] = ()) -> Segmenter:
        """A loaded segmenter for these terms, reused within the process (loading costs ~0.5 s)."""
        candidate = cls(cache_dir, extra_terms)
        with _SHARED_LOCK:
            loaded = _SHARED.get(candidate.fingerprint)
            if loaded is None:
                loaded = _SHARED[candidate.fingerprint] = candidate.load()
        return loaded

    def cut(self, folded: str) -> list[str]:
        """Precise-mode words of already folded text, HMM off so results are stable."""
        if len(folded) > CUT_CACHE_CHARS:  # a record's text, cut once at indexing time
            return self._tokenizer.lcut(folded, HMM=False)  # type: ignore[no-any-return]
        found = self._cuts.get(folded)
        if found is None:
            found = _keep(self._cuts, folded, tuple(self._tokenizer.lcut(folded, HMM=False)))
        return list(found)

    def parts(self, word: str) -> list[str]:
        """The shorter dictionary words inside a compound (科普基地 → 科普, 基地), as jieba's search mode finds them."""
        found = self._parts.get(word)
        if found is None:
            cut = self._tokenizer.lcut_for_search(word, HMM=False)
            found = tuple(w for w in dict.fromkeys(cut) if 1 < len(w) < len(word))
            if len(word) <= CUT_CACHE_CHARS:
                _keep(self._parts, word, found)
        return list(found)


def _keep(cache: dict[str, tuple[str, ...]], key: str, value: tuple[str, ...]) -> tuple[str, ...]:
    # Bounded by emptying: cheap, and the vocabulary that matters comes back at once.
    if len(cache) >= CUT_CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value
