"""Pages for member units' staff: sign in with the unit's token, see their tasks, report progress; /progress."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app import schemas as s
from app.deps import DirectoryDep, EngineDep, LimiterDep, OriginDep, SearchDep, SessionDep, SettingsDep, client_address
from app.errors import AppError, Forbidden, NotFound, TooManyAttempts, Unauthorized
from app.routers.params import MAX_ID
from app.services import catalogue, progress, reports, tokens
from app.services.catalogue import Window
from app.web import progress_charts, signin, views

router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = 64 * 1024
STATUS_CHOICES = list(progress_charts.STATUS_LABELS.items())


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return views.TEMPLATES.TemplateResponse(request, template, context, status_code=status)


async def form_fields(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as a dict (first value of each field)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {"_too_large": "1"}
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


FormDep = Annotated[dict[str, str], Depends(form_fields)]


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never an open redirect (//host, /\\host and control characters are refused).
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/my"
    return target if target.isprintable() and "\\" not in target else "/my"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, session: SessionDep, next: str = "/my") -> Response:
    """The sign-in form: the unit's token, posted once; kept as a signed cookie naming it."""
    token = signin.login_csrf(request)
    response = _render(
        request, "login.html", signed_in=signin.current(request, session), csrf=token, next=_safe_next(next)
    )
    signin.set_login_csrf(request, response, token)
    return response


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, session: SessionDep, limiter: LimiterDep, fields: FormDep) -> Response:
    """Check the token (rate-limited per address like the API), then set the cookie and go to /my."""
    address = client_address(request)
    expected = request.cookies.get(signin.LOGIN_CSRF_COOKIE, "")
    next_path = _safe_next(fields.get("next"))
    csrf = signin.login_csrf(request)

    def again(status: int, error: str, headers: dict[str, str] | None = None) -> Response:
        page = _render(request, "login.html", status, error=error, csrf=csrf, next=next_path)
        signin.set_login_csrf(request, page, csrf)
        page.headers.update(headers or {})
        return page

    if not expected or not signin.csrf_ok(expected, fields.get("csrf")):
        return again(403, "表单已过期,请重新提交。")
    try:
        limiter.check(address)
        try:
            principal = tokens.authenticate(session, fields.get("token", "").strip())
        except Unauthorized:
            limiter.fail(address)
            raise
    except TooManyAttempts as exc:
        return again(429, f"失败次数过多,请 {exc.extra['retry_after']} 秒后再试。", exc.headers)
    except Unauthorized:
        return again(401, "令牌无效或已被吊销,请检查后重试。")
    response = RedirectResponse(next_path, status_code=303)
    signin.sign_in(request, response, principal.token_id)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, fields: FormDep) -> Response:
    """Sign out (CSRF-checked) and go home."""
    current = signin.current(request, session)
    if current is not None and not signin.csrf_ok(current.csrf, fields.get("csrf")):
        return _render(request, "error.html", 403, title="无法退出", detail="表单已过期,请刷新页面后重试。")
    response = RedirectResponse("/", status_code=303)
    signin.sign_out(response)
    return response


@router.get("/my", response_class=HTMLResponse)
def my_tasks(request: Request, session: SessionDep, directory: DirectoryDep, settings: SettingsDep) -> Response:
    """The signed-in unit's tasks (lead, participant, all-member) with their status; the office sees all."""
    current = signin.current(request, session)
    if current is None:
        return RedirectResponse("/login?next=/my", status_code=303)
    unit = current.principal.department
    window = Window(limit=1_000_000, offset=0)
    tasks = catalogue.list_tasks(session, directory, window, department=unit, include_all_members=True).items
    due_before = dt.datetime.now(s.CHINA).date() - dt.timedelta(days=settings.stale_report_days)
    return _render(
        request,
        "my.html",
        signed_in=current,
        tasks=tasks,
        unit=unit or "纲要办(全部任务)",
        labels=progress_charts.STATUS_LABELS,
        due_before=due_before,
        stale_days=settings.stale_report_days,
        active="my",
    )


def task_page_response(request: Request, session: Any, task_id: int, status: int = 200, **extra: Any) -> HTMLResponse:
    """The task page with its progress, and the report form for a signed-in unit that may report on it."""
    task = catalogue.get_task(session, task_id)
    current = signin.current(request, session)
    can_report = current is not None and reports.may_report(session, current.principal, task_id)
    history = reports.list_reports(session, task_id, Window(limit=10, offset=0), include_corrected=False).items
    context: dict[str, Any] = {
        "task": task,
        "compare_url": views.lineage_compare_url(task),
        "active": "search",
        "signed_in": current,
        "can_report": can_report,
        "reports": history,
        "labels": progress_charts.STATUS_LABELS,
        "choices": STATUS_CHOICES,
        "version": progress.task_etag(session, task_id),
        "today": dt.datetime.now(s.CHINA).date().isoformat(),
        "values": {},
        "errors": {},
        "reported": request.query_params.get("reported") == "1",
    }
    context.update(extra)
    return _render(request, "task.html", status, **context)


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, session: SessionDep, task_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> HTMLResponse:
    """One task: units, key points, activities, progress, and the report form for its units."""
    return task_page_response(request, session, task_id)


@router.post("/tasks/{task_id}/report", response_class=HTMLResponse)
def submit_report(
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    directory: DirectoryDep,
    search: SearchDep,
    origin: OriginDep,
    fields: FormDep,
    task_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """The report form: CSRF bound to the sign-in, validated server-side, redirect after post."""
    current = signin.current(request, session)
    if current is None:
        return RedirectResponse(f"/login?next=/tasks/{task_id}", status_code=303)
    if not signin.csrf_ok(current.csrf, fields.get("csrf")):
        return _render(
            request,
            "error.html",
            403,
            title="表单已失效",
            detail="表单校验失败(可能已过期或来自其他网站),请刷新页面后重新填写。",
        )
    values = {k: fields.get(k, "") for k in ("status", "note", "reported_on")}
    if "_too_large" in fields:
        return task_page_response(request, session, task_id, 413, values={}, errors={"note": "提交的内容过长"})
    try:
        data = s.ReportCreate(
            status=values["status"],
            note=values["note"],
            reported_on=values["reported_on"],
        )
    except ValidationError as exc:
        return task_page_response(request, session, task_id, 422, values=values, errors=signin.form_errors(exc))
    try:
        reports.create_report(
            engine,
            directory,
            principal=current.principal,
            task_id=task_id,
            data=data,
            origin=origin,
            if_match=fields.get("version") or None,
            publish=reports.index_publisher(search.index, engine),
        )
    except NotFound:
        raise
    except Forbidden as exc:
        return _render(
            request, "error.html", 403, title="无权上报", detail=f"本单位不能上报此任务的进展({exc.detail})。"
        )
    except AppError as exc:
        message = "任务已有新的进展,请查看后重新提交。" if exc.status == 412 else exc.detail
        return task_page_response(request, session, task_id, exc.status, values=values, errors={"form": message})
    return RedirectResponse(f"/tasks/{task_id}?reported=1#progress", status_code=303)


@router.get("/progress", response_class=HTMLResponse)
def progress_page(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """Completion by unit and by key point as server-side SVG; units with no recent report highlighted."""
    stats = progress.progress_stats(session, stale_days=settings.stale_report_days)
    return _render(
        request,
        "progress.html",
        stats=stats,
        labels=progress_charts.STATUS_LABELS,
        units_chart=progress_charts.by_department(stats),
        key_points_chart=progress_charts.by_key_point(stats),
        active="progress",
        signed_in=signin.current(request, session),
    )
