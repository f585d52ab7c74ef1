"""The event follower: one long-lived `/v1/events` stream that never misses an event.

`EventFollower.follow()` yields the hub's events in order (the typed `StreamEvent` union of
models.py: exactly what the frame carries), and `LinkUp` / `LinkDown` whenever the link changes;
`LinkDown.error` says why as a typed DeskAlertError (errors.py): unreachable, timeout, refused
token, a 5xx, or something that is not the hub (a proxy's HTML page, no event stream). On any break (refused connection, dropped socket, a hub that stops sending
even its keep-alive comments, a 5xx) it says `LinkDown` at once, waits with a capped backoff,
reconnects and resends `Last-Event-ID`, so the hub replays everything that happened meanwhile.

The read timeout is 1.5 x the hub's heartbeat: the hub sends at least a keep-alive comment every
heartbeat, so a silent stream for that long means the link is dead, and the desk knows within
2 x heartbeat (the issue's bound), 7.5 s with the default 5 s.

Why not stamina here, as in the outbox: this is a generator that yields events from inside each
attempt, and a retry decorator cannot wrap a `yield`; the backoff is the same shape (exponential,
jittered, capped at `WAIT_MAX_S`) and reset once a stream has opened.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import anyio
import httpx
from httpx_sse import aconnect_sse
from pydantic import ValidationError

from deskalert.client.api import describe_answer, hub_error, unreachable
from deskalert.errors import DeskAlertError, HubIncompatible, HubTimeout, HubUnreachable
from deskalert.models import STREAM_EVENT, AlertEvent, OnCallEvent, PresenceEvent

StreamEvent = AlertEvent | OnCallEvent | PresenceEvent

WAIT_INITIAL_S = 0.25
WAIT_MAX_S = 3.0
CONNECT_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class LinkUp:
    """The stream is open: the hub will push every change from now on."""

    at: datetime


@dataclass(frozen=True)
class LinkDown:
    """The stream broke (or never opened) at `since`; `error` says why, `reason` in one line."""

    since: datetime
    reason: str
    error: DeskAlertError | None = None


def backoff_s(failures: int) -> float:
    """Wait before reconnect attempt number `failures` (1-based): exponential, jittered, capped."""
    ceiling = min(WAIT_MAX_S, WAIT_INITIAL_S * 2 ** max(0, failures - 1))
    return random.uniform(ceiling / 2, ceiling)


class EventFollower:
    def __init__(
        self, base_url: str, token: str, *, heartbeat_s: float = 5.0, last_event_id: int = 0
    ) -> None:
        self.base_url = base_url
        self.token = token
        self.heartbeat_s = heartbeat_s
        self.last_event_id = last_event_id

    @property
    def read_timeout_s(self) -> float:
        return 1.5 * self.heartbeat_s

    async def follow(self) -> AsyncGenerator[StreamEvent | LinkUp | LinkDown, None]:
        """Events and link changes, forever; cancel the consuming task to stop."""
        failures = 0
        down: LinkDown | None = None
        timeout = httpx.Timeout(self.read_timeout_s, connect=CONNECT_TIMEOUT_S)
        # One client for every attempt: building one loads the CA bundle (about 15 ms of CPU),
        # which made 200 desks reconnecting after a hub restart wait on each other.
        async with httpx.AsyncClient(base_url=self.base_url, timeout=timeout) as http:
            while True:
                error: DeskAlertError = HubUnreachable("stream ended by the hub")
                try:
                    async for item in self._stream_once(http):
                        if isinstance(item, LinkUp):
                            failures, down = 0, None
                        yield item
                except httpx.TimeoutException:
                    error = HubTimeout("hub silent (no keep-alive)")
                except httpx.HTTPError as exc:
                    error = unreachable(self.base_url, exc)
                except DeskAlertError as exc:
                    error = exc
                if down is None or down.error.__class__ is not error.__class__:
                    down = LinkDown(since=datetime.now(UTC), reason=str(error), error=error)
                    yield down
                failures += 1
                await anyio.sleep(backoff_s(failures))

    async def _stream_once(self, http: httpx.AsyncClient) -> AsyncIterator[StreamEvent | LinkUp]:
        headers = {"Authorization": f"Bearer {self.token}", "Last-Event-ID": str(self.last_event_id)}
        async with aconnect_sse(http, "GET", "/v1/events", headers=headers) as source:
            if not source.response.is_success:
                await source.response.aread()
                raise hub_error(source.response)
            if "text/event-stream" not in source.response.headers.get("content-type", ""):
                await source.response.aread()
                raise HubIncompatible(f"{describe_answer(source.response)}: not an event stream")
            yield LinkUp(at=datetime.now(UTC))
            async for sse in source.aiter_sse():
                if not sse.event or not sse.data or sse.event == "message":
                    continue  # the opening comment's retry field, or anything unnamed
                event = _parse(sse.id, sse.event, sse.data)
                if event is not None and event.id > self.last_event_id:
                    self.last_event_id = event.id
                    yield event


def _parse(event_id: str, event_type: str, data: str) -> StreamEvent | None:
    """One SSE block as a typed event; an unreadable one is skipped (a newer hub's type)."""
    try:
        return STREAM_EVENT.validate_python(  # type: ignore[no-any-return]
            {"id": int(event_id), "type": event_type, "data": json.loads(data)}
        )
    except (ValueError, ValidationError):
        return None


class Snapshot(Protocol):
    """What a screen loads before following: the stream starts after `last_event_id`."""

    heartbeat_s: float
    last_event_id: int


S = TypeVar("S", bound=Snapshot)


async def snapshot_then_events(
    load: Callable[[], Awaitable[S]], base_url: str, token: str
) -> AsyncIterator[S | StreamEvent | LinkUp | LinkDown]:
    """Load the screen's picture (retrying with backoff), then follow every event after it."""
    failures = 0
    while True:
        try:
            snapshot = await load()
            break
        except DeskAlertError as exc:
            yield LinkDown(since=datetime.now(UTC), reason=str(exc), error=exc)
            failures += 1
            await anyio.sleep(backoff_s(failures))
    yield snapshot
    follower = EventFollower(base_url, token, heartbeat_s=snapshot.heartbeat_s,
                             last_event_id=snapshot.last_event_id)
    async for item in follower.follow():
        yield item
