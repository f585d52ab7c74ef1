"""Who can come now: per site, desks online and supervisors who can answer."""

from __future__ import annotations

from fastapi import APIRouter

from deskalert.hub.routes.deps import HubDep, PrincipalDep, errors
from deskalert.models import SiteAvailability

router = APIRouter(tags=["presence"])


@router.get("/v1/availability", responses=errors(403, 404))
async def availability(
    hub: HubDep, principal: PrincipalDep, site: str | None = None
) -> list[SiteAvailability]:
    """Each visible site's numbers now (a desk sees its own site): the snapshot of the live
    `site.availability` frames of `/v1/events?availability=1`."""
    return hub.presence.availability_now(principal, site)
