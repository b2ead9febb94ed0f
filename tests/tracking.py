"""Helpers for the tracking tests: a writable seeded store, an app over it, tokens."""

from __future__ import annotations

from sqlalchemy import Engine

from app.db import unit_of_work
from app.domain.departments import load_directory
from app.services import tokens


def make_token(engine: Engine, unit: str | None = None, *, office: bool = False) -> str:
    """A fresh token for a unit or the office."""
    with unit_of_work(engine) as session:
        _, token = tokens.create_token(session, load_directory(), unit, office=office)
    return token


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}
