"""The application: create_app() wires settings, lifespan, routers and error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware.trustedhost import TrustedHostMiddleware

from app import docs_pages
from app.config import Settings, get_settings
from app.db import engine_for
from app.domain.departments import load_directory
from app.errors import install_error_handlers
from app.middleware import HeadAsGet, SecurityHeaders
from app.observability import Metrics, RequestContextMiddleware, configure_logging
from app.openapi import install_openapi
from app.routers import (
    activities,
    departments,
    documents,
    health,
    key_points,
    pages,
    reports,
    search,
    tasks,
    tracking,
    tracking_pages,
)
from app.search.housekeeping import remove_abandoned_builds
from app.search.index import SearchIndex
from app.services.attempts import FailureLimiter
from app.services.indexing import ChangeListener, StoreRecords
from app.services.search import SearchService
from app.services.stats import last_import_time
from app.web import views

log = logging.getLogger(__name__)

DESCRIPTION = """
全民科学素质行动工作要点与重点工作任务台账的查询与中文全文检索服务。

Work key points and task ledgers of China's national science-literacy action, as JSON:
documents, sections, key points, ledger tasks with their lead (牵头) and participating (参与)
member units, activities, cited documents and target groups. Every error is
`application/problem+json` with `type`, `title`, `status` and `detail`.
"""


TAGS = [
    {"name": "search", "description": "全文检索与输入提示 · Full-text search and suggestions for a search box."},
    {"name": "tasks", "description": "重点工作任务台账 · Ledger tasks with their lead and participating units."},
    {"name": "key points", "description": "工作要点 · Key points with sub-paragraphs and the tasks traced to them."},
    {"name": "departments", "description": "成员单位 · Member units under any of their names, with task counts."},
    {"name": "activities", "description": "活动 · Named events, campaigns, programmes, competitions and observances."},
    {"name": "documents", "description": "通知 · The imported notices and their metadata."},
    {"name": "tracking", "description": "进展填报 · Progress reports, the overview, the audit trail, exports."},
    {"name": "health", "description": "运行状态 · Liveness, readiness and Prometheus metrics."},
]


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """A configured application; pass an engine to share one (tests do)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = engine is None
        app.state.engine = engine or engine_for(settings)
        # Loads jieba and its dictionary before the first request, and checks the index
        # against the store (rebuilding it if missing, stale or damaged).
        index = SearchIndex(settings.resolved_index_dir, cache_dir=settings.data_dir / "cache").open(
            StoreRecords(app.state.engine)
        )
        remove_abandoned_builds(index)
        app.state.search = SearchService(
            index,
            app.state.engine,
            load_directory(),
            max_query_chars=settings.max_query_chars,
            cache_size=settings.search_cache_size,
            sync_seconds=settings.index_sync_seconds,
        )
        # Catch up with other processes' writes off the request path; on PostgreSQL a write's
        # NOTIFY wakes the index at once, polling every KEPU_INDEX_SYNC_SECONDS backs it up.
        index.follow(StoreRecords(app.state.engine), every=settings.index_sync_seconds)
        listener = (
            ChangeListener(app.state.engine, index.wake).start()
            if app.state.engine.dialect.name == "postgresql"
            else None
        )
        try:
            yield
        finally:
            if listener is not None:
                listener.stop()
            index.close()
            if owned:
                app.state.engine.dispose()

    # Swagger UI 5 and ReDoc served from the package, not a CDN: isolated networks see docs too.
    app = FastAPIOffline(
        title="kepu-ledger",
        version="0.1.0",
        summary="科学素质工作要点与任务台账 · Science-literacy work points and task ledger",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        redoc_url=None,  # app.docs_pages serves ReDoc without its CDN logo
    )
    app.state.settings = settings
    app.state.auth_limiter = FailureLimiter(settings.auth_failure_limit, settings.auth_failure_window_seconds)
    configure_logging(settings.log_level)
    install_error_handlers(app, views.error_page)
    install_openapi(app)
    app.state.metrics = Metrics(lambda: _gauges(app))
    # Added innermost first: the request-id/logging/metrics middleware is the outermost, so
    # that CORS preflights and rejected Host headers are logged and counted too.
    app.add_middleware(HeadAsGet)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID"],
        )
    if settings.trusted_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts, www_redirect=False)
    app.add_middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors, public_url=settings.public_url)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    # tracking before tasks: /api/v1/tasks/export must not be read as a task id.
    routers = (search, documents, key_points, tracking, tasks, reports, departments, activities, health, pages)
    for module in (*routers, tracking_pages, docs_pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=views.STATIC_DIR), name="static")
    return app


def _gauges(app: FastAPI) -> dict[str, float]:
    search_service = getattr(app.state, "search", None)
    values: dict[str, float] = {}
    if search_service is not None:
        values["index_documents"] = search_service.index.record_count()
        try:
            imported = last_import_time(app.state.engine)
        except SQLAlchemyError as exc:  # the store is down: scrape what this process knows
            log.warning("metrics: last import time skipped, the store did not answer (%s)", type(exc).__name__)
            imported = None
        if imported is not None:
            values["last_import"] = imported.timestamp()
    return values
