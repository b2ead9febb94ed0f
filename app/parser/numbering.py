"""Numbering styles of key points and ledger items: 1.  1、  (1)  ①.

Lines are matched after `normalise`, so 1．and （1） read as 1. and (1). A list keeps
one style; a style of lower rank inside it numbers the parts of an item (the (1)
sub-paragraphs of a key point), while another style of the same or higher rank is a
switch of style, which the parser refuses rather than read as a new item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Circled numbers ①–⑳, ㉑–㉟, ㊱–㊿: 1–50, the only numbers they can write.
_CIRCLED = (
    [chr(c) for c in range(0x2460, 0x2474)]
    + [chr(c) for c in range(0x3251, 0x3260)]
    + [chr(c) for c in range(0x32B1, 0x32C0)]
)
_CIRCLED_VALUE = {ch: i for i, ch in enumerate(_CIRCLED, start=1)}

# (style, pattern, rank): a higher rank numbers larger units.
_STYLES: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("1.", re.compile(r"^(\d+)\s*\.\s*(\S.*)$"), 3),
    ("1、", re.compile(r"^(\d+)\s*、\s*(\S.*)$"), 3),
    ("(1)", re.compile(r"^\((\d+)\)\s*(\S.*)$"), 2),
    ("①", re.compile(rf"^([{''.join(_CIRCLED)}])\s*(\S.*)$"), 1),
)
KNOWN_STYLES = tuple(style for style, _, _ in _STYLES)
_RANK = {style: rank for style, _, rank in _STYLES}


@dataclass(frozen=True)
class Numbered:
    """A numbered line: its style, its number and where the text after the number starts."""

    style: str
    number: int
    text_start: int


def numbered(norm: str) -> Numbered | None:
    """The numbering at the start of a normalised line, or None."""
    for style, pattern, _ in _STYLES:
        if m := pattern.match(norm):
            value = m.group(1)
            number = _CIRCLED_VALUE[value] if style == "①" else int(value)
            return Numbered(style, number, m.start(2))
    return None


def is_part_of_item(style: str, list_style: str) -> bool:
    """True when `style` numbers the parts of an item in a list numbered `list_style`."""
    return _RANK[style] < _RANK[list_style]


def written(number: int, style: str) -> str:
    """How `number` is written in `style`: 12 → '12.', '(12)', '⑫'."""
    if style == "①":
        return _CIRCLED[number - 1] if 1 <= number <= len(_CIRCLED) else f"(circled {number})"
    return style.replace("1", str(number))
