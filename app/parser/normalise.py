"""Decoding a notice's bytes, and its content fingerprint.

Everything the parser matches on goes through `normalise` (from the domain layer, shared
with the unit directory and the search engine), while the original line is kept for
display.
"""

from __future__ import annotations

import hashlib

from app.domain.text import fold_characters, normalise
from app.parser.errors import NoticeFormatError

__all__ = ["content_hash", "decode", "normalise"]


def decode(raw: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or GB18030; reject binary input."""
    if not raw.strip():
        raise NoticeFormatError("the file is empty; expected the text of a work-points notice")
    if b"\x00" in raw:
        raise NoticeFormatError("the file is binary (it contains NUL bytes); expected a text notice")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise NoticeFormatError(
                f"the file is neither UTF-8 nor GB18030 (undecodable byte at offset {exc.start})"
            ) from exc
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(3, len(text) // 1000):
        raise NoticeFormatError("the file looks binary (control characters); expected a text notice")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def content_hash(text: str) -> str:
    """Fingerprint of a notice that ignores encoding, line ends, punctuation width, spacing and
    traditional or simplified characters (a mirror's traditional copy is the same notice)."""
    lines = (" ".join(fold_characters(line).split()) for line in text.splitlines())
    canonical = "\n".join(line for line in lines if line)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
