"""A Whoosh segment writer for full builds: postings kept per term in memory, written a block at a time.

Whoosh's own writer sends every posting through a Python pipeline: a Token object per
word, a tuple into an external sort pool, then, at commit, one `add()` call per posting
that also reads the document's field length back from the lengths column. At 100k
records that is ~5 million postings and most of a build's time.

`BulkWriter` is Whoosh's `SegmentWriter` with the postings path replaced: each document's
words are counted straight from our analyzers' word lists (no Token objects), appended to
per-term lists (documents arrive in order, so no sort), and at commit each term's
postings are handed to Whoosh's own postings writer 128 at a time (its block size). The
files are Whoosh's: the same codec writes them, byte for byte what `SegmentWriter` writes
(tests/test_builder.py compares the two), and the per-document data (stored fields,
lengths) still goes through Whoosh's per-document writer.

Only for a new segment of a new index: it never merges existing segments.
"""

from __future__ import annotations

import logging
import multiprocessing
from array import array
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import accumulate, islice, repeat
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.analysis import IDTokenizer
from whoosh.fields import FieldType
from whoosh.formats import Existence, Frequency, Positions
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from app.search.analysis import JiebaTokenizer, _SequentialTokenizer, use_segmenter
from app.search.dictionary import Segmenter
from app.search.records import Record
from app.search.schema import build_schema

log = logging.getLogger(__name__)
_Item = tuple[bytes, int, float, bytes]  # (term bytes, frequency, weight, encoded value), as field.index() yields
MEMO_SIZE = 4096  # facet-like fields repeat their values: what Whoosh's analysis made of each is kept
BATCH = 256  # records sent to an analysing process at a time


class _FieldPostings:
    """One field's postings in arrival order, as flat arrays (≈ 30 bytes a posting, not a tuple each)."""

    __slots__ = ("docs", "ends", "terms", "values", "vocabulary", "weights")

    def __init__(self) -> None:
        self.vocabulary: dict[bytes, int] = {}  # term bytes → term id
        self.terms = array("I")  # each posting's term id
        self.docs = array("I")
        self.weights = array("d")
        self.values = bytearray()  # the postings' encoded values, end to end
        self.ends = array("Q")  # where each posting's value ends in `values`

    def add(self, docnum: int, items: list[_Item]) -> None:
        if not items:
            return
        btexts, _, weights, values = zip(*items, strict=True)
        vocabulary = self.vocabulary
        terms = [vocabulary.get(btext) for btext in btexts]
        if None in terms:  # words this field has not seen yet
            for i, btext in enumerate(btexts):
                if terms[i] is None:
                    terms[i] = vocabulary.setdefault(btext, len(vocabulary))
        self.terms.extend(terms)  # type: ignore[arg-type]  # no None is left
        self.docs.extend(repeat(docnum, len(btexts)))
        self.weights.extend(weights)
        self.ends.extend(accumulate(map(len, values), initial=len(self.values)))
        self.ends.pop(-len(btexts) - 1)  # accumulate's initial value: the previous posting's end
        self.values += b"".join(values)

    def by_term(self) -> Iterator[tuple[bytes, npt.NDArray[np.int64]]]:
        """(term bytes, the term's postings' indexes in arrival order), terms in byte order."""
        terms = np.frombuffer(self.terms, dtype=np.uint32)
        order = np.argsort(terms, kind="stable")  # stable: each term's postings stay in document order
        counts = np.bincount(terms, minlength=len(self.vocabulary))
        starts = np.cumsum(counts) - counts
        for btext in sorted(self.vocabulary):
            term = self.vocabulary[btext]
            yield btext, order[starts[term] : starts[term] + counts[term]]


class BulkWriter(SegmentWriter):  # type: ignore[misc]
    """Writes one new segment; `add_document` as Whoosh's, faster; no merging, no deletions."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        # Checked before Whoosh's writer takes the lock and opens its files.
        if ix.doc_count_all():
            raise ValueError("BulkWriter writes the first segment of a new index only")
        for name, field in ix.schema.items():
            if field.separate_spelling() or field.vector:
                raise ValueError(f"field {name!r}: spelling words and vectors are not supported here")
        super().__init__(ix, **kwargs)
        self._postings: dict[str, _FieldPostings] = {}
        self._memo: dict[tuple[str, str], list[_Item]] = {}
        self._length_bytes: dict[str, bytearray] = {}  # scorable fields: each document's length byte

    def add_reader(self, reader: Any) -> None:
        """Merging another index's segment is Whoosh's writer's work, not this one's."""
        raise NotImplementedError("BulkWriter does not merge segments")

    def add_document(self, **fields: Any) -> None:
        """Add one document: stored fields and lengths through Whoosh, postings to the field's arrays."""
        self.add_analysed(fields, {})

    def add_analysed(self, fields: dict[str, Any], analysed: dict[str, list[_Item]]) -> None:
        """Add one document whose fields in `analysed` were analysed already (`analyse_texts`)."""
        self._check_state()
        if any(name.startswith("_") for name in fields):
            raise ValueError("per-document boosts are not supported by BulkWriter")
        names = sorted(fields)
        self._check_fields(self.schema, names)
        perdoc = self.perdocwriter
        docnum = self.docnum
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field = self.schema[name]
                length = 0
                if field.indexed:
                    items = analysed.get(name)
                    if items is None:
                        items = self._index(name, field, value)
                    postings = self._postings.get(name)
                    if postings is None:
                        postings = self._postings[name] = _FieldPostings()
                    postings.add(docnum, items)
                    if field.scorable:
                        length = sum(item[1] for item in items)
                        if length:
                            lengths = self._length_bytes.setdefault(name, bytearray())
                            lengths.extend(bytes(docnum - len(lengths)))
                            lengths.append(length_to_byte(length))
                perdoc.add_field(name, field, value if field.stored else None, length)
                column = field.column_type
                if column:
                    perdoc.add_column_value(name, column, field.to_column_value(value))
        except BaseException:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _index(self, name: str, field: FieldType, value: Any) -> list[_Item]:
        items = _analyse(field, value)
        if items is not None:
            return items
        key = (name, value) if isinstance(value, str) else None
        if key is not None and key in self._memo:
            return self._memo[key]
        items = list(field.index(value))
        if key is not None:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = items
        return items

    def _flush_segment(self) -> None:
        # Whoosh's: sort the pool, then add() posting by posting. Here: term by term, in
        # the same order (field name, then term bytes), a block of postings at a time.
        self.perdocwriter.close()
        writer = self.fieldwriter
        for name in sorted(self._postings):
            postings = self._postings.pop(name)
            if not postings.vocabulary:
                continue
            field = self.schema[name]
            writer.start_field(name, field)
            coded = self._length_bytes.get(name)
            lengths = np.zeros(self.docnum + 1, dtype=np.uint8)
            if coded:
                lengths[: len(coded)] = np.frombuffer(bytes(coded), dtype=np.uint8)
            docs = np.frombuffer(postings.docs, dtype=np.uint32)
            weights = np.frombuffer(postings.weights, dtype=np.float64)
            ends = np.frombuffer(postings.ends, dtype=np.uint64).astype(np.int64)
            begins = np.concatenate(([0], ends[:-1]))
            values = bytes(postings.values)
            size = field.format.fixed_value_size()
            for btext, picked in postings.by_term():
                writer.start_term(btext)
                if size == 0:
                    blocks: list[bytes] | None = None
                elif size is not None and size > 0 and bool(np.all(ends[picked] - begins[picked] == size)):
                    blocks = None if not values else _fixed(values, begins[picked], size)
                else:
                    blocks = [values[b:e] for b, e in zip(begins[picked].tolist(), ends[picked].tolist(), strict=True)]
                _write_postings(
                    writer._postwriter,
                    docs[picked],
                    weights[picked].tolist(),
                    blocks,
                    lengths if field.scorable else None,
                    size is not None and size > 0,
                )
                writer.finish_term()
            writer.finish_field()
        self.fieldwriter.close()
        self._length_bytes.clear()


def _analyse(field: FieldType, value: Any) -> list[_Item] | None:
    """What `field.index(value)` yields, without Token objects, for our analyzers and ID fields; None otherwise."""
    analyzer = getattr(field, "analyzer", None)
    fmt = field.format
    if type(analyzer) is IDTokenizer and type(fmt) is Existence and isinstance(value, str):
        return [(value.encode("utf-8"), 1, fmt.field_boost, b"")]
    if not isinstance(analyzer, _SequentialTokenizer) or type(fmt) not in (Positions, Frequency):
        return None
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not unicode")
    boost = fmt.field_boost
    texts = analyzer.texts(value)
    if type(fmt) is Positions:
        positions: dict[str, list[int]] = {}
        for pos, text in enumerate(texts):
            if text in positions:
                positions[text].append(pos)
            else:
                positions[text] = [pos]
        return [
            (w.encode("utf-8"), len(p), float(len(p)) * boost, _encode_positions(fmt, p)) for w, p in positions.items()
        ]
    freqs = Counter(texts)
    return [(w.encode("utf-8"), n, float(n) * boost, _PACKED[n] if n < 256 else pack_uint(n)) for w, n in freqs.items()]


_PACKED = [pack_uint(n) for n in range(256)]
_ONE_POSITION: dict[int, bytes] = {}


def _encode_positions(fmt: Positions, positions: list[int]) -> bytes:
    # Most words occur once in a field: their encoding depends on the position alone.
    if len(positions) == 1:
        pos = positions[0]
        encoded = _ONE_POSITION.get(pos)
        if encoded is None:
            encoded = _ONE_POSITION[pos] = fmt.encode(positions)
        return encoded
    return fmt.encode(positions)  # type: ignore[no-any-return]


def _fixed(values: bytes, begins: npt.NDArray[np.int64], size: int) -> list[bytes]:
    """Fixed-size values (a Frequency field's packed counts), one bytes object for the lot."""
    rows = np.frombuffer(values, dtype=np.uint8).reshape(-1, size)
    return [rows[begins // size].tobytes()]


def _write_postings(
    postwriter: Any,
    docs: npt.NDArray[np.uint32],
    weights: list[float],
    values: list[bytes] | None,
    lengths: npt.NDArray[np.uint8] | None,
    joined: bool,
) -> None:
    """Fill Whoosh's postings writer a block at a time, with the statistics its add_posting() keeps.

    `values` is one value per posting, or for a fixed-size format (`joined`) one bytes object
    holding them all (Whoosh joins a block's fixed-size values anyway), or None when empty.
    """
    limit = postwriter._blocklimit
    count = len(docs)
    size = len(values[0]) // count if joined and values else 0
    for start in range(0, count, limit):
        end = min(count, start + limit)
        block = docs[start:end]
        postwriter._ids = array("I", block.tobytes())
        postwriter._weights = array("f", weights[start:end])
        if values is None:
            postwriter._values = []
        elif joined:
            postwriter._values = [values[0][start * size : end * size]]
        else:
            postwriter._values = values[start:end]
        postwriter._maxweight = max(0, max(weights[start:end]))
        codes = lengths[block] if lengths is not None else None
        if codes is not None and codes.any():
            present = codes[codes > 0]
            postwriter._minlength = byte_to_length(int(present.min()))
            postwriter._maxlength = byte_to_length(int(present.max()))
        else:
            postwriter._minlength, postwriter._maxlength = None, 0
        if end < count:
            postwriter._write_block()  # the last block is written by finish_postings()


# --- analysing in other processes --------------------------------------------------------
#
# jieba is pure Python and is the largest single cost of a build (~40 % of it). With more
# than one core, worker processes cut the text fields into jieba words while this
# process reads the records and writes the segment; both halves take about as long.


def write_records(writer: BulkWriter, records: Iterable[Record], *, segmenter: Segmenter, workers: int) -> int:
    """Add `records` to `writer`, the text fields analysed by `workers` processes (0: here); returns the count."""
    if workers <= 0:
        count = 0
        for record in records:
            writer.add_document(**record)
            count += 1
        return count
    fields = _text_fields()
    context = multiprocessing.get_context("spawn")  # never fork a process that runs threads
    initargs = (str(segmenter.cache_dir), segmenter.terms, segmenter.fingerprint)
    count = 0
    broken = False
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=initargs) as pool:
        pending: deque[tuple[list[Record], Future[list[dict[str, list[_Item]]]]]] = deque()
        iterator = iter(records)
        try:
            while batch := list(islice(iterator, BATCH)):
                if broken:
                    pending.append((batch, _done([{}] * len(batch))))
                else:
                    texts = [{name: r[name] for name in fields if isinstance(r.get(name), str)} for r in batch]
                    pending.append((batch, pool.submit(analyse_texts, texts)))
                while len(pending) > 2 * workers or (broken and pending):
                    added, failed = _add_batch(writer, *pending.popleft())
                    count, broken = count + added, broken or failed
            while pending:
                count += _add_batch(writer, *pending.popleft())[0]
        except BaseException:
            for _, future in pending:
                future.cancel()
            raise
    return count


def analyse_texts(batch: list[dict[str, str]]) -> list[dict[str, list[_Item]]]:
    """In a worker: what each text field of each record indexes to (as BulkWriter would make it)."""
    schema = build_schema()
    out = []
    for texts in batch:
        analysed = {}
        for name, value in texts.items():
            items = _analyse(schema[name], value)
            if items is not None:
                analysed[name] = items
        out.append(analysed)
    return out


def _add_batch(
    writer: BulkWriter, batch: list[Record], future: Future[list[dict[str, list[_Item]]]]
) -> tuple[int, bool]:
    """Add a batch with its worker's analysis; (records added, whether the workers are gone)."""
    try:
        analysed = future.result()
    except BrokenProcessPool as exc:  # a worker died (or could not start): the rest is cut here
        log.warning("text analysis workers stopped (%s); the build goes on in this process", exc)
        for record in batch:
            writer.add_document(**record)
        return len(batch), True
    for record, fields in zip(batch, analysed, strict=True):
        writer.add_analysed(record, fields)
    return len(batch), False


def _done(result: list[dict[str, list[_Item]]]) -> Future[list[dict[str, list[_Item]]]]:
    future: Future[list[dict[str, list[_Item]]]] = Future()
    future.set_result(result)
    return future


def _text_fields() -> list[str]:
    # The jieba fields: bigrams cost a tenth as much, less than sending their words back would.
    schema = build_schema()
    return [n for n in schema.names() if isinstance(getattr(schema[n], "analyzer", None), JiebaTokenizer)]


def _start_worker(cache_dir: str, terms: list[str], fingerprint: str) -> None:
    segmenter = Segmenter.shared(Path(cache_dir), terms)
    if segmenter.fingerprint != fingerprint:  # the words must be cut as the index's queries will be
        raise RuntimeError(f"worker dictionary {segmenter.fingerprint} is not the build's {fingerprint}")
    use_segmenter(segmenter)
