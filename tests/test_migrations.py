"""Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.db import unit_of_work
from app.migrate import alembic_config, upgrade
from app.parser import ParsedNotice
from app.services.importer import import_notice


def test_upgrade_head_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diffs == []


def test_upgrade_head_creates_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_down_to_the_first_version_and_back_keeps_the_ledger(engine: Engine, notice: ParsedNotice) -> None:
    """On SQLite, batch migrations rebuild tables by copy-drop-rename: with foreign keys on,
    dropping a parent table cascaded to every task (0003's downgrade emptied the ledger)."""
    with unit_of_work(engine) as session:
        import_notice(session, notice)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    command.downgrade(alembic_config(url), "0001")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM task")).scalar_one() == len(notice.tasks)
    upgrade(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM task")).scalar_one() == len(notice.tasks)
        assert conn.execute(text("SELECT count(*) FROM keypoint")).scalar_one() == len(notice.key_points)
