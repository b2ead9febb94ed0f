"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app import schemas as s
from app.deps import EngineDep
from app.services import stats

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="存活 · Liveness")
def healthz() -> s.Health:
    """The process answers."""
    return s.Health(status="ok")


@router.get("/readyz", summary="就绪 · Readiness", responses={503: {"model": s.Health}})
def readyz(engine: EngineDep) -> JSONResponse:
    """The store is reachable and holds at least one document."""
    ready, detail = stats.readiness(engine)
    body = s.Health(status="ready" if ready else "not ready", detail=detail)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
