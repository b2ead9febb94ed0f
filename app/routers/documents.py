"""Documents: the imported notices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app import schemas as s
from app.deps import SessionDep, WindowDep
from app.routers.params import MAX_ID
from app.routers.responses import INVALID, NOT_FOUND
from app.services import catalogue, editions

router = APIRouter(prefix="/api/v1/documents", tags=["documents"], responses=INVALID)


@router.get("", summary="列出通知 · List documents")
def list_documents(
    session: SessionDep,
    window: WindowDep,
    year: Annotated[
        int | None, Query(examples=[2023], ge=1949, le=2100, description="Only this year's editions.")
    ] = None,
) -> s.Page[s.DocumentPublic]:
    """Imported notices, newest year first."""
    return catalogue.list_documents(session, window, year=year)


@router.get("/{document_id}", summary="通知详情 · Get a document", responses=NOT_FOUND)
def get_document(
    session: SessionDep, document_id: Annotated[int, Path(ge=1, le=MAX_ID, description="Document id.", examples=[1])]
) -> s.DocumentPublic:
    """One notice: metadata, intro, sections and counts."""
    return catalogue.get_document(session, document_id)


@router.get(
    "/{a}/compare/{b}",
    summary="比较两版通知 · Compare two editions",
    responses={**NOT_FOUND, **INVALID},
)
def compare_documents(
    session: SessionDep,
    a: Annotated[int, Path(ge=1, le=MAX_ID, description="The earlier edition's document id.", examples=[1])],
    b: Annotated[int, Path(ge=1, le=MAX_ID, description="The later edition's document id.", examples=[2])],
) -> s.DocumentComparison:
    """Tasks matched (same, reworded, units changed), new in `b`, dropped from `a`; per unit, tasks gained and lost."""
    return editions.compare_documents(session, a, b)
