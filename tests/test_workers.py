"""`kepu serve --workers 2`: concurrent searches while the index is rebuilt, and no error."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from .conftest import SEED
from .live import KEPU, serving

QUERIES = ["科幻", "科协 科幻", '"全国科普日"', "气象", "老年人", "第37届", "科普 OR 科技", "科幻電影"]


@pytest.mark.slow
def test_two_workers_search_through_a_reindex(tmp_path: Path) -> None:
    env = {**os.environ, "KEPU_DATA_DIR": str(tmp_path / "data"), "KEPU_SEARCH_CACHE_SIZE": "0"}
    env.pop("DATABASE_URL", None)
    subprocess.run([*KEPU, "import", str(SEED)], env=env, check=True, capture_output=True, timeout=120)
    log = tmp_path / "server.log"
    with serving(env, log, "--workers", "2") as base:

        def hammer(worker: int) -> list[int]:
            statuses = []
            with httpx.Client(base_url=base, timeout=20) as client:
                for i in range(40):
                    q = QUERIES[(worker + i) % len(QUERIES)]
                    response = client.get("/api/v1/search", params={"q": q})
                    statuses.append(response.status_code)
                    if response.status_code == 200 and q == "科幻":
                        assert {6, 64} <= {it["number"] for it in response.json()["items"] if it["kind"] == "task"}
            return statuses

        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(hammer, w) for w in range(4)]
            for _ in range(2):
                reindex = subprocess.run([*KEPU, "reindex"], env=env, capture_output=True, text=True, timeout=120)
                assert reindex.returncode == 0, reindex.stderr
            statuses = [s for f in futures for s in f.result()]
        assert statuses.count(200) == len(statuses) == 160
    output = log.read_text()
    assert "Traceback" not in output and "LockError" not in output, output[-3000:]
