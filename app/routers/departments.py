"""Member units (成员单位)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app import schemas as s
from app.deps import DirectoryDep, SessionDep
from app.routers.params import MAX_ID
from app.routers.responses import INVALID, NOT_FOUND
from app.services import catalogue

router = APIRouter(prefix="/api/v1/departments", tags=["departments"], responses=INVALID)


@router.get("", summary="列出成员单位 · List departments")
def list_departments(
    session: SessionDep,
    directory: DirectoryDep,
    document: Annotated[
        int | None, Query(examples=[1], ge=1, le=MAX_ID, description="Count only this document's tasks.")
    ] = None,
) -> s.Page[s.DepartmentPublic]:
    """Every unit named in the ledger, with its task counts as lead and as participant."""
    items = catalogue.list_departments(session, directory, document=document)
    return s.Page(items=items, total=len(items), limit=len(items), offset=0)


@router.get("/{name}", summary="成员单位详情 · Get a department", responses=NOT_FOUND)
def get_department(
    session: SessionDep,
    directory: DirectoryDep,
    name: Annotated[
        str, Path(examples=["科协"], max_length=50, description="Any name: 科协, 中国科学技术协会, 中国科协 …")
    ],
) -> s.DepartmentPublic:
    """One unit under any of its names; unknown names get close matches."""
    return catalogue.get_department(session, directory, name)
