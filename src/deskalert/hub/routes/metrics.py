"""`GET /metrics` for Prometheus, behind its own token or address list (`[metrics]` of hub.toml).

Never open by default: with neither `token_sha256` nor `allow` set, every scrape is refused
(403). With a token, a scrape without it or with another is a 401; with `allow`, one from
another address is a 403; with both, both are needed. The address is the peer's, or behind a
trusted proxy the one uvicorn's proxy headers give (as for desks' networks).
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST

from deskalert.errors import Forbidden, Unauthorized
from deskalert.hub.metrics import HubMetrics
from deskalert.hub.routes.deps import HubDep, errors
from deskalert.hub.settings import MetricsSection, token_hash

router = APIRouter(tags=["metrics"])
bearer = HTTPBearer(auto_error=False, description="The token of [metrics] in hub.toml")


def check_scraper(section: MetricsSection, address: str, token: str | None) -> None:
    """Refuses a scrape that `[metrics]` does not let in (401: token, 403: address or off)."""
    if section.token_sha256 is None and not section.allow:
        raise Forbidden(
            "metrics are off: set token_sha256 or allow in [metrics] of hub.toml",
            code="metrics_off",
        )
    if section.allow and not _allowed(address, section.allow):
        raise Forbidden(f"{address} is not in [metrics] allow", code="metrics_refused")
    if section.token_sha256 is not None:
        if token is None:
            raise Unauthorized("missing token: send Authorization: Bearer <metrics token>")
        if not hmac.compare_digest(token_hash(token), section.token_sha256):
            raise Unauthorized("unknown token: this is not the token of [metrics]")


def _allowed(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, **errors(401, 403)},
)
async def metrics(
    request: Request,
    hub: HubDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Response:
    """The hub's metrics in Prometheus' text format (see hub/metrics.py for each one)."""
    address = request.client.host if request.client else "unknown"
    check_scraper(hub.config.metrics, address, credentials.credentials if credentials else None)
    hub_metrics: HubMetrics = request.app.state.metrics
    return Response(await hub_metrics.scrape(), media_type=CONTENT_TYPE_LATEST)
