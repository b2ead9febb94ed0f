"""OpenAPI post-processing: error responses are documented as what they are, problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

PROBLEM_EXAMPLE = {"type": "/problems/not-found", "title": "Not found", "status": 404, "detail": "no task with id 999"}


def install_openapi(app: FastAPI) -> None:
    """Wrap app.openapi so that 4xx/5xx responses carry the Problem schema under application/problem+json."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        for operations in spec.get("paths", {}).values():
            for op in operations.values():
                for code, response in op.get("responses", {}).items():
                    if not code.startswith(("4", "5")) or code == "503":
                        continue
                    content = response.setdefault("content", {})
                    schema = content.pop("application/json", {}).get("schema") or {
                        "$ref": "#/components/schemas/Problem"
                    }
                    example = {**PROBLEM_EXAMPLE, "status": int(code), "title": response.get("description", "")}
                    content["application/problem+json"] = {"schema": schema, "example": example}
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
