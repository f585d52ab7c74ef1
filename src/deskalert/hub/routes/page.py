"""The supervisors' page: a small mobile web app served by the hub, its login and answer links.

The page is static files (hub/static/: HTML, CSS, JavaScript, a manifest and a service worker;
no build step, no CDN). It talks to the API like any client, with a session cookie instead of a
bearer token (routes/deps.py). The HTML is served with a strict Content-Security-Policy.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from html import escape
from importlib.resources import files
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from deskalert.errors import Forbidden, Unauthorized
from deskalert.hub.enrol import open_page, page_link_outcome
from deskalert.hub.links import Grant, new_session, read_session, session_grant, verify_link
from deskalert.hub.routes.deps import (
    SESSION_COOKIE,
    HubDep,
    PrincipalDep,
    check_origin,
    errors,
)
from deskalert.hub.service import Hub
from deskalert.hub.settings import HubConfig, token_hash
from deskalert.models import Alert, AlertCode, ErrorOut, StrictModel

router = APIRouter(tags=["page"])
STATIC = files("deskalert.hub") / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


class LinkIn(StrictModel):
    alert: UUID
    s: str = Field(max_length=64, description="The supervisor's id, from the link")
    e: str = Field(max_length=20, description="The link's expiry (Unix seconds)")
    k: str = Field(max_length=100, description="The link's signature")


class LoginIn(StrictModel):
    """A login on the page: the supervisor's token, an answer link's fields, or the code of a
    one-time page link (`deskalert hub enrol ID --page`)."""

    token: str | None = Field(default=None, max_length=512)
    link: LinkIn | None = None
    enrol: str | None = Field(default=None, min_length=4, max_length=64)


class SessionOut(BaseModel):
    supervisor: str
    name: str
    alert: UUID | None = Field(
        description="Set for a session opened by an answer link: the one alert it reaches"
    )
    expires: datetime


class ClosedOut(ErrorOut):
    """409 `alert_closed`: an answer link to an alert resolved or cancelled; nothing is left
    to answer, so no session is opened."""

    closed_by: str | None = Field(default=None, description="Who closed it: supervisor or desk id")
    closed_by_name: str | None = Field(default=None, description="Their name, as the roster has it")
    closed_at: datetime | None = None


class PageCode(BaseModel):
    code: str
    label: str
    label_en: str = ""
    protocol: str
    protocol_en: str = ""
    priority: int


class MeOut(BaseModel):
    supervisor: str
    name: str
    alert: UUID | None
    codes: list[PageCode]
    sites: dict[str, str]


@router.get("/page", include_in_schema=False)
async def page_root() -> RedirectResponse:
    return RedirectResponse("/page/", status_code=308)


@router.get("/page/", include_in_schema=False)
async def page(request: Request, hub: HubDep) -> HTMLResponse:
    return _index(request, hub.config, "none", 200, root="./")


@router.get("/page/a/{alert_id}", include_in_schema=False)
async def answer_link(
    request: Request,
    hub: HubDep,
    alert_id: UUID,
    s: Annotated[str, Query(max_length=64)] = "",
    e: Annotated[str, Query(max_length=20)] = "",
    k: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """An answer link: the page, which logs in with the link's fields by a POST. This GET
    changes nothing (no cookie either): messengers fetch links for their previews. A link to
    an alert already closed opens the page saying so (409), with nothing left to answer."""
    grant = verify_link(hub.config, alert_id, s, e, k, hub.clock.now(), hub.roster.token_in_force)
    if grant is None:
        return _index(request, hub.config, "refused", 403, root="../")
    if await _closed_alert(hub, alert_id) is not None:
        return _index(request, hub.config, "closed", 409, root="../")
    return _index(request, hub.config, "ok", 200, root="../")


@router.get("/page/enrol/{code}", include_in_schema=False)
async def page_link(request: Request, hub: HubDep, code: str) -> HTMLResponse:
    """A one-time page link: the page, which spends it by a POST and gets its cookie. This
    GET spends nothing (messengers fetch links for their previews); a link unknown, used or
    expired opens a page that says so in one line (403), logged."""
    address = request.client.host if request.client else "unknown"
    outcome = await page_link_outcome(hub, code, address)
    if outcome != "ok":
        return _index(
            request, hub.config, REFUSED_LINKS.get(outcome, "enrol-unknown"), 403, root="../"
        )
    return _index(request, hub.config, "enrol", 200, root="../")


@router.get("/page/sw.js", include_in_schema=False)
async def service_worker() -> FileResponse:
    """At /page/ so that its scope is the whole page."""
    return FileResponse(
        str(STATIC / "sw.js"), media_type="text/javascript", headers={"Cache-Control": "no-cache"}
    )


@router.get("/page/manifest.webmanifest", include_in_schema=False)
async def manifest() -> FileResponse:
    return FileResponse(
        str(STATIC / "manifest.webmanifest"), media_type="application/manifest+json"
    )


@router.post(
    "/page/api/session",
    response_model=SessionOut,
    responses={**errors(403), 409: {"model": ClosedOut}},
)
async def log_in(
    body: LoginIn, request: Request, response: Response, hub: HubDep
) -> SessionOut | JSONResponse:
    """Open a page session (an HttpOnly, SameSite=Strict cookie) with a supervisor's token,
    an answer link, or a one-time page link's code (403 `page_link_used`, `_expired`,
    `_unknown`, `_gone`); only from the hub's own page (Origin). A link to an alert resolved
    or cancelled opens nothing: 409 `alert_closed`, with who closed it and when."""
    check_origin(request, hub.config)
    now = hub.clock.now()
    if body.enrol:
        address = request.client.host if request.client else "unknown"
        grant = session_grant(hub.config, await open_page(hub, body.enrol, address), now)
    elif body.link:
        grant = _link_grant(hub, body.link, now)
    else:
        grant = _token_grant(request, hub, body.token or "", now)
    closed = await _closed_alert(hub, grant.alert_id) if grant.alert_id else None
    if closed is not None:
        return _closed_answer(hub, closed)
    _set_session(request, response, hub, grant, now)
    supervisor = next(s for s in hub.config.supervisors if s.id == grant.supervisor_id)
    return SessionOut(
        supervisor=supervisor.id, name=supervisor.name, alert=grant.alert_id, expires=grant.expires
    )


@router.post("/page/api/logout", status_code=204, responses=errors(403, 503))
async def log_out(request: Request, response: Response, hub: HubDep) -> None:
    """End the page session: the cookie is dropped, and its session is revoked on every hub
    (stored until it would have expired), so a copy of the cookie is refused too."""
    check_origin(request, hub.config)
    cookie, now = request.cookies.get(SESSION_COOKIE, ""), hub.clock.now()
    grant = read_session(hub.config, cookie, now, hub.roster.token_in_force)
    if grant is not None and grant.session_id is not None:
        await hub.page_sessions.revoke(grant.session_id, grant.expires)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


@router.get("/page/api/me", responses=errors(403))
async def me(principal: PrincipalDep, request: Request, hub: HubDep) -> MeOut:
    """Who the page is logged in as, and the roster's words it shows (codes' protocols)."""
    if not principal.is_supervisor:
        raise Forbidden("the page is for supervisors", code="not_supervisor")
    grant: Grant | None = getattr(request.state, "page_grant", None)
    return MeOut(
        supervisor=principal.id,
        name=principal.name,
        alert=grant.alert_id if grant else None,
        codes=[_page_code(c) for c in hub.config.codes],
        sites={s.id: s.label for s in hub.config.sites},
    )


def _page_code(code: AlertCode) -> PageCode:
    return PageCode(
        code=code.code,
        label=code.label,
        label_en=code.label_en,
        protocol=code.protocol,
        protocol_en=code.protocol_en,
        priority=code.priority,
    )


async def _closed_alert(hub: Hub, alert_id: UUID) -> Alert | None:
    """The alert if it is resolved or cancelled; None if open (or unknown to this store)."""
    alert = await hub.runtime.db(hub.store.get_alert, alert_id)
    return alert if alert is not None and alert.state.is_closed else None


def _closed_answer(hub: Hub, alert: Alert) -> JSONResponse:
    by = alert.closed_by
    desk = hub.roster.desks.get(by or "")
    name = (
        desk.label if desk else next((s.name for s in hub.config.supervisors if s.id == by), None)
    )
    refusal = ClosedOut(
        error="alert_closed",
        state=alert.state,
        closed_by=by,
        closed_by_name=name,
        closed_at=alert.closed_at,
        detail=f"alert {alert.id} is already {alert.state.value} (by {name or by or 'unknown'}"
        f" at {alert.closed_at.isoformat() if alert.closed_at else 'an unknown time'}):"
        " this answer link has nothing left to answer",
    )
    return JSONResponse(refusal.model_dump(mode="json", exclude_none=True), status_code=409)


def _token_grant(request: Request, hub: HubDep, token: str, now: datetime) -> Grant:
    digest = token_hash(token)
    principal = hub.roster.principal_for(digest)
    if principal is None:
        hub.roster.token_refused(digest, request.client.host if request.client else "unknown")
        raise Unauthorized(
            "unknown token: check the token given for this supervisor", code="token_refused"
        )
    if not principal.is_supervisor:
        raise Forbidden(
            "the page is for supervisors; a desk uses `deskalert desk`", code="not_supervisor"
        )
    return session_grant(hub.config, principal.id, now)


def _link_grant(hub: Hub, link: LinkIn, now: datetime) -> Grant:
    in_force = hub.roster.token_in_force
    grant = verify_link(hub.config, link.alert, link.s, link.e, link.k, now, in_force)
    if grant is None:
        raise Unauthorized(
            "this answer link is expired, altered or revoked: log in with the token",
            code="link_refused",
        )
    return grant


def _set_session(
    request: Request, response: Response, hub: Hub, grant: Grant, now: datetime
) -> None:
    """The session cookie, signed over the supervisor's token hash in force (hub/links.py);
    refused (401) if they have none: their token was revoked."""
    cookie = new_session(hub.config, grant, hub.roster.token_in_force)
    if cookie is None:
        raise Unauthorized(
            f"the token of {grant.supervisor_id} is revoked: ask the hub's administrator",
            code="token_refused",
        )
    public_url = hub.config.hub.public_url or ""
    secure = request.url.scheme == "https" or public_url.startswith("https:")
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        path="/",
        httponly=True,
        secure=secure,
        samesite="strict",
        max_age=max(1, int((grant.expires - now).total_seconds())),
    )


PageLink = Literal[
    "none",
    "ok",
    "refused",
    "closed",
    "enrol",
    "enrol-unknown",
    "enrol-used",
    "enrol-expired",
    "enrol-gone",
]

REFUSED_LINKS: dict[str, PageLink] = {
    "unknown": "enrol-unknown",
    "used": "enrol-used",
    "expired": "enrol-expired",
    "gone": "enrol-gone",
}


def _index(
    request: Request, config: HubConfig, link: PageLink, status: int, *, root: str
) -> HTMLResponse:
    """The page's HTML; `root` is the relative way to /page/, so that the hub may sit under a
    path of a reverse proxy (public_url = "https://proxy/deskalert"). It carries the site's
    zone (`[hub] timezone`, a checked IANA name; empty when unset): the page shows its times
    there, as the desks and the panes do (deskalert.sitetime), not in the phone's zone."""
    language = page_language(request.headers.get("accept-language"))
    html = _template().replace("{{lang}}", language).replace("{{link}}", link)
    html = html.replace("{{tz}}", escape(config.hub.timezone or ""))
    return HTMLResponse(html.replace("{{root}}", root), status_code=status, headers=PAGE_HEADERS)


@cache
def _template() -> str:
    return (STATIC / "index.html").read_text(encoding="utf-8")


def page_language(accept_language: str | None) -> Literal["fr", "en"]:
    """French unless the browser prefers English to French (Accept-Language, RFC 9110)."""
    ranked: list[tuple[float, str]] = []
    for index, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = params.strip().removeprefix("q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((-weight + index * 1e-6, tag.strip().lower()[:2]))
    for _, tag in sorted(ranked):
        if tag in ("fr", "en"):
            return tag  # type: ignore[return-value]
    return "fr"
