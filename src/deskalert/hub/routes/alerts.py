"""Alerts: raise (desk), list, read, and the transitions "j'arrive", resolve, cancel."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from deskalert.errors import Forbidden, NotFound, RateLimited
from deskalert.hub.alert_rate import AlertRate
from deskalert.hub.alerts import AlertIdReused
from deskalert.hub.routes.deps import (
    LINK_HEADER,
    HubDep,
    PrincipalDep,
    errors,
    link_next_page,
    utc_query,
)
from deskalert.hub.service import Hub
from deskalert.hub.settings import Principal
from deskalert.models import Alert, AlertIn, CancelIn, ErrorOut, Event, ResolveIn

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.post(
    "",
    status_code=201,
    response_model=Alert,
    responses={
        200: {"model": Alert, "description": "Already stored: the stored alert"},
        409: {
            "model": ErrorOut,
            "description": "The id is another desk's, or was "
            "stored with another body: `alert` is the stored alert",
        },
        429: {
            "model": ErrorOut,
            "description": "A burst of new alerts from this desk; "
            "Retry-After says when to send it again (a stored id is never refused)",
        },
        **errors(400, 403, 413, 503),
    },
)
async def raise_alert(
    body: AlertIn, hub: HubDep, principal: PrincipalDep, response: Response, request: Request
) -> Alert | Response:
    """Raise an alert from the calling desk; idempotent on `id` (201 first, then 200 for the
    same body; 409 with the stored alert for the same id with another code, message or test;
    429 for a burst of new alerts from one desk)."""
    status, answer = await raise_for(hub, request.app.state.alert_rate, principal, body)
    response.status_code = status
    return answer


async def raise_for(
    hub: Hub, rate: AlertRate, principal: Principal, body: AlertIn
) -> tuple[int, Alert | JSONResponse]:
    """The route's answer: (201, alert) stored now, (200, alert) stored before, or (409, the
    refusal); also called by `hot.HotRoutes`, which answers the plain case below FastAPI."""
    took = not principal.is_supervisor and await _take(rate, hub, principal, body)
    created = False
    try:
        alert, created = await hub.alerts.raise_alert(principal, body)
    except AlertIdReused as exc:
        return 409, _reused(exc)
    finally:
        if took:  # the token stays for an alert stored now, else it is given back
            rate.end(principal.id, body.id, created)
    return (201 if created else 200), alert


async def _take(rate: AlertRate, hub: Hub, principal: Principal, body: AlertIn) -> bool:
    """Take one of the desk's tokens (True), or let a replay of a stored id through without
    one (False); refuse a new alert over the rate with a 429."""
    wait_s = rate.begin(principal.id, body.id)
    if wait_s is None:
        return True
    try:
        await hub.alerts.get_alert(principal, body.id)
        return False  # stored already: a replay from the desk's outbox is never refused
    except Forbidden:
        return False  # stored, by another site's desk: raise_alert answers the 409
    except NotFound:
        pass
    error = RateLimited(
        f"desk {principal.id} raised more than {rate.burst} new alerts in a burst; send this "
        f"one again in {math.ceil(wait_s)} s (Retry-After)"
    )
    error.retry_after_s = wait_s
    raise error


def _reused(exc: AlertIdReused) -> JSONResponse:
    refusal = ErrorOut(error=exc.code, detail=exc.detail, state=exc.alert.state)
    answer = refusal.model_dump(mode="json", exclude_none=True)
    answer["alert"] = exc.alert.model_dump(mode="json")
    return JSONResponse(answer, status_code=409)


@router.get("", responses={200: {"headers": LINK_HEADER}, **errors(403, 404)})
async def list_alerts(
    hub: HubDep,
    principal: PrincipalDep,
    request: Request,
    response: Response,
    state: Literal["open", "all"] = "open",
    site: str | None = None,
    since: Annotated[datetime | None, Query(description="Received at or after")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Alerts per page")] = 200,
    cursor: Annotated[str | None, Query(description='From the `Link: rel="next"` header')] = None,
) -> list[Alert]:
    """Alerts newest first: open ones (open or acknowledged) or all; a desk sees its site.
    A page of `limit`; when there are more, `Link: <?...&cursor=...>; rel="next"` points to the
    next page (same parameters, plus its cursor)."""
    alerts, next_cursor = await hub.alerts.list_alerts(
        principal,
        open_only=state == "open",
        site=site,
        since=utc_query(since, "since"),
        limit=limit,
        cursor=cursor,
    )
    link_next_page(request, response, next_cursor)
    return alerts


@router.get("/{alert_id}", responses=errors(403, 404))
async def get_alert(alert_id: UUID, hub: HubDep, principal: PrincipalDep) -> Alert:
    return await hub.alerts.get_alert(principal, alert_id)


@router.get("/{alert_id}/events", responses=errors(403, 404))
async def alert_history(alert_id: UUID, hub: HubDep, principal: PrincipalDep) -> list[Event]:
    """The alert's whole history, oldest first: raised, escalated, each j'arrive, closed."""
    return await hub.alerts.alert_history(principal, alert_id)


@router.post("/{alert_id}/ack", responses=errors(403, 404, 409, 503))
async def acknowledge(alert_id: UUID, hub: HubDep, principal: PrincipalDep) -> Alert:
    """ "J'arrive": the caller is listed once among the responders, with the hub time."""
    return await hub.alerts.acknowledge(principal, alert_id)


@router.post("/{alert_id}/resolve", responses=errors(403, 404, 409, 503))
async def resolve(
    alert_id: UUID, hub: HubDep, principal: PrincipalDep, body: ResolveIn | None = None
) -> Alert:
    """Close the alert (a supervisor, or the desk that raised it), with an optional summary."""
    return await hub.alerts.resolve(principal, alert_id, body.summary if body else None)


@router.post("/{alert_id}/cancel", responses=errors(403, 404, 409, 503))
async def cancel(
    alert_id: UUID, hub: HubDep, principal: PrincipalDep, body: CancelIn | None = None
) -> Alert:
    """False alarm: the raising desk within the cancel window, a supervisor at any time."""
    return await hub.alerts.cancel(principal, alert_id, body.reason if body else None)
