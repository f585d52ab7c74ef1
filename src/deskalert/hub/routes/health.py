"""Health: for monitoring, without a token."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from deskalert.hub.routes.deps import HubDep
from deskalert.models import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(hub: HubDep) -> Response:
    """200 while the store answers; 503 when it cannot be read or written."""
    health = await hub.health.report()
    if health.status != "ok":
        return JSONResponse(health.model_dump(mode="json"), status_code=503)
    return JSONResponse(health.model_dump(mode="json"))
