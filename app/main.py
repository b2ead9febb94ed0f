"""The application: create_app() wires settings, lifespan, routers and error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from app.config import Settings, get_settings
from app.db import make_engine
from app.errors import install_error_handlers
from app.parser.departments import load_directory
from app.routers import activities, departments, documents, health, key_points, search, tasks
from app.search.index import SearchIndex
from app.services.search import SearchService

DESCRIPTION = """
全民科学素质行动工作要点与重点工作任务台账的查询与中文全文检索服务。

Work key points and task ledgers of China's national science-literacy action, as JSON:
documents, sections, key points, ledger tasks with their lead (牵头) and participating (参与)
member units, activities, cited documents and target groups. Every error is
`application/problem+json` with `type`, `title`, `status` and `detail`.
"""


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """A configured application; pass an engine to share one (tests do)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = engine is None
        app.state.engine = engine or make_engine(settings.resolved_database_url)
        # Loads jieba and its dictionary before the first request, and checks the index
        # against the store (rebuilding it if missing, stale or damaged).
        index = SearchIndex(settings.resolved_index_dir, cache_dir=settings.data_dir / "cache").open(app.state.engine)
        app.state.search = SearchService(
            index, app.state.engine, load_directory(),
            max_query_chars=settings.max_query_chars, cache_size=settings.search_cache_size,
        )
        try:
            yield
        finally:
            index.close()
            if owned:
                app.state.engine.dispose()

    app = FastAPI(
        title="kepu-ledger",
        version="0.1.0",
        summary="科学素质工作要点与任务台账 · Science-literacy work points and task ledger",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    logging.basicConfig(level=settings.log_level)
    install_error_handlers(app)
    for module in (search, documents, key_points, tasks, departments, activities, health):
        app.include_router(module.router)
    return app
