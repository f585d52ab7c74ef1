"""On-call: who to call now for each site, the chain after them, and taking a shift."""

from __future__ import annotations

from fastapi import APIRouter

from deskalert.hub.routes.deps import HubDep, PrincipalDep, errors
from deskalert.models import AlertCode, OnCall, OverrideIn

router = APIRouter(tags=["on-call"])


@router.get("/v1/oncall", responses=errors(403, 404))
async def get_oncall(hub: HubDep, principal: PrincipalDep, site: str | None = None) -> list[OnCall]:
    """The on-call card of each site the caller sees (a desk: its own site)."""
    return hub.oncall.cards(principal, site)


@router.post("/v1/oncall/override", responses=errors(403, 404, 503))
async def take_shift(body: OverrideIn, hub: HubDep, principal: PrincipalDep) -> OnCall:
    """The calling supervisor takes the site's shift until `until` (at most 7 days ahead)."""
    return await hub.oncall.override(principal, body.site, body.until)


@router.delete("/v1/oncall/override", responses=errors(403, 404, 503))
async def hand_back_shift(site: str, hub: HubDep, principal: PrincipalDep) -> OnCall:
    """Ends the site's override: the weekly slots apply again."""
    return await hub.oncall.override(principal, site, None)


@router.get("/v1/codes", tags=["codes"], responses=errors())
async def list_codes(hub: HubDep, principal: PrincipalDep) -> list[AlertCode]:
    """The team's repertoire, so every desk and pane shows the same labels and protocols."""
    return hub.config.codes
