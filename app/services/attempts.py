"""Failed token attempts per client address, in a sliding window (in-process: each worker counts its own)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from app.errors import TooManyAttempts


class FailureLimiter:
    """Refuses an address that failed `limit` times within the last `window` seconds."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        """Raise TooManyAttempts (429, Retry-After) while the address is over the limit."""
        with self._lock:
            recent = self._recent(address)
            if len(recent) >= self.limit:
                retry = max(1, math.ceil(recent[0] + self.window - self._clock()))
                raise TooManyAttempts(
                    f"too many failed token attempts from {address}; try again in {retry} s", retry_after=retry
                )

    def fail(self, address: str) -> None:
        """Count one failed attempt."""
        with self._lock:
            self._recent(address).append(self._clock())

    def _recent(self, address: str) -> deque[float]:
        recent = self._failures.setdefault(address, deque())
        horizon = self._clock() - self.window
        while recent and recent[0] <= horizon:
            recent.popleft()
        if not recent:  # keep the table small: forget addresses with nothing recent
            self._failures.pop(address, None)
            recent = self._failures.setdefault(address, deque())
        return recent
