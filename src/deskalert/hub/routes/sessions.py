"""Interview sessions (the desk's timer) and "tout va bien ?" checks (hub/interview.py).

The feature is "interview" in the code; the URL stays /v1/sessions for the desks deployed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from deskalert.hub.routes.deps import HubDep, PrincipalDep, errors, utc_query
from deskalert.models import (
    AnswerIn,
    Check,
    CheckIn,
    ExtendIn,
    InterviewSession,
    SessionFigures,
    SessionIn,
)

router = APIRouter(tags=["sessions"])


@router.post("/v1/sessions", status_code=201, responses=errors(403, 503))
async def start_session(body: SessionIn, hub: HubDep, principal: PrincipalDep) -> InterviewSession:
    """The calling desk starts an interview: at the end of `minutes` the hub asks it "tout va
    bien ?", and raises the no-answer alert if nobody answers, even if the desk is gone."""
    return await hub.interview.start(principal, body)


@router.get("/v1/sessions", responses=errors(403, 404))
async def open_sessions(
    hub: HubDep, principal: PrincipalDep, site: str | None = None
) -> list[InterviewSession]:
    """Sessions not closed (running, or being checked), of the sites the caller sees."""
    return await hub.interview.open_sessions(principal, site)


@router.get("/v1/sessions/figures", responses=errors(403))
async def session_figures(
    hub: HubDep,
    principal: PrincipalDep,
    since: Annotated[datetime | None, Query(description="Events at or after")] = None,
    until: Annotated[datetime | None, Query(description="Events before")] = None,
) -> SessionFigures:
    """Supervisors: sessions started and checks asked, answered and left unanswered in the
    period, on their sites (for the figures of `deskalert report`)."""
    return await hub.interview.figures(
        principal, utc_query(since, "since"), utc_query(until, "until")
    )


@router.post("/v1/sessions/{session_id}/extend", responses=errors(403, 404, 409, 503))
async def extend_session(
    session_id: UUID, hub: HubDep, principal: PrincipalDep, body: ExtendIn | None = None
) -> InterviewSession:
    """The desk's session runs `minutes` more from now (a pending check is withdrawn)."""
    return await hub.interview.extend(principal, session_id, (body or ExtendIn()).minutes)


@router.post("/v1/sessions/{session_id}/close", responses=errors(403, 404, 409, 503))
async def close_session(session_id: UUID, hub: HubDep, principal: PrincipalDep) -> InterviewSession:
    """The interview is over: no check, no alert."""
    return await hub.interview.close(principal, session_id)


@router.post("/v1/checks", status_code=201, responses=errors(403, 404, 503))
async def ask_check(body: CheckIn, hub: HubDep, principal: PrincipalDep) -> Check:
    """A supervisor asks a desk "tout va bien ?" (answered "oui" or "venez")."""
    return await hub.interview.ask(principal, body.desk)


@router.get("/v1/checks", responses=errors(403))
async def pending_checks(hub: HubDep, principal: PrincipalDep) -> list[Check]:
    """Checks waiting for an answer: a desk's own, a supervisor's sites'."""
    return await hub.interview.pending_checks(principal)


@router.post("/v1/checks/{check_id}/answer", responses=errors(403, 404, 409, 503))
async def answer_check(
    check_id: UUID, body: AnswerIn, hub: HubDep, principal: PrincipalDep
) -> Check:
    """The desk asked answers: "ok" (closes or, with `extend_min`, extends its session),
    "venez" or "duress" (each raises the desk's discreet alert)."""
    return await hub.interview.answer(principal, check_id, body)
