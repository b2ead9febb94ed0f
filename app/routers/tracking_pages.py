"""Pages for member units' staff: sign in with the unit's token, see their tasks, report progress."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
