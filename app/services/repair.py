"""A search index that cannot be read answers 503 for that request and is rebuilt in the background."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from app.errors import AppError, IndexUnavailable
from app.search.index import SearchIndex
from app.search.source import RecordSource

log = logging.getLogger(__name__)
# What reading a truncated or overwritten segment raises varies with where the damage
# falls (short reads, bad offsets, broken compression or pickles, absurd lengths): any
# failure while answering from the index, other than the client's or the store's, is
# taken as damage. The index is always rebuildable from the store, the rebuilds are rate
# limited, and the traceback is logged, so a plain bug still shows.
DAMAGE: tuple[type[Exception], ...] = (Exception,)
REPAIR_COOLDOWN_SECONDS = 30.0
_repairs: dict[int, tuple[float, threading.Thread]] = {}
_repairs_lock = threading.Lock()


class UsesIndex(Protocol):
    """A service answering from a search index that the store can rebuild."""

    @property
    def index(self) -> SearchIndex:
        """The index read."""

    @property
    def source(self) -> RecordSource:
        """What the index is rebuilt from."""


S = TypeVar("S", bound=UsesIndex)
P = ParamSpec("P")
R = TypeVar("R")


def rebuild_in_background(index: SearchIndex, source: RecordSource) -> bool:
    """Start rebuilding `index` from the store unless a rebuild runs or ran lately; True if started."""
    with _repairs_lock:
        started, thread = _repairs.get(id(index), (0.0, None))
        if (thread is not None and thread.is_alive()) or time.monotonic() - started < REPAIR_COOLDOWN_SECONDS:
            return False

        def run() -> None:
            try:
                count = index.rebuild(source)
                log.warning("search index rebuilt after damage: %d records", count)
            except Exception:
                log.exception("rebuilding the damaged search index failed; the next failing request retries")

        thread = threading.Thread(target=run, name="kepu-index-repair", daemon=True)
        _repairs[id(index)] = (time.monotonic(), thread)
        thread.start()
        return True


def repairs_damage(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Turn an index read failure into IndexUnavailable (503) and a background rebuild."""

    def guarded(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except (AppError, SQLAlchemyError):
            raise  # the client's mistake, or the store's failure (a 503 of its own)
        except DAMAGE as exc:
            log.exception("the search index could not be read; rebuilding it from the store")
            rebuild_in_background(self.index, self.source)
            raise IndexUnavailable(
                "the search index could not be read; it is being rebuilt, try again shortly"
            ) from exc

    functools.update_wrapper(guarded, method)
    return guarded
