"""Public response models and the list envelope."""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.config import JsonDict
from sqlmodel import SQLModel

from app.domain.vocabulary import (
    ActivityKind,
    AuditAction,
    RecordKind,
    Role,
    TaskChange,
    TaskStatus,
    TermUsage,
    TokenScope,
)
from app.models import ActivityBase, DepartmentBase, DocumentBase, KeyPointBase, SectionBase, TaskBase

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a list: items with the total and the window asked for."""

    items: list[T]
    total: int = Field(description="Items matching the filters, over all pages.")
    limit: int
    offset: int


# A public schema extends its table's base (app.models). Pydantic orders fields by the
# reversed MRO, so the mixins holding `id` (and the parent records) are listed last to come first.


class Identified(SQLModel):
    """A stored record's id."""

    id: int


class DocumentRef(BaseModel):
    """Which notice a record belongs to."""

    id: int
    year: int
    title: str
    province: str | None = Field(default=None, description="Provincial editions: the province.")
    issuer: str | None = Field(default=None, description="The office that issued it.")


class SectionRef(SectionBase, Identified):
    """A section heading."""


# DepartmentBase's two fields again, on a plain model: a table model's base sends every
# nested instance through SQLModel's own init, five times the cost of a page of hits.
class DepartmentRole(BaseModel):
    """A member unit named on a task, with its role."""

    name: str = Field(examples=["中国科协"])
    full_name: str = Field(examples=["中国科学技术协会"])
    role: Role


class KeyPointLink(BaseModel):
    """A key point a task implements (trace link), best first."""

    id: int
    number: int
    title: str
    score: float = Field(description="Share of the task's wording found in the key point, 0–1.")


class TaskLink(BaseModel):
    """A task traced to a key point."""

    id: int
    number: int
    score: float


class NumberedRef(BaseModel):
    """A key point or task by id and number."""

    id: int
    number: int
    document_id: int


class ActivityRef(BaseModel):
    """A named activity."""

    id: int
    name: str = Field(examples=["全国科普日"])
    kind: ActivityKind = Field(examples=["observance"])


class LineageStep(BaseModel):
    """One edition of a task: the task there, and how well it matches the step before (null for the first)."""

    id: int
    number: int
    document: DocumentRef
    score: float | None = Field(description="Match with the previous step, 0–1 (wording and units).")


class InDocument(Identified):
    """A record of a notice: its id, then the notice."""

    document: DocumentRef


class InSection(InDocument):
    """A record under a section heading."""

    section: SectionRef


class TaskPublic(TaskBase, InDocument):
    """A ledger task with its units, trace links, activities, references and target groups."""

    model_config = {
        "json_schema_extra": {
            "example": {
                "id": 55,
                "document": {"id": 1, "year": 2023, "title": "2023年全民科学素质行动工作要点"},
                "number": 55,
                "text": "开展《纲要》实施情况中期评估。(中国科协牵头,各成员单位参与)",
                "body": "开展《纲要》实施情况中期评估。",
                "departments": [{"name": "中国科协", "full_name": "中国科学技术协会", "role": "lead"}],
                "all_member_units": True,
                "key_points": [{"id": 11, "number": 11, "title": "开展科学素质情况监测评估", "score": 1.0}],
                "activities": [],
                "references": ["纲要"],
                "target_groups": [],
            }
        }
    }

    departments: list[DepartmentRole]
    all_member_units: bool = Field(description="True where every member unit takes part (各成员单位参与).")
    key_points: list[KeyPointLink]
    activities: list[ActivityRef]
    references: list[str]
    target_groups: list[str]
    status: TaskStatus = Field(
        default=TaskStatus.NOT_STARTED,
        description="The status of the latest report by a lead unit (not_started before any).",
    )
    last_reported_on: dt.date | None = Field(default=None, description="Date of the latest report by any unit.")
    last_note: str | None = Field(default=None, description="Note of the latest report by any unit.")

    lineage: list[LineageStep] = Field(
        default_factory=list,
        description="The task across the editions of its issuer, oldest first, this one included; "
        "empty when no other edition holds it.",
    )


class KeyPointPublic(KeyPointBase, InSection):
    """A key point with its sub-paragraphs, activities and the tasks traced to it."""

    model_config = {
        "json_schema_extra": {
            "example": {
                "id": 5,
                "document": {"id": 1, "year": 2023, "title": "2023年全民科学素质行动工作要点"},
                "section": {
                    "id": 3,
                    "label": "三",
                    "title": "深化科学素质建设供给侧改革,构建高质量科普服务体系",
                    "level": 1,
                    "parent_id": None,
                },
                "number": 5,
                "title": "加强科普基础设施建设",
                "body": "完善科普基础设施建设管理的规范和标准,创新发展现代科技馆体系……",
                "sub_paragraphs": [],
                "departments": [],
                "all_member_units": False,
                "activities": [],
                "references": [],
                "target_groups": [],
                "tasks": [{"id": 24, "number": 24, "score": 0.794}, {"id": 65, "number": 65, "score": 0.333}],
            }
        }
    }

    sub_paragraphs: list[str]
    departments: list[DepartmentRole]
    all_member_units: bool
    activities: list[ActivityRef]
    references: list[str]
    target_groups: list[str]
    tasks: list[TaskLink]


class DocumentCounts(BaseModel):
    """How much a document holds."""

    sections: int
    key_points: int
    tasks: int
    departments: int
    activities: int


class DocumentPublic(DocumentBase, Identified):
    """An imported notice and its metadata."""

    model_config = {
        "json_schema_extra": {
            "example": {
                "id": 1,
                "title": "2023年全民科学素质行动工作要点",
                "year": 2023,
                "issuer": "全民科学素质纲要实施工作办公室",
                "issuer_note": "中国科协办公厅代章",
                "issue_date": "2023-03-22",
                "published_at": "2023-03-24T05:58:00Z",
                "addressees": "全民科学素质纲要实施工作办公室各成员单位",
                "contact": "马宇罡 包 晗 010-68583659",
                "cover_letter": ["现将《2023年全民科学素质行动工作要点》印发你单位……"],
                "intro": ["2023年全民科学素质工作要坚持……"],
                "ledger_title": "2023年全民科学素质行动重点工作任务台账",
                "content_hash": "64b06efb…",
                "source_name": "2023-work-points.txt",
                "imported_at": "2026-11-30T16:00:00Z",
                "counts": {"sections": 4, "key_points": 12, "tasks": 67, "departments": 34, "activities": 77},
                "sections": [
                    {
                        "id": 1,
                        "label": "一",
                        "title": "深入学习贯彻习近平新时代中国特色社会主义思想和党的二十大精神……",
                        "level": 1,
                        "parent_id": None,
                    }
                ],
            }
        }
    }

    imported_at: dt.datetime
    counts: DocumentCounts
    sections: list[SectionRef]


class DepartmentPublic(DepartmentBase):
    """A member unit with how many tasks it leads and takes part in."""

    model_config = {
        "json_schema_extra": {
            "example": {
                "name": "中国科协",
                "full_name": "中国科学技术协会",
                "aliases": ["科协"],
                "lead_count": 16,
                "participant_count": 15,
                "task_count": 31,
            }
        }
    }

    aliases: list[str]
    lead_count: int
    participant_count: int
    task_count: int


class ActivityPublic(ActivityBase, Identified):
    """A named activity with the key points and tasks that name it."""

    model_config = {
        "json_schema_extra": {
            "example": {
                "id": 30,
                "name": "全国科普日",
                "kind": "observance",
                "series": "全国科普日",
                "key_points": [{"id": 9, "number": 9, "document_id": 1}],
                "tasks": [{"id": 64, "number": 64, "document_id": 1}],
            }
        }
    }

    key_points: list[NumberedRef]
    tasks: list[NumberedRef]


class Health(BaseModel):
    """Liveness or readiness."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"status": "ready", "detail": {"store": "reachable", "documents": 1, "tasks": 67}}
        }
    )

    status: str
    detail: dict[str, object] = Field(default_factory=dict)


class SearchItem(BaseModel):
    """One search hit."""

    kind: RecordKind
    id: int
    number: int | None = Field(description="Task or key point number; null for activities.")
    title: str
    snippet: str = Field(description="HTML: matches wrapped in <em>, everything else escaped.")
    score: float
    departments: list[DepartmentRole]
    document: DocumentRef
    partial: bool = Field(
        default=False, description="True for a relaxed match: the record lacks some words (query.dropped)."
    )
    task: TaskRef | None = Field(default=None, description="For a progress report (kind=report): its task.")


class TermReport(BaseModel):
    """How one query term was segmented and expanded."""

    term: str
    words: list[str] = Field(description="jieba words (precise mode, domain dictionary).")
    grams: list[str] = Field(description="CJK bigrams: the sub-word path (科普日 inside 全国科普日).")
    department: str | None = Field(description="The unit this term names, if any (科协 → 中国科协).")
    synonyms: list[str]
    phrase: bool
    excluded: bool
    usage: TermUsage = Field(
        default=TermUsage.SEARCH,
        description="search: matched; question: a question or function word (如何, 哪些, 的), not matched; "
        "filler: a generic word (任务, 工作) dropped beside others; intent: part of a unit-and-role filter; "
        "year: selected that year's edition.",
    )
    pinyin: str | None = Field(default=None, description="The pinyin typed, when this term was found from it.")


class IntentReport(BaseModel):
    """A unit-and-role filter read from the query (教育部牵头 → 教育部 as lead)."""

    department: str
    role: Role
    words: list[str]


class QueryReport(BaseModel):
    """The query as understood."""

    text: str
    tokens: list[TermReport]
    intent: IntentReport | None = None
    year: int | None = Field(default=None, description="The edition year the query selected (2023年 …).")
    relaxed: bool = Field(
        default=False,
        description=(
            "True when fewer records than a page hold every word: records holding most of them follow"
            " the full matches (items[].partial), so a page is never empty or short when something is close."
        ),
    )
    full_matches: int | None = Field(
        default=None,
        description="How many of `total` hold every word (the rest are relaxed matches); null for a filter-only query.",
    )
    dropped: list[str] = Field(default_factory=list, description="The words the relaxed matches do without.")
    notes: list[str] = Field(default_factory=list, description="What was ignored and why, in Chinese.")


class TaskRef(BaseModel):
    """A task by id (for its page) and number (as the ledger shows it)."""

    id: int
    number: int


class ActivityChip(BaseModel):
    """A named activity matching the query, with the ledger tasks that name it."""

    id: int
    name: str
    kind: ActivityKind
    tasks: list[TaskRef] = Field(description="The tasks naming it, in its first edition.")


class SearchResponse(BaseModel):
    """A page of hits with facet counts over all hits."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "items": [
                    {
                        "kind": "task",
                        "id": 64,
                        "number": 64,
                        "title": "开展全国科普日和“典赞·科普中国”活动,举办中国科幻大会",
                        "snippet": "开展全国科普日和“典赞·科普中国”活动,举办中国<em>科幻</em>大会。",
                        "score": 7.1,
                        "departments": [{"name": "中国科协", "full_name": "中国科学技术协会", "role": "lead"}],
                        "document": {"id": 1, "year": 2023, "title": "2023年全民科学素质行动工作要点"},
                    }
                ],
                "total": 3,
                "limit": 20,
                "offset": 0,
                "facets": {
                    "kind": {"task": 2, "key_point": 1},
                    "department": {"中国科协": 2, "中央宣传部": 1},
                    "section": {"三": 1},
                },
                "query": {
                    "text": "科幻",
                    "tokens": [
                        {
                            "term": "科幻",
                            "words": ["科幻"],
                            "grams": ["科幻"],
                            "department": None,
                            "synonyms": ["科学幻想"],
                            "phrase": False,
                            "excluded": False,
                        }
                    ],
                },
            }
        }
    )

    items: list[SearchItem]
    total: int
    limit: int
    offset: int
    facets: dict[str, dict[str, int]]
    query: QueryReport
    activities: list[ActivityChip] = Field(
        default_factory=list,
        description="Without a kind filter the list ranks tasks and key points; matching activities come here.",
    )


# --- tracking ------------------------------------------------------------------

MAX_NOTE_CHARS = 2000


class ReportCreate(BaseModel):
    """A progress report on a task; with `corrects`, an office correction of an earlier report."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {"status": "in_progress", "note": "已印发实施方案,完成首批培训。", "reported_on": "2023-06-30"}
        },
    )

    status: TaskStatus
    note: str = Field(min_length=1, max_length=MAX_NOTE_CHARS, description="What was done, 1–2,000 characters.")
    reported_on: dt.date = Field(description="The day the report is about; not in the future (China time).")
    corrects: int | None = Field(
        default=None, ge=1, description="Office only: the report this one corrects (needs If-Match)."
    )
    department: str | None = Field(
        default=None, max_length=50, description="Office only: the unit the report speaks for (default: the lead)."
    )

    @field_validator("note")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("note must not be blank")
        return value

    @field_validator("reported_on")
    @classmethod
    def _not_in_future(cls, value: dt.date) -> dt.date:
        today = dt.datetime.now(CHINA).date()
        if value > today:
            raise ValueError(f"reported_on {value} is in the future (today is {today} in China)")
        return value


CHINA = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


REPORT_EXAMPLE: JsonDict = {
    "id": 1,
    "task": {"id": 9, "number": 9},
    "department": "教育部",
    "status": "in_progress",
    "note": "已印发实施方案,完成首批教师培训。",
    "reported_on": "2023-06-30",
    "author": "教育部",
    "corrects": None,
    "corrected_by": None,
    "created_at": "2023-06-30T08:00:00Z",
}


class ReportPublic(BaseModel):
    """A stored progress report; a corrected one names its correction."""

    model_config = ConfigDict(json_schema_extra={"example": REPORT_EXAMPLE})

    id: int
    task: TaskRef
    department: str = Field(description="The unit the report speaks for.")
    status: TaskStatus
    note: str
    reported_on: dt.date
    author: str = Field(description="Who wrote it: the unit, or office.")
    corrects: int | None = None
    corrected_by: int | None = Field(default=None, description="The newer version, when this one was corrected.")
    created_at: dt.datetime


class ReportWritten(ReportPublic):
    """The report just written, with the task's new status and version (its ETag)."""

    model_config = ConfigDict(
        json_schema_extra={"example": {**REPORT_EXAMPLE, "task_status": "in_progress", "etag": '"task-9-1"'}}
    )

    task_status: TaskStatus
    etag: str


class TokenPublic(BaseModel):
    """A write token as listed: never the token itself."""

    id: int
    scope: TokenScope
    department: str | None
    prefix: str = Field(description="The token's first characters, to recognise it.")
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class AuditEntryPublic(BaseModel):
    """One recorded write or refused write."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 3,
                "at": "2023-06-30T08:00:00Z",
                "actor": "教育部",
                "action": "report.denied",
                "target": "task:1",
                "before": None,
                "after": {"reason": "教育部 is neither lead nor participant of task 1 …"},
                "address": "203.0.113.7",
                "request_id": "c0d02a0107c24019b4208355fcb4f129",
            }
        }
    )

    id: int
    at: dt.datetime
    actor: str
    action: AuditAction
    target: str
    before: dict[str, object] | None
    after: dict[str, object] | None
    address: str | None
    request_id: str | None


class StatusCounts(BaseModel):
    """Tasks by status, with the share done."""

    total: int
    by_status: dict[TaskStatus, int]
    completion: float = Field(description="Share of tasks done, 0–1.")


class DepartmentProgress(BaseModel):
    """A unit's tasks by status, as lead and as participant, and when it last reported."""

    name: str
    lead: StatusCounts
    participant: StatusCounts
    last_reported_on: dt.date | None
    stale: bool = Field(description="No report within KEPU_STALE_REPORT_DAYS.")


class KeyPointProgress(BaseModel):
    """The tasks traced to a key point (first link), by status."""

    id: int
    number: int
    title: str
    section: str
    counts: StatusCounts


class SectionProgress(BaseModel):
    """A section's tasks (through their key points), by status."""

    label: str
    title: str
    counts: StatusCounts


class ProgressStats(BaseModel):
    """The progress overview: overall, per unit, per section and key point."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "overall": {
                    "total": 67,
                    "by_status": {"not_started": 66, "in_progress": 1, "done": 0, "blocked": 0},
                    "completion": 0.0,
                },
                "departments": [
                    {
                        "name": "教育部",
                        "lead": {
                            "total": 7,
                            "by_status": {"not_started": 6, "in_progress": 1, "done": 0, "blocked": 0},
                            "completion": 0.0,
                        },
                        "participant": {
                            "total": 5,
                            "by_status": {"not_started": 5, "in_progress": 0, "done": 0, "blocked": 0},
                            "completion": 0.0,
                        },
                        "last_reported_on": "2023-06-30",
                        "stale": False,
                    }
                ],
                "sections": [],
                "key_points": [],
                "stale_days": 30,
            }
        }
    )

    overall: StatusCounts
    departments: list[DepartmentProgress]
    sections: list[SectionProgress]
    key_points: list[KeyPointProgress]
    stale_days: int


class TaskBrief(BaseModel):
    """A task as compared: its wording without the unit list, and its units."""

    id: int
    number: int
    body: str
    departments: list[DepartmentRole]
    all_member_units: bool


class TaskMatch(BaseModel):
    """A task of `a` and its counterpart in `b`."""

    a: TaskBrief
    b: TaskBrief
    score: float = Field(
        description="0–1: 0.8 × wording (sets of folded character bigrams, Dice) + 0.2 × unit overlap (Jaccard)."
    )
    change: TaskChange
    units_gained: list[str]
    units_lost: list[str]


class UnitDelta(BaseModel):
    """A unit's tasks gained and lost from `a` to `b` (new tasks and reassignments gain, drops and reassignments lose)."""

    name: str
    gained: list[TaskRef] = Field(description="Tasks of `b`.")
    lost: list[TaskRef] = Field(description="Tasks of `a`.")


class ComparisonCounts(BaseModel):
    """How many tasks fell in each class."""

    same: int
    reworded: int
    units_changed: int
    new: int
    dropped: int


class DocumentComparison(BaseModel):
    """Two editions side by side: tasks matched, new in `b`, dropped from `a`; per unit, gained and lost.

    `counts.reworded` and `counts.units_changed` both count a task whose wording and units changed."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "a": {"id": 1, "year": 2023, "title": "2023年全民科学素质行动工作要点"},
                "b": {"id": 2, "year": 2024, "title": "2024年全民科学素质行动工作要点"},
                "counts": {"same": 58, "reworded": 4, "units_changed": 2, "new": 3, "dropped": 3},
                "matched": [
                    {
                        "a": {
                            "id": 38,
                            "number": 38,
                            "body": "开展全国食品安全宣传周活动。",
                            "departments": [
                                {"name": "市场监管总局", "full_name": "国家市场监督管理总局", "role": "lead"}
                            ],
                            "all_member_units": False,
                        },
                        "b": {
                            "id": 103,
                            "number": 36,
                            "body": "开展全国食品安全宣传周活动。",
                            "departments": [{"name": "卫生健康委", "full_name": "国家卫生健康委员会", "role": "lead"}],
                            "all_member_units": False,
                        },
                        "score": 0.8,
                        "change": "units_changed",
                        "units_gained": ["卫生健康委"],
                        "units_lost": ["市场监管总局"],
                    }
                ],
                "new": [],
                "dropped": [],
                "units": [{"name": "市场监管总局", "gained": [], "lost": [{"id": 38, "number": 38}]}],
            }
        }
    )

    a: DocumentRef
    b: DocumentRef
    counts: ComparisonCounts
    matched: list[TaskMatch]
    new: list[TaskBrief]
    dropped: list[TaskBrief]
    units: list[UnitDelta]
