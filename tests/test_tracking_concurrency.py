"""Many writers at once lose nothing; a stale version loses cleanly; a crash between the store write and the
index update leaves the store right and the index repaired at the next start."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app import models as m
from app import schemas as s
from app.config import Settings
from app.db import unit_of_work
from app.domain.departments import load_directory
from app.domain.vocabulary import TaskStatus
from app.errors import PreconditionFailed
from app.main import create_app
from app.parser import ParsedNotice
from app.services import reports, tokens
from app.services.audit import Origin
from app.services.importer import import_notice

from .conftest import ROOT, SEED

WRITERS = 8
REPORTS = 24


@pytest.fixture
def store(engine: Engine, notice: ParsedNotice) -> Engine:
    """A fresh seeded store (file SQLite or PostgreSQL: real concurrent connections)."""
    with unit_of_work(engine) as session:
        import_notice(session, notice, source_name=SEED.name)
    return engine


def _principal(engine: Engine, unit: str) -> tokens.Principal:
    with unit_of_work(engine) as session:
        _, token = tokens.create_token(session, load_directory(), unit)
    with Session(engine) as session:
        return tokens.authenticate(session, token)


def _report(n: int) -> s.ReportCreate:
    return s.ReportCreate(status=TaskStatus.IN_PROGRESS, note=f"第{n}次进展", reported_on=dt.date(2023, 6, 1))


def _count(engine: Engine, model: type[m.ProgressReport] | type[m.AuditEntry]) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_concurrent_reports_on_one_task_are_all_kept(store: Engine) -> None:
    moe = _principal(store, "教育部")
    directory = load_directory()

    def write(n: int) -> int:
        done = reports.create_report(
            store, directory, principal=moe, task_id=9, data=_report(n), origin=Origin("127.0.0.1", f"r{n}")
        )
        return done.id

    with ThreadPoolExecutor(WRITERS) as pool:
        ids = list(pool.map(write, range(REPORTS)))
    assert len(set(ids)) == REPORTS
    assert _count(store, m.ProgressReport) == REPORTS
    assert _count(store, m.AuditEntry) == REPORTS + 1  # and the token's creation
    with Session(store) as session:
        notes = set(session.exec(select(m.ProgressReport.note)).all())
    assert notes == {f"第{n}次进展" for n in range(REPORTS)}


def test_concurrent_writers_with_one_version_only_one_wins(store: Engine) -> None:
    moe = _principal(store, "教育部")
    directory = load_directory()
    with Session(store) as session:
        from app.services.progress import task_etag

        etag = task_etag(session, 9)

    def write(n: int) -> str:
        try:
            reports.create_report(
                store, directory, principal=moe, task_id=9, data=_report(n), origin=Origin(), if_match=etag
            )
        except PreconditionFailed:
            return "412"
        return "201"

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = list(pool.map(write, range(WRITERS)))
    assert sorted(outcomes) == ["201"] + ["412"] * (WRITERS - 1)
    assert _count(store, m.ProgressReport) == 1


CRASHING_WRITER = textwrap.dedent(
    """
    import datetime as dt, os, sys
    from sqlmodel import Session
    from app import schemas as s
    from app.db import make_engine
    from app.domain.departments import load_directory
    from app.domain.vocabulary import TaskStatus
    from app.services import reports, tokens
    from app.services.audit import Origin

    engine = make_engine(sys.argv[1])
    with Session(engine) as session:
        principal = tokens.authenticate(session, sys.argv[2])
    data = s.ReportCreate(status=TaskStatus.DONE, note="蛟龙号科普展览已闭幕", reported_on=dt.date(2023, 7, 1))
    # Killed right after the commit, before the index hears of it.
    reports.create_report(engine, load_directory(), principal=principal, task_id=9, data=data,
                          origin=Origin(), publish=lambda written, replaced: os._exit(9))
    """
)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_killed_between_store_and_index_the_next_start_repairs_the_index(
    store: Engine, tmp_path: Path, seeded_index: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(seeded_index, data)
    url = str(store.url)
    with unit_of_work(store) as session:
        _, token = tokens.create_token(session, load_directory(), "教育部")
    killed = subprocess.run(
        [sys.executable, "-c", CRASHING_WRITER, url, token], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert killed.returncode == 9, killed.stderr[-2000:]
    assert _count(store, m.ProgressReport) == 1 and _count(store, m.AuditEntry) == 2  # the store is right
    with TestClient(create_app(Settings(KEPU_DATA_DIR=data), engine=store)) as client:  # the next start
        found = client.get("/api/v1/search", params={"q": "蛟龙号", "kind": "report"}).json()
        assert found["total"] == 1 and found["items"][0]["task"]["id"] == 9
        assert client.get("/api/v1/tasks/9").json()["status"] == "done"


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_another_replica_finds_the_report_within_its_sync_interval(
    store: Engine, tmp_path: Path, seeded_index: Path
) -> None:
    # Two replicas over one store, each with its own index folder: A takes the write, B catches up at its sync.
    for name in ("a", "b"):
        shutil.copytree(seeded_index, tmp_path / name)
    with unit_of_work(store) as session:
        _, token = tokens.create_token(session, load_directory(), "教育部")

    def replica(name: str) -> TestClient:
        settings = Settings(KEPU_DATA_DIR=tmp_path / name, KEPU_INDEX_SYNC_SECONDS=0.2)
        return TestClient(create_app(settings, engine=store))

    query = {"q": "天宫课堂", "kind": "report"}
    with replica("a") as a, replica("b") as b:
        assert b.get("/api/v1/search", params=query).json()["total"] == 0
        body = {"status": "in_progress", "note": "组织收看天宫课堂直播", "reported_on": "2023-05-01"}
        assert (
            a.post("/api/v1/tasks/9/reports", json=body, headers={"Authorization": f"Bearer {token}"}).status_code
            == 201
        )
        assert a.get("/api/v1/search", params=query).json()["total"] == 1  # at once where it was written
        deadline = time.monotonic() + 30
        while b.get("/api/v1/search", params=query).json()["total"] == 0:
            assert time.monotonic() < deadline, "replica b never caught up"
            time.sleep(0.2)
