"""Replicas on one store: every write is logged with its change, replicas catch up from the log (issue 10)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import Engine, func, inspect, text
from sqlmodel import Session, col, select

from app import models as m
from app.db import make_engine, unit_of_work
from app.domain.departments import load_directory
from app.errors import DocumentConflict
from app.migrate import alembic_config, upgrade
from app.parser import parse_notice
from app.search.index import SearchIndex
from app.services import indexing
from app.services.catalogue import Window
from app.services.importer import import_notice
from app.services.indexing import StoreRecords, read_store_version, record_changes
from app.services.search import SearchFilters, SearchService

from .conftest import SEED
from .live import KEPU, free_port, serving

QUERIES = [
    "科幻",
    "科协 科幻",
    '"全国科普日"',
    "气象",
    "老年人",
    "科普 OR 科技",
    "教育部牵头",
    "2024年 科普日",
    "青少年",
]
CHANGED_UNITS = ("(中央宣传部、中国科协)", "(中央宣传部、中国科协、教育部)")


def _changed(seed_text: str) -> str:
    """The seed with one task's unit list changed (task 6 gains 教育部): a --replace."""
    assert CHANGED_UNITS[0] in seed_text
    return seed_text.replace(*CHANGED_UNITS, 1)


def _next_edition(seed_text: str) -> str:
    """Another edition (2024) naming the same activities: a new document sharing records' names."""
    return seed_text.replace("2023年全民", "2024年全民")


def _log(engine: Engine) -> list[tuple[int | None, str | None]]:
    with Session(engine) as session:
        rows = session.exec(select(m.ChangeLog).order_by(col(m.ChangeLog.seq))).all()
    return [(r.document_id, r.record) for r in rows]


def _stored(index: SearchIndex) -> dict[str, dict[str, Any]]:
    """Every record the index holds, by uid; a uid held twice fails."""
    held: dict[str, dict[str, Any]] = {}
    with index.reading() as searcher:
        for fields in searcher.all_stored_fields():
            assert fields["uid"] not in held, f"{fields['uid']} is indexed twice"
            held[fields["uid"]] = fields
    return held


def _answers(service: SearchService) -> list[tuple[str, int, dict[str, dict[str, int]], list[tuple[str, int]]]]:
    window = Window(limit=200, offset=0)
    answers = []
    for q in QUERIES:
        response = service.search(q, SearchFilters(), window)
        items = [(str(item.kind), item.id) for item in response.items]
        assert len(items) == len(set(items)), f"{q}: a record came back twice"
        answers.append((q, response.total, response.facets, sorted(items)))
    return answers


@pytest.fixture
def replica(store: Engine, tmp_path: Path) -> Iterator[SearchIndex]:
    """A replica's index over the store, in its own folder."""
    index = SearchIndex(tmp_path / "replica", cache_dir=tmp_path / "cache").open(StoreRecords(store))
    yield index
    index.close()


class TestChangeLog:
    def test_an_import_logs_its_document_in_the_same_transaction(self, store: Engine, seed_text: str) -> None:
        assert _log(store) == [(1, None)]
        before = read_store_version(store)
        with pytest.raises(DocumentConflict), unit_of_work(store) as session:
            import_notice(session, parse_notice(_changed(seed_text)))
        # Refused, rolled back: neither an entry nor a generation.
        assert _log(store) == [(1, None)]
        assert read_store_version(store) == before

    def test_a_replace_logs_the_old_and_the_new_document(self, store: Engine, seed_text: str) -> None:
        with unit_of_work(store) as session:
            result = import_notice(session, parse_notice(_changed(seed_text)), replace=True)
        assert (result.status, result.replaced_id) == ("replaced", 1)
        assert _log(store) == [(1, None), (1, None), (result.document_id, None)]
        version = read_store_version(store)
        assert version.position == 3

    def test_a_record_change_is_logged_by_uid_and_moves_the_generation(self, store: Engine) -> None:
        before = read_store_version(store)
        with unit_of_work(store) as session:
            assert record_changes(session, records=["task:5"]) == before.generation + 1
        after = read_store_version(store)
        assert _log(store)[-1] == (None, "task:5")
        assert (after.generation, after.position) == (before.generation + 1, before.position + 1)

    def test_a_change_naming_nothing_makes_replicas_rebuild(self, store: Engine) -> None:
        with unit_of_work(store) as session:
            record_changes(session)
        assert _log(store)[-1] == (None, None)
        with Session(store) as session:
            assert indexing.read_changes(session, 1, 2) is None
            assert indexing.read_changes(session, 0, 1) is not None

    def test_the_log_is_trimmed_and_says_how_far(self, store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(indexing, "CHANGE_LOG_KEEP", 2)
        for n in range(1, 5):
            with unit_of_work(store) as session:
                record_changes(session, records=[f"task:{n}"])
        assert _log(store) == [(None, "task:3"), (None, "task:4")]  # seq 4 and 5 kept
        with Session(store) as session:
            assert session.exec(select(m.StoreState.trimmed_through)).one() == 3
            assert indexing.read_changes(session, 2, 5) is None  # entry 3 is gone: rebuild
            changes = indexing.read_changes(session, 3, 5)
        assert changes is not None and changes.records == {"task:3", "task:4"}


class TestCatchUp:
    def test_a_write_is_applied_without_a_rebuild(self, replica: SearchIndex, store: Engine, seed_text: str) -> None:
        rebuilds = replica.rebuilds
        with unit_of_work(store) as session:
            result = import_notice(session, parse_notice(_changed(seed_text)), replace=True)
        assert replica.sync(StoreRecords(store), force=True) is True
        assert (replica.rebuilds, replica.catch_ups) == (rebuilds, 1)
        held = _stored(replica)
        assert len(held) == read_store_version(store).records
        task_6 = next(f for f in held.values() if f["kind"] == "task" and f["number"] == 6)
        assert task_6["department"] == "中央宣传部,中国科协,教育部"
        assert {f["document"] for f in held.values()} == {str(result.document_id)}
        assert replica.sync(StoreRecords(store), force=True) is False

    def test_one_record_changed_in_place(self, replica: SearchIndex, store: Engine) -> None:
        with unit_of_work(store) as session:
            task = session.exec(select(m.Task).where(col(m.Task.number) == 6)).one()
            task.body = task.body.replace("科幻电影创作", "航天电影创作")
            session.add(task)
            uid = f"task:{task.id}"
            record_changes(session, records=[uid])
        assert replica.sync(StoreRecords(store), force=True) is True
        assert replica.catch_ups == 1
        assert "航天电影创作" in _stored(replica)[uid]["title"]

    def test_a_trimmed_position_rebuilds(
        self, replica: SearchIndex, store: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(indexing, "CHANGE_LOG_KEEP", 1)
        rebuilds = replica.rebuilds
        for n in (1, 2):
            with unit_of_work(store) as session:
                record_changes(session, records=[f"task:{n}"])
        replica.sync(StoreRecords(store), force=True)
        assert (replica.rebuilds, replica.catch_ups) == (rebuilds + 1, 0)

    def test_new_dictionary_names_rebuild(self, replica: SearchIndex, store: Engine) -> None:
        rebuilds = replica.rebuilds
        notice = parse_notice(
            "2024年某省科学素质工作要点\n一、甲\n1.举办航天科普周。内容。\n附件\n1.举办航天科普周。(中国科协)\n"
        )
        with unit_of_work(store) as session:
            import_notice(session, notice)
        replica.sync(StoreRecords(store), force=True)
        assert (replica.rebuilds, replica.catch_ups) == (rebuilds + 1, 0)
        assert len(_stored(replica)) == read_store_version(store).records

    def test_incremental_equals_a_full_rebuild_query_by_query(
        self, replica: SearchIndex, store: Engine, seed_text: str, tmp_path: Path
    ) -> None:
        source = StoreRecords(store)
        directory = load_directory()

        def service(index: SearchIndex) -> SearchService:
            return SearchService(index, store, directory, max_query_chars=200, cache_size=0, sync_seconds=3600)

        def edit_task_6(session: Session) -> None:
            task = session.exec(select(m.Task).where(col(m.Task.number) == 6).order_by(col(m.Task.id))).first()
            assert task is not None
            task.body += "推动老年人科普。"
            session.add(task)
            record_changes(session, records=[f"task:{task.id}"])

        writes: list[Callable[[Session], object]] = [
            lambda s: import_notice(s, parse_notice(_changed(seed_text)), replace=True),
            lambda s: import_notice(s, parse_notice(_next_edition(seed_text))),  # shares every activity
            edit_task_6,
            lambda s: import_notice(s, parse_notice(seed_text), replace=True),  # back, under a new id
        ]
        for step, write in enumerate(writes, start=1):
            with unit_of_work(store) as session:
                write(session)
            replica.sync(source, force=True)
            assert (replica.catch_ups, replica.rebuilds) == (step, 1), "caught up, never rebuilt"
            full = SearchIndex(tmp_path / f"full-{step}", cache_dir=tmp_path / "cache").open(source)
            try:
                assert full.rebuilds == 1
                assert _stored(replica) == _stored(full), f"after write {step}"
                assert _answers(service(replica)) == _answers(service(full)), f"after write {step}"
            finally:
                full.close()


def test_upgrade_to_the_change_log_keeps_the_data(store: Engine, tmp_path: Path) -> None:
    """A store one revision before the change log (the seed imported) migrates to head with its data; the first
    write is logged. (0001 when written; the merge re-chained 0004 after 0003, whose own downgrade is not tested here.)"""
    url = store.url.render_as_string(hide_password=False)
    with Session(store) as session:
        before = session.exec(select(func.count()).select_from(m.Task)).one()
    command.downgrade(alembic_config(url), "-1")
    assert "changelog" not in inspect(store).get_table_names()  # really one revision back
    with store.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM task")).scalar_one() == before
    store.dispose()
    upgrade(url)
    with Session(store) as session:
        assert session.exec(select(func.count()).select_from(m.Task)).one() == before
        assert session.exec(select(m.StoreState.trimmed_through)).one() == 0
    assert _log(store) == []
    index = SearchIndex(tmp_path / "index", cache_dir=tmp_path / "cache").open(StoreRecords(store))
    try:
        with unit_of_work(store) as session:
            record_changes(session, records=["task:1"])
        assert _log(store) == [(None, "task:1")]
        index.sync(StoreRecords(store), force=True)
        assert len(_stored(index)) == read_store_version(store).records
    finally:
        index.close()


# --- two serving processes on one store ---------------------------------------------


def _totals(base: str) -> dict[str, int]:
    """Search totals per query, failing on a record answered twice."""
    totals = {}
    with httpx.Client(base_url=base, timeout=20) as client:
        for q in QUERIES:
            response = client.get("/api/v1/search", params={"q": q, "limit": 200})
            assert response.status_code == 200, response.text
            body = response.json()
            items = [(item["kind"], item["id"]) for item in body["items"]]
            assert len(items) == len(set(items)), f"{q}: a record came back twice"
            totals[q] = body["total"]
    return totals


def _seen(base: str, params: dict[str, str]) -> bool:
    response = httpx.get(f"{base}/api/v1/search", params=params, timeout=20)
    assert response.status_code == 200, response.text
    return int(response.json()["total"]) > 0


def _index_records(base: str) -> int:
    metrics = httpx.get(f"{base}/metrics", timeout=20).text
    line = next(x for x in metrics.splitlines() if x.startswith("kepu_index_documents"))
    return int(float(line.split()[-1]))


def _store_records(url: str) -> int:
    engine = make_engine(url)
    try:
        return read_store_version(engine).records
    finally:
        engine.dispose()


def _port(offset: int) -> int:
    base = int(os.environ.get("KEPU_TEST_PORT_BASE", "0"))
    return base + offset if base else free_port()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_replicas_on_one_store_answer_alike_after_each_write(
    backend: str, tmp_path: Path, seed_text: str, request: pytest.FixtureRequest
) -> None:
    """Write through one replica's folder (kepu import, --replace); the other follows within the sync interval.

    On PostgreSQL the interval is long (60 s): only the write's NOTIFY can wake the replica in time.
    """
    url = f"sqlite:///{tmp_path / 'kepu.sqlite3'}"
    if backend == "postgres":
        url = request.getfixturevalue("postgres").new_database()
    interval = "60" if backend == "postgres" else "0.5"
    env = {**os.environ, "KEPU_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": url}
    env |= {"KEPU_INDEX_SYNC_SECONDS": interval}
    a_env = {**env, "KEPU_INDEX_DIR": str(tmp_path / "index-a")}
    b_env = {**env, "KEPU_INDEX_DIR": str(tmp_path / "index-b")}
    subprocess.run([*KEPU, "import", str(SEED)], env=a_env, check=True, capture_output=True, timeout=180)
    changed, edition = tmp_path / "changed.txt", tmp_path / "2024.txt"
    changed.write_text(_changed(seed_text), "utf-8")
    edition.write_text(_next_edition(seed_text), "utf-8")

    with (
        serving(a_env, tmp_path / "a.log", port=_port(0)) as a,
        serving(b_env, tmp_path / "b.log", port=_port(1)) as b,
    ):
        assert _totals(a) == _totals(b)
        writes = [
            # task 6 gains 教育部: found under that unit once the replace is seen
            (["--replace", str(changed)], {"q": "科幻", "department": "教育部"}),
            ([str(edition)], {"q": "2024年 科普日"}),
        ]
        for args, probe in writes:
            done = subprocess.run([*KEPU, "import", *args], env=a_env, capture_output=True, text=True, timeout=180)
            assert done.returncode == 0, done.stderr
            deadline = time.monotonic() + 15
            while not (_seen(a, probe) and _seen(b, probe)):
                assert time.monotonic() < deadline, f"{args} not visible on both replicas within 15 s"
                time.sleep(0.2)
            assert _totals(a) == _totals(b), f"after import {args}"
            assert _index_records(a) == _index_records(b) == _store_records(url)
    log_b = (tmp_path / "b.log").read_text()
    assert "index caught up" in log_b and log_b.count("index rebuilt") <= 1, log_b[-3000:]
