"""How fast one write reaches another replica's search, and what catching up costs it.

A store of `--tasks` synthetic tasks (bench/corpus.py), a replica (`kepu serve`, its own
index folder) over it, and this process as the writer: each write changes one task's text
to hold a fresh probe word and logs it (record_changes, as a progress report would), in
one transaction. The time from the commit to the first search on the replica that finds
the probe is the visibility latency; the replica's log gives each catch-up's wall and CPU
time (the sync thread's own), and /proc the replica's whole CPU over the run.

On SQLite the replica polls every `--sync` seconds; on PostgreSQL (`--database-url`) the
write's NOTIFY wakes it and polling is left at its default.

Run:  .venv/bin/python bench/replica_bench.py --tasks 10000 --writes 15
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from app import models as m  # noqa: E402
from app.db import make_engine, unit_of_work  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.parser import parse_notice  # noqa: E402
from app.services.importer import import_notice  # noqa: E402
from app.services.indexing import record_changes  # noqa: E402
from bench.corpus import synthetic_notices  # noqa: E402

CAUGHT_UP = re.compile(r"index caught up to position \d+: (\d+) records re-read in ([\d.]+)s \(cpu ([\d.]+)s\)")
REBUILT = re.compile(r"index rebuilt: (\d+) records in ([\d.]+)s")
POLL_SECONDS = 0.05  # a gentler probe: each search competes with the catch-up for the GIL


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(url: str, server: subprocess.Popen[bytes], log: Path, within: float = 600) -> None:
    """Until a served process answers /readyz 200; its log's tail if it exits first."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"kepu serve exited:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    raise SystemExit("kepu serve did not become ready")


def _total(client: httpx.Client, q: str) -> int:
    response = client.get("/api/v1/search", params={"q": q, "limit": 1})
    response.raise_for_status()
    return int(response.json()["total"])


def run(tasks: int, writes: int, sync: float, port: int, database_url: str | None, work: Path) -> dict[str, Any]:
    """Build the store, start the replica, time `writes` writes; the figures as a dict."""
    url = database_url or f"sqlite:///{work / 'kepu.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    for text in synthetic_notices(tasks):
        with unit_of_work(engine) as session:
            import_notice(session, parse_notice(text))
    import_seconds = time.perf_counter() - started

    env = {**os.environ, "DATABASE_URL": url, "KEPU_DATA_DIR": str(work / "data")}
    env |= {"KEPU_INDEX_DIR": str(work / "replica-index"), "KEPU_SEARCH_CACHE_SIZE": "0"}
    if not url.startswith("postgresql"):
        env["KEPU_INDEX_SYNC_SECONDS"] = str(sync)
    log_path = work / "replica.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    try:
        wait_ready(base, server, log_path)
        with unit_of_work(engine) as session:
            ids = list(session.exec(select(m.Task.id).order_by(col(m.Task.id))).all())
        with httpx.Client(base_url=base, timeout=30) as client:
            _total(client, "科普")  # warm
            idle_from = _cpu_seconds(server.pid)
            time.sleep(5)
            idle_cpu = (_cpu_seconds(server.pid) - idle_from) / 5
            cpu_from = _cpu_seconds(server.pid)
            for n in range(writes):
                probe = f"probe{n}q{os.getpid()}"
                task_id = ids[(n * 7919) % len(ids)]
                with unit_of_work(engine) as session:
                    task = session.get(m.Task, task_id)
                    assert task is not None
                    task.body = f"{task.body}{probe}。"
                    session.add(task)
                    record_changes(session, records=[f"task:{task_id}"])
                committed = time.perf_counter()
                while _total(client, probe) == 0:
                    if time.perf_counter() - committed > 60:
                        raise SystemExit(f"write {n} not visible after 60 s:\n{log_path.read_text()[-3000:]}")
                    time.sleep(POLL_SECONDS)
                latencies.append(time.perf_counter() - committed)
                time.sleep(0.3)  # let the replica settle before the next write
            process_cpu = _cpu_seconds(server.pid) - cpu_from
    finally:
        server.terminate()
        server.wait(timeout=60)
        engine.dispose()
    replica_log = log_path.read_text()
    caught = [(int(a), float(b), float(c)) for a, b, c in CAUGHT_UP.findall(replica_log)]
    rebuilt = [(int(a), float(b)) for a, b in REBUILT.findall(replica_log)]
    return {
        "tasks": tasks,
        "store": url.split(":", 1)[0],
        "writes": writes,
        "sync_seconds": None if url.startswith("postgresql") else sync,
        "import_seconds": round(import_seconds, 1),
        "initial_build": {"records": rebuilt[0][0], "seconds": rebuilt[0][1]} if rebuilt else None,
        "full_rebuilds_after_start": max(0, len(rebuilt) - 1),
        "visible_seconds": {
            "p50": round(statistics.median(latencies), 3),
            "max": round(max(latencies), 3),
            "min": round(min(latencies), 3),
        },
        "catch_up": {
            "count": len(caught),
            "records_re_read": sorted({c[0] for c in caught}),
            "wall_p50": round(statistics.median(c[1] for c in caught), 3) if caught else None,
            "cpu_p50": round(statistics.median(c[2] for c in caught), 3) if caught else None,
        },
        "replica_cpu_per_write": round(process_cpu / writes, 3),
        "replica_idle_cpu_per_second": round(idle_cpu, 4),
    }


def main() -> None:
    """Parse arguments, run, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--writes", type=int, default=15)
    parser.add_argument("--sync", type=float, default=0.25, help="the replica's poll interval on SQLite (seconds)")
    parser.add_argument("--port", type=int, default=8649)
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        figures = run(args.tasks, args.writes, args.sync, args.port, args.database_url, args.work)
    else:
        with tempfile.TemporaryDirectory(prefix="kepu-replica-bench-") as tmp:
            figures = run(args.tasks, args.writes, args.sync, args.port, args.database_url, Path(tmp))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
