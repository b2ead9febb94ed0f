"""Activities: events, campaigns, programmes, competitions, observances."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app import schemas as s
from app.deps import SessionDep, WindowDep
from app.domain.vocabulary import ActivityKind
from app.routers.params import MAX_ID
from app.routers.responses import INVALID, NOT_FOUND
from app.services import catalogue

router = APIRouter(prefix="/api/v1/activities", tags=["activities"], responses=INVALID)


@router.get("", summary="列出活动 · List activities")
def list_activities(
    session: SessionDep,
    window: WindowDep,
    kind: Annotated[ActivityKind | None, Query(examples=["observance"], description="Only this kind.")] = None,
    document: Annotated[
        int | None, Query(examples=[1], ge=1, le=MAX_ID, description="Only those named in this document.")
    ] = None,
) -> s.Page[s.ActivityPublic]:
    """Named activities in order of first mention."""
    return catalogue.list_activities(session, window, kind=kind, document=document)


@router.get("/{activity_id}", summary="活动详情 · Get an activity", responses=NOT_FOUND)
def get_activity(
    session: SessionDep, activity_id: Annotated[int, Path(ge=1, le=MAX_ID, description="Activity id.", examples=[1])]
) -> s.ActivityPublic:
    """One activity with the key points and tasks naming it."""
    return catalogue.get_activity(session, activity_id)
