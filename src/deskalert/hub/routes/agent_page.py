"""The agents' page (/page/agent/): the desk's buttons, on an agent's phone, away from the desk.

Static files beside the supervisors' page (hub/static/agent.*), served with the same
Content-Security-Policy. An agent's phone is a desk of the roster (hub/agent_links.py says
how its link and cookie are made); it gets its session from a one-time phone link
(`/page/agent/#code=...`: in the fragment, so a messenger's preview of the link does not spend
it). Once in, the page uses the desks' API as it is: /v1/alerts, /v1/events, /v1/oncall,
/v1/sessions, /v1/checks, /v1/heartbeat, /v1/broadcasts, with the cookie for a token.

A supervisor's phone uses the supervisors' page and its own link (`hub enrol ID --page`).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from html import escape

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from deskalert.errors import Forbidden
from deskalert.hub.agent_links import (
    agent_grant,
    new_agent_session,
    read_agent_session,
    spend_phone_link,
)
from deskalert.hub.enrol import EnrolIn
from deskalert.hub.routes.deps import (
    SESSION_COOKIE,
    HubDep,
    PrincipalDep,
    check_origin,
    errors,
)
from deskalert.hub.routes.page import PAGE_HEADERS, STATIC, page_language
from deskalert.models import AlertCode

router = APIRouter(tags=["page"])


class AgentSessionOut(BaseModel):
    """The desk the code enrolled this phone as."""

    id: str
    name: str
    expires: datetime


class AgentMeOut(BaseModel):
    """What the agents' page needs besides the desks' API: who it is and the hub's timings."""

    desk: str
    label: str
    site: str
    site_label: str
    location: str
    codes: list[AlertCode]
    cancel_window_s: float = Field(description="the agent may cancel an alert within this")
    check_answer_s: float = Field(description='time to answer "tout va bien ?"')
    heartbeat_s: float
    expires: datetime | None = Field(description="when this phone's session ends")


@router.get("/page/agent", include_in_schema=False)
async def agent_root() -> RedirectResponse:
    return RedirectResponse("/page/agent/", status_code=308)


@router.get("/page/agent/", include_in_schema=False)
async def agent_page(request: Request, hub: HubDep) -> HTMLResponse:
    """The page; it enrols with the code of its address's fragment, or finds its session. It
    carries the site's zone (`[hub] timezone`) as the supervisors' page does: its times are the
    site's, not the phone's."""
    language = page_language(request.headers.get("accept-language"))
    html = _template().replace("{{lang}}", language).replace("{{root}}", "../")
    html = html.replace("{{tz}}", escape(hub.config.hub.timezone or ""))
    return HTMLResponse(html, headers=PAGE_HEADERS)


@router.get("/page/agent/manifest.webmanifest", include_in_schema=False)
async def agent_manifest() -> FileResponse:
    """Its own manifest: installed, the page opens on the agent's side."""
    return FileResponse(str(STATIC / "agent.webmanifest"), media_type="application/manifest+json")


@router.get("/page/agent/sw.js", include_in_schema=False)
async def agent_service_worker() -> FileResponse:
    """At /page/agent/ so that its scope is the agents' page (it keeps a copy of the page's
    files for a phone without network; the supervisors' worker at /page/ keeps none)."""
    return FileResponse(
        str(STATIC / "agent-sw.js"),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


@router.post("/page/api/agent/session", response_model=AgentSessionOut, responses=errors(403))
async def enrol_phone(
    body: EnrolIn, request: Request, response: Response, hub: HubDep
) -> AgentSessionOut:
    """Spend a phone link's one-time code (`deskalert hub enrol ID --phone`) for this phone's
    session as that desk: an HttpOnly, SameSite=Strict cookie; only from the hub's own page
    (Origin). No token changes. 403 `phone_link_unknown`, `_used`, `_expired`, `_gone`: refused,
    logged and counted with the refused tokens."""
    check_origin(request, hub.config)
    address = request.client.host if request.client else "unknown"
    desk_id = await spend_phone_link(hub, body.code, address)
    now = hub.clock.now()
    grant = agent_grant(hub.config, desk_id, now)
    value = new_agent_session(hub.config, hub.roster, grant)
    secure = request.url.scheme == "https" or (hub.config.hub.public_url or "").startswith("https:")
    response.set_cookie(
        SESSION_COOKIE,
        value,
        path="/",
        httponly=True,
        secure=secure,
        samesite="strict",
        max_age=max(1, int((grant.expires - now).total_seconds())),
    )
    return AgentSessionOut(id=desk_id, name=hub.roster.desks[desk_id].label, expires=grant.expires)


@router.get("/page/api/agent/me", responses=errors(403))
async def agent_me(principal: PrincipalDep, request: Request, hub: HubDep) -> AgentMeOut:
    """The desk this phone acts as, its site, the repertoire and the timings the page shows."""
    desk = hub.roster.desks.get(principal.id)
    if principal.is_supervisor or desk is None:
        raise Forbidden("the agents' page is for desks; a supervisor uses /page/", code="not_desk")
    site = hub.roster.sites[desk.site]
    grant = getattr(request.state, "agent_grant", None)
    return AgentMeOut(
        desk=desk.id,
        label=desk.label,
        site=site.id,
        site_label=site.label,
        location=desk.location,
        codes=list(hub.config.codes),
        cancel_window_s=hub.config.hub.cancel_window_s,
        check_answer_s=hub.config.hub.check_answer_s,
        heartbeat_s=hub.config.hub.heartbeat_s,
        expires=grant.expires if grant is not None else None,
    )


@router.post("/page/api/agent/logout", status_code=204, responses=errors(403, 503))
async def agent_logout(request: Request, response: Response, hub: HubDep) -> None:
    """Forget this phone: the cookie is dropped and its session revoked on every hub (a copy
    of the cookie is refused too); the desk's token is untouched."""
    check_origin(request, hub.config)
    value = request.cookies.get(SESSION_COOKIE, "")
    grant = read_agent_session(hub.config, hub.roster, value, hub.clock.now())
    if grant is not None:
        await hub.page_sessions.revoke(grant.session_id, grant.expires)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


@cache
def _template() -> str:
    return (STATIC / "agent.html").read_text(encoding="utf-8")
