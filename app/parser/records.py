"""Plain, immutable records the parser produces and the import service stores."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.domain.vocabulary import ActivityKind, Role


@dataclass(frozen=True)
class ParsedDepartmentRole:
    """A unit named on a task (or key point) with its role."""

    name: str
    role: Role


@dataclass(frozen=True)
class ParsedSection:
    """A heading 一、… (level 1) or （一）… (level 2, `parent` is the index of its level-1 section),
    with the unnumbered lead paragraphs between it and its first key point (2018-style editions)."""

    ordinal: int
    label: str
    title: str
    level: int = 1
    parent: int | None = None
    lead: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedKeyPoint:
    """A numbered key point: first sentence as title, the rest as body, then its sub-paragraphs."""

    number: int
    section: int  # index into ParsedNotice.sections
    title: str
    body: str
    sub_paragraphs: tuple[str, ...]
    line: int
    departments: tuple[ParsedDepartmentRole, ...] = ()
    all_member_units: bool = False
    target_groups: tuple[str, ...] = ()

    @property
    def full_text(self) -> str:
        """Title, body and sub-paragraphs as one text."""
        return "\n".join([self.title + "。" + self.body, *self.sub_paragraphs])


@dataclass(frozen=True)
class ParsedTask:
    """A numbered ledger task; `text` is the line as printed, `body` without the unit list."""

    number: int
    text: str
    body: str
    departments: tuple[ParsedDepartmentRole, ...]
    all_member_units: bool
    line: int
    target_groups: tuple[str, ...] = ()
    key_points: tuple[tuple[int, float], ...] = ()  # (key point number, score), best first


@dataclass(frozen=True)
class ParsedActivity:
    """A named event, campaign, programme, competition or observance, and where it is named."""

    name: str
    kind: ActivityKind
    series: str
    key_points: tuple[int, ...]
    tasks: tuple[int, ...]


@dataclass(frozen=True)
class ParsedReference:
    """A document cited as 《…》 and where it is cited."""

    title: str
    key_points: tuple[int, ...]
    tasks: tuple[int, ...]


LINE_KINDS = (
    "title",
    "published_at",
    "source",
    "site",
    "issue_date",
    "issuer",
    "issuer_note",
    "addressees",
    "contact",
    "cover_letter",
    "intro",
    "section",
    "section_lead",
    "key_point",
    "sub_paragraph",
    "ledger_title",
    "task",
    "footer",
    "wrapper",
)
"""Where a line can go: a header field, letter or intro text, a part of the body or ledger,
the page footer (来源:…, its value kept as the source when no 出处 is given), a news site's page
furniture (`site`: summary, 浏览次数; not stored) or a wrapper (an attachment heading, not stored)."""


@dataclass(frozen=True)
class LineAccount:
    """Where one non-blank input line went: `kind` is one of LINE_KINDS."""

    line: int
    kind: str


@dataclass(frozen=True)
class ParsedNotice:
    """Everything read from one notice."""

    title: str
    year: int
    content_hash: str
    issuer: str | None = None
    province: str | None = None  # provincial editions: 2023年某省… → 某省
    source: str | None = None  # where a copy was published: 出处 (or the footer's 来源)
    issuer_note: str | None = None
    issue_date: dt.date | None = None
    published_at: dt.datetime | None = None
    addressees: str | None = None
    contact: str | None = None
    cover_letter: tuple[str, ...] = ()
    intro: tuple[str, ...] = ()
    ledger_title: str | None = None
    sections: tuple[ParsedSection, ...] = ()
    key_points: tuple[ParsedKeyPoint, ...] = ()
    tasks: tuple[ParsedTask, ...] = ()
    activities: tuple[ParsedActivity, ...] = ()
    references: tuple[ParsedReference, ...] = ()
    departments: tuple[str, ...] = field(default=())  # canonical names, first appearance order
    lines: tuple[LineAccount, ...] = ()  # every non-blank input line, in order
