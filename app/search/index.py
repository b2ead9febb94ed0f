"""The search index's lifecycle: open once, check against the store, rebuild, update, refresh, close.

Layout under the index folder:
  CURRENT            name of the live build (replaced atomically)
  build-<id>/        one complete Whoosh index + kepu-meta.json + dictionary.txt
  .write.lock        serialises writers across processes (workers, `kepu import`)
A rebuild writes a new build folder and only then points CURRENT at it, so a crash
mid-write leaves the previous index in place; the store is the source of truth and the
index is always rebuildable from it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.searching import Searcher
from whoosh.writing import IndexWriter

from app.search.analysis import use_segmenter
from app.search.builder import BulkWriter, write_records
from app.search.dictionary import Segmenter
from app.search.ranking import SEGMENTS, Ranker, persist_columns
from app.search.schema import SCHEMA_VERSION, build_schema
from app.search.source import Changes, RecordSource, SourceVersion
from app.search.storage import PreadStorage

log = logging.getLogger(__name__)
META = "kepu-meta.json"
FACET_FIELDS = ("kind", "department", "section", "target_group")
COLUMN_FIELDS = (*FACET_FIELDS, "document")  # also counted by column: hits per edition (year, province …)
SCORED_FIELDS = ("title", "body", "grams", "context")
REFRESH_CHECK_SECONDS = 0.5
MIN_FOLLOW_SECONDS = 0.05  # a following thread never polls faster than this, whatever the setting
DICTIONARY = "dictionary.txt"
# A full build of at least this many records cuts its text in other processes (starting
# one costs ~1 s: below this, cutting here is as quick).
PARALLEL_BUILD_RECORDS = 5_000
MAX_BUILD_WORKERS = 3
WARM_TERMS = 2000  # terms the previous searcher was asked for, scored by a new one before the switch
BUILD_SWITCH_RETRIES = 3  # times a refresh follows CURRENT when the build it read was removed meanwhile


@dataclass(frozen=True)
class IndexMeta:
    """Written beside each build after its commit."""

    generation: int
    fingerprint: str
    records: int
    dictionary: str
    built_at: float
    schema_version: int = 0
    position: int | None = None  # the source's change-log position the build has applied (None: unknown)


class SearchIndex:
    """One per process: owns the segmenter, the live build and a reusable searcher."""

    def __init__(self, root: Path, *, cache_dir: Path | None = None, build_workers: int | None = None) -> None:
        self.root = root
        self.build_workers = build_workers  # processes cutting text in a full build (None: by size and cores)
        self.cache_dir = cache_dir or root.parent / "cache"
        self.segmenter: Segmenter | None = None
        self._build: str | None = None
        self._searcher: Searcher | None = None
        self._lock = threading.RLock()  # held by every search, and to switch searchers
        self._refreshing = threading.Lock()  # one thread opens a new searcher at a time
        self.generation = -1  # bumps whenever the searcher changes; keys the result cache
        self._checked_at = 0.0
        self.ranker: Ranker | None = None
        self._last_sync = 0.0
        self._background = threading.Thread()  # never started: "no sync running"
        self._follower = threading.Thread()
        self._wake = threading.Event()
        self._stop = threading.Event()
        # Called with each new ranker before it is switched in, off the request path (as
        # Solr's newSearcher listeners): what the callers derive from the index is made then.
        self.warmers: list[Callable[[Ranker], None]] = []
        self.rebuilds = 0  # full builds and change-log catch-ups this process made (tests, logs)
        self.catch_ups = 0

    # --- lifecycle -------------------------------------------------------------

    def open(self, source: RecordSource) -> SearchIndex:
        """Load jieba and the dictionary, then make sure the index matches the store."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.segmenter = Segmenter.shared(self.cache_dir, source.terms())
        use_segmenter(self.segmenter)
        self.sync(source, force=True)
        return self

    def close(self) -> None:
        """Stop following, wait for a background sync, then close the searcher."""
        self._stop.set()
        self._wake.set()
        if self._follower.is_alive():
            self._follower.join(timeout=120)
        if self._background.is_alive():
            self._background.join(timeout=120)
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    def sync(self, source: RecordSource, *, force: bool = False, every: float = 0.0) -> bool:
        """Bring the index in step with the source; True if it had to change it.

        A stale build applies the source's changes since its position (a catch-up); it is
        rebuilt in full only when it is missing or unreadable, its position has been trimmed
        from the change log, the schema or the dictionary changed, or the catch-up does not
        add up to the source's record count.
        """
        now = time.monotonic()
        if not force and now - self._last_sync < every:
            return False
        self._last_sync = now
        state = source.version()
        if self._matches(state):
            self._refresh()
            return False
        with self.write_lock():
            state = source.version()
            if self._matches(state):  # another process caught up or rebuilt while we waited
                self._refresh()
                return False
            if self._catch_up_locked(source, state):
                self._refresh()
            else:
                self._rebuild_locked(source)
        return True

    def follow(self, source: RecordSource, *, every: float) -> None:
        """Keep in step with the source from a background thread: every `every` seconds, or at once on wake()."""
        if self._follower.is_alive():
            return
        self._stop.clear()

        def run() -> None:
            while not self._stop.is_set():
                self._wake.wait(timeout=max(every, MIN_FOLLOW_SECONDS))
                self._wake.clear()
                if self._stop.is_set():
                    return
                try:
                    self.sync(source, force=True)
                except Exception:
                    log.exception("index sync failed; the current build keeps serving")

        self._follower = threading.Thread(target=run, name="kepu-index-follow", daemon=True)
        self._follower.start()

    def wake(self) -> None:
        """Check the source now (a write was announced), not at the next interval."""
        self._wake.set()

    def sync_in_background(self, source: RecordSource, *, every: float) -> None:
        """From the request path: check at most every `every` seconds; rebuild off-thread.

        Requests keep being answered from the current build while a stale index (another
        replica wrote to the shared store) is rebuilt; the new build is adopted when done.
        """
        now = time.monotonic()
        if now - self._last_sync < every or self._background.is_alive() or self._follower.is_alive():
            return
        self._last_sync = now

        def run() -> None:
            try:
                self.sync(source, force=True)
            except Exception:
                log.exception("background index sync failed; the current build keeps serving")

        self._background = threading.Thread(target=run, name="kepu-index-sync", daemon=True)
        self._background.start()

    def rebuild(self, source: RecordSource) -> int:
        """Rebuild from the store unconditionally; returns the number of records."""
        with self.write_lock():
            return self._rebuild_locked(source)

    def update_documents(self, source: RecordSource, document_ids: Iterable[int], removed: Iterable[int] = ()) -> None:
        """After this process wrote to the source: catch up now (the change log says what changed)."""
        self.sync(source, force=True)

    # --- reading ---------------------------------------------------------------

    def searcher(self) -> Searcher:
        """The reusable searcher, refreshed if the index changed since it was opened.

        Writes from this process refresh at once; another process's writes are noticed
        within REFRESH_CHECK_SECONDS (checking costs a file read and a directory listing).
        """
        now = time.monotonic()
        if self._searcher is None or now - self._checked_at >= REFRESH_CHECK_SECONDS:
            self._checked_at = now
            # Under the read lock: never wait for another thread's refresh (it needs that
            # lock to switch), keep answering from the current searcher meanwhile.
            self._refresh(wait=self._searcher is None)
        if self._searcher is None:
            raise RuntimeError("the search index is not open")
        return self._searcher

    @contextmanager
    def reading(self) -> Iterator[Searcher]:
        """The searcher under the index lock, so a refresh cannot close it mid-search."""
        with self._lock:
            yield self.searcher()

    def record_count(self) -> int:
        """Records in the live index."""
        with self.reading() as searcher:
            return int(searcher.doc_count())

    def meta(self) -> IndexMeta | None:
        """The live build's metadata."""
        build = self._current_build()
        return self._read_meta(self.root / build) if build else None

    # --- internals -------------------------------------------------------------

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time across processes (Whoosh itself raises LockError otherwise)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".write.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _catch_up_locked(self, source: RecordSource, state: SourceVersion) -> bool:
        """Apply the source's changes since the live build's position; False when only a rebuild will do."""
        build = self._current_build()
        meta = self._read_meta(self.root / build) if build else None
        if build is None or meta is None or meta.position is None or meta.schema_version != SCHEMA_VERSION:
            return False
        segmenter = Segmenter(self.cache_dir, source.terms())
        if segmenter.fingerprint != meta.dictionary:
            return False  # other names cut text differently: every record must be cut again
        changes = source.changes(meta.position, state.position)
        if changes is None:
            return False
        started, cpu = time.perf_counter(), time.thread_time()
        if self.segmenter is None or self.segmenter.fingerprint != meta.dictionary:
            self.segmenter = Segmenter.shared(self.cache_dir, segmenter.terms)
            use_segmenter(self.segmenter)
        try:
            indexed, applied = self._apply_changes(self.root / build, source, changes)
        except Exception as exc:  # a damaged build: rebuild it
            log.warning("catching up index build %s failed (%s); rebuilding", build, exc)
            return False
        if indexed != state.records:
            log.warning("index holds %d records after catching up, the source %d; rebuilding", indexed, state.records)
            return False
        self._write_meta(self.root / build, state, ix_records=indexed)
        self.catch_ups += 1
        log.info(
            "index caught up to position %d: %d records re-read in %.3fs (cpu %.3fs)",
            state.position,
            applied,
            time.perf_counter() - started,
            time.thread_time() - cpu,
        )
        return True

    def _apply_changes(self, path: Path, source: RecordSource, changes: Changes) -> tuple[int, int]:
        """Delete what the changes name, add what the source holds for them now; (records indexed, re-read)."""
        ix = whoosh_index.open_dir(str(path), schema=build_schema())
        try:
            stale = set(changes.records)
            if changes.documents:
                # What the index holds under a changed document may now live elsewhere (an
                # activity shared with another edition) or nowhere: each is re-read by uid.
                with ix.searcher() as searcher:
                    for document_id in changes.documents:
                        stale.update(fields["uid"] for fields in searcher.documents(document=str(document_id)))
            fresh = list(source.records(sorted(changes.documents))) if changes.documents else []
            have = {record["uid"] for record in fresh}
            fresh += [r for r in source.records_by_uid(sorted(stale - have)) if r["uid"] not in have]
            writer = ix.writer(limitmb=128)
            try:
                for uid in stale - {record["uid"] for record in fresh}:
                    writer.delete_by_term("uid", uid)
                for record in fresh:
                    writer.update_document(**record)  # deletes the old copy by its unique uid
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            return int(ix.doc_count()), len(fresh)
        finally:
            ix.close()

    def _rebuild_locked(self, source: RecordSource) -> int:
        assert self.segmenter is not None
        state = source.version()
        self.segmenter = Segmenter.shared(self.cache_dir, source.terms())
        use_segmenter(self.segmenter)
        build = f"build-{int(time.time())}-{uuid.uuid4().hex[:8]}"
        path = self.root / build
        path.mkdir(parents=True)
        started = time.perf_counter()
        ix = whoosh_index.create_in(str(path), build_schema())
        # Our segment writer (app/search/builder.py): Whoosh's files, its postings written a
        # block at a time instead of one Python call per posting through a sort pool.
        writer: IndexWriter = BulkWriter(ix)
        try:
            count = write_records(writer, source.records(), segmenter=self.segmenter, workers=self._workers(state))
            # One writer, one segment: asking Whoosh to optimise it only costs time.
            writer.commit(optimize=False)
        except BaseException:
            writer.cancel()
            ix.close()
            shutil.rmtree(path, ignore_errors=True)
            raise
        ix.close()
        self._write_meta(path, state, ix_records=count)
        self.rebuilds += 1
        (path / DICTIONARY).write_text("\n".join(self.segmenter.terms), "utf-8")
        # Opened and warmed (postings, records, phrases, the warmers) before CURRENT moves,
        # then switched in at once: searches meanwhile read the old build, and this process
        # never reads the old build once CURRENT names the new one.
        with self._refreshing:
            try:
                searcher, ranker = self._open_build(build, warm_terms=True)
            except BaseException:
                shutil.rmtree(path, ignore_errors=True)  # CURRENT never named it: nobody reads it
                raise
            try:
                persist_columns(searcher, COLUMN_FIELDS)  # other processes open the build without decoding them
                self._point_current_at(build)
            except BaseException:
                searcher.close()
                shutil.rmtree(path, ignore_errors=True)
                raise
            self._switch(build, searcher, ranker)
        log.info("index rebuilt: %d records in %.2fs", count, time.perf_counter() - started)
        self._remove_old_builds(keep=build)
        return count

    def _workers(self, state: SourceVersion) -> int:
        if self.build_workers is not None:
            return self.build_workers
        if state.records < PARALLEL_BUILD_RECORDS:
            return 0
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return min(MAX_BUILD_WORKERS, cores - 1)

    def _write_meta(self, path: Path, state: SourceVersion, *, ix_records: int | None) -> None:
        assert self.segmenter is not None
        records = ix_records if ix_records is not None else state.records
        meta = IndexMeta(
            state.generation,
            state.fingerprint,
            records,
            self.segmenter.fingerprint,
            time.time(),
            SCHEMA_VERSION,
            state.position,
        )
        tmp = path / f".{META}.tmp"
        tmp.write_text(json.dumps(asdict(meta)), "utf-8")
        os.replace(tmp, path / META)

    def _read_meta(self, path: Path) -> IndexMeta | None:
        try:
            return IndexMeta(**json.loads((path / META).read_text("utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def _point_current_at(self, build: str) -> None:
        tmp = self.root / f".CURRENT.{uuid.uuid4().hex}"
        tmp.write_text(build, "utf-8")
        os.replace(tmp, self.root / "CURRENT")

    def _current_build(self) -> str | None:
        try:
            name = (self.root / "CURRENT").read_text("utf-8").strip()
        except OSError:
            return None
        return name if name and (self.root / name).is_dir() else None

    def _matches(self, state: SourceVersion) -> bool:
        build = self._current_build()
        if build is None:
            return False
        meta = self._read_meta(self.root / build)
        expected = (state.generation, state.fingerprint, state.records, SCHEMA_VERSION)
        if meta is None or (meta.generation, meta.fingerprint, meta.records, meta.schema_version) != expected:
            return False
        with self._lock:  # the build this process reads, unchanged on disk: it opened, so it is readable
            if build == self._build and self._searcher is not None and self._searcher.up_to_date():
                return True
        try:
            ix = whoosh_index.open_dir(str(self.root / build), schema=build_schema())
            try:
                return int(ix.doc_count()) == state.records
            finally:
                ix.close()
        except Exception as exc:  # a half-written or damaged build: rebuild it
            log.warning("index build %s unreadable (%s); rebuilding", build, exc)
            return False

    def _refresh(self, *, wait: bool = True) -> None:
        """Switch to the live build's newest state; the new searcher and ranker are made off the read lock."""
        if not self._refreshing.acquire(blocking=wait):
            return
        try:
            for attempt in range(BUILD_SWITCH_RETRIES + 1):
                build = self._current_build()
                if build is None:
                    return
                with self._lock:
                    if build == self._build and self._searcher is not None and self._searcher.up_to_date():
                        return
                try:
                    searcher, ranker = self._open_build(build, warm_terms=wait)
                    break
                except Exception:
                    # Another process switched CURRENT and removed this build between our
                    # reading the pointer and opening it: read the new one, no damage here.
                    if attempt == BUILD_SWITCH_RETRIES or self._current_build() == build:
                        raise
            assert build is not None  # the loop returns when there is no build
            self._switch(build, searcher, ranker)
        finally:
            self._refreshing.release()

    def _switch(self, build: str, searcher: Searcher, ranker: Ranker) -> None:
        # Searches hold the read lock from start to end: none is using the old searcher
        # once the switch has it, so it can be closed.
        with self._lock:
            old, self._searcher, self._build = self._searcher, searcher, build
            previous, self.ranker = self.ranker, ranker
            self.generation += 1
        if old is not None:
            old.close()
        if previous is not None:  # a full rebuild leaves no segment of the old build in use here
            SEGMENTS.forget(previous.segment_keys() - ranker.segment_keys())

    def _open_build(self, build: str, *, warm_terms: bool) -> tuple[Searcher, Ranker]:
        # Always a new searcher, never Whoosh's Searcher.refresh(): refresh() reuses the
        # reader of every segment whose id it knows, and a segment's id survives
        # deletions made by another process, so replaced records were answered twice.
        self._adopt_dictionary(self.root / build)
        # Read, not memory-mapped: a damaged or truncated file is an exception, never SIGBUS;
        # by pread, so the request threads and the background work can share the searcher.
        ix = PreadStorage(str(self.root / build)).open_index(schema=build_schema())
        searcher = ix.searcher()
        try:
            return searcher, self._make_ranker(searcher, warm_terms=warm_terms)
        except BaseException:
            searcher.close()
            raise

    def _make_ranker(self, searcher: Searcher, *, warm_terms: bool = False) -> Ranker:
        # Posting lists and facet values are read per searcher, so a new searcher needs a
        # new ranker; made before the switch, so searches never see a half-made one, and
        # while searches go on against the current one. Segments kept from the last searcher
        # are decoded already (app/search/ranking.py); a new segment's terms decode as queries
        # ask for them, a few at a time.
        ranker = Ranker(searcher, COLUMN_FIELDS, scored_fields=SCORED_FIELDS)
        previous = self.ranker
        if warm_terms and previous is not None:
            # Off the request path (a write, the follower, a background sync): the terms the
            # last searcher was asked for are decoded in the new segment and scored against the
            # new searcher now, so the first searches after a write find them ready.
            for fieldname, text in previous.hot_terms(WARM_TERMS):
                if fieldname in searcher.schema:
                    ranker.term(fieldname, text)
            for fieldname, values in previous.hot_filters():
                ranker.docs_with(fieldname, values)
            ranker.prefetch_phrases(previous.hot_phrases())
            ranker.read_all_stored(skip=previous.segment_keys())  # the new segments' records
            ranker.prefetch_records(previous)
        if warm_terms:
            for warmer in self.warmers:
                try:
                    warmer(ranker)
                except Exception:  # a warmer only saves the first searches time
                    log.warning("index warmer %r failed; searches will make it themselves", warmer, exc_info=True)
        return ranker

    def _adopt_dictionary(self, path: Path) -> None:
        # Another process may have built this index with more names in its dictionary;
        # queries must be cut with the same words the index was.
        try:
            terms = (path / DICTIONARY).read_text("utf-8").split("\n")
        except OSError:
            return
        if self.segmenter is None or set(terms) - set(self.segmenter.terms):
            self.segmenter = Segmenter.shared(self.cache_dir, terms)
            use_segmenter(self.segmenter)

    def _remove_old_builds(self, keep: str) -> None:
        # Open searchers in other processes keep their files alive after unlinking (POSIX).
        for path in self.root.glob("build-*"):
            if path.name != keep:
                shutil.rmtree(path, ignore_errors=True)
