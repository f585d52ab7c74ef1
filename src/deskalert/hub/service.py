"""The hub: a facade that composes its components, starts and stops them, and ticks.

Each concern is a component of its own, taking only what it needs (see docs/architecture.md):

- `runtime` (hub/runtime.py): the store thread, commit-ordered publishing, the clock, the log;
- `roster` (hub/roster.py): principals, sites, desks, codes, networks;
- `alerts` (hub/alerts.py): raise, answer, escalate; `notes` (hub/notes.py): notes, retention;
- `presence` (hub/presence.py): desks online; `oncall` (hub/oncall_board.py): on-call cards;
- `interview` (hub/interview.py): the interview timer and "tout va bien ?" checks;
- `broadcasts` (hub/broadcasts.py): supervisors' messages to every desk of some sites;
- `stream` (hub/stream.py): the event streams; `health` (hub/health.py): `/healthz`;
- `page_sessions` (hub/page_sessions.py): page sessions ended by a logout, on every hub;
- `notifier` (hub/notify_outbox.py, notify.py): the phones and mailboxes.

A ticker wakes a few times a second and does what depends on time passing: escalate unanswered
alerts, mark silent desks offline, ask interview checks, notice on-call changes. A test starts
the hub without it (`start(ticker=False)`), moves a `ManualClock` and calls `tick()` itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from deskalert.errors import StoreUnavailable
from deskalert.hub import roster_swap
from deskalert.hub.alert_rate import AlertRate
from deskalert.hub.alerts import Alerts
from deskalert.hub.availability import Availability
from deskalert.hub.broadcasts import Broadcasts
from deskalert.hub.broker import Broker
from deskalert.hub.clock import Clock, SystemClock
from deskalert.hub.cluster import Cluster, Solo
from deskalert.hub.health import HubHealth, Role
from deskalert.hub.interview import InterviewKeeper
from deskalert.hub.lease import LeadLost, Lease, leader_writes
from deskalert.hub.notes import Notes
from deskalert.hub.notify_outbox import Notifier
from deskalert.hub.oncall_board import OnCallBoard
from deskalert.hub.one_roster import RosterOutOfStep
from deskalert.hub.page_sessions import RevokedSessions
from deskalert.hub.presence import PresenceTracker
from deskalert.hub.roster import Roster
from deskalert.hub.runtime import Runtime
from deskalert.hub.settings import HubConfig
from deskalert.hub.store import Store
from deskalert.hub.stream import Stream
from deskalert.models import Event, EventType

log = logging.getLogger("deskalert.hub")
PURGE_EVERY = timedelta(hours=1)
ROSTER_CHECK = timedelta(seconds=5)
TOKENS_UNREAD = "(not read yet)"  # no meta value looks like this (store/tokens.py)


class Hub:
    """The shared endpoint's state and rules, independent of HTTP: its components."""

    def __init__(
        self,
        config: HubConfig,
        store: Store,
        clock: Clock | None = None,
        hub_id: str | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.broker = Broker()
        self.roster = Roster(config, self.clock)
        self.availability = Availability(config, lambda site: self.oncall.card(site), self.clock)
        self.runtime = Runtime(store, self.clock, self.broker, self.availability)
        self.oncall = OnCallBoard(config, self.runtime, self.roster, store.overrides())
        self.calendars = self.oncall.calendars
        self.alerts = Alerts(config, self.runtime, self.roster, self.oncall)
        self.notes = Notes(config, self.runtime, self.roster, self.alerts)
        self.presence = PresenceTracker(config, self.runtime, self.roster, self.availability)
        self.interview = InterviewKeeper(config, self.runtime, self.roster, self.oncall)
        self.broadcasts = Broadcasts(
            config, store, self.runtime.db, self.runtime.publish, self.clock.now
        )
        self.stream = Stream(
            config, self.runtime, self.roster, self.broker, self.availability, self.presence.seen
        )
        self.notifier = Notifier(config, store, self.runtime.db, self.runtime.publish, self.clock)
        self.health = HubHealth(
            self.runtime, self._role, self.notifier.backlog, lambda: self.out_of_step
        )
        self.page_sessions = RevokedSessions(self.runtime)
        # A desk's new alerts, counted once across the hubs of a database (the tail follows).
        self.alert_rate = AlertRate(
            config.hub.alert_burst, config.hub.alerts_per_minute, self.clock, store.shared
        )
        # The notification outbox is planned inside each event's transaction (hub/notify.py).
        store.set_event_hook(self.notifier.planner.on_event)
        # Several hubs on PostgreSQL: events reach the broker through the event table, one hub
        # leads the timers (hub/cluster.py); one hub on SQLite: it leads and publishes alone.
        # This process among the hubs of a shared store.
        self.hub_id = hub_id or secrets.token_hex(6)
        self.cluster: Solo | Cluster = (
            Cluster(store.url, self._on_tailed, self.broker.end_all, self.hub_id)
            if store.shared and store.url
            else Solo()
        )
        self.leading = False
        # A reload: the listeners get the new config (hub/metrics.py: new series at 0); a
        # roster another hub made the database's is handed to `on_roster_moved` (hub/reload.py
        # reads this hub's file again); `out_of_step` says why this hub refuses (503).
        self.reloaded: list[Callable[[HubConfig], None]] = [self.broadcasts.reindex]
        self.on_roster_moved: Callable[[str], None] = self._moved_without_file
        self.out_of_step: str | None = None
        self._roster_checked_at: datetime | None = None
        self._tokens_version: str | None = TOKENS_UNREAD  # read at start, whatever it is
        hub = config.hub
        self.tick_s = max(0.05, min(0.5, hub.heartbeat_s / 4, hub.ack_timeout_s / 4))
        self._ticker: asyncio.Task[None] | None = None
        self._next_purge: datetime | None = None

    def _role(self) -> Role:
        if not self.store.shared:
            return "solo"
        return "leader" if self.lease() is not None else "follower"

    def lease(self) -> Lease | None:
        """The lease this hub may act as the leader under now (several hubs); None if it
        does not lead, or its lease is over here (hub/lease.py)."""
        return self.cluster.lease() if self.leading else None

    # -- life ---------------------------------------------------------------------------

    async def start(self, ticker: bool = True) -> None:
        """Start every component; with `ticker` False, time passes only by `tick()`."""
        self.runtime.start()
        db = self.runtime.db
        await self.follow_tokens()
        await db(self.store.ensure_desks, self.presence.desk_ids)
        self.presence.resume(await db(self.store.presence_rows), self.clock.now())
        await self.calendars.start()
        self.oncall.start()
        await self.cluster.start(await db(self.store.last_event_id))
        if ticker:
            self._ticker = asyncio.create_task(self._tick_forever(), name="deskalert-ticker")
        await self.notifier.start()

    # -- the roster, reloaded (hub/reload.py reads the file, hub/roster_swap.py swaps it) ---

    async def reload(self, config: HubConfig, expected: str | None = None) -> str:
        """`config`'s roster in force from now; `expected`: the fingerprint another hub made
        the database's, which this one follows. The one line that says what changed."""
        return await roster_swap.swap(self, config, expected)

    def check_in_step(self) -> None:
        """Every authenticated request: a hub whose roster is not its database's refuses."""
        if self.out_of_step is not None:
            raise RosterOutOfStep(self.out_of_step)

    def go_out_of_step(self, line: str) -> None:
        """This hub's hub.toml is not the roster the others serve: 503 on every request but
        /healthz (which says why), and its streams end so that their clients go elsewhere."""
        if self.out_of_step is None:
            log.error("%s", line)
        self.out_of_step = line
        self.broker.end_all()

    def _moved_without_file(self, fingerprint: str) -> None:
        self.go_out_of_step(
            f"another hub reloaded the roster ({fingerprint}) and this hub has"
            " no hub.toml to read again: it answers 503 until restarted"
        )

    async def follow_tokens(self) -> None:
        """Tokens revoked or rotated in the store (`deskalert hub token`), read when its
        version moved (at start and every tick): the streams of those whose token changed
        end, and their reconnection says 401 (or goes on with the new token)."""
        version = await self.runtime.db(self.store.tokens_version)
        if version == self._tokens_version:
            return
        overlay = await self.runtime.db(self.store.token_overlay)
        self._tokens_version = version
        changed = self.roster.take_overlay(overlay)
        if changed:
            log.info("tokens changed in the database for %s", ", ".join(sorted(changed)))
            self.broker.end(changed)

    async def _check_roster(self, now: datetime) -> None:
        """Every ROSTER_CHECK: the database's roster against this hub's (a roster.changed
        event missed, or two hubs started at once with two files)."""
        if self._roster_checked_at is not None and now - self._roster_checked_at < ROSTER_CHECK:
            return
        self._roster_checked_at = now
        theirs = await self.runtime.db(self.store.read_meta, "roster")
        if theirs is not None and not self.roster.is_ours(theirs):
            self.on_roster_moved(theirs)

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        await self.notifier.stop()
        await self.calendars.stop()
        await self.cluster.stop()
        if self.store.shared:
            with contextlib.suppress(StoreUnavailable):
                await self.runtime.db(self.store.forget_streams, self.hub_id)
        await self.runtime.stop_checkpoints()
        await self.alerts.stop()  # the groups under way are committed and answered
        await self.presence.stop()
        self.runtime.close()

    def _on_tailed(
        self, events: list[Event], overrides: dict[str, tuple[str, datetime]] | None
    ) -> None:
        """On the loop, events committed by any hub on the shared store, in id order: what
        this hub keeps in memory follows them, then they go out."""
        if overrides is not None:
            self.oncall.follow_overrides(overrides)
        for event in events:
            self.presence.follow(event)
            self.alert_rate.follow(event)
            if event.type is EventType.ONCALL_CHANGED:
                self.oncall.follow(event.site)
            elif event.type is EventType.ROSTER_CHANGED and not self.roster.is_ours(
                event.data.get("fingerprint")
            ):
                self.on_roster_moved(str(event.data.get("fingerprint")))
            self.runtime.committed(event)
        if any(e.type.value.startswith("alert.") for e in events):
            self.notifier.wake()  # the leader sends what any hub's commit queued
        self.runtime.tailed(events[-1].id)

    # -- time passing ---------------------------------------------------------------------

    async def _tick_forever(self) -> None:
        """The first tick at once: a hub that answers has settled whether it leads (a roster
        reloaded in its first second is announced by a leader, not taken silently)."""
        while True:
            try:
                await self.tick()
            except StoreUnavailable:
                pass  # already logged; the next tick tries again
            except Exception:
                log.exception("hub ticker failed; it goes on")
            await asyncio.sleep(self.tick_s)

    async def tick(self, now: datetime | None = None) -> None:
        """What time passing does, at `now` (default: the clock's); only the leader (one hub
        of several) runs the timers, each write fenced by its lease (hub/lease.py)."""
        self.availability.flush()  # memory only: first, whatever the store does
        now = now or self.clock.now()
        # First, whatever the store does: the lease renewed, or the lead given up.
        leading = await self.cluster.is_leader()
        lease = self.cluster.lease()  # None from here on if it ran out meanwhile
        leading = leading and (lease is not None or not self.cluster.shared)
        self.notifier.lease = lease
        try:
            await self._tick(leading, lease, now)
        except LeadLost as exc:  # the lease ended under way: the next tick settles the lead
            log.warning("the leader's timers stop: %s", exc)

    async def _tick(self, leading: bool, lease: Lease | None, now: datetime) -> None:
        await self.follow_tokens()
        if leading != self.leading:
            with leader_writes(lease):
                await self._lead(leading, now)
        if self.store.shared:
            remote = await self.runtime.db(
                self.presence.share_live_state,
                self.availability.local_streams(),
                self.hub_id,
                self.tick_s,
                now,
            )
            self.availability.set_remote(remote)
            await self._check_roster(now)
        if not leading:
            await self.oncall.refresh(now, leading=False)
            return
        with leader_writes(lease):  # every write of the timers checks the lease (fencing)
            await self._run_timers(now)

    async def _run_timers(self, now: datetime) -> None:
        """The leader's timers, each tried whatever the others did: a write refused to one
        (an interview's) must not hold back another (an on-call change, an escalation). The
        first refusal is raised once all have been tried, for the ticker to log."""
        timers: list[Callable[[datetime], Awaitable[None]]] = [
            self.presence.mark_silent_offline,
            self.alerts.escalate_due,
            self.interview.tick,
            self.broadcasts.tick,
            partial(self.oncall.refresh, leading=True),
        ]
        if self._next_purge is None or now >= self._next_purge:
            self._next_purge = now + PURGE_EVERY
            timers.append(self.notes.purge_expired)
        refused: StoreUnavailable | None = None
        for timer in timers:
            try:
                await timer(now)
            except StoreUnavailable as exc:
                refused = refused or exc
        if refused is not None:
            raise refused

    async def _lead(self, leading: bool, now: datetime) -> None:
        """Taking the lead: desks online that nobody vouches for get the offline delay from
        now (heard by a hub now gone, maybe), and sends a gone leader left halfway are tried
        again; the notification worker runs on the leader only."""
        if leading and self.store.shared:
            await self.runtime.db(self.store.grace_online, now, now - self.presence.offline_after())
            self.presence.take(await self.runtime.db(self.store.presence_rows))
        await self.notifier.lead(leading)
        self.leading = leading  # only now: a step that failed is tried again at the next tick
