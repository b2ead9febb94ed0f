"""Ledger tasks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app import schemas as s
from app.deps import DirectoryDep, SessionDep, WindowDep
from app.domain.vocabulary import Role, TaskStatus
from app.routers.params import (
    MAX_ID,
    DepartmentFilter,
    DocumentFilter,
    IssuerFilter,
    ProvinceFilter,
    TargetGroupFilter,
    YearFilter,
)
from app.routers.responses import INVALID, NOT_FOUND
from app.services import catalogue, progress

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"], responses=INVALID)


@router.get("", summary="列出台账任务 · List ledger tasks", responses=INVALID)
def list_tasks(
    session: SessionDep,
    directory: DirectoryDep,
    window: WindowDep,
    department: DepartmentFilter = None,
    role: Annotated[
        Role | None,
        Query(examples=["lead"], description="With department: only tasks it leads (牵头) or takes part in (参与)."),
    ] = None,
    include_all_members: Annotated[
        bool,
        Query(
            examples=[True], description="With department: also tasks all member units take part in (各成员单位参与)."
        ),
    ] = False,
    key_point: Annotated[
        int | None, Query(examples=[9], ge=1, le=999, description="Tasks traced to the key point with this number.")
    ] = None,
    activity: Annotated[
        str | None,
        Query(
            min_length=1,
            examples=["全国科普日"],
            max_length=100,
            description="Activity id, name or series (全国科普日).",
        ),
    ] = None,
    target_group: TargetGroupFilter = None,
    document: DocumentFilter = None,
    year: YearFilter = None,
    province: ProvinceFilter = None,
    issuer: IssuerFilter = None,
    sort: Annotated[
        catalogue.TaskSort, Query(examples=["number"], description="number, -number, document (default) or -document.")
    ] = "document",
    status: Annotated[
        TaskStatus | None,
        Query(
            examples=["in_progress"], description="Only tasks with this status (from the lead unit's latest report)."
        ),
    ] = None,
) -> s.Page[s.TaskPublic]:
    """Tasks matching every filter given."""
    return catalogue.list_tasks(
        session,
        directory,
        window,
        department=department,
        role=role,
        include_all_members=include_all_members,
        key_point=key_point,
        activity=activity,
        target_group=target_group,
        document=document,
        year=year,
        province=province,
        issuer=issuer,
        sort=sort,
        status=status,
    )


@router.get("/{task_id}", summary="任务详情 · Get a task", responses=NOT_FOUND)
def get_task(
    session: SessionDep,
    response: Response,
    task_id: Annotated[int, Path(ge=1, le=MAX_ID, description="Task id (see `id` in lists).", examples=[55])],
) -> s.TaskPublic:
    """One task: units and roles, trace links, activities, references, target groups, status; its version in ETag."""
    task = catalogue.get_task(session, task_id)
    response.headers["ETag"] = progress.task_etag(session, task_id)
    return task
