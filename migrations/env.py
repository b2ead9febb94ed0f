"""Alembic environment: URL from Settings (or the caller), metadata from app.models."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from app.config import get_settings
from app.db import for_writing, make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    """Emit SQL without a connection."""
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over a live connection (a caller may hand one in via attributes)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # Batch mode rebuilds a SQLite table by copy, drop and rename; with foreign keys on,
    # dropping `document` would cascade to every task. Off for the migration (set as each
    # connection opens: SQLite ignores the pragma inside a transaction), then checked.
    engine = make_engine(url, foreign_keys=False)
    with for_writing(engine).connect() as conn:
        _run(conn)
        if conn.dialect.name == "sqlite":
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows without their parents: {broken[:5]}")
        conn.commit()
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
