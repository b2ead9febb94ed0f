"""Search latency, index build throughput, cold start and peak RSS, side by side in one run.

(a) kepu-ledger's engine: SearchService with its result cache off (cached figures
    reported separately), snippets included;
(b) a naive baseline: Whoosh + jieba.analyse.ChineseAnalyzer over the same records, a new
    searcher per query, MultifieldParser, Whoosh's default highlighter.
Queries alternate a/b so both see the same machine load. The query set is the first three
tuning queries of each class of the judged set (tests/eval/judged_queries.toml): topics,
units, activities, questions, partial (relaxed) queries, pinyin, numbers, phrases,
exclusions and traditional characters — 30 in all.

Run:  .venv/bin/python bench/search_bench.py --sizes 1000 10000 100000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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
from sqlmodel import Session  # noqa: E402

from app.db import make_engine, unit_of_work  # noqa: E402
from app.domain.departments import load_directory  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.parser import parse_notice  # noqa: E402
from app.search.index import SearchIndex  # noqa: E402
from app.services.catalogue import Window  # noqa: E402
from app.services.importer import import_notice  # noqa: E402
from app.services.indexing import StoreRecords, iter_records  # noqa: E402
from app.services.search import SearchFilters, SearchService  # noqa: E402
from bench.corpus import synthetic_notices  # noqa: E402
from bench.quality import JUDGED_QUERIES, load_judged  # noqa: E402

QUERIES_PER_CLASS = 3


def _bench_queries() -> list[str]:
    picked: dict[str, list[str]] = {}
    for judged in load_judged(JUDGED_QUERIES):
        if judged.split == "tune" and len(picked.setdefault(judged.query_class, [])) < QUERIES_PER_CLASS:
            picked[judged.query_class].append(judged.q)
    return [q for qs in picked.values() for q in qs]


QUERIES = _bench_queries()


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": statistics.median(samples) * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000}


def build_store(data: Path, tasks: int) -> tuple[Any, float]:
    """A SQLite store holding `tasks` synthetic tasks; returns the engine and import seconds."""
    url = f"sqlite:///{data / 'kepu.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    for text in synthetic_notices(tasks):
        with unit_of_work(engine) as session:
            import_notice(session, parse_notice(text))
    return engine, time.perf_counter() - started


class Baseline:
    """The naive engine the targets compare against."""

    def __init__(self, path: Path, engine: Any) -> None:
        from jieba.analyse import ChineseAnalyzer
        from whoosh import index
        from whoosh.fields import ID, TEXT, Schema
        from whoosh.qparser import MultifieldParser

        analyzer = ChineseAnalyzer()
        schema = Schema(
            uid=ID(unique=True, stored=True),
            title=TEXT(analyzer=analyzer, stored=True),
            body=TEXT(analyzer=analyzer, stored=True),
        )
        path.mkdir(parents=True)
        ix = index.create_in(str(path), schema)
        started = time.perf_counter()
        writer = ix.writer(limitmb=256)
        with Session(engine) as session:
            for record in iter_records(session):
                writer.add_document(uid=record["uid"], title=record["title"], body=record["body"])
        writer.commit()
        self.build_seconds = time.perf_counter() - started
        self.ix = ix
        self.parser = MultifieldParser(["title", "body"], schema)

    def search(self, q: str) -> int:
        with self.ix.searcher() as searcher:  # a new searcher per query
            results = searcher.search(self.parser.parse(q), limit=20)
            return len([hit.highlights("body") for hit in results])


def run_size(tasks: int, repeat: int, work: Path) -> dict[str, Any]:
    """All figures for one corpus size."""
    data = work / f"data-{tasks}"
    data.mkdir(parents=True)
    engine, import_seconds = build_store(data, tasks)
    index = SearchIndex(data / "index", cache_dir=data / "cache").open(StoreRecords(engine))
    started = time.perf_counter()
    records = index.rebuild(StoreRecords(engine))
    build_seconds = time.perf_counter() - started
    baseline = Baseline(work / f"baseline-{tasks}", engine)
    ours = SearchService(index, engine, load_directory(), max_query_chars=200, cache_size=0, sync_seconds=3600)
    cached = SearchService(index, engine, load_directory(), max_query_chars=200, cache_size=4096, sync_seconds=3600)
    window, filters = Window(limit=20, offset=0), SearchFilters()

    # The first pass reads each term's posting list into the per-searcher cache: reported
    # on its own ("ours_first_pass"), then both engines are measured warm.
    samples: dict[str, list[float]] = {"ours": [], "baseline": [], "ours_cached": [], "ours_first_pass": []}
    for q in QUERIES:
        t0 = time.perf_counter()
        ours.search(q, filters, window)
        samples["ours_first_pass"].append(time.perf_counter() - t0)
        baseline.search(q)
        cached.search(q, filters, window)
    for _ in range(repeat):
        for q in QUERIES:
            t0 = time.perf_counter()
            ours.search(q, filters, window)
            t1 = time.perf_counter()
            baseline.search(q)
            t2 = time.perf_counter()
            cached.search(q, filters, window)
            t3 = time.perf_counter()
            samples["ours"].append(t1 - t0)
            samples["baseline"].append(t2 - t1)
            samples["ours_cached"].append(t3 - t2)
    figures = {name: percentiles(values) for name, values in samples.items()}
    index.close()
    engine.dispose()
    return {
        "tasks": tasks,
        "records": records,
        "import_seconds": round(import_seconds, 2),
        "build_seconds": round(build_seconds, 2),
        "build_tasks_per_second": round(tasks / build_seconds),
        "baseline_build_tasks_per_second": round(tasks / baseline.build_seconds),
        "latency_ms": {k: {p: round(v, 2) for p, v in f.items()} for k, f in figures.items()},
        "speedup_p50": round(figures["baseline"]["p50"] / figures["ours"]["p50"], 2),
        "speedup_p99": round(figures["baseline"]["p99"] / figures["ours"]["p99"], 2),
        "data": str(data),
    }


def cold_start(data: Path, runs: int = 3) -> dict[str, float]:
    """Seconds from process start to /readyz 200 on an imported, indexed store; the server's peak RSS."""
    times: list[float] = []
    peaks: list[float] = []
    for _ in range(runs):
        env = {**os.environ, "KEPU_DATA_DIR": str(data), "KEPU_LOG_LEVEL": "WARNING"}
        env.pop("DATABASE_URL", None)
        port = 18000 + len(times)
        started = time.perf_counter()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
        )
        try:
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.02)
            times.append(time.perf_counter() - started)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                for q in QUERIES:
                    client.get("/api/v1/search", params={"q": q})
            status = Path(f"/proc/{server.pid}/status").read_text()
            peaks.append(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024)
        finally:
            server.terminate()
            server.wait()
    return {
        "cold_start_s_median": round(statistics.median(times), 2),
        "peak_rss_mb_median": round(statistics.median(peaks), 1),
    }


def main() -> None:
    """Run the sizes asked for and print a table; JSON goes to bench/results/."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=5, help="passes over the query set")
    parser.add_argument("--cold-start-size", type=int, default=10000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kepu-bench-"))
    results: dict[str, Any] = {"queries": len(QUERIES), "repeat": args.repeat, "sizes": []}
    try:
        for size in args.sizes:
            result = run_size(size, args.repeat, work)
            results["sizes"].append(result)
            if size == args.cold_start_size:
                results["cold_start"] = {"tasks": size, **cold_start(Path(result["data"]))}
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            sys.stdout.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), "utf-8")
    w = sys.stdout.write
    w(
        "\n| tasks | records | build tasks/s (ours / baseline) | p50 ms ours / baseline (×) | p95 ms ours / baseline "
        "| p99 ms ours / baseline (×) | p50 / p99 ms first pass | p50 ms cached |\n"
    )
    w("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    for r in results["sizes"]:
        lat = r["latency_ms"]
        w(
            f"| {r['tasks']:,} | {r['records']:,} | {r['build_tasks_per_second']:,} / {r['baseline_build_tasks_per_second']:,} "
            f"| {lat['ours']['p50']} / {lat['baseline']['p50']} ({r['speedup_p50']}×) "
            f"| {lat['ours']['p95']} / {lat['baseline']['p95']} "
            f"| {lat['ours']['p99']} / {lat['baseline']['p99']} ({r['speedup_p99']}×) "
            f"| {lat['ours_first_pass']['p50']} / {lat['ours_first_pass']['p99']} | {lat['ours_cached']['p50']} |\n"
        )
    if "cold_start" in results:
        c = results["cold_start"]
        w(
            f"\ncold start at {c['tasks']:,} tasks: {c['cold_start_s_median']} s (median of 3); peak RSS {c['peak_rss_mb_median']} MB\n"
        )


if __name__ == "__main__":
    main()
