"""The `kepu` command: a thin shell over the services; each command's docstring is its help text."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from typer.core import TyperGroup

from app.config import get_settings
from app.db import engine_for, unit_of_work
from app.domain.departments import load_directory
from app.domain.vocabulary import AuditAction
from app.errors import STORE_FAILURES, AppError, store_failure_reason
from app.migrate import upgrade
from app.search.housekeeping import remove_abandoned_builds
from app.search.index import SearchIndex
from app.server import PROTOCOL
from app.services import audit, notices, stats, tokens
from app.services.catalogue import Window
from app.services.indexing import StoreRecords


class _StoreErrorsInOneLine(TyperGroup):
    """Every command: a store that is down, silent or broken is one line on stderr and exit 1, not a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SQLAlchemyError as exc:
            url = _safe_url(get_settings().resolved_database_url)
            state = "is unreachable" if isinstance(exc, STORE_FAILURES) else "failed"
            typer.echo(f"error: the store at {url} {state}: {store_failure_reason(exc)}", err=True)
            raise typer.Exit(1) from None


cli = typer.Typer(
    cls=_StoreErrorsInOneLine,
    help="kepu-ledger: work-points notices as a queryable store and search service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
token_cli = typer.Typer(
    help="Write tokens for member units and the office: create, revoke, list.", no_args_is_help=True
)
cli.add_typer(token_cli, name="token")


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic upgrade head)."""
    settings = get_settings()
    upgrade(settings.resolved_database_url)
    typer.echo(f"migrated {_safe_url(settings.resolved_database_url)}")


@cli.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Notice files (UTF-8, UTF-8 with BOM or GB18030).")],
    replace: Annotated[bool, typer.Option("--replace", help="Replace a stored version of the same notice.")] = False,
    keep_existing: Annotated[
        bool,
        typer.Option(
            "--keep-existing", help="Keep a stored version of the same notice (same or other content) and succeed."
        ),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Parse and report only; store nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON: one object per file.")] = False,
) -> None:
    """Import notices and report what each holds; the same content again is a no-op, each file is one transaction."""
    if replace and keep_existing:
        typer.echo("error: --replace and --keep-existing contradict each other; give one", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    engine: Engine | None = None
    index: SearchIndex | None = None
    if not dry_run:
        upgrade(settings.resolved_database_url)
        engine = engine_for(settings)
        index = _open_index(engine)
    reports: list[dict[str, object]] = []
    failed = False
    for path in paths:
        try:
            if engine is None:
                report = notices.check_file(path, max_bytes=settings.max_notice_bytes)
            else:
                report = notices.import_file(
                    engine,
                    path,
                    replace=replace,
                    keep_existing=keep_existing,
                    max_bytes=settings.max_notice_bytes,
                    index=index,
                )
        except AppError as exc:
            failed = True
            reports.append({"file": path.name, "status": "rejected", "error": exc.detail, **exc.extra})
            if not as_json:
                typer.echo(f"error: {exc.detail}", err=True)
            continue
        reports.append(report.as_json())
        if not as_json:
            typer.echo(_describe(report))
    if as_json:
        typer.echo(json.dumps(reports, ensure_ascii=False, indent=2))
    if index is not None:
        index.close()
    if engine is not None:
        engine.dispose()
    if failed:
        raise typer.Exit(1)


def _describe(report: notices.ImportReport) -> str:
    found = report.found
    counts = (
        f"{found['sections']} sections, {found['key_points']} key points, {found['sub_paragraphs']} sub-paragraphs, "
        f"{found['tasks']} tasks, {found['units']} units, {found['activities']} activities"
    )
    lines = f"{report.lines['total']} lines accounted for"
    if report.document_id is None:
        return f"{report.status}: {report.file} {report.title} ({counts}; {lines}); dry run, nothing stored"
    if report.status == "kept":
        return (
            f"kept: document {report.document_id} holds another version of {report.title}; {report.file} not imported"
        )
    return f"{report.status}: document {report.document_id} {report.title} ({counts}; {lines})"


@cli.command()
def reindex() -> None:
    """Rebuild the search index from the store (the store is the source of truth)."""
    settings = get_settings()
    upgrade(settings.resolved_database_url)
    engine = engine_for(settings)
    index = _open_index(engine)
    started = time.perf_counter()
    count = index.rebuild(StoreRecords(engine))
    typer.echo(f"reindexed {count} records in {time.perf_counter() - started:.2f}s")
    index.close()
    engine.dispose()


def _open_index(engine: Engine) -> SearchIndex:
    settings = get_settings()
    index = SearchIndex(settings.resolved_index_dir, cache_dir=settings.data_dir / "cache").open(StoreRecords(engine))
    remove_abandoned_builds(index)
    return index


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=16, help="Worker processes.")] = 1,
) -> None:
    """Migrate, then serve the API."""
    import uvicorn

    settings = get_settings()
    upgrade(settings.resolved_database_url)
    # Our JSON access log replaces uvicorn's; log_config=None leaves logging to create_app().
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=None,
        http=PROTOCOL,
        h11_max_incomplete_event_size=settings.max_header_bytes,
    )


@cli.command("stats")
def stats_() -> None:
    """Print what the store holds, as JSON."""
    engine = engine_for(get_settings())
    with Session(engine) as session:
        typer.echo(json.dumps(stats.store_counts(session), ensure_ascii=False, indent=2))
    engine.dispose()


@token_cli.command("create")
def token_create(
    department: Annotated[str | None, typer.Argument(help="The member unit, any spelling (教育部, 科协 …).")] = None,
    office: Annotated[bool, typer.Option("--office", help="A token for the office (纲要办): every task.")] = False,
) -> None:
    """Issue a token and print it once; only its hash is stored."""
    engine = _migrated_engine()
    try:
        with unit_of_work(engine) as session:
            row, token = tokens.create_token(session, load_directory(), department, office=office)
            who = row.department or "the office"
            token_id = row.id
    except AppError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"token {token_id} for {who} (shown once, keep it safe):", err=True)
    typer.echo(token)


@token_cli.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id (see kepu token list).")]) -> None:
    """Revoke a token at once: its writes and its page sign-ins stop working."""
    engine = _migrated_engine()
    try:
        with unit_of_work(engine) as session:
            row = tokens.revoke_token(session, token_id)
            typer.echo(f"revoked token {token_id} ({row.department or 'office'}, {row.prefix}…)")
    except AppError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


@token_cli.command("list")
def token_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List tokens (never the tokens themselves): id, unit, prefix, created, revoked."""
    engine = _migrated_engine()
    with Session(engine) as session:
        rows = tokens.list_tokens(session)
    engine.dispose()
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        state = f"revoked {r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "active"
        typer.echo(f"{r.id}\t{r.department or 'office'}\t{r.prefix}…\t{r.created_at:%Y-%m-%d %H:%M}\t{state}")


@cli.command("audit")
def audit_(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many entries, newest first.")] = 50,
    actor: Annotated[str | None, typer.Option(help="Only this actor (a unit, office or cli).")] = None,
    action: Annotated[AuditAction | None, typer.Option(help="Only this action.")] = None,
) -> None:
    """Print the audit trail as JSON lines, newest first."""
    engine = _migrated_engine()
    with Session(engine) as session:
        page = audit.list_entries(session, Window(limit=limit, offset=0), actor=actor, action=action)
    engine.dispose()
    for entry in page.items:
        typer.echo(entry.model_dump_json())


def _migrated_engine() -> Engine:
    settings = get_settings()
    upgrade(settings.resolved_database_url)
    return engine_for(settings)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
