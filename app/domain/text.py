"""Width normalisation and character folding shared by every layer that compares Chinese text.

Official copies use full-width punctuation, the seed uses ASCII; structure, unit names
and search terms are all compared after `normalise`, so both read alike.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

# Full-width forms that carry structure in these notices, mapped to the seed's ASCII.
_PUNCTUATION = str.maketrans(
    {
        "（": "(",
        "）": ")",
        "，": ",",
        "：": ":",
        "；": ";",
        "．": ".",
        "\u3000": " ",
        "\u00a0": " ",
    }
)
# Digits and Latin letters typed full-width (a Chinese IME's full-width mode): 2０23, ｋｅｘｉｅ.
_ALPHANUMERIC = {0xFF10 + i: chr(0x30 + i) for i in range(10)}
_ALPHANUMERIC.update({0xFF21 + i: chr(0x41 + i) for i in range(26)})
_ALPHANUMERIC.update({0xFF41 + i: chr(0x61 + i) for i in range(26)})
_DIGITS = str.maketrans(_ALPHANUMERIC)


def normalise(text: str) -> str:
    """Map full-width structural punctuation, digits and letters to ASCII."""
    return text.translate(_PUNCTUATION).translate(_DIGITS)


@cache
def _t2s_table() -> dict[int, str]:
    # OpenCC's character table, one character to one: offsets in folded text are offsets in the original.
    raw = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text("utf-8")
    table: dict[int, str] = {}
    for line in raw.splitlines():
        trad, _, simp = line.partition("\t")
        target = simp.split(" ")[0]
        if len(trad) == 1 and len(target) == 1:
            table[ord(trad)] = target
    return table


def simplify(text: str) -> str:
    """Traditional → simplified, character for character (OpenCC's character table)."""
    return text.translate(_t2s_table())


@cache
def _fold_table() -> dict[int, str]:
    # The three tables never map a character another one maps, so one pass does all three
    # (folding runs on every stored text a page of results shows).
    table: dict[int, str] = dict(_t2s_table())
    table.update({key: chr(value) if isinstance(value, int) else value for key, value in _PUNCTUATION.items()})
    table.update({key: chr(value) if isinstance(value, int) else value for key, value in _DIGITS.items()})
    return table


def fold_characters(text: str) -> str:
    """`normalise` and `simplify` together: what structure and identity are read from (case kept)."""
    return text.translate(_fold_table())
