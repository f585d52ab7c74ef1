"""What every route needs: the hub, and who is calling (from the bearer token)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit
from uuid import UUID

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from deskalert.errors import Forbidden, HubError, Unauthorized, Unprocessable
from deskalert.hub.agent_links import is_agent_session, read_agent_session
from deskalert.hub.budget import RequestBudget
from deskalert.hub.links import read_session
from deskalert.hub.roster import effective_hash
from deskalert.hub.service import Hub
from deskalert.hub.settings import HubConfig, Principal, token_hash
from deskalert.models import ErrorOut

bearer = HTTPBearer(auto_error=False, description="The desk's or supervisor's token")
SESSION_COOKIE = "deskalert_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


# The dependencies are `async def` although they do not await: FastAPI runs a plain `def`
# dependency in its thread pool, a thread hop per request (and 40 threads' malloc arenas).


async def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


async def get_principal(
    request: Request,
    hub: Annotated[Hub, Depends(get_hub)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller: from `Authorization: Bearer`, else from the page's session cookie; each
    request but a new alert takes from the caller's request budget (hub/budget.py)."""
    what = f"{request.method} {request.url.path}"
    if credentials is None:
        session = request.cookies.get(SESSION_COOKIE)
        if session is None:
            raise Unauthorized("missing token: send Authorization: Bearer <token>")
        principal: Principal | None = await session_principal(request, hub, session)
    else:
        # The peer, or behind a trusted proxy the right-most X-Forwarded-For address not in
        # `trusted_proxies` (uvicorn's proxy headers, configured by hub/server.py).
        address = request.client.host if request.client else "unknown"
        principal = bearer_principal(hub, credentials.credentials, address, what)
    assert principal is not None  # refuse=True: an unknown token raised
    budget: RequestBudget = request.app.state.request_budget
    await budget.charge(principal, what)
    return principal


def bearer_principal(
    hub: Hub, token: str, address: str, request: str, *, refuse: bool = True
) -> Principal | None:
    """Who a bearer token is, called from `address`: an unknown token is recorded and refused
    (401), or with `refuse=False` only answered None (the caller hands the request on to a
    route that will refuse it); a desk outside its site's networks is refused (403)."""
    digest = token_hash(token)
    principal = hub.roster.principal_for(digest)
    if principal is None:
        if not refuse:
            return None
        hub.roster.token_refused(digest, address)
        raise Unauthorized("unknown token: check the token given for this desk or supervisor")
    hub.check_in_step()  # a hub out of step with its database's roster: 503
    hub.roster.check_network(principal, address, request)
    hub.roster.token_accepted(principal, address)
    return principal


async def session_principal(request: Request, hub: Hub, session: str) -> Principal:
    """The supervisor of a page session not ended by a logout (on any hub: hub/page_sessions.py,
    checked only once the cookie's signature holds); a state-changing request must come from
    the hub's own page (Origin), and a session opened by an answer link reaches that alert
    only. An agent's phone session (hub/agent_links.py) is its desk's."""
    if is_agent_session(session):
        return await agent_principal(request, hub, session)
    grant = read_session(hub.config, session, hub.clock.now(), hub.roster.token_in_force)
    digest = None if grant is None else hub.roster.token_in_force(grant.supervisor_id)
    principal = None if digest is None else hub.roster.principal_for(digest)
    if grant is not None and await hub.page_sessions.is_revoked(grant.session_id or ""):
        grant = None  # ended by a logout
    if grant is None or principal is None:  # a supervisor a reload removed, too
        raise Unauthorized(
            "session expired, ended by a logout, or revoked: log in again on the page",
            code="session_refused",
        )
    if request.method not in SAFE_METHODS:
        check_origin(request, hub.config)
    if grant.alert_id is not None and not _in_scope(request, grant.alert_id):
        raise Forbidden(
            "this session was opened by an answer link: it reaches that alert only;"
            " log in with the token for the whole page",
            code="link_scope",
        )
    hub.check_in_step()
    request.state.page_grant = grant
    hub.roster.token_accepted(principal, request.client.host if request.client else "unknown")
    return principal


async def agent_principal(request: Request, hub: Hub, session: str) -> Principal:
    """The desk of an agent's phone session: refused (401) once expired, logged out, or its
    desk's token revoked or replaced; from outside the site's networks, as its bearer token
    would be (403); a state-changing request must come from the hub's own page (Origin)."""
    grant = read_agent_session(hub.config, hub.roster, session, hub.clock.now())
    if grant is not None and await hub.page_sessions.is_revoked(grant.session_id):
        grant = None
    desk = None if grant is None else hub.roster.desks.get(grant.desk_id)
    digest = (
        None if desk is None else effective_hash(desk.id, desk.token_sha256, hub.roster.overlay)
    )
    principal = None if digest is None else hub.roster.principal_for(digest)
    if principal is None:
        raise Unauthorized(
            "phone session expired, ended by a logout, or revoked: open a new phone link",
            code="session_refused",
        )
    if request.method not in SAFE_METHODS:
        check_origin(request, hub.config)
    address = request.client.host if request.client else "unknown"
    hub.check_in_step()
    hub.roster.check_network(principal, address, f"{request.method} {request.url.path}")
    request.state.agent_grant = grant
    hub.roster.token_accepted(principal, address)
    return principal


def check_origin(request: Request, config: HubConfig) -> None:
    """Refuse (403) a state-changing request whose Origin is not the hub's own page: a foreign
    page must not act with the supervisor's cookie. Browsers always send Origin on a POST."""
    origin = request.headers.get("origin")
    if origin is None or origin not in own_origins(request, config):
        raise Forbidden(
            f"Origin {origin or '(none)'} is not this hub's page: refused", code="foreign_origin"
        )


def own_origins(request: Request, config: HubConfig) -> set[str]:
    """The hub's origin as this request reached it, and as `public_url` names it."""
    origins = set()
    host = request.headers.get("host")
    if host:
        origins.add(f"{request.url.scheme}://{host}".lower())
    if config.hub.public_url:
        url = urlsplit(config.hub.public_url)
        origins.add(f"{url.scheme}://{url.netloc}".lower())
    return origins


# What a session opened by an answer link may reach, besides nothing: its alert and the page's
# own description of the caller.
_LINK_SCOPE_ROUTES = {
    "/v1/alerts/{alert_id}",
    "/v1/alerts/{alert_id}/ack",
    "/v1/alerts/{alert_id}/resolve",
    "/v1/alerts/{alert_id}/cancel",
    "/v1/alerts/{alert_id}/events",
}
_LINK_SCOPE_FREE = {"/page/api/me"}


def _in_scope(request: Request, alert_id: UUID) -> bool:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    if path in _LINK_SCOPE_FREE:
        return True
    if path not in _LINK_SCOPE_ROUTES:
        return False
    try:
        return UUID(str(request.path_params.get("alert_id"))) == alert_id
    except ValueError:
        return False


HubDep = Annotated[Hub, Depends(get_hub)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give (400: a malformed body or
    Content-Length, 413: a body over the limit, 401 and 422: any route; 429: the caller's
    request budget is spent, or its address's budget of refused requests, hub/budget.py)."""
    return {status: {"model": ErrorOut} for status in sorted({400, 401, 413, 422, 429, *statuses})}


def utc_query(value: datetime | None, name: str) -> datetime | None:
    """A date from the query string in UTC; one without an offset is a 422, as in bodies (not
    read in the hub's zone); one that has no UTC equivalent (year 0 or 10000 once its offset is
    applied) is a 400, not an OverflowError."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise Unprocessable(
            f"{name}: {value.isoformat()} has no UTC offset: add one (Z or +01:00), as in bodies",
            code="invalid_request",
        )
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise HubError(
            f"{name}: {value.isoformat()} is out of range once in UTC", code="bad_date"
        ) from None


LINK_HEADER = {
    "Link": {
        "description": 'rel="next": the next page (its cursor); absent on the last page',
        "schema": {"type": "string"},
    }
}


def link_next_page(request: Request, response: Response, cursor: str | None) -> None:
    """`Link: <?...&cursor=...>; rel="next"` when there is a next page (RFC 8288; relative to
    the request's own URL, so it stays true behind a reverse proxy)."""
    if cursor is not None:
        query = request.query_params.multi_items()
        query = [(k, v) for k, v in query if k != "cursor"] + [("cursor", cursor)]
        response.headers["Link"] = f'<?{urlencode(query)}>; rel="next"'
