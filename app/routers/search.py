"""Search and suggestions: what a search box sits on."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app import schemas as s
from app.deps import SearchDep, WindowDep
from app.domain.vocabulary import RecordKind
from app.routers.params import (
    DepartmentFilter,
    DocumentFilter,
    IssuerFilter,
    ProvinceFilter,
    SectionFilter,
    TargetGroupFilter,
    YearFilter,
)
from app.routers.responses import BAD_QUERY, INVALID
from app.services.search import SearchFilters

router = APIRouter(prefix="/api/v1", tags=["search"], responses=INVALID)
# Long enough that the service, not the validator, explains an over-long query.
RAW_QUERY_MAX = 10_000


@router.get("/search", summary="全文检索 · Search", responses={**BAD_QUERY, **INVALID})
def search(
    service: SearchDep,
    window: WindowDep,
    q: Annotated[
        str,
        Query(
            max_length=RAW_QUERY_MAX,
            description='Words (AND), `OR`, "phrase", -exclude. 科协 科幻; "全国科普日"; 科普日 OR 科技周',
            examples=["科协 科幻"],
        ),
    ],
    kind: Annotated[
        RecordKind | None,
        Query(examples=["task"], description="Only this kind of record."),
    ] = None,
    department: DepartmentFilter = None,
    section: SectionFilter = None,
    target_group: TargetGroupFilter = None,
    document: DocumentFilter = None,
    year: YearFilter = None,
    province: ProvinceFilter = None,
    issuer: IssuerFilter = None,
) -> s.SearchResponse:
    """Ranked hits (BM25F) with highlighted snippets, and facet counts over all hits (`year` and `document`
    count hits per stored edition)."""
    filters = SearchFilters(
        kind=kind,
        department=department,
        section=section,
        target_group=target_group,
        document=document,
        year=year,
        province=province,
        issuer=issuer,
    )
    return service.search(q, filters, window)


@router.get(
    "/suggest",
    summary="输入提示 · Suggestions",
    responses={
        **BAD_QUERY,
        200: {
            "content": {
                "application/json": {"example": {"query": "科普", "suggestions": ["科普中国", "科普日"]}},
                # format=opensearch: what browsers read for a search engine's suggestions.
                "application/x-suggestions+json": {
                    "schema": {
                        "type": "array",
                        # [query, [suggestions]]
                        "items": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                        "minItems": 2,
                        "maxItems": 2,
                    },
                    "example": ["科普", ["科普中国", "科普日"]],
                },
            }
        },
    },
)
def suggest(
    service: SearchDep,
    q: Annotated[str, Query(max_length=RAW_QUERY_MAX, description="What has been typed so far.", examples=["科普"])],
    limit: Annotated[int, Query(examples=[20], ge=1, le=50, description="At most this many suggestions.")] = 10,
    format: Annotated[
        Literal["json", "opensearch"],
        Query(examples=["opensearch"], description="json: {query, suggestions}; opensearch: [query, [suggestions]]."),
    ] = "json",
) -> Any:
    """Completions from activity names, units and frequent words, best first."""
    suggestions = service.suggest(q, limit)
    if format == "opensearch":
        return JSONResponse([q, suggestions], media_type="application/x-suggestions+json")
    return {"query": q, "suggestions": suggestions}
