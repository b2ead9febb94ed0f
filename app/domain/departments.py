"""Member units: canonical short names, official names and aliases, from shipped data."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from app.domain.text import normalise

# Shapes of a unit's name: used to tell a department list "(教育部、科技部)" from a
# parenthesis that is only text, "(科普类)", when a unit is not in the shipped data.
_UNIT_ENDING = re.compile(r"(部|委|局|院|会|署|办|联|中央|协|总局|行|台|社|馆|厅|室|委员会|集团|公司|中心|学院|大学)$")


@dataclass(frozen=True)
class DepartmentInfo:
    """One member unit as the shipped data describes it."""

    name: str
    full_name: str
    aliases: tuple[str, ...]


class DepartmentDirectory:
    """Resolves any spelling of a unit to its canonical short name."""

    def __init__(self, departments: list[DepartmentInfo]) -> None:
        self.departments = {d.name: d for d in departments}
        self._by_spelling: dict[str, str] = {}
        for dept in departments:
            for spelling in (dept.name, dept.full_name, *dept.aliases):
                self._by_spelling.setdefault(_key(spelling), dept.name)

    def resolve(self, spelling: str) -> str | None:
        """Canonical short name for a spelling, or None when unknown."""
        return self._by_spelling.get(_key(spelling))

    def info(self, name: str) -> DepartmentInfo:
        """Shipped data for a canonical name; a unit not in the data gets itself as full name."""
        return self.departments.get(name) or DepartmentInfo(name, name, ())

    def spellings(self, name: str) -> tuple[str, ...]:
        """Every spelling that resolves to `name`, canonical first."""
        info = self.info(name)
        return tuple(dict.fromkeys((info.name, info.full_name, *info.aliases)))

    def all_spellings(self) -> list[str]:
        """Every known spelling of every unit."""
        return list(self._by_spelling)

    def close_matches(self, spelling: str, limit: int = 5) -> list[str]:
        """Canonical names of units spelt like `spelling`."""
        spelt = difflib.get_close_matches(_key(spelling), self._by_spelling, n=limit * 3, cutoff=0.5)
        return list(dict.fromkeys(self._by_spelling[s] for s in spelt))[:limit]

    def looks_like_unit(self, text: str) -> bool:
        """True for a known unit or a name shaped like one."""
        text = text.strip()
        return bool(text) and (self.resolve(text) is not None or (len(text) <= 20 and bool(_UNIT_ENDING.search(text))))


def _key(spelling: str) -> str:
    return "".join(normalise(spelling).split())


@cache
def load_directory() -> DepartmentDirectory:
    """The shipped department data, read once."""
    raw = resources.files("app.data").joinpath("departments.toml").read_text("utf-8")
    return DepartmentDirectory(
        [
            DepartmentInfo(d["name"], d["full_name"], tuple(d.get("aliases", ())))
            for d in tomllib.loads(raw)["department"]
        ]
    )
