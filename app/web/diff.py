"""Changed words between two texts, as escaped HTML (the compare page)."""

from __future__ import annotations

import difflib
import re
from html import escape

from markupsafe import Markup

from app.domain.text import fold_characters

# A number or a Latin word changes as a whole (第37届 → 第38届); Chinese text character by character.
_TOKEN = re.compile(r"[0-9A-Za-z]+|.", re.S)


def highlight_changes(a: str, b: str) -> tuple[Markup, Markup]:
    """(a with what b lacks in <del>, b with what a lacks in <ins>); every character escaped.

    Compared on folded text (width, traditional → simplified), so a copy in other characters
    shows no change; each side is shown in its own characters (folding keeps offsets).
    """
    spans_a, spans_b = _tokens(a), _tokens(b)
    matcher = difflib.SequenceMatcher(
        None,
        [fold_characters(a[i:j]) for i, j in spans_a],
        [fold_characters(b[i:j]) for i, j in spans_b],
        autojunk=False,
    )
    left: list[str] = []
    right: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        text_a = a[spans_a[i1][0] : spans_a[i2 - 1][1]] if i2 > i1 else ""
        text_b = b[spans_b[j1][0] : spans_b[j2 - 1][1]] if j2 > j1 else ""
        if op == "equal":
            left.append(escape(text_a))
            right.append(escape(text_b))
            continue
        if text_a:
            left.append(f"<del>{escape(text_a)}</del>")
        if text_b:
            right.append(f"<ins>{escape(text_b)}</ins>")
    return Markup("".join(left)), Markup("".join(right))  # built from escaped parts only


def _tokens(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _TOKEN.finditer(text)]
