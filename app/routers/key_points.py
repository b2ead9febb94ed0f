"""Key points (工作要点)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app import schemas as s
from app.deps import SessionDep, WindowDep
from app.routers.params import (
    MAX_ID,
    DocumentFilter,
    IssuerFilter,
    ProvinceFilter,
    SectionFilter,
    TargetGroupFilter,
    YearFilter,
)
from app.routers.responses import INVALID, NOT_FOUND
from app.services import catalogue

router = APIRouter(prefix="/api/v1/key-points", tags=["key points"], responses=INVALID)


@router.get("", summary="列出工作要点 · List key points", responses=INVALID)
def list_key_points(
    session: SessionDep,
    window: WindowDep,
    document: DocumentFilter = None,
    section: SectionFilter = None,
    target_group: TargetGroupFilter = None,
    year: YearFilter = None,
    province: ProvinceFilter = None,
    issuer: IssuerFilter = None,
) -> s.Page[s.KeyPointPublic]:
    """Key points matching every filter given."""
    return catalogue.list_key_points(
        session,
        window,
        document=document,
        section=section,
        target_group=target_group,
        year=year,
        province=province,
        issuer=issuer,
    )


@router.get("/{key_point_id}", summary="要点详情 · Get a key point", responses=NOT_FOUND)
def get_key_point(
    session: SessionDep, key_point_id: Annotated[int, Path(ge=1, le=MAX_ID, description="Key point id.", examples=[9])]
) -> s.KeyPointPublic:
    """One key point with sub-paragraphs, activities and the tasks traced to it."""
    return catalogue.get_key_point(session, key_point_id)
