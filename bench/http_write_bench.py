"""The query set over HTTP on a served store, warm, then right after another process writes.

A SQLite store of `--tasks` synthetic tasks (bench/corpus.py) is served by `kepu serve`
(one worker, result cache off, every other setting at its default). The 30 queries of
bench/search_bench.py are timed over HTTP (keep-alive client, top 20 with snippets, as the
API answers by default): warm passes first. Then, one at a time, another process writes:

  edition   `kepu import` of a second edition (2024) of one 1,000-task notice
  notice    `kepu import` of a new 50-task notice
  report    a progress report, POSTed to a second `kepu serve` on the same store and index

Each write carries a probe word. Visible: seconds from the start of the write (the
process's start, or the POST) until a search for the probe finds it; the writer's own
duration beside it. Then the first pass of the query set on the served process, then warm
passes again; the table gives p50 / p99 ms of each and the first pass's ratio to the warm
passes just before the write.

Run:  .venv/bin/python bench/http_write_bench.py --tasks 9000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.corpus import synthetic_notices  # noqa: E402
from bench.replica_bench import wait_ready  # noqa: E402
from bench.search_bench import QUERIES, build_store  # noqa: E402

KEPU = [sys.executable, "-m", "app"]
POLL_SECONDS = 0.05


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as handle:
        return subprocess.Popen([*KEPU, "serve", "--port", str(port)], env=env, stdout=handle, stderr=subprocess.STDOUT)


def query_pass(client: httpx.Client) -> list[float]:
    """Each query once, in order; seconds per request (status checked)."""
    samples = []
    for q in QUERIES:
        started = time.perf_counter()
        response = client.get("/api/v1/search", params={"q": q, "limit": 20})
        samples.append(time.perf_counter() - started)
        if response.status_code not in (200, 400):  # a 400 is a query the engine refuses, as in bench/evaluate
            raise SystemExit(f"{q}: {response.status_code} {response.text[:300]}")
    return samples


def p50_p99(samples: list[float]) -> tuple[float, float]:
    """Median and 99th percentile in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return round(statistics.median(samples) * 1000, 2), round(cuts[98] * 1000, 2)


def visible(client: httpx.Client, probe: str, since: float, within: float = 120) -> float:
    """Seconds from `since` until a search for the probe finds it (reports are searched with kind=report)."""
    params: dict[str, str | int] = {"q": probe, "limit": 1}
    while all(
        client.get("/api/v1/search", params=p).json()["total"] == 0 for p in (params, {**params, "kind": "report"})
    ):
        if time.perf_counter() - since > within:
            raise SystemExit(f"{probe} not visible after {within} s")
        time.sleep(POLL_SECONDS)
    return time.perf_counter() - since


def write_edition(env: dict[str, str], work: Path, probe: str) -> tuple[float, float]:
    """`kepu import` of the first synthetic notice's 2024 edition, one task carrying the probe."""
    text = synthetic_notices(1000)[0].replace("2023", "2024").replace("。(", f"{probe}。(", 1)
    return _kepu_import(env, work / "edition-2024.txt", text)


def write_notice(env: dict[str, str], work: Path, probe: str) -> tuple[float, float]:
    """`kepu import` of a new 50-task notice, one task carrying the probe."""
    text = synthetic_notices(50, seed=7)[0].replace("合成第1册", "合成增补").replace("。(", f"{probe}。(", 1)
    return _kepu_import(env, work / "notice-50.txt", text)


def _kepu_import(env: dict[str, str], path: Path, text: str) -> tuple[float, float]:
    path.write_text(text, "utf-8")
    started = time.perf_counter()
    result = subprocess.run([*KEPU, "import", str(path)], env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SystemExit(result.stdout + result.stderr)
    return started, time.perf_counter() - started


def write_report(writer: httpx.Client, token: str, task_id: int, probe: str) -> tuple[float, float]:
    """A progress report on a task, through the other serving process."""
    started = time.perf_counter()
    response = writer.post(
        f"/api/v1/tasks/{task_id}/reports",
        json={"status": "in_progress", "note": f"已完成首批培训{probe}。", "reported_on": "2023-06-30"},
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code != 201:
        raise SystemExit(f"report: {response.status_code} {response.text[:500]}")
    return started, time.perf_counter() - started


def run(tasks: int, warm_passes: int, port: int, work: Path) -> dict[str, Any]:
    """Build and serve the store, time warm passes, then each write and what follows it."""
    data = work / "data"
    data.mkdir(parents=True)
    engine, import_seconds = build_store(data, tasks)
    engine.dispose()
    env = {**os.environ, "KEPU_DATA_DIR": str(data), "KEPU_SEARCH_CACHE_SIZE": "0", "KEPU_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    env.pop("KEPU_INDEX_DIR", None)
    subprocess.run([*KEPU, "reindex"], env=env, capture_output=True, check=True)  # the index on disk, as served
    token = subprocess.run(
        [*KEPU, "token", "create", "--office"], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    served = _serve(env, port, work / "served.log")
    writer_process = _serve(env, port + 1, work / "writer.log")
    rows: list[dict[str, Any]] = []
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, served, work / "served.log")
        wait_ready(f"http://127.0.0.1:{port + 1}", writer_process, work / "writer.log")
        with (
            httpx.Client(base_url=base, timeout=60) as client,
            httpx.Client(base_url=f"http://127.0.0.1:{port + 1}", timeout=60) as writer,
        ):
            task_id = int(client.get("/api/v1/tasks", params={"limit": 1}).json()["items"][0]["id"])
            first_after_start = query_pass(client)
            warm = [t for _ in range(warm_passes) for t in query_pass(client)]
            rows.append({"phase": "after start", "first": p50_p99(first_after_start), "warm": p50_p99(warm)})
            writes: dict[str, Callable[[str], tuple[float, float]]] = {
                "a second edition (1,000 tasks), `kepu import`": lambda p: write_edition(env, work, p),
                "a 50-task notice, `kepu import`": lambda p: write_notice(env, work, p),
                "a progress report, POST to another process": lambda p: write_report(writer, token, task_id, p),
            }
            for n, (what, write) in enumerate(writes.items()):
                probe = f"probe{n}q{os.getpid()}"
                started, writer_seconds = write(probe)
                seen = visible(client, probe, started)
                first = query_pass(client)
                before = warm
                warm = [t for _ in range(warm_passes) for t in query_pass(client)]
                rows.append(
                    {
                        "phase": what,
                        "writer_seconds": round(writer_seconds, 2),
                        "visible_seconds": round(seen, 2),
                        "first": p50_p99(first),
                        "warm_before": p50_p99(before),
                        "warm": p50_p99(warm),
                        "ratio": (
                            round(p50_p99(first)[0] / p50_p99(before)[0], 2),
                            round(p50_p99(first)[1] / p50_p99(before)[1], 2),
                        ),
                    }
                )
                sys.stderr.write(json.dumps(rows[-1], ensure_ascii=False) + "\n")
    finally:
        for process in (served, writer_process):
            process.terminate()
        for process in (served, writer_process):
            process.wait(timeout=60)
    log = (work / "served.log").read_text()
    if "Traceback" in log:
        raise SystemExit(log[-3000:])
    return {"tasks": tasks, "import_seconds": round(import_seconds, 1), "queries": len(QUERIES), "rows": rows}


def main() -> None:
    """Parse arguments, run, print the table (and JSON on stderr as it goes)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=9000)
    parser.add_argument("--warm-passes", type=int, default=5, help="warm passes over the query set per phase")
    parser.add_argument("--port", type=int, default=8746, help="the served process; the writer takes the next port")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kepu-http-write-") as tmp:
        result = run(args.tasks, args.warm_passes, args.port, Path(tmp))
    w = sys.stdout.write
    w(f"\n{result['tasks']:,} tasks, {result['queries']} queries over HTTP, p50 / p99 ms\n\n")
    w("| write | writer s | visible after s | first pass after | warm before | first pass ÷ warm (p50 / p99) |\n")
    w("|---|---:|---:|---:|---:|---:|\n")
    for row in result["rows"]:
        if row["phase"] == "after start":
            first, warm = row["first"], row["warm"]
            ratio = f"{first[0] / warm[0]:.2f}× / {first[1] / warm[1]:.2f}×"
            w(f"| none (the server's first pass after start) | – | – | {first[0]} / {first[1]} ")
            w(f"| {warm[0]} / {warm[1]} | {ratio} |\n")
            continue
        first, before = row["first"], row["warm_before"]
        w(f"| {row['phase']} | {row['writer_seconds']} | {row['visible_seconds']} | {first[0]} / {first[1]} ")
        w(f"| {before[0]} / {before[1]} | {row['ratio'][0]}× / {row['ratio'][1]}× |\n")


if __name__ == "__main__":
    main()
