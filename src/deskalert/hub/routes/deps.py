"""What every route needs: the hub, and who is calling (from the bearer token)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from deskalert.errors import Unauthorized
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
    hub: Annotated[Hub, Depends(get_hub)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized("missing token: send Authorization: Bearer <token>")
    principal = hub.principal_for(token_hash(credentials.credentials))
    if principal is None:
        raise Unauthorized("unknown token: check the token given for this desk or supervisor")
    return principal


HubDep = Annotated[Hub, Depends(get_hub)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give (400: a malformed body or
    Content-Length, 413: a body over the limit, 401 and 422: any route)."""
    return {status: {"model": ErrorOut} for status in sorted({400, 401, 413, 422, *statuses})}
