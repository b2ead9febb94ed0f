"""Each test builds its own world: a migrated store per backend, a new app over it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, create_engine, select, text

from app.config import Settings
from app.db import make_engine, unit_of_work
from app.main import create_app
from app.migrate import upgrade
from app.parser import ParsedNotice, parse_notice_bytes
from app.search.index import SearchIndex
from app.services.importer import import_notice
from app.services.indexing import StoreRecords

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seed" / "2023-work-points.txt"
POSTGRES_URL = os.environ.get("KEPU_TEST_POSTGRES_URL", "")
# Databases made for a run are named <prefix><random>; several checkouts can share one server.
POSTGRES_DB_PREFIX = os.environ.get("KEPU_TEST_POSTGRES_DB_PREFIX", "kepu_test_")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def seed_bytes() -> bytes:
    """The seed notice as shipped."""
    return SEED.read_bytes()


@pytest.fixture(scope="session")
def seed_text(seed_bytes: bytes) -> str:
    """The seed notice as text."""
    return seed_bytes.decode("utf-8")


@pytest.fixture(scope="session")
def notice(seed_bytes: bytes) -> ParsedNotice:
    """The seed, parsed once."""
    return parse_notice_bytes(seed_bytes)


class PostgresServer:
    """Creates a database per test run on the configured server, drops it afterwards."""

    def __init__(self, url: str) -> None:
        self.admin = create_engine(_psycopg(url), isolation_level="AUTOCOMMIT")
        self.url = url
        self.created: list[str] = []

    def new_database(self) -> str:
        name = f"{POSTGRES_DB_PREFIX}{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        base = _psycopg(self.url).rsplit("/", 1)[0]
        return f"{base}/{name}"

    def close(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The PostgreSQL server named by KEPU_TEST_POSTGRES_URL, or a skip saying how to enable it."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need KEPU_TEST_POSTGRES_URL (CI sets postgresql://postgres@127.0.0.1:5432/test)")
    server = PostgresServer(POSTGRES_URL)
    yield server
    server.close()


def _migrated_engine(request: pytest.FixtureRequest, backend: str, tmp: Path) -> Engine:
    if backend == "postgres":
        url = request.getfixturevalue("postgres").new_database()
    else:
        url = f"sqlite:///{tmp / 'kepu.sqlite3'}"
    upgrade(url)
    return make_engine(url)


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, migrated, empty store on each backend."""
    eng = _migrated_engine(request, request.param, tmp_path)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def seeded_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, notice: ParsedNotice
) -> Iterator[Engine]:
    """A store holding the seed, shared by read-only tests."""
    eng = _migrated_engine(request, request.param, tmp_path_factory.mktemp("seeded"))
    with unit_of_work(eng) as session:
        import_notice(session, notice, source_name=SEED.name)
    yield eng
    eng.dispose()


@pytest.fixture
def store(engine: Engine, notice: ParsedNotice) -> Engine:
    """A fresh store holding the seed, for tests that write to it."""
    with unit_of_work(engine) as session:
        import_notice(session, notice, source_name=SEED.name)
    return engine


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing into a temporary data directory."""
    return Settings(KEPU_DATA_DIR=tmp_path / "data")


@pytest.fixture(scope="session")
def seeded_data_dir(seeded_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose search index is built once from the seeded store; apps then only open it."""
    data = tmp_path_factory.mktemp("app-data")
    settings = Settings(KEPU_DATA_DIR=data)
    SearchIndex(settings.resolved_index_dir, cache_dir=data / "cache").open(StoreRecords(seeded_engine)).close()
    return data


@pytest.fixture
def client(seeded_engine: Engine, seeded_data_dir: Path) -> Iterator[TestClient]:
    """A new app over the seeded store for each test: its own result cache, metrics and searcher."""
    app = create_app(Settings(KEPU_DATA_DIR=seeded_data_dir), engine=seeded_engine)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def seeded_index(tmp_path_factory: pytest.TempPathFactory, notice: ParsedNotice) -> Path:
    """A data folder with an index of a freshly seeded store, built once; copy it beside another fresh seeded store
    (same ids, generation and content: the index matches it, so opening it costs no rebuild)."""
    data = tmp_path_factory.mktemp("tracking-index")
    url = f"sqlite:///{data / 'build.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        import_notice(session, notice, source_name=SEED.name)
    settings = Settings(KEPU_DATA_DIR=data)
    SearchIndex(settings.resolved_index_dir, cache_dir=data / "cache").open(StoreRecords(engine)).close()
    engine.dispose()
    (data / "build.sqlite3").unlink()
    for extra in data.glob("build.sqlite3-*"):
        extra.unlink()
    return data


def seed_at_revision(url: str, revision: str, notice: ParsedNotice, scratch: Path) -> None:
    """Migrate `url` to an older `revision` and fill it with `notice` as that revision stored it.

    Today's importer writes today's columns, so the notice is imported into a scratch store at
    head and its rows copied, column by column where the old tables have them, in foreign-key order.
    """
    head_url = f"sqlite:///{scratch / 'head.sqlite3'}"
    upgrade(head_url)
    head = make_engine(head_url)
    with unit_of_work(head) as session:
        import_notice(session, notice, source_name=SEED.name)
    upgrade(url, revision)
    old = make_engine(url)
    old_tables, new_tables = MetaData(), MetaData()
    old_tables.reflect(old)
    new_tables.reflect(head)
    try:
        with head.connect() as source, old.begin() as target:
            for table in old_tables.sorted_tables:
                if table.name == "alembic_version" or table.name not in new_tables.tables:
                    continue
                columns = [c.name for c in table.columns if c.name in new_tables.tables[table.name].columns]
                rows = [
                    dict(r._mapping)
                    for r in source.execute(select(*(new_tables.tables[table.name].c[c] for c in columns)))
                ]
                if rows:
                    target.execute(table.insert(), rows)
            if target.dialect.name == "postgresql":  # ids were given explicitly: move the sequences past them
                for table in old_tables.sorted_tables:
                    if "id" in table.columns and table.c.id.autoincrement is not False and table.c.id.primary_key:
                        target.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                            )
                        )
    finally:
        head.dispose()
        old.dispose()
