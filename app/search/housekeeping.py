"""Clearing what an interrupted writer left in the index folder."""

from __future__ import annotations

import logging
import shutil

from app.search.index import SearchIndex

log = logging.getLogger(__name__)


def remove_abandoned_builds(index: SearchIndex) -> list[str]:
    """Delete build folders and pointer files that no live index uses (a killed reindex leaves them).

    Under the index's write lock: a build being written by another process holds that lock
    until it is live, so only abandoned ones are seen here. Returns the names removed.
    """
    removed: list[str] = []
    with index.write_lock():
        try:
            current = (index.root / "CURRENT").read_text("utf-8").strip()
        except OSError:
            return removed  # no live build yet: the next sync builds one
        for path in index.root.glob("build-*"):
            if path.name != current and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        for path in index.root.glob(".CURRENT.*"):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    if removed:
        log.warning("removed index files left by an interrupted writer: %s", ", ".join(sorted(removed)))
    return removed
