"""Presence: which desks are online, and the heartbeat that keeps a caller online."""

from __future__ import annotations

from fastapi import APIRouter

from deskalert.hub.routes.deps import HubDep, PrincipalDep, errors
from deskalert.hub.service import Hub
from deskalert.hub.settings import Principal
from deskalert.models import DeskPresence, HeartbeatOut, Presence

router = APIRouter(tags=["presence"])


@router.get("/v1/desks", responses=errors(403, 404))
async def list_desks(
    hub: HubDep, principal: PrincipalDep, site: str | None = None
) -> list[DeskPresence]:
    """Desks with their online state and last time seen; a desk sees its own site."""
    return hub.presence.desks(principal, site)


@router.get("/v1/presence", responses=errors(403, 404))
async def presence(hub: HubDep, principal: PrincipalDep, site: str | None = None) -> Presence:
    """Supervisors: the desks (as /v1/desks) and the tokens refused in the last 24 h, each with
    its SHA-256 prefix, client address, first and last time, count, and the desk or supervisor
    last seen from that address with a valid token: a revoked or mistyped token shows here."""
    return hub.presence.view(principal, site)


@router.post("/v1/heartbeat", responses=errors())
async def heartbeat(hub: HubDep, principal: PrincipalDep) -> HeartbeatOut:
    """Keeps the caller online without a stream; call it every `heartbeat_s` seconds."""
    return await heartbeat_out(hub, principal)


async def heartbeat_out(hub: Hub, principal: Principal) -> HeartbeatOut:
    """A heartbeat heard (also answered by `hot.HotRoutes`, below FastAPI)."""
    await hub.presence.seen(principal)
    return HeartbeatOut(
        id=principal.id,
        kind=principal.kind,
        at=hub.clock.now(),
        heartbeat_s=hub.config.hub.heartbeat_s,
        timezone=hub.config.hub.timezone,
    )
