"""Alerts: raise (desk), list, read, and the transitions "j'arrive", resolve, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response

from deskalert.hub.routes.deps import HubDep, PrincipalDep, errors
from deskalert.models import Alert, AlertIn, CancelIn, Event, ResolveIn

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.post(
    "",
    status_code=201,
    responses={200: {"model": Alert, "description": "Already stored: the stored alert"},
               **errors(400, 403, 409, 413, 503)},
)
async def raise_alert(body: AlertIn, hub: HubDep, principal: PrincipalDep, response: Response) -> Alert:
    """Raise an alert from the calling desk; idempotent on `id` (201 first, then 200)."""
    alert, created = await hub.raise_alert(principal, body)
    if not created:
        response.status_code = 200
    return alert


@router.get("", responses=errors(403, 404))
async def list_alerts(
    hub: HubDep,
    principal: PrincipalDep,
    state: Literal["open", "all"] = "open",
    site: str | None = None,
    since: Annotated[datetime | None, Query(description="Received at or after")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Alert]:
    """Alerts newest first: open ones (open or acknowledged) or all; a desk sees its site."""
    return await hub.list_alerts(
        principal, open_only=state == "open", site=site, since=since, limit=limit
    )


@router.get("/{alert_id}", responses=errors(403, 404))
async def get_alert(alert_id: UUID, hub: HubDep, principal: PrincipalDep) -> Alert:
    return await hub.get_alert(principal, alert_id)


@router.get("/{alert_id}/events", responses=errors(403, 404))
async def alert_history(alert_id: UUID, hub: HubDep, principal: PrincipalDep) -> list[Event]:
    """The alert's whole history, oldest first: raised, escalated, each j'arrive, closed."""
    return await hub.alert_history(principal, alert_id)


@router.post("/{alert_id}/ack", responses=errors(403, 404, 409, 503))
async def acknowledge(alert_id: UUID, hub: HubDep, principal: PrincipalDep) -> Alert:
    """ "J'arrive": the caller is listed once among the responders, with the hub time."""
    return await hub.acknowledge(principal, alert_id)


@router.post("/{alert_id}/resolve", responses=errors(403, 404, 409, 503))
async def resolve(
    alert_id: UUID, hub: HubDep, principal: PrincipalDep, body: ResolveIn | None = None
) -> Alert:
    """Close the alert (a supervisor, or the desk that raised it), with an optional summary."""
    return await hub.resolve(principal, alert_id, body.summary if body else None)


@router.post("/{alert_id}/cancel", responses=errors(403, 404, 409, 503))
async def cancel(
    alert_id: UUID, hub: HubDep, principal: PrincipalDep, body: CancelIn | None = None
) -> Alert:
    """False alarm: the raising desk within the cancel window, a supervisor at any time."""
    return await hub.cancel(principal, alert_id, body.reason if body else None)
