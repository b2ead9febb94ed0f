"""Presentation helpers for the HTML pages: facet links, active filters, pagination."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from app import schemas as s
from app.domain.vocabulary import ActivityKind, RecordKind, TermUsage

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATIC_DIR = Path(__file__).parent / "static"
KINDS = {
    RecordKind.TASK: "台账任务",
    RecordKind.KEY_POINT: "工作要点",
    RecordKind.ACTIVITY: "活动",
    RecordKind.REPORT: "进展",
}
USAGES = {
    TermUsage.QUESTION: "疑问词,不参与匹配",
    TermUsage.FILLER: "泛指词,已忽略",
    TermUsage.INTENT: "按单位与职责筛选",
    TermUsage.YEAR: "按年份筛选",
}
ACTIVITY_KINDS = {
    ActivityKind.CAMPAIGN: "行动/活动",
    ActivityKind.PROGRAMME: "计划/工程/项目",
    ActivityKind.COMPETITION: "竞赛",
    ActivityKind.CONFERENCE: "大会/论坛",
    ActivityKind.OBSERVANCE: "纪念日/宣传周/月",
}
# Where each kind of record has its own page.
RECORD_PATHS = {RecordKind.TASK: "/tasks/", RecordKind.KEY_POINT: "/key-points/", RecordKind.ACTIVITY: "/activities/"}
FACET_LABELS = {"kind": "类型", "year": "年份", "department": "成员单位", "section": "部分", "target_group": "重点人群"}
PAGE_SIZE = 10


@dataclass(frozen=True)
class PageQuery:
    """What the search page was asked for: the query, its filters and the page."""

    q: str
    filters: dict[str, str]
    page: int

    def url(self, **changes: Any) -> str:
        """This page's URL with some parameters changed (None removes one); page resets unless given."""
        params: dict[str, Any] = {"q": self.q, **self.filters}
        params.update(changes)
        if "page" not in changes:
            params.pop("page", None)
        return "/?" + urlencode({k: v for k, v in params.items() if v not in (None, "", 1) or k == "q"})


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    """The HTML error page people see instead of problem+json."""
    return TEMPLATES.TemplateResponse(request, "error.html", {"title": title, "detail": detail}, status_code=status)


def item_url(item: s.SearchItem) -> str:
    """Where a hit links to: its own page (a progress report: its task's progress section)."""
    if item.kind == RecordKind.REPORT and item.task is not None:
        return f"/tasks/{item.task.id}#progress"
    return RECORD_PATHS[item.kind] + str(item.id)


def facet_links(query: PageQuery, facets: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Each facet as clickable values that add a filter (values already filtered on are left out)."""
    links = []
    for name, counts in facets.items():
        if name in query.filters or not counts or name not in FACET_LABELS:  # per-document counts: API only
            continue
        values = [
            {"value": v, "label": _value_label(name, v), "count": n, "url": query.url(**{name: v})}
            for v, n in list(counts.items())[:12]
        ]
        links.append({"name": name, "label": FACET_LABELS[name], "values": values})
    return links


def _value_label(name: str, value: str) -> str:
    if name == "kind":
        return KINDS[RecordKind(value)] if value in set(RecordKind) else value
    if name == "section":
        return f"第{value}部分"
    if name == "year":
        return f"{value}年"
    return value


def active_filters(query: PageQuery) -> list[tuple[str, str]]:
    """(label, URL without it) for each filter in force."""
    return [
        (f"{FACET_LABELS.get(k, '人群')}:{_value_label(k, v)}", query.url(**{k: None}))
        for k, v in query.filters.items()
    ]


def last_page(total: int) -> int:
    """The number of the last result page (1 when there are no results)."""
    return max(1, -(-total // PAGE_SIZE))


def pages(query: PageQuery, total: int) -> list[dict[str, Any]]:
    """Page links around the current page."""
    count = -(-total // PAGE_SIZE)
    if count <= 1:
        return []
    shown = sorted({1, count, *range(max(1, query.page - 2), min(count, query.page + 2) + 1)})
    links = []
    if query.page > 1:
        links.append({"label": "上一页", "url": query.url(page=query.page - 1), "current": False})
    links += [{"label": str(n), "url": query.url(page=n), "current": n == query.page} for n in shown]
    if query.page < count:
        links.append({"label": "下一页", "url": query.url(page=query.page + 1), "current": False})
    return links


def lineage_compare_url(task: s.TaskPublic) -> str | None:
    """The compare page for this task's edition and the one before it (or after it, for the first)."""
    ids = [step.id for step in task.lineage]
    if task.id not in ids or len(ids) < 2:
        return None
    here = ids.index(task.id)
    other = task.lineage[here - 1 if here else here + 1]
    older, newer = sorted((task.lineage[here], other), key=lambda step: step.document.year)
    return f"/compare?a={older.document.id}&b={newer.document.id}"
