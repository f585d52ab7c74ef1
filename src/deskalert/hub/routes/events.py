"""The live stream of every state change, as server-sent events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from deskalert.errors import HubError
from deskalert.hub.routes.deps import HubDep, PrincipalDep, errors
from deskalert.hub.settings import Principal

router = APIRouter(tags=["events"])
RETRY_MS = 2000


class StreamRequest:
    """Checked before the stream starts: once it has, an error can no longer be a 4xx."""

    def __init__(
        self,
        hub: HubDep,
        principal: PrincipalDep,
        site: str | None = None,
        since: Annotated[int | None, Query(ge=0, description="Replay events after this id")] = None,
        last_event_id: Annotated[str | None, Header(description="Same as since")] = None,
    ) -> None:
        self.principal: Principal = principal
        self.sites = hub.visible_sites(principal, site)
        self.last_id = since if since is not None else _parse_last_event_id(last_event_id)


def _parse_last_event_id(value: str | None) -> int:
    if value is None or value.strip() == "":
        return 0
    if not value.strip().isdigit():
        raise HubError(f"Last-Event-ID must be an event id (an integer), not {value!r}")
    return int(value)


@router.get("/v1/events", response_class=EventSourceResponse, responses=errors(400, 403, 404))
async def follow_events(
    hub: HubDep, request: Annotated[StreamRequest, Depends()]
) -> AsyncIterable[ServerSentEvent]:
    """Every state change after `Last-Event-ID` (or `since`), replayed from the store, then live.

    Event types: alert.raised, alert.acknowledged, alert.resolved, alert.cancelled,
    alert.escalated (data: the whole alert), desk.online, desk.offline (data: the desk's
    presence), oncall.changed (data: the site's on-call card). A `: keep-alive` comment comes at
    least every `heartbeat_s` seconds.
    """
    yield ServerSentEvent(comment="deskalert hub: stream open", retry=RETRY_MS)
    async for event in hub.follow(request.principal, request.sites, request.last_id):
        if event is None:
            yield ServerSentEvent(comment="keep-alive")
        else:
            yield ServerSentEvent(
                id=str(event.id),
                event=event.type.value,
                raw_data=json.dumps(event.data, ensure_ascii=False, separators=(",", ":")),
            )
