"""After any write by any process, every serving process answers like the store.

One process serves; another imports, replaces or reindexes, as `kepu` does from a shell.
Within the sync interval the server's search totals must equal the store's and no record
may come back twice.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import BACKENDS, SEED, PostgresServer
from .live import KEPU, serving

SYNC_SECONDS = 1.0
SETTLE_WITHIN = 15.0  # sync interval + a rebuild on a slow shared machine


@pytest.fixture(params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Environment for `kepu` processes sharing one store (SQLite file or PostgreSQL database)."""
    environment = {
        **os.environ,
        "KEPU_DATA_DIR": str(tmp_path / "data"),
        "KEPU_INDEX_SYNC_SECONDS": str(SYNC_SECONDS),
        "KEPU_SEARCH_CACHE_SIZE": "0",
    }
    environment.pop("DATABASE_URL", None)
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        environment["DATABASE_URL"] = server.new_database()
    return environment


def kepu(env: dict[str, str], *args: str) -> None:
    """Run a `kepu` command in its own process; fail with its output."""
    result = subprocess.run([*KEPU, *args], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def edition(tmp_path: Path, name: str, change: Callable[[str], str]) -> Path:
    """A copy of the seed with one change."""
    path = tmp_path / name
    path.write_text(change(SEED.read_text("utf-8")), "utf-8")
    return path


def search_items(client: httpx.Client, q: str) -> tuple[int, list[tuple[str, int]]]:
    """Total and (kind, id) of every hit of a query."""
    body = client.get("/api/v1/search", params={"q": q, "limit": 200}).json()
    return body["total"], [(item["kind"], item["id"]) for item in body["items"]]


def kinds(client: httpx.Client, q: str) -> Counter[str]:
    """Hits of a query by record kind."""
    return Counter(kind for kind, _ in search_items(client, q)[1])


def store_tasks(client: httpx.Client) -> int:
    """Tasks in the store, as the catalogue (plain SQL) counts them."""
    return int(client.get("/api/v1/tasks", params={"limit": 1}).json()["total"])


def settled(client: httpx.Client, condition: Callable[[], bool]) -> bool:
    """Whether the condition holds within the sync interval (polled, never a fixed sleep)."""
    deadline = time.monotonic() + SETTLE_WITHIN
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def assert_consistent(client: httpx.Client, q: str, expected: Counter[str]) -> None:
    total, items = search_items(client, q)
    duplicates = [key for key, n in Counter(items).items() if n > 1]
    assert not duplicates, f"{q}: records answered twice: {duplicates}"
    assert total == len(items) == expected.total(), (q, total, items, expected)
    assert Counter(kind for kind, _ in items) == expected


@pytest.fixture
def served(env: dict[str, str], tmp_path: Path) -> Iterator[httpx.Client]:
    """A server over a store holding the seed; searches go through it."""
    kepu(env, "import", str(SEED))
    with serving(env, tmp_path / "server.log") as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log, log[-3000:]


@pytest.mark.slow
class TestWritesByAnotherProcess:
    def test_replace(self, env: dict[str, str], tmp_path: Path, served: httpx.Client) -> None:
        # Task 6 gains a participant: the replaced edition must be visible, and once only.
        before = kinds(served, "科幻")
        changed = edition(
            tmp_path,
            "changed.txt",
            lambda t: t.replace("顾问服务。(中央宣传部、中国科协)", "顾问服务。(中央宣传部、中国科协、科技部)"),
        )
        kepu(env, "import", "--replace", str(changed))

        def replaced() -> bool:
            response = served.get("/api/v1/search", params={"q": "科幻", "department": "科技部"})
            return 6 in {item["number"] for item in response.json()["items"]}

        assert settled(served, replaced), "the replaced edition never became searchable"
        assert_consistent(served, "科幻", before)
        assert store_tasks(served) == 67

    def test_second_edition(self, env: dict[str, str], tmp_path: Path, served: httpx.Client) -> None:
        before = kinds(served, "科幻")
        kepu(env, "import", str(edition(tmp_path, "2024.txt", lambda t: t.replace("2023", "2024"))))
        # Tasks and key points are per edition; an activity named by both is one record.
        after = Counter(
            {"task": 2 * before["task"], "key_point": 2 * before["key_point"], "activity": before["activity"]}
        )
        assert settled(served, lambda: kinds(served, "科幻")["task"] == after["task"])
        assert_consistent(served, "科幻", after)
        assert store_tasks(served) == 134

    def test_reindex(self, env: dict[str, str], served: httpx.Client) -> None:
        before = kinds(served, "科幻")
        kepu(env, "reindex")
        kepu(env, "reindex")
        # Sample across two sync intervals: consistent at every moment, not just eventually.
        deadline = time.monotonic() + 2 * SYNC_SECONDS + 1
        while time.monotonic() < deadline:
            assert_consistent(served, "科幻", before)
            time.sleep(0.2)
