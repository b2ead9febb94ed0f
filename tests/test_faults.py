"""Failures degrade cleanly: a store that is down or silent, a damaged index, an interrupted reindex.

The store's failures are made by a TCP proxy in front of PostgreSQL (tests/faults.py) that
refuses, or accepts and stays silent, while the service runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import make_engine, unit_of_work
from app.errors import PROBLEM_JSON
from app.main import create_app
from app.migrate import upgrade
from app.parser import ParsedNotice
from app.services.importer import import_notice

from .conftest import SEED, PostgresServer
from .faults import FaultyProxy
from .live import KEPU, free_port, serving

# The tracking pages warn on stderr without a secret; these tests read stderr line by line.
QUIET = {"KEPU_SECRET_KEY": "x" * 40}
TIMEOUTS = {"KEPU_DB_CONNECT_TIMEOUT": "2", "KEPU_DB_POOL_TIMEOUT": "2", "KEPU_DB_STATEMENT_TIMEOUT": "2"}


@pytest.fixture
def seeded_postgres_url(postgres: PostgresServer, notice: ParsedNotice) -> str:
    """A new PostgreSQL database holding the seed."""
    url = postgres.new_database()
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        import_notice(session, notice, source_name=SEED.name)
    engine.dispose()
    return url


@pytest.fixture
def proxy(seeded_postgres_url: str) -> Iterator[FaultyProxy]:
    """The seeded database behind a proxy that can be made to fail."""
    faulty = FaultyProxy(seeded_postgres_url)
    yield faulty
    faulty.close()


@pytest.mark.postgres
class TestStoreDown:
    @pytest.fixture
    def client(self, proxy: FaultyProxy, tmp_path: Path) -> Iterator[TestClient]:
        settings = Settings(KEPU_DATA_DIR=tmp_path / "data", **TIMEOUTS)  # type: ignore[arg-type]
        engine = make_engine(proxy.url, connect_timeout=2, pool_timeout=2, statement_timeout=2)
        with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as client:
            assert client.get("/api/v1/search", params={"q": "科幻"}).status_code == 200  # warm
            proxy.set_mode("refuse")
            yield client
        engine.dispose()

    def test_data_endpoints_answer_503_problem_json(self, client: TestClient) -> None:
        for path in ("/api/v1/tasks", "/api/v1/tasks/6", "/api/v1/departments", "/api/v1/documents"):
            response = client.get(path)
            assert response.status_code == 503, (path, response.text)
            assert response.headers["content-type"] == PROBLEM_JSON
            assert response.json()["type"] == "/problems/store-unavailable"
            assert response.headers["retry-after"] == "5"
            assert "127.0.0.1" not in response.text, "the store's address is for the log, not for clients"

    def test_pages_answer_an_html_error_page(self, client: TestClient) -> None:
        response = client.get("/tasks/6", headers={"Accept": "text/html"})
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/html")
        assert "Store unavailable" in response.text and "<html" in response.text

    def test_search_keeps_answering_from_the_index(self, client: TestClient) -> None:
        response = client.get("/api/v1/search", params={"q": "科幻"})
        assert response.status_code == 200 and response.json()["total"] > 0

    def test_metrics_healthz_and_readyz(self, client: TestClient) -> None:
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert "kepu_index_documents 156.0" in metrics.text
        assert "kepu_last_import_timestamp_seconds 0.0" in metrics.text  # skipped: needs the store
        assert client.get("/healthz").json()["status"] == "ok"
        ready = client.get("/readyz")
        assert ready.status_code == 503
        detail = ready.json()["detail"]
        assert detail["store"] == "unreachable" and detail["reason"].startswith("OperationalError: "), detail

    def test_recovers_when_the_store_is_back(self, client: TestClient, proxy: FaultyProxy) -> None:
        assert client.get("/api/v1/tasks").status_code == 503
        proxy.set_mode("forward")
        response = client.get("/api/v1/tasks", params={"limit": 1})
        assert response.status_code == 200 and response.json()["total"] == 67
        assert client.get("/readyz").status_code == 200


@pytest.mark.postgres
@pytest.mark.slow
def test_a_silent_store_never_hangs_requests(proxy: FaultyProxy, seeded_postgres_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "KEPU_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": proxy.url, **TIMEOUTS}
    with serving(env, tmp_path / "server.log") as url, httpx.Client(base_url=url, timeout=60) as http:
        assert http.get("/api/v1/tasks").status_code == 200  # a pooled connection is open
        proxy.set_mode("silent")
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            pending = [pool.submit(http.get, "/api/v1/tasks") for _ in range(8)]
            # While eight requests wait on the store, liveness and static files answer at once.
            for path in ("/healthz", "/static/app.css", "/healthz"):
                quick = time.monotonic()
                assert http.get(path, timeout=3).status_code == 200, path
                assert time.monotonic() - quick < 1.5, path
            statuses = [future.result().status_code for future in pending]
        # Open connections stop answering (bounded by statement timeout + grace = 7 s), new ones
        # time out connecting (2 s) or waiting for the pool (2 s): never a hang.
        assert statuses == [503] * 8
        assert time.monotonic() - started < 25
        ready = http.get("/readyz")
        assert ready.status_code == 503 and ready.json()["detail"]["store"] == "unreachable"
        proxy.set_mode("forward")
        deadline = time.monotonic() + 30
        while http.get("/api/v1/tasks").status_code != 200:
            assert time.monotonic() < deadline, "the service never recovered"
            time.sleep(0.2)


@pytest.mark.slow
class TestCommandLineAgainstAStoreThatIsDown:
    @pytest.mark.parametrize("command", [["stats"], ["migrate"], ["reindex"], ["serve", "--port", "0"]])
    def test_one_line_not_a_traceback(self, tmp_path: Path, command: list[str]) -> None:
        nobody = f"postgresql://postgres@127.0.0.1:{free_port()}/kepu"
        env = {**os.environ, **QUIET, "KEPU_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": nobody}
        result = subprocess.run([*KEPU, *command], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert lines[0].startswith("error: the store at postgresql+psycopg://postgres@127.0.0.1:")
        assert "is unreachable: OperationalError: connection failed" in lines[0]

    def test_import_as_well(self, tmp_path: Path) -> None:
        nobody = f"postgresql://postgres@127.0.0.1:{free_port()}/kepu"
        env = {**os.environ, **QUIET, "KEPU_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": nobody}
        result = subprocess.run([*KEPU, "import", str(SEED)], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.slow
class TestImportChecksTheSizeFirst:
    def test_dev_zero_is_refused_without_reading_it_all(self, tmp_path: Path) -> None:
        env = {**os.environ, **QUIET, "KEPU_DATA_DIR": str(tmp_path / "data"), "KEPU_MAX_NOTICE_BYTES": "100000"}
        result = subprocess.run(
            [*KEPU, "import", "--dry-run", "/dev/zero"], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 1
        assert result.stderr.strip() == "error: zero: more than the 100,000-byte limit for a notice"

    def test_a_huge_file_is_refused_by_its_size(self, tmp_path: Path) -> None:
        huge = tmp_path / "huge.txt"
        with huge.open("wb") as handle:
            handle.truncate(50 * 1024**3)  # sparse: 50 GiB on paper, nothing on disk
        env = {**os.environ, **QUIET, "KEPU_DATA_DIR": str(tmp_path / "data")}
        result = subprocess.run([*KEPU, "import", "--dry-run", str(huge)], env=env, capture_output=True, text=True)
        assert result.returncode == 1
        assert "53,687,091,200 bytes is over the 5,000,000-byte limit" in result.stderr


def _current_build(index: Path) -> Path:
    return index / (index / "CURRENT").read_text("utf-8").strip()


@pytest.mark.slow
def test_a_damaged_segment_is_one_error_then_a_rebuild(tmp_path: Path) -> None:
    env = {**os.environ, "KEPU_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    subprocess.run([*KEPU, "import", str(SEED)], env=env, check=True, capture_output=True, timeout=120)
    with serving(env, tmp_path / "server.log") as url, httpx.Client(base_url=url, timeout=30) as http:
        before = http.get("/api/v1/search", params={"q": "科协"}).json()["total"]
        damaged = _current_build(tmp_path / "data" / "index")
        segment = next(damaged.glob("*.seg"))
        os.truncate(segment, segment.stat().st_size // 3)
        # Memory-mapped, this read killed the worker with SIGBUS: no answer at all.
        first = http.get("/api/v1/search", params={"q": "老年人"})
        assert first.status_code == 503 and first.json()["type"] == "/problems/index-unavailable", first.text
        deadline = time.monotonic() + 60
        # The rebuild runs in the background; terms decoded before the damage may still answer
        # from the per-segment cache meanwhile, so wait for the new build, then ask again.
        while _current_build(tmp_path / "data" / "index") == damaged:
            assert time.monotonic() < deadline, "no rebuild after the damaged read"
            time.sleep(0.2)
        uncached: dict[str, str | int] = {"q": "科协", "limit": 11}  # the result cache would answer the first query
        while (answer := http.get("/api/v1/search", params=uncached)).status_code != 200:
            assert answer.status_code == 503 and time.monotonic() < deadline, answer.text
            time.sleep(0.2)
        assert answer.json()["total"] == before
        assert http.get("/api/v1/search", params={"q": "老年人"}).status_code == 200  # the damaged read, answered
        assert http.get("/api/v1/suggest", params={"q": "科"}).status_code == 200


def test_an_interrupted_reindex_leaves_no_build_after_the_next_start(engine: object, tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(KEPU_DATA_DIR=data)
    with TestClient(create_app(settings, engine=engine)):  # type: ignore[arg-type]
        pass
    index = data / "index"
    live = _current_build(index)
    # What `kill -9` of `kepu reindex` leaves: a half-written build and a pointer never renamed.
    half = index / "build-1700000000-deadbeef"
    shutil.copytree(live, half)
    (half / "kepu-meta.json").unlink()
    (index / ".CURRENT.0123abcd").write_text(half.name, "utf-8")
    with TestClient(create_app(settings, engine=engine)) as client:  # type: ignore[arg-type]
        assert client.get("/healthz").status_code == 200
    assert sorted(p.name for p in index.iterdir() if not p.name.startswith(".write")) == ["CURRENT", live.name]


def test_abandoned_builds_wait_for_a_writer_in_progress(engine: object, tmp_path: Path) -> None:
    from app.search.housekeeping import remove_abandoned_builds
    from app.search.index import SearchIndex
    from app.services.indexing import StoreRecords

    index = SearchIndex(tmp_path / "index", cache_dir=tmp_path / "cache").open(StoreRecords(engine))  # type: ignore[arg-type]
    in_progress = tmp_path / "index" / "build-1700000000-feedface"
    in_progress.mkdir()
    removed: list[list[str]] = []
    with index.write_lock():  # another process writing that build holds this lock
        worker = threading.Thread(target=lambda: removed.append(remove_abandoned_builds(index)))
        worker.start()
        worker.join(timeout=0.5)
        assert worker.is_alive() and in_progress.exists(), "removed a build while its writer held the lock"
    worker.join(timeout=10)
    assert removed == [[in_progress.name]]
    index.close()
