"""Broadcasts: a supervisor sends a message to every desk of some sites, each desk says "lu",
a supervisor ends it; anyone lists the current ones of the sites they see (hub/broadcasts.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from deskalert.hub.routes.deps import (
    LINK_HEADER,
    HubDep,
    PrincipalDep,
    errors,
    link_next_page,
    utc_query,
)
from deskalert.models import Broadcast, BroadcastCatalog, BroadcastIn

router = APIRouter(prefix="/v1/broadcasts", tags=["broadcasts"])


@router.post(
    "",
    status_code=201,
    responses={
        200: {"model": Broadcast, "description": "Already stored: the stored one"},
        **errors(403, 409, 503),
    },
)
async def send_broadcast(
    body: BroadcastIn, hub: HubDep, principal: PrincipalDep, response: Response
) -> Broadcast:
    """A supervisor sends a template, or a kind and a text, to every desk of `sites` (among
    the sites they send to); idempotent on `id` (201, then 200; 409 for the same id with
    another kind, text or sites). A kind that ends (`fin-alerte`) ends the current broadcasts
    of its sites."""
    broadcast, created = await hub.broadcasts.send(principal, body)
    response.status_code = 201 if created else 200
    return broadcast


@router.get("", responses={200: {"headers": LINK_HEADER}, **errors(400, 403, 404)})
async def list_broadcasts(
    hub: HubDep,
    principal: PrincipalDep,
    request: Request,
    response: Response,
    state: Annotated[
        Literal["current", "all"],
        Query(description="current: not ended; all: current and ended, sent in the period"),
    ] = "current",
    site: str | None = None,
    since: Annotated[datetime | None, Query(description="state=all: sent at or after")] = None,
    until: Annotated[datetime | None, Query(description="state=all: sent before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="state=all: per page")] = 200,
    cursor: Annotated[str | None, Query(description='From the `Link: rel="next"` header')] = None,
) -> list[Broadcast]:
    """The current broadcasts of the sites the caller sees (a desk: its own), oldest first;
    with `state=all`, every broadcast sent to them in [since, until) with its reads and end,
    for the debrief, paged like `/v1/notes` (`Link: rel="next"`; a page may hold fewer than
    `limit` when some broadcasts go only to sites the caller does not see)."""
    if state == "current":
        return await hub.broadcasts.current(principal, site)
    found, next_cursor = await hub.broadcasts.sent_in(
        principal, site, (utc_query(since, "since"), utc_query(until, "until")), limit, cursor
    )
    link_next_page(request, response, next_cursor)
    return found


@router.get("/catalog", responses=errors())
async def catalog(hub: HubDep, principal: PrincipalDep) -> BroadcastCatalog:
    """The roster's kinds (look, protocol) and templates, and the unread delay."""
    roster = hub.config.broadcasts
    return BroadcastCatalog(
        unread_after_s=roster.unread_after_s, kinds=roster.kinds, templates=roster.templates
    )


@router.get("/{broadcast_id}", responses=errors(404))
async def get_broadcast(broadcast_id: UUID, hub: HubDep, principal: PrincipalDep) -> Broadcast:
    return await hub.broadcasts.get(principal, broadcast_id)


@router.post("/{broadcast_id}/read", responses=errors(403, 404, 503))
async def read_broadcast(broadcast_id: UUID, hub: HubDep, principal: PrincipalDep) -> Broadcast:
    """The calling desk says "lu": stored once, with the hub time."""
    return await hub.broadcasts.read(principal, broadcast_id)


@router.post("/{broadcast_id}/end", responses=errors(403, 404, 503))
async def end_broadcast(broadcast_id: UUID, hub: HubDep, principal: PrincipalDep) -> Broadcast:
    """A supervisor ends it: every desk shows it ended (ending it again answers it as is)."""
    return await hub.broadcasts.end(principal, broadcast_id)
