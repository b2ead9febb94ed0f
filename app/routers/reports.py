"""Progress reports on a task: read them (public), write one (a unit's or the office's token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from app import schemas as s
from app.deps import DirectoryDep, EngineDep, OriginDep, PrincipalDep, SearchDep, SessionDep, WindowDep
from app.errors import PayloadTooLarge, UnsupportedMediaType
from app.routers.params import MAX_ID
from app.routers.responses import INVALID, NOT_FOUND, Problem
from app.services import reports

MAX_BODY_BYTES = 64 * 1024
router = APIRouter(prefix="/api/v1/tasks/{task_id}/reports", tags=["tracking"], responses=INVALID)
TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="Task id (see `id` in lists).", examples=[9])]


def _problem(description: str) -> dict[str, object]:
    return {"model": Problem, "description": description}


WRITE_ERRORS: dict[int | str, dict[str, object]] = {
    401: _problem("No bearer token, or a malformed, unknown or revoked one."),
    403: _problem("The token's unit is neither lead nor participant of the task (or a unit tried to correct)."),
    409: _problem("The report to correct was already corrected."),
    412: _problem("If-Match names an older version of the task."),
    413: _problem("The body is over 64 KB."),
    415: _problem("The body is not application/json."),
    428: _problem("A correction without If-Match."),
    429: _problem("Too many failed token attempts from this address; see Retry-After."),
    **NOT_FOUND,
}


async def json_body(request: Request) -> None:
    """Refuse a body that is not JSON or is over MAX_BODY_BYTES, before it is parsed."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(f"send the report as application/json, not {media_type or 'no content type'}")
    declared = request.headers.get("content-length", "")
    if (declared.isdigit() and int(declared) > MAX_BODY_BYTES) or len(await request.body()) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"a report body may be at most {MAX_BODY_BYTES} bytes")


@router.post(
    "",
    status_code=201,
    summary="上报任务进展 · Report progress on a task",
    responses=WRITE_ERRORS,
    dependencies=[Depends(json_body)],
)
def create_report(
    task_id: TaskId,
    data: s.ReportCreate,
    principal: PrincipalDep,
    origin: OriginDep,
    engine: EngineDep,
    directory: DirectoryDep,
    search: SearchDep,
    response: Response,
    if_match: Annotated[
        str | None,
        Header(
            examples=['"task-9-0"'],
            description="The task's ETag (from GET /api/v1/tasks/{id}); required for a correction, 412 if stale.",
        ),
    ] = None,
) -> s.ReportWritten:
    """A unit reports on a task it leads or takes part in (every unit on all-member tasks); the office on any task,
    and corrects a report with `corrects` and If-Match (a new version; the old one is kept)."""
    written = reports.create_report(
        engine,
        directory,
        principal=principal,
        task_id=task_id,
        data=data,
        origin=origin,
        if_match=if_match,
        publish=reports.index_publisher(search.index, engine),
    )
    response.headers["ETag"] = written.etag
    return written


@router.get("", summary="任务进展记录 · List a task's progress reports", responses=NOT_FOUND)
def list_reports(
    task_id: TaskId,
    session: SessionDep,
    window: WindowDep,
    include_corrected: Annotated[
        bool, Query(examples=[False], description="Also list reports a correction replaced (marked corrected_by).")
    ] = True,
) -> s.Page[s.ReportPublic]:
    """Newest first (by reported_on, then by when written)."""
    return reports.list_reports(session, task_id, window, include_corrected=include_corrected)
