"""The unit list at the very end of a ledger item: "(中国科协牵头,各成员单位参与)"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.domain.departments import DepartmentDirectory
from app.domain.vocabulary import Role
from app.parser.records import ParsedDepartmentRole

# Only a parenthesis that closes the item counts; ones inside a sentence are text.
_TRAILING_PARENS = re.compile(r"\(([^()]*)\)\s*[。.;]?\s*$")
_SEPARATORS = re.compile(r"[、,;/]")
_ALL_MEMBERS = re.compile(r"^(各|其他|其余|有关|各有关)?(成员单位|相关成员单位)(参与|配合)?$")


@dataclass(frozen=True)
class UnitList:
    """What a trailing unit list says, and the item's text without it."""

    body: str
    departments: tuple[ParsedDepartmentRole, ...]
    all_member_units: bool


def split_unit_list(raw: str, norm: str, directory: DepartmentDirectory) -> UnitList | None:
    """Split "text(unit、unit)" into text and roles; None when the end is no unit list.

    `norm` is `raw` normalised character for character, so offsets agree.
    """
    match = _TRAILING_PARENS.search(norm)
    if match is None:
        return None
    leads: list[str] = []
    named: list[str] = []
    all_members = False
    for item in (part.strip() for part in _SEPARATORS.split(match.group(1))):
        if not item:
            continue
        if _ALL_MEMBERS.match(item):
            all_members = True
            continue
        is_lead = item.endswith("牵头")
        name = re.sub(r"(牵头|参与|配合)$", "", item).strip()
        if not directory.looks_like_unit(name):
            return None
        canonical = directory.resolve(name) or name
        if canonical in named:
            continue
        named.append(canonical)
        if is_lead:
            leads.append(canonical)
    if not named and not all_members:
        return None
    if not leads and named:
        leads = [named[0]]  # by convention the first unit listed leads
    roles = tuple(ParsedDepartmentRole(name, Role.LEAD if name in leads else Role.PARTICIPANT) for name in named)
    return UnitList(raw[: match.start()].rstrip(), roles, all_members)
