"""The tracking tables arrive by migration from 0001, keeping what a 0001 store holds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from app.db import make_engine
from app.migrate import head_revision, upgrade
from app.parser import ParsedNotice

from .conftest import seed_at_revision


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_upgrade_from_0001_with_the_seed_keeps_the_data(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, notice: ParsedNotice
) -> None:
    if backend == "postgres":
        url = request.getfixturevalue("postgres").new_database()
    else:
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    seed_at_revision(url, "0001", notice, tmp_path)
    engine = make_engine(url)
    try:
        assert "progressreport" not in inspect(engine).get_table_names()
        upgrade(url)
        inspector = inspect(engine)
        assert {"progressreport", "unittoken", "auditentry"} <= set(inspector.get_table_names())
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM task")).scalar_one() == 67
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision()
            # The new table takes a report on an old task.
            conn.execute(
                text(
                    "INSERT INTO progressreport (task_id, department, status, note, reported_on, author, created_at)"
                    " VALUES (9, '教育部', 'in_progress', '已启动', :day, '教育部', :now)"
                ),
                {"day": dt.date(2023, 5, 1), "now": dt.datetime.now(dt.UTC)},
            )
            assert conn.execute(text("SELECT count(*) FROM progressreport WHERE task_id = 9")).scalar_one() == 1
    finally:
        engine.dispose()
