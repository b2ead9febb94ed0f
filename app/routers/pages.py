"""HTML pages for people (search, records, units, overview) and what other sites embed or discover
(embed.js, the OpenSearch description)."""

from __future__ import annotations

from typing import Annotated, Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from app.deps import DirectoryDep, SearchDep, SessionDep, SettingsDep
from app.domain.vocabulary import RecordKind, Role
from app.errors import AppError, InvalidQuery
from app.routers.params import MAX_ID
from app.services import catalogue, editions, overview, stats
from app.services.catalogue import Window
from app.services.search import SearchFilters
from app.web import charts, views
from app.web.diff import highlight_changes

router = APIRouter(include_in_schema=False)


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return views.TEMPLATES.TemplateResponse(request, template, context, status_code=status)


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    service: SearchDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=10_000)] = "",
    kind: Annotated[str | None, Query(examples=["observance"], max_length=20)] = None,
    department: Annotated[str | None, Query(examples=["科协"], max_length=50)] = None,
    section: Annotated[str | None, Query(examples=["三"], max_length=10)] = None,
    target_group: Annotated[str | None, Query(examples=["老年人"], max_length=20)] = None,
    year: Annotated[int | None, Query(ge=1949, le=2100)] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    """The search page; the query and filters live in the URL so a result page can be shared."""
    filters = {
        k: v
        for k, v in {
            "kind": kind,
            "department": department,
            "section": section,
            "target_group": target_group,
            "year": str(year) if year else None,
        }.items()
        if v
    }
    query = views.PageQuery(q, filters, page)
    context: dict[str, Any] = {
        "active": "search",
        "q": q,
        "kinds": views.KINDS,
        "usages": views.USAGES,
        "item_url": views.item_url,
        "hidden_filters": list(filters.items()),
        "active_filters": views.active_filters(query),
    }
    if not q.strip():
        return _render(request, "search.html", stats=stats.store_counts(session), **context)
    if kind is not None and kind not in set(RecordKind):
        return _render(request, "search.html", 400, error=f"未知的类型 {kind!r}", **context)
    try:
        result = service.search(
            q,
            SearchFilters(kind=kind, department=department, section=section, target_group=target_group, year=year),
            Window(limit=views.PAGE_SIZE, offset=(page - 1) * views.PAGE_SIZE),
        )
    except AppError as exc:
        status = 400 if isinstance(exc, InvalidQuery) else exc.status
        return _render(request, "search.html", status, error=exc.detail, **context)
    last = views.last_page(result.total)
    if page > last:  # past the end (an old link, a hand-edited URL): the last page there is
        return RedirectResponse(query.url(page=last), status_code=303)
    return _render(
        request,
        "search.html",
        result=result,
        facets=views.facet_links(query, result.facets),
        pages=views.pages(query, result.total),
        **context,
    )


# /tasks/{task_id} is drawn by app.routers.tracking_pages: the task with its progress and report form.


@router.get("/compare", response_class=HTMLResponse)
def compare_page(
    request: Request,
    session: SessionDep,
    a: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    b: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """Two editions side by side, changed words highlighted; without both ids, a form to pick them."""
    documents = catalogue.list_documents(session, Window(limit=200, offset=0)).items
    comparison = editions.compare_documents(session, a, b) if a is not None and b is not None else None
    changed = [
        {"match": x, "left": left, "right": right}
        for x in (comparison.matched if comparison else [])
        if x.change != "same"
        for left, right in [highlight_changes(x.a.body, x.b.body)]
    ]
    return _render(
        request, "compare.html", documents=documents, comparison=comparison, changed=changed, active="compare"
    )


@router.get("/key-points/{key_point_id}", response_class=HTMLResponse)
def key_point_page(
    request: Request, session: SessionDep, key_point_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> HTMLResponse:
    """One key point: its text, sub-paragraphs and the tasks traced to it."""
    return _render(request, "key_point.html", kp=catalogue.get_key_point(session, key_point_id), active="search")


@router.get("/activities/{activity_id}", response_class=HTMLResponse)
def activity_page(
    request: Request, session: SessionDep, activity_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> HTMLResponse:
    """One activity and where it is named."""
    activity = catalogue.get_activity(session, activity_id)
    return _render(request, "activity.html", activity=activity, kinds=views.ACTIVITY_KINDS, active="search")


@router.get("/departments/{name}", response_class=HTMLResponse)
def department_page(
    request: Request, session: SessionDep, directory: DirectoryDep, name: Annotated[str, Path(max_length=50)]
) -> HTMLResponse:
    """A unit's tasks as lead and as participant."""
    department = catalogue.get_department(session, directory, name)
    window = Window(limit=200, offset=0)
    sections = [
        (title, catalogue.list_tasks(session, directory, window, department=department.name, role=role).items)
        for title, role in (("牵头的任务", Role.LEAD), ("参与的任务", Role.PARTICIPANT))
    ]
    return _render(request, "department.html", department=department, sections=sections, active="search")


@router.get("/overview", response_class=HTMLResponse)
def overview_page(
    request: Request, session: SessionDep, document: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> HTMLResponse:
    """Heat map of key points × units and the trace matrix, as server-side SVG."""
    data = overview.build_overview(session, document)
    context: dict[str, Any] = {"overview": data, "active": "overview"}
    if data is not None:
        context.update(heat_map=charts.heat_map(data), trace_matrix=charts.trace_matrix(data))
    return _render(request, "overview.html", **context)


@router.get("/embed.js")
def embed_script() -> FileResponse:
    """The embeddable search box."""
    return FileResponse(views.STATIC_DIR / "embed.js", media_type="text/javascript; charset=utf-8")


@router.get("/opensearch.xml")
def opensearch_description(request: Request, settings: SettingsDep) -> Response:
    """Lets browsers add the service as a search engine, with suggestions."""
    # KEPU_PUBLIC_URL, not the client's Host header, behind a proxy; escaped either way.
    base = escape(settings.public_url or str(request.base_url).rstrip("/"), {'"': "&quot;"})
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">'
        "<ShortName>科普台账</ShortName><Description>检索全民科学素质行动工作要点与任务台账</Description>"
        "<InputEncoding>UTF-8</InputEncoding>"
        f'<Url type="text/html" template="{base}/?q={{searchTerms}}"/>'
        f'<Url type="application/x-suggestions+json" template="{base}/api/v1/suggest?format=opensearch&amp;q={{searchTerms}}"/>'
        "</OpenSearchDescription>"
    )
    return Response(xml, media_type="application/opensearchdescription+xml")
