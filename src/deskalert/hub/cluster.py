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
checks, on-call changes, the purge and the notification worker must each happen once. The
leader is the hub holding a session-level advisory lock on a connection of its own; the others
try to take it at every tick. When the leader dies its connection closes and PostgreSQL frees
the lock; another hub takes it at its next tick (`tick_s`, under `heartbeat_s`). A leader
whose connection fails stops leading at once; the server also ends a leader session that stays
idle for `IDLE_SESSION_TIMEOUT_MS` (a leader cut off from the database). Every timer reads its
deadlines from the store, so a new leader neither skips a step nor doubles one.

On SQLite (one hub) neither is needed: `Solo` is always the leader and the hub publishes its
own commits directly, as it always did.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import psycopg

from deskalert.errors import StoreUnavailable
from deskalert.hub import pgwatch
from deskalert.hub.store import event_of, read_overrides
from deskalert.hub.store import postgres as pgstore
from deskalert.models import Event, EventType

log = logging.getLogger("deskalert.hub")
POLL_S = 0.5  # the longest a lost NOTIFY can delay an event
TAIL_PAGE = 1000
RECONNECT_S = (0.2, 0.5, 1.0, 2.0)
LEADER_LOCK = 0x6465736C  # "desl": held by the hub that runs the timers (session-level)
IDLE_SESSION_TIMEOUT_MS = 5000

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


class Cluster:
    """This hub among others on one PostgreSQL database: the tail and the leadership."""

    shared = True

    def __init__(self, url: str, handoff: Handoff, lost: Callable[[], None] = lambda: None) -> None:
        self.tail = EventTail(url, handoff, lost)
        self.leadership = Leadership(url)

    async def start(self, last_id: int) -> None:
        self.tail.start(last_id, asyncio.get_running_loop())

    async def stop(self) -> None:
        await asyncio.to_thread(self.tail.stop)
        await self.leadership.stop()

    async def is_leader(self) -> bool:
        return await self.leadership.check()


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
    """The session advisory lock that makes one hub the leader, checked at every tick."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.leading = False
        self._conn: psycopg.Connection[Any] | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="deskalert-leader")

    async def check(self) -> bool:
        loop = asyncio.get_running_loop()
        leading = await loop.run_in_executor(self._executor, self._check)
        if leading and not self.leading:
            log.info("this hub now leads (escalation, offline desks, checks, notifications)")
            self.leading = True
        elif not leading and self.leading:
            log.warning("this hub no longer leads: another hub takes over the timers")
            self.leading = False
        return leading

    def _check(self) -> bool:
        try:
            fresh = self._conn is None or self._conn.closed or self._conn.broken
            if fresh:
                self._conn = pgstore.connect(self.url)
                try:  # PostgreSQL 14 and later; an older server keeps idle sessions
                    with pgwatch.deadline(self._conn):
                        self._conn.execute(f"SET idle_session_timeout = {IDLE_SESSION_TIMEOUT_MS}")
                except psycopg.Error:
                    pass
            assert self._conn is not None
            with pgwatch.deadline(self._conn):
                if self.leading and not fresh:
                    self._conn.execute("SELECT 1")  # alive: the session, so the lock, is held
                    return True
                row = self._conn.execute(
                    "SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,)
                ).fetchone()
            return bool(row and row[0])
        except (psycopg.Error, StoreUnavailable):
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            return False

    async def stop(self) -> None:
        def release() -> None:
            if self._conn is not None:
                self._conn.close()  # the session ends: the lock is free for the others

        await asyncio.get_running_loop().run_in_executor(self._executor, release)
        self._executor.shutdown(wait=True)
        self.leading = False
