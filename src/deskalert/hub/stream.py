"""The event stream: replay from the store after `Last-Event-ID`, then live events.

A stream first replays what the store holds after the client's last id (pages of REPLAY_PAGE),
then takes live events from its broker subscription; what arrived during the replay is
skipped by id. A stream whose id comes from another event log (a restored backup) is told to
start over (`reset_for`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from deskalert.hub.availability import Availability
from deskalert.hub.broker import Broker, DirectWrite
from deskalert.hub.roster import Roster
from deskalert.hub.runtime import Runtime
from deskalert.hub.settings import HubConfig, Principal
from deskalert.models import LIVE_ONLY_EVENTS, Event, StreamReset

log = logging.getLogger("deskalert.hub")
# Replays must not starve live traffic (24 streams from since=0 over 10,000 events held a live
# alert up to 0.8 s at p99): at most REPLAYS_AT_ONCE page read of REPLAY_PAGE events waits on
# the store's one thread at a time (an alert's write queues behind that one, not behind every
# stream's pages), and a stream hands the loop back every REPLAY_CHUNK events it writes.
# Pages of 500 left 84 ms at p50, of 100: 12 ms (bench/one_connection.py replay).
REPLAY_PAGE = 100
REPLAYS_AT_ONCE = 1
REPLAY_CHUNK = 50


class Stream:
    """Opens and feeds the event streams of desks and supervisors."""

    def __init__(
        self,
        config: HubConfig,
        runtime: Runtime,
        roster: Roster,
        broker: Broker,
        availability: Availability,
        seen: Callable[[Principal], Awaitable[None]],
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.roster = roster
        self.broker = broker
        self.availability = availability
        self._seen = seen  # the opening of a stream is a sign of life (hub/presence.py)
        self._replaying = asyncio.Semaphore(REPLAYS_AT_ONCE)

    async def follow(
        self,
        principal: Principal,
        sites: set[str] | None,
        last_id: int,
        availability: bool = False,
        write: DirectWrite | None = None,
    ) -> AsyncIterator[Event | None]:
        """Events after `last_id` from the store, then live ones; None means "keep-alive now".

        With `availability`, the sites' numbers now after the replay, then each change (live
        only: `LiveEvent`s, which carry no id of their own). With `write` (the stream's
        connection), live events that find the stream idle are written by the broker directly
        and never come out of here (see `broker`)."""
        subscription = self.broker.subscribe(
            sites, None if principal.is_supervisor else principal.id, write, principal.id
        )
        subscription.last_id = last_id
        self.availability.stream_opened(principal, sites)
        try:
            await self._seen(principal)
            while True:
                async with self._replaying:
                    page = await self.runtime.db(
                        self.runtime.store.events_after,
                        last_id,
                        sites,
                        REPLAY_PAGE,
                        subscription.desk_id,
                    )
                for written, event in enumerate(page, 1):
                    last_id = subscription.last_id = event.id
                    yield event
                    if written % REPLAY_CHUNK == 0:
                        await asyncio.sleep(0)  # live requests get their turn
                if len(page) < REPLAY_PAGE:
                    break
            del page  # this generator lives as long as the stream: do not keep its last page
            if availability:  # listening and the numbers now, with no await in between:
                self.availability.listen(sites, subscription)  # what comes later is newer
                opening = [
                    self.availability.event(site)
                    for site in self.roster.site_ids
                    if sites is None or site in sites
                ]
                for numbers in opening:
                    yield numbers
            while not (subscription.overflowed and subscription.queue.empty()):
                # Whatever was yielded before is written: the broker may write directly now.
                subscription.busy = False
                try:
                    async with asyncio.timeout(self.config.hub.heartbeat_s):  # no task per wait
                        event = await subscription.queue.get()
                except TimeoutError:
                    subscription.busy = True
                    yield None
                    continue
                subscription.busy = True
                if event.type in LIVE_ONLY_EVENTS:
                    yield event
                elif event.id > subscription.last_id:  # else replayed or written already
                    subscription.last_id = event.id
                    yield event
        finally:
            self.broker.unsubscribe(subscription)
            self.availability.unlisten(sites, subscription)
            self.availability.stream_closed(principal, sites)

    async def last_event_id(self) -> int:
        """The last event's id: where a stream opened without an id starts (from now)."""
        return await self.runtime.db(self.runtime.store.last_event_id)

    async def reset_for(self, epoch: str | None, last_id: int) -> StreamReset | None:
        """None if a stream can replay after (`epoch`, `last_id`); else the reset that tells
        the client to start over from a snapshot: its id is from another event log (a restored
        backup), or above the last id stored (a restore by plain copy)."""
        store = self.runtime.store
        hub_last = await self.runtime.db(store.last_event_id)
        if epoch is not None and epoch != store.epoch:
            reason = f"event log {epoch} is not this hub's ({store.epoch}): restored from a backup?"
        elif last_id > hub_last:
            reason = f"event {last_id} is above this hub's last ({hub_last}): restored?"
        else:
            return None
        log.warning("stream reset: %s", reason)
        return StreamReset(epoch=store.epoch, last_event_id=hub_last, reason=reason)
