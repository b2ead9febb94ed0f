"""Import a notice file: read, check, parse, store — all or nothing."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from app.db import unit_of_work
from app.errors import NoticeRejected
from app.parser import NoticeFormatError, ParsedNotice, parse_notice_bytes
from app.parser.records import LINE_KINDS
from app.search.index import SearchIndex
from app.services.importer import import_notice
from app.services.indexing import StoreRecords

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportReport:
    """What a notice file holds and what importing it did (`status` "checked" for a dry run)."""

    file: str
    status: str
    title: str
    year: int
    document_id: int | None
    found: dict[str, int]
    lines: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return asdict(self)


def found_in(notice: ParsedNotice) -> dict[str, int]:
    """How many of each part a parsed notice holds."""
    return {
        "sections": len(notice.sections),
        "key_points": len(notice.key_points),
        "sub_paragraphs": sum(len(kp.sub_paragraphs) for kp in notice.key_points),
        "tasks": len(notice.tasks),
        "units": len(notice.departments),
        "activities": len(notice.activities),
        "references": len(notice.references),
    }


def lines_by_kind(notice: ParsedNotice) -> dict[str, int]:
    """Where the input's non-blank lines went, by kind, in LINE_KINDS order; "total" last."""
    counts = Counter(account.kind for account in notice.lines)
    return {kind: counts[kind] for kind in LINE_KINDS if counts[kind]} | {"total": len(notice.lines)}


def _report(path: Path, notice: ParsedNotice, status: str, document_id: int | None) -> ImportReport:
    return ImportReport(
        path.name, status, notice.title, notice.year, document_id, found_in(notice), lines_by_kind(notice)
    )


def read_notice(raw: bytes, *, max_bytes: int, source_name: str) -> ParsedNotice:
    """Parse notice bytes, turning format errors into NoticeRejected."""
    if len(raw) > max_bytes:
        raise NoticeRejected(f"{source_name}: {len(raw):,} bytes is over the {max_bytes:,}-byte limit for a notice")
    try:
        return parse_notice_bytes(raw)
    except NoticeFormatError as exc:
        raise NoticeRejected(f"{source_name}: {exc}", line=exc.line) from exc


def read_file(path: Path, *, max_bytes: int = 5_000_000) -> ParsedNotice:
    """Read and parse one notice file, or raise NoticeRejected."""
    # The size is checked before reading, and the read stops one byte past the limit: a
    # device or pipe (/dev/zero, a FIFO) has no size to check, and must not eat memory.
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise NoticeRejected(f"{path.name}: {size:,} bytes is over the {max_bytes:,}-byte limit for a notice")
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise NoticeRejected(f"{path}: cannot read the file ({exc.strerror})") from exc
    if len(raw) > max_bytes:
        raise NoticeRejected(f"{path.name}: more than the {max_bytes:,}-byte limit for a notice")
    return read_notice(raw, max_bytes=max_bytes, source_name=path.name)


def check_file(path: Path, *, max_bytes: int = 5_000_000) -> ImportReport:
    """Parse one notice file and report what it holds; stores nothing (a dry run)."""
    return _report(path, read_file(path, max_bytes=max_bytes), "checked", None)


def import_file(
    engine: Engine,
    path: Path,
    *,
    replace: bool = False,
    keep_existing: bool = False,
    max_bytes: int = 5_000_000,
    index: SearchIndex | None = None,
) -> ImportReport:
    """Import one notice file in a single transaction, then bring the search index up to date.

    The store commits first: it is the source of truth. Should the index update fail, the
    index still records the older store generation and is rebuilt at the next start or sync.
    """
    notice = read_file(path, max_bytes=max_bytes)
    with unit_of_work(engine) as session:
        result = import_notice(session, notice, replace=replace, keep_existing=keep_existing, source_name=path.name)
    if index is not None and result.status not in ("unchanged", "kept"):
        try:
            index.update_documents(
                StoreRecords(engine), [result.document_id], removed=[result.replaced_id] if result.replaced_id else []
            )
        except Exception:
            log.exception("search index update failed after importing %s; it will be rebuilt from the store", path.name)
    return _report(path, notice, result.status, result.document_id)
