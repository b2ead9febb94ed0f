"""SQLModel tables. The store is the source of truth; the search index derives from it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def row_id(row: SQLModel) -> int:
    """The id of a flushed row (SQLModel types it optional until the database assigns it)."""
    value = getattr(row, "id", None)
    if not isinstance(value, int):
        raise RuntimeError(f"{type(row).__name__} has no id yet: flush before asking")
    return value


class Document(SQLModel, table=True):
    """One imported notice."""

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(index=True)
    year: int = Field(index=True)
    issuer: str | None = None
    issuer_note: str | None = None
    issue_date: dt.date | None = None
    published_at: dt.datetime | None = None
    addressees: str | None = None
    contact: str | None = None
    cover_letter: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    intro: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    ledger_title: str | None = None
    content_hash: str = Field(unique=True, max_length=64)
    source_name: str | None = None
    imported_at: dt.datetime = Field(default_factory=_utcnow)


class Section(SQLModel, table=True):
    """A heading 一、… (level 1) or （一）… (level 2, with its parent)."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", ondelete="CASCADE", index=True)
    ordinal: int
    label: str
    title: str = Field(sa_column=Column(Text, nullable=False))
    level: int = 1
    parent_id: int | None = Field(default=None, foreign_key="section.id", ondelete="CASCADE")


class KeyPoint(SQLModel, table=True):
    """A numbered key point: its first sentence is the title."""

    __table_args__ = (UniqueConstraint("document_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", ondelete="CASCADE", index=True)
    section_id: int = Field(foreign_key="section.id", ondelete="CASCADE", index=True)
    number: int
    title: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    all_member_units: bool = False


class SubParagraph(SQLModel, table=True):
    """An unnumbered paragraph that belongs to the key point before it."""

    id: int | None = Field(default=None, primary_key=True)
    key_point_id: int = Field(foreign_key="keypoint.id", ondelete="CASCADE", index=True)
    position: int
    text: str = Field(sa_column=Column(Text, nullable=False))


class Task(SQLModel, table=True):
    """A numbered ledger task; `text` as printed, `body` without its unit list."""

    __table_args__ = (UniqueConstraint("document_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", ondelete="CASCADE", index=True)
    number: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    all_member_units: bool = False


class Department(SQLModel, table=True):
    """A member unit under its canonical short name."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    full_name: str


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


class Activity(SQLModel, table=True):
    """A named event, campaign, programme, competition or observance."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    kind: str = Field(index=True)
    series: str = Field(index=True)


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
