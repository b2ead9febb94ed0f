"""Writers to one index folder are serialised; `kepu serve --workers 2` searches through reindexes."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from whoosh.query import Term

from app.db import unit_of_work
from app.parser import ParsedNotice
from app.search.index import SearchIndex
from app.services import indexing as indexing_module
from app.services.importer import import_notice
from app.services.indexing import StoreRecords, iter_records, read_store_version

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
            # Two reindexes at once, as two operators (or an import and a reindex) would.
            reindexes = [
                subprocess.Popen([*KEPU, "reindex"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)
            ]
            for reindex in reindexes:
                _, stderr = reindex.communicate(timeout=120)
                assert reindex.returncode == 0, stderr
            statuses = [s for f in futures for s in f.result()]
        assert statuses.count(200) == len(statuses) == 160
    output = log.read_text()
    assert "Traceback" not in output and "LockError" not in output, output[-3000:]


def test_two_writers_at_once_are_serialised(
    engine: Engine, notice: ParsedNotice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers (as two processes would) rebuild and update one index folder at the same time."""
    with unit_of_work(engine) as session:
        document_id = import_notice(session, notice).document_id
    root = tmp_path / "index"
    writers = [SearchIndex(root, cache_dir=tmp_path / "cache").open(StoreRecords(engine)) for _ in range(2)]

    # While a writer reads the store, it waits (briefly) for the other to arrive too: without
    # the write lock both are then inside at once; with it, the other is kept out.
    arrived = threading.Condition()
    inside = [0]
    most = [0]

    def watched(*args: object, **kwargs: object) -> Iterator[dict[str, object]]:
        with arrived:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            arrived.notify_all()
            arrived.wait_for(lambda: inside[0] > 1, timeout=0.5)
        try:
            yield from iter_records(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with arrived:
                inside[0] -= 1

    monkeypatch.setattr(indexing_module, "iter_records", watched)
    start = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def work(ix: SearchIndex, steps: list[Callable[[], object]]) -> None:
        try:
            start.wait()
            for step in steps:
                step()
        except BaseException as exc:  # reported below, with the other writer's
            errors.append(exc)

    def rebuild(ix: SearchIndex) -> Callable[[], object]:
        return lambda: ix.rebuild(StoreRecords(engine))

    def update(ix: SearchIndex) -> Callable[[], object]:
        return lambda: ix.update_documents(StoreRecords(engine), [document_id])

    a, b = writers
    threads = [
        threading.Thread(target=work, args=(a, [update(a), rebuild(a), update(a), rebuild(a)])),
        threading.Thread(target=work, args=(b, [update(b), rebuild(b), rebuild(b), update(b)])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == [], [repr(e) for e in errors]
    assert most[0] == 1  # never two writers inside at once

    # Consistent afterwards: one build, CURRENT names it, and it agrees with the store, so
    # the next process to open the folder has nothing to repair.
    monkeypatch.undo()
    for ix in writers:
        ix.close()
    builds = sorted(p.name for p in root.glob("build-*"))
    assert builds == [(root / "CURRENT").read_text()]
    state = read_store_version(engine)
    reader = SearchIndex(root, cache_dir=tmp_path / "cache")
    meta = reader.meta()
    assert meta is not None and (meta.generation, meta.fingerprint, meta.records) == (
        state.generation,
        state.fingerprint,
        state.records,
    )
    reader.open(StoreRecords(engine))
    assert (root / "CURRENT").read_text() == builds[0]  # opened as it was, not rebuilt
    assert reader.record_count() == state.records
    with reader.reading() as searcher:
        assert len(searcher.search(Term("grams", "科幻"), limit=None)) == 4  # as many as a fresh build holds
    reader.close()
