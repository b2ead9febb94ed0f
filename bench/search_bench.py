"""Search latency, index build throughput, cold start and peak RSS, side by side in one run.

(a) kepu-ledger's engine: SearchService with its result cache off (cached figures
    reported separately), snippets included;
(b) a naive baseline: Whoosh + jieba.analyse.ChineseAnalyzer over the same records, a new
    searcher per query, MultifieldParser, Whoosh's default highlighter;
(c) SQLite FTS5 and (d) tantivy on our own jieba words (bench/references.py, the `bench`
    extra): AND of the words, top 20 by BM25, exact totals, our snippets; no facets,
    sub-words, aliases, synonyms or relaxation, so they do less.
Queries are interleaved across the engines so all see the same machine load. First pass
(each query once on a fresh searcher) is reported for all, and for ours again after an
incremental write (a 50-task notice) and after a full rebuild. The query set is the first three
tuning queries of each class of the judged set (tests/eval/judged_queries.toml): topics,
units, activities, questions, partial (relaxed) queries, pinyin, numbers, phrases,
exclusions and traditional characters — 30 in all.

Run:  .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/search_bench.py --sizes 10000
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlmodel import Session  # noqa: E402
from whoosh import index as whoosh_index  # noqa: E402

from app.db import make_engine, unit_of_work  # noqa: E402
from app.domain.departments import load_directory  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.parser import parse_notice  # noqa: E402
from app.search.analysis import words  # noqa: E402
from app.search.index import FACET_FIELDS, SCORED_FIELDS, SearchIndex  # noqa: E402
from app.search.ranking import SEGMENTS, Ranker  # noqa: E402
from app.search.schema import build_schema  # noqa: E402
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


def _records(engine: Any) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        return [(r["uid"], r["title"], r.get("body", "")) for r in iter_records(session)]


def _first_pass(run: Any) -> list[float]:
    samples = []
    for q in QUERIES:
        t0 = time.perf_counter()
        run(q)
        samples.append(time.perf_counter() - t0)
    return samples


def run_size(tasks: int, repeat: int, work: Path) -> dict[str, Any]:
    """All figures for one corpus size."""
    from bench.references import Fts5, Tantivy

    data = work / f"data-{tasks}"
    data.mkdir(parents=True)
    engine, import_seconds = build_store(data, tasks)
    index = SearchIndex(data / "index", cache_dir=data / "cache").open(StoreRecords(engine))
    started = time.perf_counter()
    records = index.rebuild(StoreRecords(engine))
    build_seconds = time.perf_counter() - started
    # jieba's share of the build: cutting every record's title and body, nothing else.
    started = time.perf_counter()
    for record in StoreRecords(engine).records():
        words(record["title"])
        words(record["body"])
    jieba_seconds = time.perf_counter() - started
    baseline = Baseline(work / f"baseline-{tasks}", engine)
    rows = _records(engine)
    started = time.perf_counter()
    fts5 = Fts5(work / f"fts5-{tasks}.sqlite3", rows)
    fts5_seconds = time.perf_counter() - started
    started = time.perf_counter()
    tantivy = Tantivy(work / f"tantivy-{tasks}", rows)
    tantivy_seconds = time.perf_counter() - started
    ours = SearchService(index, engine, load_directory(), max_query_chars=200, cache_size=0, sync_seconds=3600)
    cached = SearchService(index, engine, load_directory(), max_query_chars=200, cache_size=4096, sync_seconds=3600)
    window, filters = Window(limit=20, offset=0), SearchFilters()

    def search(q: str) -> None:
        ours.search(q, filters, window)

    # First pass: each query's first run on a fresh searcher (ours: just after a full
    # rebuild, its caches warmed before the switch; the references: opened anew).
    fresh_db, fresh_searcher = fts5.open(), tantivy.fresh()
    samples: dict[str, list[float]] = {
        "ours_first_pass": _first_pass(search),
        "fts5_first_pass": _first_pass(lambda q: fts5.search(q, fresh_db)),
        "tantivy_first_pass": _first_pass(lambda q: tantivy.search(q, fresh_searcher)),
    }
    for q in QUERIES:
        baseline.search(q)
        cached.search(q, filters, window)
    names = ("ours", "baseline", "fts5", "tantivy", "ours_cached")
    runs: tuple[Callable[[str], object], ...] = (
        search,
        baseline.search,
        fts5.search,
        tantivy.search,
        lambda q: cached.search(q, filters, window),
    )
    for name in names:
        samples[name] = []
    for _ in range(repeat):
        for q in QUERIES:  # interleaved: every engine sees the same machine load
            for name, run in zip(names, runs, strict=True):
                t0 = time.perf_counter()
                run(q)
                samples[name].append(time.perf_counter() - t0)
    # After an incremental write (a 50-task notice imported and indexed: one new segment),
    # then after a full rebuild: the first pass again.
    with unit_of_work(engine) as session:
        added = import_notice(session, parse_notice(synthetic_notices(50, seed=7)[0].replace("合成第1册", "合成增补")))
    started = time.perf_counter()
    index.update_documents(StoreRecords(engine), [added.document_id])
    write_seconds = time.perf_counter() - started
    samples["ours_after_write"] = _first_pass(search)
    index.rebuild(StoreRecords(engine))
    samples["ours_after_rebuild"] = _first_pass(search)
    # Opening the index in a process that has decoded nothing yet: Whoosh's open, a searcher,
    # and the ranker's field lengths and facet columns (jieba's dictionary not included).
    open_seconds = []
    for _ in range(3):
        SEGMENTS.clear()
        started = time.perf_counter()
        build = (data / "index" / "CURRENT").read_text("utf-8").strip()
        with whoosh_index.open_dir(str(data / "index" / build), schema=build_schema()).searcher() as searcher:
            Ranker(searcher, FACET_FIELDS, SCORED_FIELDS)
        open_seconds.append(time.perf_counter() - started)
    figures = {name: percentiles(values) for name, values in samples.items()}
    index.close()
    engine.dispose()
    return {
        "tasks": tasks,
        "records": records,
        "import_seconds": round(import_seconds, 2),
        "build_seconds": round(build_seconds, 2),
        "build_tasks_per_second": round(tasks / build_seconds),
        "jieba_seconds": round(jieba_seconds, 2),
        "baseline_build_tasks_per_second": round(tasks / baseline.build_seconds),
        "fts5_build_tasks_per_second": round(tasks / fts5_seconds),
        "tantivy_build_tasks_per_second": round(tasks / tantivy_seconds),
        "incremental_write_seconds": round(write_seconds, 3),
        "index_open_seconds": round(statistics.median(open_seconds), 3),
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
        "\n| tasks | p50 / p99 ms: ours | naive | FTS5 | tantivy | first pass: ours | FTS5 | tantivy "
        "| ours after a write | ours after a rebuild | cached | build tasks/s: ours / FTS5 / tantivy | index open s |\n"
    )
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    for r in results["sizes"]:
        lat = r["latency_ms"]

        def cell(name: str, lat: dict[str, dict[str, float]] = lat) -> str:
            return f"{lat[name]['p50']} / {lat[name]['p99']}"

        w(
            f"| {r['tasks']:,} | {cell('ours')} | {cell('baseline')} | {cell('fts5')} | {cell('tantivy')} "
            f"| {cell('ours_first_pass')} | {cell('fts5_first_pass')} | {cell('tantivy_first_pass')} "
            f"| {cell('ours_after_write')} | {cell('ours_after_rebuild')} | {lat['ours_cached']['p50']} "
            f"| {r['build_tasks_per_second']:,} / {r['fts5_build_tasks_per_second']:,} "
            f"/ {r['tantivy_build_tasks_per_second']:,} | {r['index_open_seconds']} |\n"
        )
    if "cold_start" in results:
        c = results["cold_start"]
        w(
            f"\ncold start at {c['tasks']:,} tasks: {c['cold_start_s_median']} s (median of 3); peak RSS {c['peak_rss_mb_median']} MB\n"
        )


if __name__ == "__main__":
    main()
