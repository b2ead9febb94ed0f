"""Notice text in, plain records out. Pure: no database, no index."""

from app.parser.errors import NoticeFormatError
from app.parser.records import (
    ParsedDepartmentRole,
    ParsedKeyPoint,
    ParsedNotice,
    ParsedSection,
    ParsedTask,
)
from app.parser.structure import parse_notice, parse_notice_bytes

__all__ = [
    "NoticeFormatError",
    "ParsedDepartmentRole",
    "ParsedKeyPoint",
    "ParsedNotice",
    "ParsedSection",
    "ParsedTask",
    "parse_notice",
    "parse_notice_bytes",
]
