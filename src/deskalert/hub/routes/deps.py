"""What every route needs: the hub, and who is calling (from the bearer token)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from deskalert.errors import HubError, Unauthorized
from deskalert.hub.service import Hub
from deskalert.hub.settings import Principal, token_hash
from deskalert.models import ErrorOut

bearer = HTTPBearer(auto_error=False, description="The desk's or supervisor's token")


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
    if credentials is None:
        raise Unauthorized("missing token: send Authorization: Bearer <token>")
    digest = token_hash(credentials.credentials)
    address = request.client.host if request.client else "unknown"
    principal = hub.principal_for(digest)
    if principal is None:
        hub.token_refused(digest, address)
        raise Unauthorized("unknown token: check the token given for this desk or supervisor")
    hub.token_accepted(principal, address)
    return principal


HubDep = Annotated[Hub, Depends(get_hub)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give (400: a malformed body or
    Content-Length, 413: a body over the limit, 401 and 422: any route)."""
    return {status: {"model": ErrorOut} for status in sorted({400, 401, 413, 422, *statuses})}


def utc_query(value: datetime | None, name: str) -> datetime | None:
    """A date from the query string in UTC; one that has no UTC equivalent (year 0 or 10000
    once its offset is applied) is a 400, not an OverflowError."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise HubError(f"{name}: {value.isoformat()} is out of range once in UTC",
                       code="bad_date") from None


LINK_HEADER = {"Link": {"description": 'rel="next": the next page (its cursor); absent on the '
                                      "last page", "schema": {"type": "string"}}}


def link_next_page(request: Request, response: Response, cursor: str | None) -> None:
    """`Link: <?...&cursor=...>; rel="next"` when there is a next page (RFC 8288; relative to
    the request's own URL, so it stays true behind a reverse proxy)."""
    if cursor is not None:
        query = request.query_params.multi_items()
        query = [(k, v) for k, v in query if k != "cursor"] + [("cursor", cursor)]
        response.headers["Link"] = f'<?{urlencode(query)}>; rel="next"'
