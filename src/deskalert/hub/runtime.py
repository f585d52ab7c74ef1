"""The hub's runtime: the store thread, commit-ordered publishing, the clock, the event log.

Every read and write of the store runs on one dedicated thread (`db`), so the event loop never
waits on an fsync and writes are serialised without locks. Each committed event is handed to
the broker from that same thread (`publish`, through `call_soon_threadsafe`), so live
subscribers see events in exactly the order of their ids. With a shared store (PostgreSQL) the
events reach the broker through the event table instead (`tailed`, hub/cluster.py).

The components (hub/alerts.py, presence.py, ...) take a `Runtime` and never each other's
private state; the runtime knows none of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from deskalert.errors import StoreUnavailable
from deskalert.hub.availability import Availability
from deskalert.hub.broker import Broker
from deskalert.hub.clock import Clock
from deskalert.hub.lease import current as current_lease
from deskalert.hub.store import Store
from deskalert.models import Event, EventType

log = logging.getLogger("deskalert.hub")
T = TypeVar("T")
CHECKPOINT_EVERY_S = 1.0
STORE_LOG_EVERY_S = 10.0  # a store that fails is logged at most once per this, with a count


class Runtime:
    """What every component shares: the store and its thread, publishing, the clock."""

    def __init__(
        self, store: Store, clock: Clock, broker: Broker, availability: Availability
    ) -> None:
        self.store = store
        self.clock = clock
        self.broker = broker
        self.availability = availability
        self.shared = store.shared
        self.store_error: str | None = None  # the last write failure, until a commit succeeds
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="deskalert-store")
        self._checkpoints = ThreadPoolExecutor(1, thread_name_prefix="deskalert-checkpoint")
        self._checkpointer: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._store_logged_at: float | None = None
        self._store_failures = 0
        self._tailed_id = 0  # the last event the event table's reader handed on
        self._tail_waiters: list[tuple[int, asyncio.Future[None]]] = []

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None, "the hub is not started"
        return self._loop

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if not self.shared:
            self._checkpointer = asyncio.create_task(
                self._checkpoint_forever(), name="deskalert-checkpoint"
            )

    async def stop_checkpoints(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            await asyncio.gather(self._checkpointer, return_exceptions=True)
        self._checkpoints.shutdown(wait=True)

    def close(self) -> None:
        """After every component stopped: the store thread ends, the store closes."""
        self.executor.shutdown(wait=True)
        self.store.close()

    # -- the store thread -----------------------------------------------------------------

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the store thread; a store that fails is remembered and logged. Inside
        `lease.leader_writes` (the leader's timers), its transactions are fenced by the lease:
        refused (`LeadLost`) once this hub's lease is over (hub/lease.py)."""
        loop = asyncio.get_running_loop()
        lease = current_lease() if self.shared else None
        if lease is not None:
            lease.check()
            fn = partial(self.store.as_leader, lease, fn)
        try:
            result = await loop.run_in_executor(self.executor, fn, *args)
        except StoreUnavailable as exc:
            self.store_error = str(exc)
            self._log_store_error(exc)
            raise
        return result

    def _log_store_error(self, exc: StoreUnavailable) -> None:
        """The first failure at once, then one line per STORE_LOG_EVERY_S with a count: a
        database down for a minute is a few lines, not one per tick and request."""
        now = self.clock.monotonic()
        self._store_failures += 1
        if self._store_logged_at is None or now - self._store_logged_at >= STORE_LOG_EVERY_S:
            log.error(
                "%s (%d failed store call(s) since the last such line)", exc, self._store_failures
            )
            self._store_logged_at, self._store_failures = now, 0

    # -- publishing, in commit order --------------------------------------------------------

    def publish(self, event: Event) -> None:
        """Called on the store thread right after the commit: keeps the commit order. With a
        shared store the event reaches the broker through the event table (`tailed`)."""
        self.store_error = None  # a commit went through: the store is writable again
        log_event(event)
        if self.shared:
            return
        self.loop.call_soon_threadsafe(self.committed, event)  # one loop wake-up per event

    def publish_all(self, events: list[Event]) -> None:
        """`publish` for a group's events (one loop wake-up for the group)."""
        if not events:
            return
        self.store_error = None
        for event in events:
            log_event(event)
        if not self.shared:
            self.loop.call_soon_threadsafe(self.broker.publish_all, events)

    def committed(self, event: Event) -> None:
        """On the hub's loop, in commit order: the fan-out, then who can come now."""
        self.broker.publish(event)
        self.availability.on_event(event)

    # -- the event table's reader (several hubs) --------------------------------------------

    async def until_tailed(self, event_id: int, timeout: float = 1.0) -> None:
        """Wait (a little) until the event table's reader has handed on `event_id`."""
        if self._tailed_id >= event_id:
            return
        waiter: asyncio.Future[None] = self.loop.create_future()
        self._tail_waiters.append((event_id, waiter))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await asyncio.shield(waiter)

    def tailed(self, last_id: int) -> None:
        """The reader handed on events up to `last_id`: whoever waits for them goes on."""
        self._tailed_id = last_id
        waiting, self._tail_waiters = self._tail_waiters, []
        for event_id, waiter in waiting:
            if event_id <= last_id:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                self._tail_waiters.append((event_id, waiter))

    # -- WAL checkpoints, off the commit path ------------------------------------------------

    async def _checkpoint_forever(self) -> None:
        """WAL checkpoints on their own thread and connection, every CHECKPOINT_EVERY_S, so
        that none lands inside a commit a desk waits for (see `Store.checkpoint`)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY_S)
            try:
                await loop.run_in_executor(self._checkpoints, self.store.checkpoint)
            except self.store.db_errors as exc:  # a full disk shows in the writes; retried
                log.debug("WAL checkpoint failed: %s", exc)


def log_event(event: Event) -> None:
    """One line of the hub's log per committed event."""
    data = event.data
    if event.type.value.startswith("alert."):
        drill = " [EXERCICE]" if data.get("test") else ""
        who = ", ".join(r["name"] for r in data.get("responders", [])) or "-"
        log.info(
            "event %d %s%s: alert %s code=%s desk=%s site=%s state=%s responders=%s level=%s to=%s",
            event.id,
            event.type.value,
            drill,
            data["id"],
            data["code"],
            data["desk"],
            data["site"],
            data["state"],
            who,
            data["escalation_level"],
            data["escalated_to"],
        )
    elif event.type.value.startswith("notify."):
        log.info(
            "event %d %s: alert %s %s to=%s channel=%s attempt=%s%s",
            event.id,
            event.type.value,
            data["id"],
            data["kind"],
            data["to"],
            data["channel"],
            data["attempt"],
            f" reason={data['reason']}" if data.get("reason") else "",
        )
    elif event.type.value.startswith(("session.", "check.")):
        log.info(
            "event %d %s: %s desk=%s site=%s state=%s",
            event.id,
            event.type.value,
            data["id"],
            data["desk"],
            event.site,
            data["state"],
        )
    elif event.type.value.startswith("broadcast."):
        log.info(
            "event %d %s: %s kind=%s site=%s state=%s read=%d/%d",
            event.id,
            event.type.value,
            data["id"],
            data["kind"],
            event.site,
            data["state"],
            len(data["reads"]),
            len(data["desks"]),
        )
    elif event.type.value.startswith("desk."):
        log.info("event %d %s: desk=%s site=%s", event.id, event.type.value, data["id"], event.site)
    elif event.type is EventType.ROSTER_CHANGED:
        log.info("event %d %s: roster %s", event.id, event.type.value, data.get("fingerprint"))
    else:
        supervisor = (data.get("supervisor") or {}).get("name", "nobody")
        log.info(
            "event %d %s: site=%s on call=%s (%s)",
            event.id,
            event.type.value,
            event.site,
            supervisor,
            data.get("source"),
        )
