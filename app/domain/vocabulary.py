"""One definition of each closed vocabulary of the ledger.

StrEnums, so that values compare equal to the strings stored in the database and the
index, and FastAPI/Pydantic publish them as enums in the OpenAPI document.
"""

from __future__ import annotations

from enum import StrEnum


class RecordKind(StrEnum):
    """What a searchable record is."""

    TASK = "task"
    KEY_POINT = "key_point"
    ACTIVITY = "activity"
    REPORT = "report"


# The records of the notice itself; the default search list ranks these.
LEDGER_KINDS: tuple[RecordKind, ...] = (RecordKind.TASK, RecordKind.KEY_POINT)


class ActivityKind(StrEnum):
    """The kinds of named activity the parser recognises."""

    CAMPAIGN = "campaign"
    PROGRAMME = "programme"
    COMPETITION = "competition"
    CONFERENCE = "conference"
    OBSERVANCE = "observance"


class Role(StrEnum):
    """A member unit's role on a task."""

    LEAD = "lead"
    PARTICIPANT = "participant"


class TermUsage(StrEnum):
    """What became of a typed search word."""

    SEARCH = "search"
    QUESTION = "question"
    FILLER = "filler"
    INTENT = "intent"
    YEAR = "year"


class TaskStatus(StrEnum):
    """Where a ledger task stands, as its units report it."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"


class TokenScope(StrEnum):
    """Who a write token speaks for: one member unit, or the office (纲要办) for every unit."""

    UNIT = "unit"
    OFFICE = "office"


class AuditAction(StrEnum):
    """What an audit entry records."""

    REPORT_CREATED = "report.created"
    REPORT_CORRECTED = "report.corrected"
    REPORT_DENIED = "report.denied"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"


class TaskChange(StrEnum):
    """How a task differs from its counterpart in another edition."""

    SAME = "same"
    REWORDED = "reworded"
    UNITS_CHANGED = "units_changed"
    REWORDED_AND_UNITS_CHANGED = "reworded_and_units_changed"
