"""Import a notice file: read, check, parse, store — all or nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from app.db import unit_of_work
from app.errors import NoticeRejected
from app.parser import NoticeFormatError, ParsedNotice, parse_notice_bytes
from app.services.importer import ImportResult, import_notice


def read_notice(raw: bytes, *, max_bytes: int, source_name: str) -> ParsedNotice:
    """Parse notice bytes, turning format errors into NoticeRejected."""
    if len(raw) > max_bytes:
        raise NoticeRejected(f"{source_name}: {len(raw):,} bytes is over the {max_bytes:,}-byte limit for a notice")
    try:
        return parse_notice_bytes(raw)
    except NoticeFormatError as exc:
        raise NoticeRejected(f"{source_name}: {exc}", line=exc.line) from exc


def import_file(engine: Engine, path: Path, *, replace: bool = False, max_bytes: int = 5_000_000) -> ImportResult:
    """Import one notice file in a single transaction."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NoticeRejected(f"{path}: cannot read the file ({exc.strerror})") from exc
    notice = read_notice(raw, max_bytes=max_bytes, source_name=path.name)
    with unit_of_work(engine) as session:
        return import_notice(session, notice, replace=replace, source_name=path.name)
