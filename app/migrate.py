"""Run Alembic migrations from code (used by the CLI, the service start and the tests).

The scripts and alembic.ini are package data of app.migrations (the top-level
migrations/ folder in a checkout), found through importlib.resources, so an installed
wheel migrates as well as a checkout does.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory


def migrations_dir() -> Path:
    """Where the migration scripts are installed."""
    location = resources.files("app.migrations")
    if not isinstance(location, Path):  # a zipped install: Alembic needs real files
        raise RuntimeError(f"kepu's migrations must be installed as files, not inside {location}")
    return location


def alembic_config(url: str) -> Config:
    """Alembic config pointing at our migrations and `url`."""
    location = migrations_dir()
    config = Config(str(location / "alembic.ini"))
    config.set_main_option("script_location", str(location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`."""
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head
