"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app import schemas as s
from app.deps import EngineDep
from app.services import stats

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="存活 · Liveness")
def healthz() -> s.Health:
    """The process answers."""
    return s.Health(status="ok")


@router.get(
    "/readyz",
    summary="就绪 · Readiness",
    responses={200: {"model": s.Health}, 503: {"model": s.Health, "description": "Not ready, with the reason."}},
)
def readyz(engine: EngineDep) -> JSONResponse:
    """The store is reachable and holds at least one document."""
    ready, detail = stats.readiness(engine)
    body = s.Health(status="ready" if ready else "not ready", detail=detail)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    summary="监控指标 · Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/plain": {
                    "example": 'kepu_http_requests_total{method="GET",route="/api/v1/search",status="200"} 3.0'
                }
            }
        }
    },
)
def metrics(request: Request) -> Response:
    """Requests by route and status, a latency histogram, index size and last import time (this process)."""
    return Response(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
