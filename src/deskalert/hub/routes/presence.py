"""Presence: which desks are online, and the heartbeat that keeps a caller online."""

from __future__ import annotations

from fastapi import APIRouter

from deskalert.hub.routes.deps import HubDep, PrincipalDep, errors
from deskalert.hub.service import utcnow
from deskalert.models import DeskPresence, HeartbeatOut

router = APIRouter(tags=["presence"])


@router.get("/v1/desks", responses=errors(403, 404))
async def list_desks(hub: HubDep, principal: PrincipalDep, site: str | None = None) -> list[DeskPresence]:
    """Desks with their online state and last time seen; a desk sees its own site."""
    return hub.desks(principal, site)


@router.post("/v1/heartbeat", responses=errors())
async def heartbeat(hub: HubDep, principal: PrincipalDep) -> HeartbeatOut:
    """Keeps the caller online without a stream; call it every `heartbeat_s` seconds."""
    await hub.seen(principal)
    return HeartbeatOut(
        id=principal.id, kind=principal.kind, at=utcnow(), heartbeat_s=hub.config.hub.heartbeat_s
    )
