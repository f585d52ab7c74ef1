"""Incident notes ("fiches incident") shared for the debrief."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from deskalert.errors import Unprocessable
from deskalert.hub.routes.deps import (
    LINK_HEADER,
    HubDep,
    PrincipalDep,
    errors,
    link_next_page,
    utc_query,
)
from deskalert.models import Note, NoteIn

router = APIRouter(tags=["notes"])


@router.post(
    "/v1/alerts/{alert_id}/notes",
    status_code=201,
    responses={
        200: {"model": Note, "description": "The author's earlier note, replaced"},
        **errors(400, 403, 404, 413, 503),
    },
)
async def share_note(
    alert_id: UUID, body: NoteIn, hub: HubDep, principal: PrincipalDep, response: Response
) -> Note:
    """The raising desk or a supervisor shares the note; one per author, a resend replaces it.
    An end before the start is a 422, as the desk's form refuses it."""
    if body.started_at and body.ended_at and body.ended_at < body.started_at:
        raise Unprocessable(
            "ended_at: the incident's end is before its start (started_at)", code="invalid_request"
        )
    note, created = await hub.notes.share_note(principal, alert_id, body)
    if not created:
        response.status_code = 200
    return note


@router.get("/v1/alerts/{alert_id}/notes", responses=errors(403, 404))
async def alert_notes(alert_id: UUID, hub: HubDep, principal: PrincipalDep) -> list[Note]:
    """Supervisors read every note of the alert (one per author); a desk only the one it wrote."""
    notes, _ = await hub.notes.notes(principal, alert_id=alert_id)
    return notes


@router.get("/v1/notes", responses={200: {"headers": LINK_HEADER}, **errors(403)})
async def all_notes(
    hub: HubDep,
    principal: PrincipalDep,
    request: Request,
    response: Response,
    since: Annotated[datetime | None, Query(description="Shared at or after")] = None,
    until: Annotated[datetime | None, Query(description="Shared before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Notes per page")] = 200,
    cursor: Annotated[str | None, Query(description='From the `Link: rel="next"` header')] = None,
) -> list[Note]:
    """Notes shared in a period (by sharing time, compared as instants), oldest first: a
    supervisor's sites, or a desk's own. Paged like `/v1/alerts` (`Link: rel="next"`)."""
    notes, next_cursor = await hub.notes.notes(
        principal,
        since=utc_query(since, "since"),
        until=utc_query(until, "until"),
        limit=limit,
        cursor=cursor,
    )
    link_next_page(request, response, next_cursor)
    return notes
