"""The live stream of every state change, as server-sent events."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated
from weakref import WeakKeyDictionary

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse

from deskalert.errors import HubError
from deskalert.hub.routes.deps import HubDep, PrincipalDep, errors
from deskalert.hub.service import Hub
from deskalert.hub.settings import Principal
from deskalert.models import Event

router = APIRouter(tags=["events"])
RETRY_MS = 2000
OPENING = f": deskalert hub: stream open\nretry: {RETRY_MS}\n\n".encode()
KEEP_ALIVE = b": keep-alive\n\n"
ENCODED_KEPT = 512


@dataclass(frozen=True)
class StreamRequest:
    """Checked before the stream starts: once it has, an error can no longer be a 4xx."""

    principal: Principal
    sites: set[str] | None
    last_id: int


async def stream_request(  # async: a plain def dependency would run in the thread pool
    hub: HubDep,
    principal: PrincipalDep,
    site: str | None = None,
    since: Annotated[int | None, Query(ge=0, description="Replay events after this id")] = None,
    last_event_id: Annotated[str | None, Header(description="Same as since")] = None,
) -> StreamRequest:
    return StreamRequest(
        principal=principal,
        sites=hub.visible_sites(principal, site),
        last_id=since if since is not None else _parse_last_event_id(last_event_id),
    )


MAX_EVENT_ID = 2**63 - 1  # SQLite's INTEGER: a larger id would fail mid-stream, not as a 400
_EVENT_ID_DIGITS = len(str(MAX_EVENT_ID))


def _parse_last_event_id(value: str | None) -> int:
    """An event id in ASCII digits, at most 2^63-1; anything else is a 400 before the stream
    starts ("²³" passes str.isdigit, and 5000 digits pass int() slowly or not at all)."""
    text = (value or "").strip()
    if text == "":
        return 0
    if not (text.isascii() and text.isdigit() and len(text) <= _EVENT_ID_DIGITS
            and int(text) <= MAX_EVENT_ID):
        shown = text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)"
        raise HubError(f"Last-Event-ID must be an event id (digits, at most {MAX_EVENT_ID}),"
                       f" not {shown!r}")
    return int(text)


@router.get(
    "/v1/events",
    response_class=StreamingResponse,  # documented below; FastAPI's SSE layer is not used
    responses={
        200: {"description": "The event stream", "content": {"text/event-stream": {}}},
        **errors(400, 403, 404),
    },
)
async def follow_events(
    hub: HubDep, request: Annotated[StreamRequest, Depends(stream_request)]
) -> EventSourceResponse:
    """Every state change after `Last-Event-ID` (or `since`), replayed from the store, then live.

    Event types: alert.raised, alert.acknowledged, alert.resolved, alert.cancelled,
    alert.escalated (data: the whole alert), desk.online, desk.offline (data: the desk's
    presence), oncall.changed (data: the site's on-call card). A `: keep-alive` comment comes at
    least every `heartbeat_s` seconds.
    """
    return EventSourceResponse(
        _frames(hub, request),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _frames(hub: Hub, request: StreamRequest) -> AsyncIterator[bytes]:
    """The stream's bytes, written straight to the connection.

    Not a generator of ServerSentEvent through FastAPI's SSE layer: that layer runs two tasks
    and two memory streams per connection and encodes each event once per subscriber, which
    made the fan-out to 200 streams three times slower than Mosquitto (bench/results.md).
    Here an event is encoded once, whoever it goes to.
    """
    yield OPENING
    async for event in hub.follow(request.principal, request.sites, request.last_id):
        yield KEEP_ALIVE if event is None else _encoded(hub, event)


# Per hub (tests run several in one process): its latest events, encoded.
_encoded_by_hub: WeakKeyDictionary[Hub, OrderedDict[int, bytes]] = WeakKeyDictionary()


def _encoded(hub: Hub, event: Event) -> bytes:
    """The event as one SSE frame; an event's id, type and data never change once stored."""
    frames = _encoded_by_hub.get(hub)
    if frames is None:  # not setdefault: that would build a dict per subscriber and event
        frames = _encoded_by_hub[hub] = OrderedDict()
    frame = frames.get(event.id)
    if frame is None:
        data = json.dumps(event.data, ensure_ascii=False, separators=(",", ":"))
        frame = f"id: {event.id}\nevent: {event.type.value}\ndata: {data}\n\n".encode()
        frames[event.id] = frame
        if len(frames) > ENCODED_KEPT:
            frames.popitem(last=False)
    return frame
