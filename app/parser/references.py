"""Documents cited as 《…》."""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.parser.records import ParsedKeyPoint, ParsedReference, ParsedTask

_CITED = re.compile(r"《([^《》]{1,80})》")


def extract_references(
    key_points: Sequence[ParsedKeyPoint], tasks: Sequence[ParsedTask], *, exclude: str | None = None
) -> tuple[ParsedReference, ...]:
    """Every 《title》 in the key points and tasks, with where it is cited, in order of first citation."""
    found: dict[str, tuple[list[int], list[int]]] = {}
    for kp in key_points:
        for title in _CITED.findall(kp.full_text):
            if title != exclude and kp.number not in found.setdefault(title, ([], []))[0]:
                found[title][0].append(kp.number)
    for task in tasks:
        for title in _CITED.findall(task.body):
            if title != exclude and task.number not in found.setdefault(title, ([], []))[1]:
                found[title][1].append(task.number)
    return tuple(ParsedReference(t, tuple(k), tuple(ts)) for t, (k, ts) in found.items())
