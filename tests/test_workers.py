"""`kepu serve --workers 2`: concurrent searches while the index is rebuilt, and no error."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from .conftest import SEED

QUERIES = ["科幻", "科协 科幻", '"全国科普日"', "气象", "老年人", "第37届", "科普 OR 科技", "科幻電影"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_two_workers_search_through_a_reindex(tmp_path: Path) -> None:
    env = {**os.environ, "KEPU_DATA_DIR": str(tmp_path / "data"), "KEPU_SEARCH_CACHE_SIZE": "0"}
    env.pop("DATABASE_URL", None)
    kepu = [sys.executable, "-m", "app"]
    subprocess.run([*kepu, "import", str(SEED)], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [*kepu, "serve", "--port", str(port), "--workers", "2"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.3)

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
                reindex = subprocess.run([*kepu, "reindex"], env=env, capture_output=True, text=True, timeout=120)
                assert reindex.returncode == 0, reindex.stderr
            statuses = [s for f in futures for s in f.result()]
        assert statuses.count(200) == len(statuses) == 160
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    output = (tmp_path / "server.log").read_text()
    assert "Traceback" not in output and "LockError" not in output, output[-3000:]
