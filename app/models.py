"""SQLModel tables. The store is the source of truth; the search index derives from it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, Dialect, Text, UniqueConstraint, event
from sqlalchemy.types import TypeDecorator
from sqlmodel import AutoString, Field, SQLModel

from app.domain.vocabulary import ActivityKind


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def row_id(row: SQLModel) -> int:
    """The id of a flushed row (SQLModel types it optional until the database assigns it)."""
    value = getattr(row, "id", None)
    if not isinstance(value, int):
        raise RuntimeError(f"{type(row).__name__} has no id yet: flush before asking")
    return value


class Paragraphs(TypeDecorator[list[str]]):
    """Paragraphs stored as one TEXT, a line each: the column stays plain text, the model sees a list.

    Alembic's autogenerate writes it as app.models.Paragraphs(); a migration should say sa.Text() instead,
    so that it never imports the models it migrates.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> str:
        return "\n".join(value or ())

    def process_result_value(self, value: str | None, dialect: Dialect) -> list[str]:
        return [p for p in (value or "").split("\n") if p]


# --- model families: a `...Base` holds the fields the table and the public schemas share
# (app.schemas extends them); the table adds its keys, links and timestamps.


class DocumentBase(SQLModel):
    """A notice's metadata, as stored and as published."""

    title: str = Field(index=True, schema_extra={"examples": ["2023年全民科学素质行动工作要点"]})
    year: int = Field(index=True)
    issuer: str | None
    province: str | None = Field(default=None, index=True, description="Provincial editions: the province (某省).")
    source: str | None = Field(default=None, description="Where this copy was published (出处, or the footer's 来源).")
    issuer_note: str | None
    issue_date: dt.date | None
    published_at: dt.datetime | None
    addressees: str | None
    contact: str | None
    cover_letter: list[str] = Field(sa_type=Paragraphs)
    intro: list[str] = Field(sa_type=Paragraphs)
    ledger_title: str | None
    # The length is the column's (a SHA-256 in hex), not a rule the API states.
    content_hash: str = Field(unique=True, sa_type=AutoString(length=64))
    source_name: str | None


class Document(DocumentBase, table=True):
    """One imported notice."""

    id: int | None = Field(default=None, primary_key=True)
    imported_at: dt.datetime = Field(default_factory=_utcnow)


class SectionBase(SQLModel):
    """A heading 一、… (level 1) or （一）… (level 2, with its parent) and its lead paragraphs."""

    label: str = Field(schema_extra={"examples": ["三"]})
    title: str = Field(sa_type=Text)
    level: int = 1
    parent_id: int | None = Field(default=None, foreign_key="section.id", ondelete="CASCADE")
    lead: list[str] = Field(
        default_factory=list,
        sa_type=Paragraphs,
        description="Lead paragraphs between the heading and its key points.",
    )


class Section(SectionBase, table=True):
    """A heading 一、… (level 1) or （一）… (level 2, with its parent)."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", ondelete="CASCADE", index=True)
    ordinal: int


class KeyPointBase(SQLModel):
    """A numbered key point: its first sentence is the title."""

    number: int
    title: str = Field(sa_type=Text)
    body: str = Field(sa_type=Text)


class KeyPoint(KeyPointBase, table=True):
    """A numbered key point: its first sentence is the title."""

    __table_args__ = (UniqueConstraint("document_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", ondelete="CASCADE", index=True)
    section_id: int = Field(foreign_key="section.id", ondelete="CASCADE", index=True)
    all_member_units: bool = False


class SubParagraph(SQLModel, table=True):
    """An unnumbered paragraph that belongs to the key point before it."""

    id: int | None = Field(default=None, primary_key=True)
    key_point_id: int = Field(foreign_key="keypoint.id", ondelete="CASCADE", index=True)
    position: int
    text: str = Field(sa_column=Column(Text, nullable=False))


class TaskBase(SQLModel):
    """A numbered ledger task; `text` as printed, `body` without its unit list."""

    number: int
    text: str = Field(sa_type=Text, description="The item as printed, unit list included.")
    body: str = Field(sa_type=Text, description="The item without its unit list.")


class Task(TaskBase, table=True):
    """A numbered ledger task; `text` as printed, `body` without its unit list."""

    __table_args__ = (UniqueConstraint("document_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", ondelete="CASCADE", index=True)
    all_member_units: bool = False


class DepartmentBase(SQLModel):
    """A member unit under its canonical short name, with its full name."""

    name: str = Field(unique=True, schema_extra={"examples": ["中国科协"]})
    full_name: str = Field(schema_extra={"examples": ["中国科学技术协会"]})


class Department(DepartmentBase, table=True):
    """A member unit under its canonical short name."""

    id: int | None = Field(default=None, primary_key=True)


class TaskDepartment(SQLModel, table=True):
    """A unit's role on a task: lead (牵头) or participant (参与)."""

    task_id: int = Field(foreign_key="task.id", ondelete="CASCADE", primary_key=True)
    department_id: int = Field(foreign_key="department.id", ondelete="CASCADE", primary_key=True, index=True)
    role: str = Field(index=True)
    position: int


class KeyPointDepartment(SQLModel, table=True):
    """A unit's role on a key point (editions without a separate ledger)."""

    key_point_id: int = Field(foreign_key="keypoint.id", ondelete="CASCADE", primary_key=True)
    department_id: int = Field(foreign_key="department.id", ondelete="CASCADE", primary_key=True, index=True)
    role: str
    position: int


class ActivityBase(SQLModel):
    """A named event, campaign, programme, competition or observance."""

    name: str = Field(unique=True)
    # Stored as plain text: a new kind needs no migration.
    kind: ActivityKind = Field(index=True, sa_type=AutoString)
    series: str = Field(index=True, description="The name without its edition (第N届, year).")


class Activity(ActivityBase, table=True):
    """A named event, campaign, programme, competition or observance."""

    id: int | None = Field(default=None, primary_key=True)


class TaskActivity(SQLModel, table=True):
    """A task that names an activity."""

    task_id: int = Field(foreign_key="task.id", ondelete="CASCADE", primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", ondelete="CASCADE", primary_key=True, index=True)


class KeyPointActivity(SQLModel, table=True):
    """A key point that names an activity."""

    key_point_id: int = Field(foreign_key="keypoint.id", ondelete="CASCADE", primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", ondelete="CASCADE", primary_key=True, index=True)


class Reference(SQLModel, table=True):
    """A document cited as 《…》."""

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(unique=True)


class TaskReference(SQLModel, table=True):
    """A task that cites a document."""

    task_id: int = Field(foreign_key="task.id", ondelete="CASCADE", primary_key=True)
    reference_id: int = Field(foreign_key="reference.id", ondelete="CASCADE", primary_key=True)


class KeyPointReference(SQLModel, table=True):
    """A key point that cites a document."""

    key_point_id: int = Field(foreign_key="keypoint.id", ondelete="CASCADE", primary_key=True)
    reference_id: int = Field(foreign_key="reference.id", ondelete="CASCADE", primary_key=True)


class TaskTargetGroup(SQLModel, table=True):
    """A target group (重点人群) a task is about."""

    task_id: int = Field(foreign_key="task.id", ondelete="CASCADE", primary_key=True)
    name: str = Field(primary_key=True, index=True)


class KeyPointTargetGroup(SQLModel, table=True):
    """A target group (重点人群) a key point is about."""

    key_point_id: int = Field(foreign_key="keypoint.id", ondelete="CASCADE", primary_key=True)
    name: str = Field(primary_key=True, index=True)


class TraceLink(SQLModel, table=True):
    """A task traced to a key point it implements, with a score (rank 1 is the best)."""

    task_id: int = Field(foreign_key="task.id", ondelete="CASCADE", primary_key=True)
    key_point_id: int = Field(foreign_key="keypoint.id", ondelete="CASCADE", primary_key=True, index=True)
    score: float
    rank: int


class TaskLineage(SQLModel, table=True):
    """A task's counterpart in the previous edition of the same issuer, with the match score (0–1)."""

    task_id: int = Field(foreign_key="task.id", ondelete="CASCADE", primary_key=True)
    previous_id: int = Field(foreign_key="task.id", ondelete="CASCADE", index=True)
    score: float


class StoreState(SQLModel, table=True):
    """One row: a generation counter bumped by every write, so each replica's index can tell it is stale."""

    id: int = Field(default=1, primary_key=True)
    generation: int = 0
    updated_at: dt.datetime = Field(default_factory=_utcnow)
    # The change log holds no entry at or below this sequence number any more: a replica
    # whose index is older than that rebuilds in full instead of catching up.
    trimmed_through: int = 0


class ChangeLog(SQLModel, table=True):
    """Which records a write changed, written in the writer's transaction; replicas replay it in `seq` order.

    An entry names a whole document (re-read every record of it) or one record by its
    index id ("task:12"); either way a replica re-reads what the store holds now.
    """

    # AUTOINCREMENT on SQLite: sequence numbers are never reused, even after a trim.
    __table_args__ = {"sqlite_autoincrement": True}

    seq: int | None = Field(default=None, primary_key=True)
    document_id: int | None = None
    record: str | None = Field(default=None, max_length=64)
    changed_at: dt.datetime = Field(default_factory=_utcnow)


# --- tracking: progress reports, unit tokens, the audit trail -------------------


class UnitToken(SQLModel, table=True):
    """A write token for one member unit (or the office); only its SHA-256 is stored."""

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(index=True)
    department: str | None = Field(default=None, index=True, description="The unit; null for the office.")
    token_hash: str = Field(unique=True, max_length=64)
    prefix: str = Field(max_length=16, description="The token's first characters, to tell tokens apart in lists.")
    created_at: dt.datetime = Field(default_factory=_utcnow)
    revoked_at: dt.datetime | None = None


class ProgressReport(SQLModel, table=True):
    """A unit's report on a task. Rows are never changed: a correction is a new row naming the one it corrects."""

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", ondelete="CASCADE", index=True)
    department: str = Field(index=True, description="The unit the report speaks for.")
    status: str = Field(index=True)
    note: str = Field(sa_column=Column(Text, nullable=False))
    reported_on: dt.date
    corrects_id: int | None = Field(default=None, foreign_key="progressreport.id", unique=True)
    author: str = Field(description="Who wrote it: the unit, or 'office' for the office's token.")
    token_id: int | None = Field(default=None, foreign_key="unittoken.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=_utcnow)


class AuditEntry(SQLModel, table=True):
    """One write or refused write, appended and never changed: who, when, what (before/after), from where."""

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=_utcnow, index=True)
    actor: str = Field(index=True, description="The unit, 'office', or 'cli' for the command line.")
    action: str = Field(index=True)
    target: str = Field(description="What was written: task:9, report:3, token:2.")
    before: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    after: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    address: str | None = None
    request_id: str | None = None


def _refuse_change(_mapper: Any, _connection: Any, target: SQLModel) -> None:
    raise RuntimeError(f"{type(target).__name__} rows are append-only: add a new row instead")


# Reports and audit entries are history: the ORM refuses to update or delete them.
for _model in (ProgressReport, AuditEntry):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
