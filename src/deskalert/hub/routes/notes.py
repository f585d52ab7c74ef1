"""Incident notes ("fiches incident") shared for the debrief."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Response

from deskalert.hub.routes.deps import HubDep, PrincipalDep, errors
from deskalert.models import Note, NoteIn

router = APIRouter(tags=["notes"])


@router.post(
    "/v1/alerts/{alert_id}/notes",
    status_code=201,
    responses={200: {"model": Note, "description": "The author's earlier note, replaced"},
               **errors(400, 403, 404, 413, 503)},
)
async def share_note(alert_id: UUID, body: NoteIn, hub: HubDep, principal: PrincipalDep,
                     response: Response) -> Note:
    """The raising desk or a supervisor shares the note; one per author, a resend replaces it."""
    note, created = await hub.share_note(principal, alert_id, body)
    if not created:
        response.status_code = 200
    return note


@router.get("/v1/alerts/{alert_id}/notes", responses=errors(403, 404))
async def alert_notes(alert_id: UUID, hub: HubDep, principal: PrincipalDep) -> list[Note]:
    """Supervisors read every note of the alert; a desk only the one it wrote."""
    return await hub.notes(principal, alert_id=alert_id)


@router.get("/v1/notes", responses=errors(403))
async def all_notes(hub: HubDep, principal: PrincipalDep, since: datetime | None = None,
                    until: datetime | None = None) -> list[Note]:
    """Notes shared in a period (by sharing time): a supervisor's sites, or a desk's own."""
    return await hub.notes(principal, since=since, until=until)
