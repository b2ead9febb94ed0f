"""The progress overview, the audit trail and the ledger as a spreadsheet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlmodel import Session

from app import schemas as s
from app.deps import DirectoryDep, PrincipalDep, SessionDep, SettingsDep, WindowDep
from app.domain.departments import DepartmentDirectory
from app.domain.vocabulary import AuditAction, Role, TaskStatus
from app.errors import Forbidden
from app.routers.params import DepartmentFilter, DocumentFilter, TargetGroupFilter
from app.routers.responses import INVALID
from app.services import audit, catalogue, export, progress

router = APIRouter(tags=["tracking"], responses=INVALID)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALL = catalogue.Window(limit=1_000_000, offset=0)


@router.get("/api/v1/stats", summary="进展概览 · Progress overview")
def stats(session: SessionDep, settings: SettingsDep) -> s.ProgressStats:
    """Per unit: tasks as lead and as participant by status and its latest report; per section and key point;
    overall completion."""
    return progress.progress_stats(session, stale_days=settings.stale_report_days)


@router.get("/api/v1/audit", summary="审计记录 · The audit trail (office token)")
def audit_trail(
    principal: PrincipalDep,
    session: SessionDep,
    window: WindowDep,
    actor: Annotated[
        str | None, Query(max_length=50, examples=["教育部"], description="Only this actor: a unit, office or cli.")
    ] = None,
    action: Annotated[AuditAction | None, Query(examples=["report.denied"], description="Only this action.")] = None,
) -> s.Page[s.AuditEntryPublic]:
    """Every write and refused write, newest first: who, when, what before and after, address, request id."""
    if not principal.is_office:
        raise Forbidden(f"the audit trail is for the office token; {principal.label}'s token may not read it")
    return audit.list_entries(session, window, actor=actor, action=action)


@dataclass(frozen=True)
class TaskFilters:
    """The /api/v1/tasks filters the exports accept."""

    department: str | None
    role: Role | None
    include_all_members: bool
    key_point: int | None
    target_group: str | None
    document: int | None
    status: TaskStatus | None


def task_filters(
    department: DepartmentFilter = None,
    role: Annotated[Role | None, Query(examples=["lead"], description="With department: lead or participant.")] = None,
    include_all_members: Annotated[
        bool, Query(examples=[True], description="With department: also all-member tasks.")
    ] = False,
    key_point: Annotated[
        int | None, Query(ge=1, le=999, examples=[9], description="Traced to this key point number.")
    ] = None,
    target_group: TargetGroupFilter = None,
    document: DocumentFilter = None,
    status: Annotated[
        TaskStatus | None, Query(examples=["in_progress"], description="Only tasks with this status.")
    ] = None,
) -> TaskFilters:
    """Validated filters, as for /api/v1/tasks."""
    return TaskFilters(department, role, include_all_members, key_point, target_group, document, status)


FiltersDep = Annotated[TaskFilters, Depends(task_filters)]
ByDepartment = Annotated[
    bool, Query(examples=[True], description="xlsx: also one sheet per unit (its tasks as lead or participant).")
]


def _tasks(session: Session, directory: DepartmentDirectory, f: TaskFilters) -> list[s.TaskPublic]:
    return catalogue.list_tasks(
        session,
        directory,
        ALL,
        department=f.department,
        role=f.role,
        include_all_members=f.include_all_members,
        key_point=f.key_point,
        target_group=f.target_group,
        document=f.document,
        status=f.status,
        sort="document",
    ).items


def _csv(session: Session, directory: DepartmentDirectory, f: TaskFilters) -> Response:
    body = export.to_csv(export.rows(_tasks(session, directory, f)))
    headers = {"Content-Disposition": _attachment("csv")}
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)


def _xlsx(session: Session, directory: DepartmentDirectory, f: TaskFilters, by_department: bool) -> Response:
    tasks = _tasks(session, directory, f)
    sheets = None
    if by_department:
        names = sorted({d.name for t in tasks for d in t.departments})
        sheets = {n: export.rows([t for t in tasks if any(d.name == n for d in t.departments)]) for n in names}
    body = export.to_xlsx(export.rows(tasks), sheets)
    return Response(body, media_type=XLSX, headers={"Content-Disposition": _attachment("xlsx")})


def _attachment(ext: str) -> str:
    # RFC 6266: an ASCII name for old clients, the Chinese one in filename*.
    return f"attachment; filename=\"ledger.{ext}\"; filename*=UTF-8''%E4%BB%BB%E5%8A%A1%E5%8F%B0%E8%B4%A6.{ext}"


FILE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "content": {
            "text/csv": {
                "example": "\ufeff序号,任务,牵头单位,参与单位,状态,最近进展,更新日期\r\n9,…,教育部,中国科协,进行中,…,2023-06-30\r\n"
            },
            XLSX: {"example": "(an xlsx workbook: 全部任务, and one sheet per unit with by_department=true)"},
        },
        "description": "The ledger as a file.",
    }
}


@router.get("/api/v1/tasks.csv", summary="导出台账 CSV · Export the ledger as CSV", responses=FILE_RESPONSES)
def export_csv(session: SessionDep, directory: DirectoryDep, filters: FiltersDep) -> Response:
    """序号, 任务, 牵头单位, 参与单位, 状态, 最近进展, 更新日期; UTF-8 with BOM; formula-like cells neutralised."""
    return _csv(session, directory, filters)


@router.get("/api/v1/tasks.xlsx", summary="导出台账 Excel · Export the ledger as xlsx", responses=FILE_RESPONSES)
def export_xlsx(
    session: SessionDep, directory: DirectoryDep, filters: FiltersDep, by_department: ByDepartment = False
) -> Response:
    """One sheet of all tasks (plus one per unit with by_department=true); frozen header, wrapped text."""
    return _xlsx(session, directory, filters, by_department)


@router.get("/api/v1/tasks/export", summary="导出台账 · Export the ledger (format=csv|xlsx)", responses=FILE_RESPONSES)
def export_ledger(
    session: SessionDep,
    directory: DirectoryDep,
    filters: FiltersDep,
    format: Annotated[Literal["csv", "xlsx"], Query(examples=["csv"], description="csv or xlsx.")] = "xlsx",
    by_department: ByDepartment = False,
) -> Response:
    """The same as /api/v1/tasks.csv and /api/v1/tasks.xlsx, the format as a parameter."""
    if format == "csv":
        return _csv(session, directory, filters)
    return _xlsx(session, directory, filters, by_department)
