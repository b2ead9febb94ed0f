"""The index is derived from the store: missing, stale, damaged or half-written, it is rebuilt."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.db import unit_of_work
from app.models import Document
from app.parser import parse_notice
from app.search.index import SearchIndex
from app.services import indexing as indexing_module
from app.services.importer import import_notice
from app.services.indexing import StoreRecords, iter_records, read_store_version


@pytest.fixture
def index(store: Engine, tmp_path: Path) -> Iterator[SearchIndex]:
    """An index opened over the store."""
    ix = SearchIndex(tmp_path / "index").open(StoreRecords(store))
    yield ix
    ix.close()


def _hits(ix: SearchIndex, gram: str) -> int:
    """Records holding a two-character gram (the sub-word field sees every word)."""
    from whoosh.query import Term

    with ix.reading() as searcher:
        return len(searcher.search(Term("grams", gram), limit=None))


def test_open_builds_the_index_from_the_store(index: SearchIndex, store: Engine) -> None:
    assert index.record_count() == read_store_version(store).records
    assert index.meta() is not None and index.meta().generation == read_store_version(store).generation  # type: ignore[union-attr]


def test_reopening_an_up_to_date_index_does_not_rebuild(index: SearchIndex, store: Engine, tmp_path: Path) -> None:
    build = (tmp_path / "index" / "CURRENT").read_text()
    again = SearchIndex(tmp_path / "index").open(StoreRecords(store))
    assert (tmp_path / "index" / "CURRENT").read_text() == build
    again.close()


def test_missing_pointer_rebuilds(index: SearchIndex, store: Engine, tmp_path: Path) -> None:
    (tmp_path / "index" / "CURRENT").unlink()
    assert index.sync(StoreRecords(store), force=True) is True
    assert index.record_count() == read_store_version(store).records


def test_damaged_index_is_rebuilt(index: SearchIndex, store: Engine, tmp_path: Path) -> None:
    build = tmp_path / "index" / (tmp_path / "index" / "CURRENT").read_text()
    index.close()
    for segment in build.glob("*.seg"):
        segment.write_bytes(b"garbage")
    for toc in build.glob("*.toc"):
        toc.write_bytes(b"garbage")
    fresh = SearchIndex(tmp_path / "index").open(StoreRecords(store))
    assert fresh.record_count() == read_store_version(store).records
    assert _hits(fresh, "科幻") >= 2
    fresh.close()


def test_store_change_makes_the_index_stale(index: SearchIndex, store: Engine, seed_text: str) -> None:
    other = parse_notice(seed_text.replace("2023年", "2024年"))
    with unit_of_work(store) as session:
        import_notice(session, other)
    assert index.sync(StoreRecords(store), force=True) is True  # as another replica would notice
    assert index.record_count() == read_store_version(store).records


def test_incremental_update_after_import(index: SearchIndex, store: Engine) -> None:
    notice = parse_notice(
        "2024年某省科学素质工作要点\n一、甲\n1.举办航天科普周。内容。\n附件\n1.举办航天科普周。(中国科协)\n"
    )
    with unit_of_work(store) as session:
        result = import_notice(session, notice)
    before = index.generation
    index.update_documents(StoreRecords(store), [result.document_id])
    assert index.generation > before
    assert index.record_count() == read_store_version(store).records
    assert _hits(index, "航天") >= 1


def test_re_indexing_a_stored_document_leaves_no_stale_copies(index: SearchIndex, store: Engine) -> None:
    with Session(store) as session:
        document_id = session.exec(select(Document.id)).one()
    assert document_id is not None
    # Whoosh's Searcher.refresh() kept the deleted copies visible here (312 records, hits
    # doubled); the searcher is now reopened instead.
    hits = _hits(index, "科幻")
    index.update_documents(StoreRecords(store), [document_id])
    assert (index.record_count(), _hits(index, "科幻")) == (read_store_version(store).records, hits)


def test_crash_mid_rebuild_keeps_the_previous_index(
    index: SearchIndex, store: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pointer = (tmp_path / "index" / "CURRENT").read_text()

    def explode(*args: object, **kwargs: object) -> Iterator[dict[str, object]]:
        yield {"uid": "x"}
        raise RuntimeError("disk full")

    monkeypatch.setattr(indexing_module, "iter_records", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        index.rebuild(StoreRecords(store))
    assert (tmp_path / "index" / "CURRENT").read_text() == pointer
    assert sorted(p.name for p in (tmp_path / "index").glob("build-*")) == [pointer]
    assert _hits(index, "科幻") >= 2


def test_a_replica_catches_up_in_the_background(
    index: SearchIndex, store: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another replica (its own index folder) shares the store; this one imports.
    replica = SearchIndex(tmp_path / "replica-index").open(StoreRecords(store))
    before = replica.record_count()
    notice = parse_notice(
        "2024年某省科学素质工作要点\n一、甲\n1.举办航天科普周。内容。\n附件\n1.举办航天科普周。(中国科协)\n"
    )
    with unit_of_work(store) as session:
        import_notice(session, notice)
    after = read_store_version(store).records
    assert after > before

    # Hold the replica's rebuild once it has started reading the store, to look at the
    # replica while the rebuild is under way.
    started, release = threading.Event(), threading.Event()

    def held(*args: object, **kwargs: object) -> Iterator[dict[str, object]]:
        started.set()
        if not release.wait(timeout=30):
            raise RuntimeError("the test never released the rebuild")
        yield from iter_records(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(indexing_module, "iter_records", held)
    replica.sync_in_background(StoreRecords(store), every=0)
    try:
        assert started.wait(timeout=30), "no rebuild started"
        assert replica._background.is_alive()  # the call returned while the rebuild runs
        # Answering meanwhile, from the old build, without waiting for the rebuild.
        answered: list[tuple[int, int]] = []
        reader = threading.Thread(target=lambda: answered.append((replica.record_count(), _hits(replica, "航天"))))
        reader.start()
        reader.join(timeout=10)
        assert answered == [(before, 0)], "a read waited for the rebuild"
    finally:
        release.set()
        if replica._background.is_alive():
            replica._background.join(timeout=60)
    assert not replica._background.is_alive()
    assert replica.record_count() == after
    assert _hits(replica, "航天") >= 1
    replica.close()


def test_posting_cache_is_bounded_by_size(index: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.search import ranking

    monkeypatch.setattr(ranking, "TERM_CACHE_POSTINGS", 100)
    ranker = index.ranker
    assert ranker is not None  # it holds the facet values, read when it was made: the oldest entries

    def cached() -> list[str]:
        return [text for _, text in ranker._terms]

    # Records holding each gram in the seed: 科普 67, 科技 35, 开展 44, 中国 24, 活动 37,
    # 教育 18, 推进 12, 科幻 4, 气象 4.
    for word in ("科普", "科技", "开展", "中国", "活动", "教育", "推进"):
        ranker.term("grams", word)
    assert cached() == ["中国", "活动", "教育", "推进"]  # the most recent that fit in 100
    assert ranker._cached_postings == 24 + 37 + 18 + 12

    ranker.term("grams", "中国")  # a hit makes it the most recently used
    ranker.term("grams", "科幻")
    ranker.term("grams", "气象")
    assert cached() == ["活动", "教育", "推进", "中国", "科幻", "气象"]
    ranker.term("grams", "开展")  # 143 postings: the two least recently used go
    assert cached() == ["推进", "中国", "科幻", "气象", "开展"]
    assert ranker._cached_postings == 12 + 24 + 4 + 4 + 44 == sum(len(h) for h in ranker._terms.values())


def test_a_term_larger_than_the_cache_is_kept_alone(index: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.search import ranking

    monkeypatch.setattr(ranking, "TERM_CACHE_POSTINGS", 50)
    ranker = index.ranker
    assert ranker is not None
    ranker.term("grams", "推进")
    ranker.term("grams", "科普")  # 67 postings, more than the whole cache
    assert [text for _, text in ranker._terms] == ["科普"] and ranker._cached_postings == 67
    ranker.term("grams", "推进")
    assert [text for _, text in ranker._terms] == ["推进"] and ranker._cached_postings == 12


def test_the_live_searcher_can_be_read_from_several_threads_at_once(index: SearchIndex) -> None:
    # The pinyin refresh reads the live searcher's terms off the request path, without the
    # index lock, while requests read it too. Read, not memory-mapped, each positional read
    # was a seek() then a read() on one file object per segment: under the load test with
    # writes, threads moved each other's position, suggest got "the index could not be read"
    # (503) and the index was rebuilt for nothing.
    import sys

    with index.reading() as searcher:
        reader = searcher.reader()

        def read_all() -> tuple[list[tuple[str, bytes]], list[str]]:
            terms = [(field, text) for field, text in reader.all_terms() if field in ("grams", "title")]
            stored = [str(reader.stored_fields(n).get("uid")) for n in range(reader.doc_count_all())]
            return terms, stored

        expected = read_all()
        assert len(expected[0]) > 1000 and len(expected[1]) > 100
        results: list[object] = []

        def work() -> None:
            for _ in range(3):
                try:
                    results.append(read_all())
                except Exception as exc:  # the failure under test: garbage read from a moved position
                    results.append(exc)

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # switch threads often, as a loaded server does
        try:
            threads = [threading.Thread(target=work) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            sys.setswitchinterval(interval)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert all(r == expected for r in results)


def test_a_build_removed_while_it_is_being_opened_is_followed_not_rebuilt(
    index: SearchIndex, store: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process rebuilds: CURRENT moves to its build and ours is removed between our
    # reading the pointer and opening the folder it names.
    root = tmp_path / "index"
    stale = (root / "CURRENT").read_text("utf-8").strip()
    writer = SearchIndex(root).open(StoreRecords(store))
    writer.rebuild(StoreRecords(store))
    fresh = (root / "CURRENT").read_text("utf-8").strip()
    assert fresh != stale and not (root / stale).exists()
    writer.close()
    reads = iter([stale])
    real = index._current_build
    monkeypatch.setattr(index, "_current_build", lambda: next(reads, None) or real())
    rebuilds: list[object] = []
    monkeypatch.setattr(index, "rebuild", lambda *args, **kwargs: rebuilds.append(args))
    index._build = None  # as if the live searcher were out of date
    index._refresh()
    assert index._build == fresh and not rebuilds
    assert _hits(index, "科幻") >= 2
