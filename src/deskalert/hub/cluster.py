"""Several hubs on one PostgreSQL: each sees every event, and one of them runs the timers.

**Every hub sees every event** (`EventTail`). A hub does not hand its own commits to its
broker: its streams must also carry what the other hubs commit, in one order, the order of the
ids. So each hub reads the event table after the last id it has handed on, on a connection of
its own, in its own thread, and hands the rows to the hub's loop. It is woken by
`LISTEN deskalert_events` (sent by every transaction that appends an event, delivered at
commit) and polls every `POLL_S` whatever happens: a lost notification delays an event by at
most that. A connection that fails (or stays silent past the TCP timeouts set in
hub/store/postgres.py) is replaced, and reading resumes after the last id handed on: nothing is
skipped, nothing twice. While it cannot read (a second failure in a row, or a stalled link), the
hub ends its streams: their clients resume on another hub rather than wait in silence for events
it cannot see. Event ids are commit-ordered (hub/store/postgres.py), so "after the last id" never
passes over an event committed late.

**One hub runs the timers** (`Leadership`): escalation, desks going offline, the interview
checks, on-call changes, broadcasts' unread, the purge and the notification worker must each
happen once. The leader is the hub holding the lease (`leader_lease`, hub/lease.py): renewed at
every tick for `LEASE_S` of the database's time, taken by another hub at its next tick once it
is over. The leader acts only until the renewal's sending plus `LEASE_S - MARGIN_S` on its own
monotonic clock, so it has stopped at least `MARGIN_S` before any other hub may take the lease,
whatever happens to its connection or its loop meanwhile; and each of its timers' writes checks
the lease in its own transaction (fencing). A hub that stops cleanly releases the lease: the next
takes it at its next tick (`tick_s`); a hub killed or cut off is replaced within `LEASE_S` plus a
tick. Every timer reads its deadlines from the store, so a new leader neither skips a step nor
doubles one.

On SQLite (one hub) neither is needed: `Solo` is always the leader and the hub publishes its
own commits directly, as it always did.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import psycopg

from deskalert.errors import StoreUnavailable
from deskalert.hub import pgwatch
from deskalert.hub.lease import LEASE_S, MARGIN_S, Lease
from deskalert.hub.store import event_of, read_overrides
from deskalert.hub.store import postgres as pgstore
from deskalert.models import Event, EventType

log = logging.getLogger("deskalert.hub")
POLL_S = 0.5  # the longest a lost NOTIFY can delay an event
TAIL_PAGE = 1000
RECONNECT_S = (0.2, 0.5, 1.0, 2.0)
# The lease (hub/lease.py): renewed by its holder, or taken once it is over in the database's
# time; a new holder starts a new term. Released at a clean stop, for the next hub at once.
NOW_S = "EXTRACT(EPOCH FROM now())"
RENEW = f"""UPDATE leader_lease SET
    term = CASE WHEN holder = %(me)s AND expires_at > {NOW_S} THEN term ELSE term + 1 END,
    holder = %(me)s,
    expires_at = {NOW_S} + %(lease)s
WHERE id = 1 AND (holder = %(me)s OR expires_at <= {NOW_S})
RETURNING term"""
RELEASE = "UPDATE leader_lease SET expires_at = 0 WHERE id = 1 AND holder = %(me)s"

Handoff = Callable[[list[Event], dict[str, tuple[str, datetime]] | None], None]


class Solo:
    """One hub alone on its SQLite file: it leads, and it publishes its own commits."""

    shared = False

    async def start(self, last_id: int) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def is_leader(self) -> bool:
        return True

    def lease(self) -> Lease | None:
        return None  # nothing to fence: no other hub

    def holds(self) -> bool:
        return True


class Cluster:
    """This hub among others on one PostgreSQL database: the tail and the leadership."""

    shared = True

    def __init__(
        self,
        url: str,
        handoff: Handoff,
        lost: Callable[[], None] = lambda: None,
        holder: str = "",
    ) -> None:
        self.tail = EventTail(url, handoff, lost)
        self.leadership = Leadership(url, holder or secrets.token_hex(6))

    async def start(self, last_id: int) -> None:
        self.tail.start(last_id, asyncio.get_running_loop())

    async def stop(self) -> None:
        await asyncio.to_thread(self.tail.stop)
        await self.leadership.stop()

    async def is_leader(self) -> bool:
        return await self.leadership.check()

    def lease(self) -> Lease | None:
        return self.leadership.lease()

    def holds(self) -> bool:
        """Whether this hub may act as the leader now (its lease not over here)."""
        return self.leadership.lease() is not None


class EventTail:
    """Reads the event table after the last id handed on, woken by NOTIFY, polling anyway."""

    def __init__(self, url: str, handoff: Handoff, lost: Callable[[], None]) -> None:
        self.url = url
        self.handoff = handoff
        self.lost = lost  # called on the loop when the tail cannot read (see `_pause`)
        self.last_id = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, last_id: int, loop: asyncio.AbstractEventLoop) -> None:
        self.last_id, self._loop = last_id, loop
        self._thread = threading.Thread(target=self._run, name="deskalert-tail", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            try:  # a wake-up ends the tail's wait for one now, not POLL_S later
                with pgstore.connect(self.url) as conn:
                    conn.execute(f"NOTIFY {pgstore.CHANNEL}")
            except (StoreUnavailable, psycopg.Error):
                pass  # the server is gone: the wait ends by itself
            self._thread.join(timeout=5)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                conn = pgstore.connect(self.url)
            except StoreUnavailable as exc:
                failures = self._pause(failures, str(exc))
                continue
            try:
                with pgwatch.deadline(conn):
                    conn.execute(f"LISTEN {pgstore.CHANNEL}")
                if failures:
                    log.info("event tail: connected again; reading after event %d", self.last_id)
                failures = 0
                self._follow(conn)
            except psycopg.Error as exc:
                if isinstance(exc, pgwatch.Stalled):
                    failures = max(failures, 1)  # no quick reconnect to wait for
                failures = self._pause(failures, f"lost its connection ({exc})")
            finally:
                conn.close()

    def _pause(self, failures: int, reason: str) -> int:
        """Wait before connecting again. A connection lost once is replaced at once; from the
        second failure in a row (or a stalled link) the hub cannot follow the log, so its
        streams end: their clients go on with another hub instead of waiting in silence."""
        if failures == 0:
            log.warning("event tail: %s; events from the other hubs wait until it is back", reason)
        if failures == 1:
            log.warning("event tail: still no database; this hub ends its event streams")
            self._call_on_loop(self.lost)
        self._stop.wait(RECONNECT_S[min(failures, len(RECONNECT_S) - 1)])
        return failures + 1

    def _follow(self, conn: psycopg.Connection[Any]) -> None:
        while not self._stop.is_set():
            with pgwatch.deadline(conn):
                rows = pgstore.events_after(conn, self.last_id, TAIL_PAGE)
            if rows:
                self._hand_on(conn, rows)
                if len(rows) == TAIL_PAGE:
                    continue
            for _ in conn.notifies(timeout=POLL_S, stop_after=1):
                pass
            # The wake-ups that came meanwhile (one per commit of any hub): one read serves
            # them all; a NOTIFY after this drain is for a commit the read will see anyway.
            for _ in conn.notifies(timeout=0):
                pass

    def _hand_on(self, conn: psycopg.Connection[Any], rows: list[tuple[Any, ...]]) -> None:
        events = [event_of(row) for row in rows]
        # An override may come from another hub: the card is computed from the table.
        changed = any(e.type is EventType.ONCALL_CHANGED for e in events)
        with pgwatch.deadline(conn):
            overrides = read_overrides(conn) if changed else None
        self.last_id = events[-1].id
        self._call_on_loop(self.handoff, events, overrides)

    def _call_on_loop(self, fn: Callable[..., None], *args: Any) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop is closed: the hub is stopping
            self._stop.set()


class Leadership:
    """The lease that makes one hub the leader (hub/lease.py), renewed at every tick on a
    connection of its own, so that a renewal never waits behind the store's thread."""

    def __init__(self, url: str, holder: str) -> None:
        self.url = url
        self.holder = holder
        self.leading = False
        self._lease: Lease | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="deskalert-leader")

    def lease(self) -> Lease | None:
        """The lease this hub may act under now; None once it is over here."""
        lease = self._lease
        return lease if lease is not None and lease.valid() else None

    async def check(self) -> bool:
        """Renew the lease (or take it, if it is over for everyone): True if this hub leads."""
        loop = asyncio.get_running_loop()
        self._lease = await loop.run_in_executor(self._executor, self._renew)
        leading = self.lease() is not None
        if leading and not self.leading:
            log.info("this hub now leads (escalation, offline desks, checks, notifications)")
        elif not leading and self.leading:
            log.warning("this hub no longer leads: another hub takes over the timers")
        self.leading = leading
        return leading

    def _renew(self) -> Lease | None:
        try:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = pgstore.connect(self.url)
            sent = time.monotonic()  # before the database stamps it: the lease ends earlier here
            with pgwatch.deadline(self._conn):
                row = self._conn.execute(RENEW, {"me": self.holder, "lease": LEASE_S}).fetchone()
        except (psycopg.Error, StoreUnavailable):
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            return None
        return Lease(self.holder, int(row[0]), sent + LEASE_S - MARGIN_S) if row else None

    async def stop(self) -> None:
        def release() -> None:
            if self._conn is None:
                return
            # A release that fails: the lease ends by itself, LEASE_S later.
            with contextlib.suppress(psycopg.Error), pgwatch.deadline(self._conn):
                self._conn.execute(RELEASE, {"me": self.holder})
            self._conn.close()

        self._lease, self.leading = None, False  # first: nothing acts under it any more
        await asyncio.get_running_loop().run_in_executor(self._executor, release)
        self._executor.shutdown(wait=True)
