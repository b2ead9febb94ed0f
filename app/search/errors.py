"""The engine's own errors: they say what is wrong and where, never an HTTP status (services translate them)."""

from __future__ import annotations

from typing import Any


class QueryError(ValueError):
    """A search query that cannot be parsed or is out of bounds; `extra` holds its position or limit."""

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
