"""Tags key points and tasks with the outline's target groups (重点人群)."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import TypeVar

from app.parser.records import ParsedKeyPoint, ParsedTask

Item = TypeVar("Item", ParsedKeyPoint, ParsedTask)


@cache
def target_group_words() -> dict[str, tuple[str, ...]]:
    """Group name → the words that show a text is about it (shipped data)."""
    raw = resources.files("app.data").joinpath("target_groups.toml").read_text("utf-8")
    return {g["name"]: tuple(g["words"]) for g in tomllib.loads(raw)["group"]}


def groups_in(text: str) -> tuple[str, ...]:
    """The target groups a text is about, in the outline's order."""
    return tuple(name for name, words in target_group_words().items() if any(w in text for w in words))


def tag_target_groups(items: Sequence[Item]) -> list[Item]:
    """Copies of the items with `target_groups` filled in from their text."""
    return [
        replace(item, target_groups=groups_in(item.full_text if isinstance(item, ParsedKeyPoint) else item.body))
        for item in items
    ]
