"""The live stream of every state change, as server-sent events."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse

from deskalert.errors import HubError, StoreUnavailable
from deskalert.hub.availability import LiveEvent
from deskalert.hub.broker import DirectWrite, StreamCap
from deskalert.hub.guard import GuardedProtocol, connection_abort
from deskalert.hub.routes.deps import HubDep, PrincipalDep, errors
from deskalert.hub.service import Hub
from deskalert.hub.settings import Principal
from deskalert.models import StreamReset

router = APIRouter(tags=["events"])
RETRY_MS = 2000
OPENING = f": deskalert hub: stream open\nretry: {RETRY_MS}\n\n".encode()
KEEP_ALIVE = b": keep-alive\n\n"
# No data: old clients and browsers skip it; the follower shows the link up only on it.
FOLLOWING = b"event: stream.open\n\n"


MAX_EVENT_ID = 2**63 - 1  # SQLite's INTEGER: a larger id would fail mid-stream, not as a 4xx
_EVENT_ID_DIGITS = len(str(MAX_EVENT_ID))


@dataclass(frozen=True)
class StreamRequest:
    """Checked before the stream starts: once it has, an error can no longer be a 4xx."""

    principal: Principal
    sites: set[str] | None
    last_id: int | None  # None: neither `since` nor a Last-Event-ID: from now on
    epoch: str | None = None  # from a Last-Event-ID of the form <epoch>:<id>
    availability: bool = False  # the live-only site.availability frames too


async def stream_request(  # async: a plain def dependency would run in the thread pool
    hub: HubDep,
    principal: PrincipalDep,
    site: str | None = None,
    since: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_EVENT_ID,
            description="Replay events after this id; `since=0`: the"
            " whole retained history. Absent (and no Last-Event-ID):"
            " from now on",
        ),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            description="Same as since; `<epoch>:<id>` (the epoch of /healthz or of a stream.reset)"
            " also says which event log the id is from; empty counts as absent"
        ),
    ] = None,
    availability: Annotated[
        bool,
        Query(
            description="Also send the live-only `site.availability` frames (no `id:`, never"
            " replayed): the numbers now at opening, then each change, at most 1/s per site"
        ),
    ] = False,
    epoch: Annotated[
        str | None,
        Query(
            max_length=64,
            description="The event log `since` is from (the epoch of /healthz or of"
            " a stream.reset), for clients that cannot set Last-Event-ID (a browser's EventSource):"
            " from another log, the stream sends stream.reset instead of replaying",
        ),
    ] = None,
) -> StreamRequest:
    header_epoch, _, last_id = (last_event_id or "").rpartition(":")
    return StreamRequest(
        principal=principal,
        sites=hub.roster.visible_sites(principal, site),
        last_id=since if since is not None else _parse_last_event_id(last_id),
        epoch=(epoch or "").strip() or header_epoch.strip() or None,
        availability=availability,
    )


def _parse_last_event_id(value: str | None) -> int | None:
    """An event id in ASCII digits, at most 2^63-1, or None for none at all (an empty header is
    not 0: from now on); anything else is a 400 before the stream starts ("²³" passes
    str.isdigit, and 5000 digits pass int() slowly or not at all)."""
    text = (value or "").strip()
    if text == "":
        return None
    if not (
        text.isascii()
        and text.isdigit()
        and len(text) <= _EVENT_ID_DIGITS
        and int(text) <= MAX_EVENT_ID
    ):
        shown = text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)"
        raise HubError(
            f"Last-Event-ID must be an event id (digits, at most {MAX_EVENT_ID}), not {shown!r}"
        )
    return int(text)


@router.get(
    "/v1/events",
    response_class=StreamingResponse,  # documented below; FastAPI's SSE layer is not used
    responses={
        200: {"description": "The event stream", "content": {"text/event-stream": {}}},
        **errors(400, 403, 404, 503),
    },
)
async def follow_events(
    hub: HubDep, request: Annotated[StreamRequest, Depends(stream_request)], http: Request
) -> EventSourceResponse:
    """Every state change after `Last-Event-ID` (or `since`), replayed from the store, then live.

    Without either (or with an empty `Last-Event-ID`), the stream starts from now: nothing is
    replayed. `since=0` replays the whole retained history. A client that loads a snapshot
    first (`/healthz`'s `last_event_id`, then the lists) follows from that snapshot's id, as the
    desk, the pane and the page do, so nothing between the two is missed.

    Event types: alert.raised, alert.acknowledged, alert.resolved, alert.cancelled,
    alert.escalated (data: the whole alert), desk.online, desk.offline (data: the desk's
    presence), oncall.changed (data: the site's on-call card), notify.sent, notify.failed,
    notify.gave_up (data: NotifyOutcome, one attempt to reach a supervisor's phone or mailbox
    about an alert). With `?availability=1`, also site.availability (data: SiteAvailability:
    desks online, supervisors who can answer): live only, no `id:` line, the sites' numbers
    once after the replay, then on each change. A `: keep-alive` comment comes at least every
    `heartbeat_s` seconds.

    The stream opens with `event: stream.open` (no data) once the hub follows from the given
    id. If that id is from another event log (`Last-Event-ID: <epoch>:<id>` with an epoch that
    is not the hub's, after a restore from a backup) or above the hub's last id, the hub sends
    instead one `stream.reset` event (data: StreamReset: epoch, last_event_id, reason) and
    ends the stream: reload the snapshot, then follow with `Last-Event-ID: <epoch>:<id>`.

    A hub that cannot read its database answers 503 `store_unavailable` (try another hub); one
    that loses it while streaming ends the stream.
    """
    streams: StreamCap = http.app.state.streams
    identity = f"{request.principal.kind.value} {request.principal.id}"
    abort = connection_abort(http.scope)
    # Read before the response starts: a database lost now is a 503, not a broken 200.
    last_id, reset = request.last_id, None
    if last_id is None:  # from now: the last id stored, whatever the event log
        last_id = await hub.stream.last_event_id()
    else:
        reset = await hub.stream.reset_for(request.epoch, last_id)
    frames = _frames(hub, request, last_id, reset, direct_write(http.scope, abort))
    return EventSourceResponse(
        _capped(frames, streams, identity, abort),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _frames(
    hub: Hub,
    request: StreamRequest,
    last_id: int,
    reset: StreamReset | None,
    write: DirectWrite | None = None,
) -> AsyncGenerator[bytes, None]:
    """The stream's bytes, written straight to the connection.

    Not a generator of ServerSentEvent through FastAPI's SSE layer: that layer runs two tasks
    and two memory streams per connection and encodes each event once per subscriber, which
    made the fan-out to 200 streams three times slower than Mosquitto (bench/results.md).
    Here an event is encoded once, whoever it goes to; once live, an idle stream's events are
    written by the broker itself through `write` (see `broker`).
    """
    yield OPENING
    if reset is not None:  # another event log: the client starts over from a snapshot
        yield _reset_frame(reset)
        return
    yield FOLLOWING
    try:
        async for event in hub.stream.follow(
            request.principal, request.sites, last_id, request.availability, write
        ):
            if event is None:
                yield KEEP_ALIVE
            else:
                yield event.frame() if isinstance(event, LiveEvent) else hub.broker.frame(event)
    except StoreUnavailable:  # lost while replaying (logged by the hub): the client resumes
        return


def direct_write(scope: Mapping[str, Any], abort: Callable[[], None] | None) -> DirectWrite | None:
    """A write to this stream's connection that bypasses the ASGI send chain (the fan-out's
    fast path), or None where that is not safe to do: another server than the hub's guarded
    uvicorn, or a connection whose current request is not this one (HTTP pipelining).

    It writes only while uvicorn's response is under way and the transport takes writes (not
    paused by flow control, not closing): otherwise it answers False and the event goes through
    the stream's bounded queue and uvicorn's own send, whose drain the stalled-reader guard
    watches, as before. The framing is uvicorn's: one HTTP/1.1 chunk per frame when the
    response is chunked.
    """
    protocol = getattr(abort, "__self__", None)
    if not isinstance(protocol, GuardedProtocol) or scope.get("method") != "GET":
        return None
    cycle, transport, flow = protocol.cycle, protocol.transport, protocol.flow
    if cycle is None or cycle.scope.get("extensions") is not scope.get("extensions"):
        return None

    def write(frame: bytes, chunk: bytes) -> bool:
        if (
            flow.write_paused
            or cycle.disconnected
            or cycle.response_complete
            or not cycle.response_started
            or transport.is_closing()
        ):
            return False
        try:
            transport.write(chunk if cycle.chunked_encoding else frame)
        except (OSError, RuntimeError):  # gone meanwhile: never stop the others' fan-out
            return False
        return True

    return write


def _reset_frame(reset: StreamReset) -> bytes:
    """`id:` is the hub's last id, so a plain SSE client (a browser) resumes from there."""
    return (
        f"id: {reset.last_event_id}\nevent: stream.reset\ndata: {reset.model_dump_json()}\n\n"
    ).encode()


async def _capped(
    frames: AsyncGenerator[bytes, None],
    streams: StreamCap,
    identity: str,
    abort: Callable[[], None] | None,
) -> AsyncIterator[bytes]:
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
