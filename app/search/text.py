"""Text folding shared by indexing and querying: width, case, traditional → simplified.

Every fold here maps one character to one character, so offsets found in folded
text are offsets in the original text too (snippets rely on that).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from app.domain.text import normalise


@cache
def _t2s_table() -> dict[int, str]:
    # OpenCC's character table; phrase-level conversions are not needed for matching.
    raw = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text("utf-8")
    table: dict[int, str] = {}
    for line in raw.splitlines():
        trad, _, simp = line.partition("\t")
        target = simp.split(" ")[0]
        if len(trad) == 1 and len(target) == 1:
            table[ord(trad)] = target
    return table


def fold(text: str) -> str:
    """Full-width → ASCII punctuation and digits, traditional → simplified, ASCII lower-case."""
    return normalise(text).translate(_t2s_table()).lower()
