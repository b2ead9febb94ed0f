"""Error responses declared in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """Every error has this shape (RFC 9457 problem+json); some add fields such as `errors` or `suggestions`."""

    type: str = Field(examples=["/problems/not-found"], description="What kind of problem, as a path.")
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["no task with id 999"], description="What was wrong, for a person to read.")
    errors: list[dict[str, Any]] | None = Field(default=None, description="Validation errors: location, message, type.")
    suggestions: list[str] | None = Field(default=None, description="Close matches for an unknown unit name.")


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _problem("No such resource.")}
INVALID: dict[int | str, dict[str, Any]] = {422: _problem("A parameter is invalid (problem+json, with `errors`).")}
BAD_QUERY: dict[int | str, dict[str, Any]] = {400: _problem("The search query cannot be parsed.")}
