"""The live stream of every state change, as server-sent events."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Annotated
from weakref import WeakKeyDictionary

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse

from deskalert.errors import HubError
from deskalert.hub.broker import StreamCap
from deskalert.hub.guard import connection_abort
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


def _parse_last_event_id(value: str | None) -> int:
    if value is None or value.strip() == "":
        return 0
    if not value.strip().isdigit():
        raise HubError(f"Last-Event-ID must be an event id (an integer), not {value!r}")
    return int(value)


@router.get(
    "/v1/events",
    response_class=StreamingResponse,  # documented below; FastAPI's SSE layer is not used
    responses={
        200: {"description": "The event stream", "content": {"text/event-stream": {}}},
        **errors(400, 403, 404),
    },
)
async def follow_events(
    hub: HubDep, request: Annotated[StreamRequest, Depends(stream_request)], http: Request
) -> EventSourceResponse:
    """Every state change after `Last-Event-ID` (or `since`), replayed from the store, then live.

    Event types: alert.raised, alert.acknowledged, alert.resolved, alert.cancelled,
    alert.escalated (data: the whole alert), desk.online, desk.offline (data: the desk's
    presence), oncall.changed (data: the site's on-call card). A `: keep-alive` comment comes at
    least every `heartbeat_s` seconds.
    """
    streams: StreamCap = http.app.state.streams
    return EventSourceResponse(
        _capped(_frames(hub, request), streams, f"{request.principal.kind.value} {request.principal.id}",
                connection_abort(http.scope)),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _frames(hub: Hub, request: StreamRequest) -> AsyncGenerator[bytes, None]:
    """The stream's bytes, written straight to the connection.

    Not a generator of ServerSentEvent through FastAPI's SSE layer: that layer runs two tasks
    and two memory streams per connection and encodes each event once per subscriber, which
    made the fan-out to 200 streams three times slower than Mosquitto (bench/results.md).
    Here an event is encoded once, whoever it goes to.
    """
    yield OPENING
    async for event in hub.follow(request.principal, request.sites, request.last_id):
        yield KEEP_ALIVE if event is None else _encoded(hub, event)


async def _capped(frames: AsyncGenerator[bytes, None], streams: StreamCap, identity: str,
                  abort: Callable[[], None] | None) -> AsyncIterator[bytes]:
    """`frames` counted among `identity`'s open streams; ends when the cap evicts it."""
    stream = streams.open(identity, abort)
    try:
        async with aclosing(frames):
            async for frame in frames:
                if stream.evicted:
                    break
                yield frame
    finally:
        streams.close(stream)


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
