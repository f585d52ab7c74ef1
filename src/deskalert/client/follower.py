"""The event follower: one long-lived `/v1/events` stream that never misses an event.

`EventFollower.follow()` yields the hub's events in order (the typed `StreamEvent` union of
models.py: exactly what the frame carries), and `LinkUp` / `LinkDown` whenever the link changes;
`LinkDown.error` says why as a typed DeskAlertError (errors.py): unreachable, timeout, refused
token, a 5xx, or something that is not the hub (a proxy's HTML page, no event stream). On any
break (refused connection, dropped socket, a hub that stops sending even its keep-alive
comments, a 5xx) it says `LinkDown` at once, waits with a capped backoff,
reconnects and resends `Last-Event-ID`, so the hub replays everything that happened meanwhile.

The read timeout is 1.5 x the hub's heartbeat: the hub sends at least a keep-alive comment every
heartbeat, so a silent stream for that long means the link is dead, and the desk knows within
2 x heartbeat (the issue's bound), 7.5 s with the default 5 s.

The hub's event log has an identity, its epoch (in `/healthz`), which changes when the hub is
restored from a backup. The follower resends `Last-Event-ID: <epoch>:<id>`; when that id is from
another log, or above the hub's last one, the hub answers `stream.reset` instead of events, and
`snapshot_then_events` reloads the screen's picture and follows the new log. `LinkUp` is said
only on the hub's `stream.open`, so a link is shown up only while it really follows.

Several hubs of one database (`[hub] urls`, client/hubs.py): a break on a hub that is down
(`is_outage`) is followed at once by an attempt on the next one, from the same `Last-Event-ID`
and epoch (the same log: the hub replays what happened meanwhile, so no gap and no duplicate);
`LinkDown` is said only when every hub failed, and `LinkUp.hub` says which one the stream is on.
A refusal (a refused token) is retried on the same hub, never on another.

Why not stamina here, as in the outbox: this is a generator that yields events from inside each
attempt, and a retry decorator cannot wrap a `yield`; the backoff is the same shape (exponential,
jittered, capped at `WAIT_MAX_S`) and reset once a stream has opened.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import anyio
import httpx
from httpx_sse import aconnect_sse
from pydantic import ValidationError

from deskalert.client.api import HubClient, describe_answer, hub_error, unreachable
from deskalert.client.hubs import Hubs, is_outage
from deskalert.errors import DeskAlertError, HubIncompatible, HubTimeout, HubUnreachable
from deskalert.models import (
    LIVE_ONLY_EVENTS,
    STREAM_EVENT,
    AlertEvent,
    AvailabilityEvent,
    BroadcastEvent,
    CheckEvent,
    OnCallEvent,
    PresenceEvent,
    RosterEvent,
    SessionEvent,
    StreamReset,
)

StreamEvent = (
    AlertEvent
    | OnCallEvent
    | PresenceEvent
    | SessionEvent
    | CheckEvent
    | AvailabilityEvent
    | BroadcastEvent
)

WAIT_INITIAL_S = 0.25
WAIT_MAX_S = 3.0
CONNECT_TIMEOUT_S = 2.0
RESET_REASON = "the hub's event log changed (restored from a backup): reloading"


@dataclass(frozen=True)
class LinkUp:
    """The stream is open: the hub will push every change from now on. `hub`: which of the
    configured hubs (1 for the first listed), so a desk can say it is on another one."""

    at: datetime
    hub: int = 1


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
        self,
        hubs: str | Sequence[str] | Hubs,
        token: str,
        *,
        heartbeat_s: float = 5.0,
        last_event_id: int = 0,
        epoch: str | None = None,
        availability: bool = False,
    ) -> None:
        self.availability = availability  # also the live-only site.availability frames
        self.hubs = Hubs.of(hubs)
        self.token = token
        self.heartbeat_s = heartbeat_s
        self.last_event_id = last_event_id
        self.epoch = epoch  # the hub's event log that last_event_id belongs to; None: unknown

    @property
    def base_url(self) -> str:
        """The URL of the hub in use."""
        return self.hubs.url

    @property
    def read_timeout_s(self) -> float:
        return 1.5 * self.heartbeat_s

    async def follow(
        self,
    ) -> AsyncGenerator[StreamEvent | RosterEvent | StreamReset | LinkUp | LinkDown, None]:
        """Events and link changes, forever; cancel the consuming task to stop.

        A `StreamReset` means the hub's log is not the one the follower knew (a restore): what
        the consumer built from earlier events is stale; the follower goes on from the new log.

        With several hubs, a break on one that is down is followed at once by an attempt on the
        next (`Hubs.order`), from the same position; `LinkDown` is said only when every hub of the
        round failed, or when a hub answered with a refusal (a refused token is retried on the
        same hub, never elsewhere), so a switch that works shows no break, only the new `hub`.
        """
        failures = 0
        down: LinkDown | None = None
        timeout = httpx.Timeout(self.read_timeout_s, connect=CONNECT_TIMEOUT_S)
        # One client per hub for every attempt: building one loads the CA bundle (about 15 ms of
        # CPU), which made 200 desks reconnecting after a hub restart wait on each other.
        async with AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=timeout))
                for url in self.hubs.urls
            ]
            while True:
                error: DeskAlertError = HubUnreachable("stream ended by the hub")
                async with aclosing(self._round(clients)) as items:
                    async for item in items:
                        if isinstance(item, DeskAlertError):
                            error = item
                            continue
                        if isinstance(item, LinkUp):
                            failures, down = 0, None
                        yield item
                if down is None or down.error.__class__ is not error.__class__:
                    down = LinkDown(since=datetime.now(UTC), reason=str(error), error=error)
                    yield down
                failures += 1
                await anyio.sleep(backoff_s(failures))

    async def _round(
        self, clients: list[httpx.AsyncClient]
    ) -> AsyncGenerator[StreamEvent | RosterEvent | StreamReset | LinkUp | DeskAlertError, None]:
        """Each hub once, from the one in use, until one refuses or all are down; then the last
        error. A stream that opened counts as the first of a new round: when it breaks, the
        next attempt goes to another hub, and every other hub is tried before a LinkDown."""
        order, position = self.hubs.order(), 0
        error: DeskAlertError = HubUnreachable("stream ended by the hub")
        while position < len(order):
            opened = reset = False
            async with aclosing(self._attempt(clients[order[position]], order[position])) as items:
                async for item in items:
                    if isinstance(item, DeskAlertError):
                        error = item
                        continue
                    opened = opened or isinstance(item, LinkUp)
                    reset = reset or isinstance(item, StreamReset)
                    yield item
            if reset or not is_outage(error):
                break  # a refusal, or a new log: retried on this hub after the backoff
            order, position = (self.hubs.order(), 1) if opened else (order, position + 1)
        yield error

    async def _attempt(
        self, http: httpx.AsyncClient, index: int
    ) -> AsyncGenerator[StreamEvent | RosterEvent | StreamReset | LinkUp | DeskAlertError, None]:
        """One stream on hub `index`: its items, then the error that ended it (always one)."""
        error: DeskAlertError = HubUnreachable(f"hub {self.hubs.urls[index]}: stream ended")
        try:
            async for item in self._stream_once(http, index):
                if isinstance(item, StreamReset):
                    error = HubUnreachable(RESET_REASON)
                yield item
        except httpx.TimeoutException:
            error = HubTimeout(f"hub {self.hubs.urls[index]} silent (no keep-alive)")
        except httpx.HTTPError as exc:
            error = unreachable(self.hubs.urls[index], exc)
        except DeskAlertError as exc:
            error = exc
        yield error

    async def _stream_once(
        self, http: httpx.AsyncClient, index: int = 0
    ) -> AsyncIterator[StreamEvent | RosterEvent | StreamReset | LinkUp]:
        position = f"{self.epoch}:{self.last_event_id}" if self.epoch else str(self.last_event_id)
        headers = {"Authorization": f"Bearer {self.token}", "Last-Event-ID": position}
        params = {"availability": "1"} if self.availability else {}
        async with aconnect_sse(
            http, "GET", "/v1/events", headers=headers, params=params
        ) as source:
            if not source.response.is_success:
                await source.response.aread()
                raise hub_error(source.response)
            if "text/event-stream" not in source.response.headers.get("content-type", ""):
                await source.response.aread()
                raise HubIncompatible(f"{describe_answer(source.response)}: not an event stream")
            async for sse in source.aiter_sse():
                if sse.event == "stream.open":  # the hub follows from our position
                    self.hubs.settle(index)
                    yield LinkUp(at=datetime.now(UTC), hub=Hubs.number(index))
                    continue
                if sse.event == "stream.reset" and (reset := self._reset(sse.data)):
                    yield reset
                    return  # the hub ends the stream; reconnect at the new position
                if not sse.event or not sse.data or sse.event == "message":
                    continue  # the opening comment's retry field, or anything unnamed
                if sse.event in LIVE_ONLY_EVENTS:  # no id of its own: the position stays
                    if live := _parse(str(self.last_event_id), sse.event, sse.data):
                        yield live
                    continue
                event = _parse(sse.id, sse.event, sse.data)
                if event is not None and event.id > self.last_event_id:
                    self.last_event_id = event.id
                    yield event

    def _reset(self, data: str) -> StreamReset | None:
        """Take the new log's position from a stream.reset; None if it cannot be read."""
        try:
            reset = StreamReset.model_validate_json(data)
        except ValidationError:
            return None
        self.epoch, self.last_event_id = reset.epoch, reset.last_event_id
        return reset


def _parse(event_id: str, event_type: str, data: str) -> StreamEvent | RosterEvent | None:
    """One SSE block as a typed event; an unreadable one is skipped (a newer hub's type)."""
    try:
        return STREAM_EVENT.validate_python(
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
    load: Callable[[], Awaitable[S]],
    hubs: str | Sequence[str] | Hubs,
    token: str,
    *,
    availability: bool = False,
) -> AsyncIterator[S | StreamEvent | LinkUp | LinkDown]:
    """Load the screen's picture (retrying with backoff), then follow every event after it;
    load it again whenever the hub says its event log is not the one the picture came from.
    `hubs`: one URL, several, or the `Hubs` the screen's HubClient shares (client/hubs.py)."""
    shared = Hubs.of(hubs)
    while True:
        loaded: list[tuple[str | None, S]] = []
        async for down in _load_until_done(load, shared, token, loaded):
            yield down
        epoch, snapshot = loaded[0]
        yield snapshot
        follower = EventFollower(
            shared,
            token,
            heartbeat_s=snapshot.heartbeat_s,
            last_event_id=snapshot.last_event_id,
            epoch=epoch,
            availability=availability,
        )
        async with aclosing(follower.follow()) as items:
            async for item in items:
                if isinstance(item, StreamReset):
                    yield LinkDown(
                        since=datetime.now(UTC),
                        reason=RESET_REASON,
                        error=HubUnreachable(RESET_REASON),
                    )
                    break
                if isinstance(item, RosterEvent):  # hub.toml reloaded: codes, desks, on-call
                    again = await _load_again(load)
                    if again is None:
                        break  # as after a reset: loaded with backoff, then followed again
                    yield again
                    continue
                yield item


async def _load_again(load: Callable[[], Awaitable[S]]) -> S | None:
    """The screen's picture read again while its stream stays open (`roster.changed`): the
    events after it come on that stream and are applied over it, as after any snapshot (each
    carries its whole object). None if the hub cannot answer now."""
    try:
        return await load()
    except DeskAlertError:
        return None


async def _load_until_done(
    load: Callable[[], Awaitable[S]],
    hubs: Hubs,
    token: str,
    loaded: list[tuple[str | None, S]],
) -> AsyncIterator[LinkDown]:
    """Append (the hub's epoch, the snapshot) to `loaded`, saying LinkDown at each failure.

    The epoch is read before the snapshot: if the hub is restored in between, the follower's
    `<epoch>:<id>` is from the old log and the hub resets it, never the other way round.
    """
    failures = 0
    while True:
        try:
            async with HubClient(hubs, token) as client:  # the shared Hubs: the same choice
                epoch = (await client.health()).epoch or None
            loaded.append((epoch, await load()))
            return
        except DeskAlertError as exc:
            yield LinkDown(since=datetime.now(UTC), reason=str(exc), error=exc)
            failures += 1
            await anyio.sleep(backoff_s(failures))
