"""Whoosh's file storage read with `os.pread`: safe to share between threads, and never memory-mapped.

Whoosh reads a segment either through a memory map (positional reads are slices: threads
can share a reader) or, with `supports_mmap=False`, through one file object per segment
whose every positional read is `seek()` then `read()`. Threads sharing the searcher (the
request pool, the pinyin refresh, warming) then move each other's file position between
the two calls and read the wrong bytes: "the index could not be read", a 503 and a needless
rebuild under concurrent load. Memory maps are not an option (a truncated segment kills the
process with SIGBUS), so here each positional read is one `os.pread` at an absolute offset:
no shared position, and a short read past a truncated end is an exception like any other.
"""

from __future__ import annotations

import os
import sys
from array import array
from typing import IO, Any

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile


class _Window:
    """Bytes [base, base + length) of an open file, read by `os.pread` from a position of its own."""

    def __init__(self, handle: IO[bytes], base: int, length: int, *, owner: bool) -> None:
        self.handle = handle  # kept open for the fd; closed by the window that owns it
        self.fd = handle.fileno()
        self.base = base
        self.length = length
        self.owner = owner
        self.pos = 0

    def pread(self, position: int, size: int) -> bytes:
        """`size` bytes at `position` (fewer at the end), the position of this window untouched."""
        size = max(0, min(size, self.length - position))
        return os.pread(self.fd, size, self.base + position) if size else b""

    def read(self, size: int | None = None) -> bytes:
        """Read from the window's own position, as a file does."""
        if size is None or size < 0:
            size = self.length - self.pos
        data = self.pread(self.pos, size)
        self.pos += len(data)
        return data

    def readline(self) -> bytes:
        """A line from the window's own position (Whoosh reads none from segments; here for completeness)."""
        rest = self.pread(self.pos, self.length - self.pos)
        end = rest.find(b"\n")
        line = rest if end < 0 else rest[: end + 1]
        self.pos += len(line)
        return line

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move the window's own position."""
        start = {os.SEEK_SET: 0, os.SEEK_CUR: self.pos, os.SEEK_END: self.length}[whence]
        self.pos = start + offset
        return self.pos

    def tell(self) -> int:
        """The window's own position."""
        return self.pos

    def close(self) -> None:
        """Close the file if this window opened it; a subset shares its parent's."""
        if self.owner:
            self.handle.close()


class PreadFile(StructFile):  # type: ignore[misc]  # whoosh is untyped
    """A read-only StructFile whose positional reads (`get*`) are single `os.pread` calls."""

    def __init__(self, window: _Window, name: str | None = None) -> None:
        super().__init__(window, name=name)
        self.window = window

    def subset(self, offset: int, length: int, name: str | None = None) -> PreadFile:
        """A part of this file (a compound segment's member), sharing the descriptor, with its own position."""
        window = _Window(self.window.handle, self.window.base + offset, length, owner=False)
        return PreadFile(window, name=name or self._name)

    def get(self, position: int, length: int) -> bytes:
        """`length` bytes at `position`, atomically: no seek another thread could move."""
        return self.window.pread(position, length)

    def get_array(self, position: int, typecode: str, length: int) -> Any:
        """An array read at `position`, atomically (see get)."""
        values = array(typecode)
        values.frombytes(self.get(position, length * values.itemsize))
        if len(values) != length:
            raise EOFError(f"{self._name}: {length} items wanted at {position}, {len(values)} read")
        if sys.byteorder == "little":  # Whoosh stores arrays big-endian
            values.byteswap()
        return values


class PreadStorage(FileStorage):  # type: ignore[misc]  # whoosh is untyped
    """FileStorage for reading an index: files opened for positional reads by `os.pread`, no memory maps."""

    supports_mmap = False

    def __init__(self, path: str) -> None:
        super().__init__(path, supports_mmap=False)

    def open_file(self, name: str, **kwargs: Any) -> PreadFile:
        """Open an existing file of the index for reading."""
        handle = open(self._fpath(name), "rb")  # noqa: SIM115 - closed by the returned file's close()
        length = os.fstat(handle.fileno()).st_size
        file = PreadFile(_Window(handle, 0, length, owner=True), name=name)
        file.onclose = kwargs.get("onclose")
        return file
