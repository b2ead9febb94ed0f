"""The bulk segment writer writes what Whoosh's own writer writes, byte for byte (issue 12: build speed)."""

from __future__ import annotations

import hashlib
import pickle
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine
from whoosh.index import FileIndex, create_in, open_dir

from app.search.analysis import active_segmenter
from app.search.builder import BulkWriter, write_records
from app.search.index import COLUMN_FIELDS, SearchIndex
from app.search.ranking import SEGMENTS, Ranker
from app.search.records import Record, make_record
from app.search.schema import build_schema
from app.services.indexing import StoreRecords

UNITS = [("中国科协", "中国科学技术协会", "lead"), ("教育部", "教育部", "member"), ("气象局", "中国气象局", "member")]
CLAUSES = [
    "深入开展全国科普日活动",
    "加强青少年科学素质教育,推进科学教育与学校教育融合",
    "举办第37届全国青少年科技创新大赛",
    "提升农民科学素质",
    "氣象科普進社區",  # traditional characters fold to simplified
    "科普科普科普",  # one word many times: positions and frequencies above 1
    "AI与大数据 2023",
]


@pytest.fixture
def segmenter(store: Engine, tmp_path: Path) -> Iterator[None]:
    """Open an index over the seed store: it loads the jieba segmenter the analyzers use."""
    index = SearchIndex(tmp_path / "seed-index").open(StoreRecords(store))
    yield
    index.close()


def _records(count: int) -> list[Record]:
    rng = random.Random(12)
    records = []
    for ref in range(count):
        body = ",".join(rng.sample(CLAUSES, rng.randint(0, 3)))  # some bodies empty
        units = rng.sample(UNITS, rng.randint(0, 3))
        record = make_record(
            rng.choice(["task", "key_point", "activity"]),
            ref,
            rng.randint(1, 3),
            2023,
            ref + 1,
            rng.choice(CLAUSES),
            body,
            units,
            rng.sample(["一、", "二、", "三、"], rng.randint(0, 2)),
            rng.sample(["青少年", "农民", "老年人"], rng.randint(0, 2)),
            {"note": ref},
        )
        if ref % 7 == 0:
            record["lead"] = None  # a field left out of a document
        records.append(record)
    return records


def _build(path: Path, records: list[Record], bulk: bool, workers: int = 0) -> dict[str, str]:
    """Build one index; each file's digest by name (the random segment id taken out), TOC aside."""
    path.mkdir()
    ix: FileIndex = create_in(str(path), build_schema())
    kwargs: dict[str, Any] = {"compound": False}  # separate files, so each can be compared
    if bulk:
        writer = BulkWriter(ix, **kwargs)
        assert write_records(writer, records, segmenter=active_segmenter(), workers=workers) == len(records)
    else:
        writer = ix.writer(procs=1, multisegment=False, **kwargs)
        for record in records:
            writer.add_document(**record)
    writer.commit(optimize=False)
    with ix.reader() as reader:
        segment_id = reader.segment().segment_id()
    return {
        f.name.replace(segment_id, "SEGMENT"): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in path.iterdir()
        if not f.name.endswith(".toc")
    }


@pytest.mark.usefixtures("segmenter")
class TestBulkWriter:
    def test_writes_the_same_files_as_whoosh(self, tmp_path: Path) -> None:
        # 400 records: common terms span several of Whoosh's 128-posting blocks.
        records = _records(400)
        ours, whooshs = _build(tmp_path / "bulk", records, True), _build(tmp_path / "whoosh", records, False)
        assert {".pst", ".trm"} <= {Path(name).suffix for name in ours}
        assert ours == whooshs

    def test_text_cut_in_a_worker_process_writes_the_same_files(self, tmp_path: Path) -> None:
        records = _records(300)  # more than one batch sent to the worker
        ours, whooshs = _build(tmp_path / "bulk", records, True, workers=1), _build(tmp_path / "w", records, False)
        assert ours == whooshs

    def test_reads_back_the_same_statistics(self, tmp_path: Path) -> None:
        # The TOC (segment id aside) holds the field lengths and document count.
        records = _records(150)
        readers = []
        for bulk in (True, False):
            path = tmp_path / str(bulk)
            _build(path, records, bulk)
            readers.append(open_dir(str(path)).reader())
        ours, whooshs = readers
        try:
            assert ours.doc_count() == whooshs.doc_count() == 150
            for field in ("title", "body", "grams", "department"):
                assert ours.field_length(field) == whooshs.field_length(field) > 0
            assert list(ours.all_stored_fields()) == list(whooshs.all_stored_fields())
        finally:
            ours.close()
            whooshs.close()

    def test_refuses_an_index_that_has_segments(self, tmp_path: Path) -> None:
        _build(tmp_path / "full", _records(3), True)
        with pytest.raises(ValueError, match="new index only"):
            BulkWriter(open_dir(str(tmp_path / "full")))

    def test_refuses_per_document_boosts(self, tmp_path: Path) -> None:
        ix = create_in(str(tmp_path), build_schema())
        writer = BulkWriter(ix)
        try:
            with pytest.raises(ValueError, match="boosts"):
                writer.add_document(_boost=2.0, **_records(1)[0])
        finally:
            writer.cancel()


class TestPersistedColumns:
    def test_a_rebuild_saves_facet_columns_that_equal_the_decoded_ones(self, store: Engine, tmp_path: Path) -> None:
        index = SearchIndex(tmp_path / "index").open(StoreRecords(store))
        try:
            index.rebuild(StoreRecords(store))
            with index.reading() as searcher:
                saved = list(Path(searcher.reader().leaf_readers()[0][0]._storage.b.folder).glob("kepu-columns-*"))
                assert len(saved) == 1
                # The edition counts read the document column: saved too, not decoded by each process.
                assert {f"{name}.ids" for name in COLUMN_FIELDS} <= set(pickle.loads(saved[0].read_bytes()))
                SEGMENTS.clear()
                loaded = Ranker(searcher, COLUMN_FIELDS).columns
                saved[0].write_bytes(b"damaged")  # a damaged file: decoded from the postings instead
                SEGMENTS.clear()
                decoded = Ranker(searcher, COLUMN_FIELDS).columns
                saved[0].unlink()
                SEGMENTS.clear()
                assert Ranker(searcher, COLUMN_FIELDS).columns.keys() == decoded.keys()
            for name in COLUMN_FIELDS:
                assert loaded[name].values == decoded[name].values and decoded[name].values
                for part in ("offsets", "ids", "owners"):
                    assert np.array_equal(getattr(loaded[name], part), getattr(decoded[name], part)), (name, part)
        finally:
            SEGMENTS.clear()
            index.close()


def test_a_new_searcher_scores_the_last_ones_terms_before_the_switch(store: Engine, tmp_path: Path) -> None:
    index = SearchIndex(tmp_path / "index").open(StoreRecords(store))
    try:
        assert index.ranker is not None
        asked = index.ranker.term("body", "科普")
        assert len(asked)
        index.rebuild(StoreRecords(store))  # a new build, a new searcher and ranker
        assert ("body", "科普") in index.ranker.hot_terms()  # scored already, not at the first search
        again = index.ranker.term("body", "科普")
        assert np.array_equal(again.docs, asked.docs) and np.allclose(again.scores, asked.scores)
    finally:
        index.close()
