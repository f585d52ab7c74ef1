"""Enrolment: a one-time code exchanged for a fresh token (hub/enrol.py), without a token."""

from __future__ import annotations

from fastapi import APIRouter, Request

from deskalert.hub.enrol import EnrolIn, EnrolOut, redeem
from deskalert.hub.routes.deps import HubDep, errors

router = APIRouter(tags=["enrol"])


@router.post("/v1/enrol", response_model=EnrolOut, responses=errors(403))
async def enrol(body: EnrolIn, request: Request, hub: HubDep) -> EnrolOut:
    """A code made by `deskalert hub enrol ID` on the hub's machine, once, before it expires:
    the desk's (or supervisor's) new token. 403 `enrol_unknown`, `enrol_used`,
    `enrol_expired`: refused, logged and counted with the refused tokens."""
    address = request.client.host if request.client else "unknown"
    return await redeem(hub, body.code, address)
