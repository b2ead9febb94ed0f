"""Import a notice file: read, check, parse, store — all or nothing."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine

from app.db import unit_of_work
from app.errors import NoticeRejected
from app.parser import NoticeFormatError, ParsedNotice, parse_notice_bytes
from app.search.index import SearchIndex
from app.services.importer import ImportResult, import_notice

log = logging.getLogger(__name__)


def read_notice(raw: bytes, *, max_bytes: int, source_name: str) -> ParsedNotice:
    """Parse notice bytes, turning format errors into NoticeRejected."""
    if len(raw) > max_bytes:
        raise NoticeRejected(f"{source_name}: {len(raw):,} bytes is over the {max_bytes:,}-byte limit for a notice")
    try:
        return parse_notice_bytes(raw)
    except NoticeFormatError as exc:
        raise NoticeRejected(f"{source_name}: {exc}", line=exc.line) from exc


def import_file(
    engine: Engine, path: Path, *, replace: bool = False, max_bytes: int = 5_000_000, index: SearchIndex | None = None
) -> ImportResult:
    """Import one notice file in a single transaction, then bring the search index up to date.

    The store commits first: it is the source of truth. Should the index update fail, the
    index still records the older store generation and is rebuilt at the next start or sync.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NoticeRejected(f"{path}: cannot read the file ({exc.strerror})") from exc
    notice = read_notice(raw, max_bytes=max_bytes, source_name=path.name)
    with unit_of_work(engine) as session:
        result = import_notice(session, notice, replace=replace, source_name=path.name)
    if index is not None and result.status != "unchanged":
        try:
            index.update_documents(
                engine, [result.document_id], removed=[result.replaced_id] if result.replaced_id else []
            )
        except Exception:
            log.exception("search index update failed after importing %s; it will be rebuilt from the store", path.name)
    return result
