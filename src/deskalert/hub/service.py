"""The hub's behaviour: who may do what to an alert, escalation, presence, on-call.

Every read and write of the store runs on one dedicated thread, so the event loop never waits on
an fsync and writes are serialised without locks. Each committed event is handed to the broker
from that same thread, through `call_soon_threadsafe`, so live subscribers see events in exactly
the order of their ids. New alerts are committed in groups, one fsync for all those that arrived
while the previous group was on its way to disk (see "group commit" below).

A ticker wakes a few times a second and does what depends on time passing: escalate unanswered
alerts, mark silent desks offline, notice on-call changes (a slot starts, an override ends, a
calendar event starts or ends, a calendar file changes). Calendars are read and fetched by their
own background tasks (hub/calendar.py); the ticker only reads what they last expanded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from deskalert import __version__
from deskalert.errors import Conflict, Forbidden, NotFound, StoreUnavailable, Unprocessable
from deskalert.hub.availability import Availability
from deskalert.hub.broadcasts import Broadcasts
from deskalert.hub.broker import Broker, DirectWrite
from deskalert.hub.calendar import CalendarBook
from deskalert.hub.cluster import Cluster, Solo
from deskalert.hub.notify_outbox import Notifier
from deskalert.hub.oncall import compute_oncall
from deskalert.hub.refused import RefusedDesks, RefusedTokens
from deskalert.hub.sessions import SessionKeeper
from deskalert.hub.settings import HubConfig, Principal
from deskalert.hub.store import Store, decode_cursor
from deskalert.models import (
    LIVE_ONLY_EVENTS,
    Alert,
    AlertIn,
    AlertState,
    DeskPresence,
    Event,
    EventType,
    Health,
    Note,
    NoteIn,
    OnCall,
    Presence,
    PrincipalKind,
    Responder,
    SiteAvailability,
    StreamReset,
)

log = logging.getLogger("deskalert.hub")
T = TypeVar("T")
# Replays must not starve live traffic (24 streams from since=0 over 10,000 events held a live
# alert up to 0.8 s at p99): at most REPLAYS_AT_ONCE page read of REPLAY_PAGE events waits on
# the store's one thread at a time (an alert's write queues behind that one, not behind every
# stream's pages), and a stream hands the loop back every REPLAY_CHUNK events it writes.
# Pages of 500 left 84 ms at p50, of 100: 12 ms (bench/one_connection.py replay).
REPLAY_PAGE = 100
REPLAYS_AT_ONCE = 1
REPLAY_CHUNK = 50
PURGE_EVERY = timedelta(hours=1)
# Silent for this many heartbeats -> offline: 8.5 s with the default 5 s, so with the ticker the
# hub says desk.offline within 10 s (issue 6's target), and a heartbeat may still be 3.5 s late.
OFFLINE_AFTER_HEARTBEATS = 1.7
EVERYONE = "everyone"
CHECKPOINT_EVERY_S = 1.0
# A hub that wrote no line of its supervisors' streams for this long is gone: its streams are
# not counted ("encadrant joignable") any more; they reconnect to another hub meanwhile.
STREAMS_ALIVE_S = 3.0
PROBE_EVERY_S = 5.0
STORE_LOG_EVERY_S = 10.0  # /healthz writes one meta row at most this often
# What a desk sends that a resend of the same alert id must repeat (created_at as an instant).
RESEND_FIELDS = ("code", "message", "test", "created_at")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class DeskPresenceState:
    """What the hub knows of one desk's link: when it was last heard.

    An open stream is not proof of life: over a half-open TCP connection (a pulled cable, a
    frozen machine) the hub's keep-alives go into the kernel buffer for minutes. Only the
    desk's own heartbeats (and the opening of a stream) count.
    """

    last_seen: datetime | None = None
    online: bool = False


class Hub:
    """The shared endpoint's state and rules, independent of HTTP."""

    def __init__(self, config: HubConfig, store: Store) -> None:
        self.config = config
        self.store = store
        self.broker = Broker()
        self._principals = _principals_by_token_hash(config)
        self._refused = RefusedTokens()
        self._outside = RefusedDesks()
        self._sites = {s.id: s for s in config.sites}
        self._codes = {c.code: c for c in config.codes}
        self._desks = {d.id: d for d in config.desks}
        self._site_ids = [s.id for s in config.sites]
        self._presence = {d.id: DeskPresenceState() for d in config.desks}
        self._oncall: dict[str, OnCall] = {}
        self._overrides = store.overrides()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="deskalert-store")
        self._replaying = asyncio.Semaphore(REPLAYS_AT_ONCE)
        self._waiting: list[tuple[Alert, asyncio.Future[tuple[Alert, bool]]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._checkpoints = ThreadPoolExecutor(1, thread_name_prefix="deskalert-checkpoint")
        self._checkpointer: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._store_error: str | None = None
        self._store_logged_at: float | None = None
        self._store_failures = 0
        self._probed_at: float | None = None
        self.epoch = store.epoch
        hub = config.hub
        self._next_purge: datetime | None = None
        self.tick_s = max(0.05, min(0.5, hub.heartbeat_s / 4, hub.ack_timeout_s / 4))
        self.notifier = Notifier(config, store, self._db, self._publish)
        # The time on-call cards are computed for: tests set a clock here to move through a
        # calendar's events without waiting; events are still stamped with the real time.
        self.oncall_clock: Callable[[], datetime] = utcnow
        self.calendars = CalendarBook(config, store.path.parent, lambda: self.oncall_clock())
        self.sessions = SessionKeeper(self)  # the interview timer and "tout va bien ?" checks
        self.broadcasts = Broadcasts(config, store, self._db, self._publish)
        self.availability = Availability(config, lambda site: self._oncall.get(site), utcnow)
        # Several hubs on PostgreSQL: events reach the broker through the event table, one hub
        # leads the timers (hub/cluster.py); one hub on SQLite: it leads and publishes alone.
        self.cluster: Solo | Cluster = (
            Cluster(store.url, self._on_tailed, self.broker.end_all)  # type: ignore[attr-defined]
            if store.shared else Solo())
        self.leading = False
        self._heard: dict[str, datetime] = {}  # heartbeats since the last tick (shared store)
        self.hub_id = secrets.token_hex(6)  # this process among the hubs of a shared store
        self._coming_online: list[tuple[str, asyncio.Future[Event | None]]] = []
        self._online_committer: asyncio.Task[None] | None = None
        self._tailed_id = 0  # the last event the event table's reader handed on
        self._tail_waiters: list[tuple[int, asyncio.Future[None]]] = []

    # -- life ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        now = utcnow()
        await self._db(self.store.ensure_desks, list(self._presence))
        if self.store.shared:
            await self._compare_roster()
        for desk_id, (online, _) in (await self._db(self.store.presence_rows)).items():
            if desk_id in self._presence and online:
                # Online before the restart: give it 2 x heartbeat to come back (with several
                # hubs, the rows' last_seen says more, and the next tick reads it).
                self._presence[desk_id] = DeskPresenceState(last_seen=now, online=True)
                self.availability.desk_online(desk_id, True)
        await self.calendars.start()
        self._oncall = {site: self._compute_oncall(site) for site in self._site_ids}
        await self.cluster.start(await self._db(self.store.last_event_id))
        self._ticker = asyncio.create_task(self._tick_forever(), name="deskalert-ticker")
        if not self.store.shared:
            self._checkpointer = asyncio.create_task(self._checkpoint_forever(),
                                                     name="deskalert-checkpoint")
        await self.notifier.start()

    async def _compare_roster(self) -> None:
        """Every hub of one database must have the same roster: a hub with another hub.toml
        would lead escalations to people it does not know, or refuse desks the others admit.
        Not refused (hubs are restarted one by one when hub.toml changes): said loudly."""
        ours = roster_fingerprint(self.config)
        theirs = await self._db(self.store.swap_meta, "roster", ours)
        if theirs is not None and theirs != ours:
            log.warning("this hub's roster (sites, desks, supervisors, codes, on-call of"
                        " hub.toml) differs from the one the previous hub to start on this"
                        " database had: give every hub of one database the same hub.toml")

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        await self.notifier.stop()
        await self.calendars.stop()
        await self.cluster.stop()
        if self.store.shared:
            with contextlib.suppress(StoreUnavailable):
                await self._db(self.store.forget_streams, self.hub_id)
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            await asyncio.gather(self._checkpointer, return_exceptions=True)
        self._checkpoints.shutdown(wait=True)
        for committer in (self._committer, self._online_committer):
            if committer is not None:  # the groups under way are committed and answered
                await asyncio.gather(committer, return_exceptions=True)
        self._executor.shutdown(wait=True)
        self.store.close()

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._executor, fn, *args)
        except StoreUnavailable as exc:
            self._store_error = str(exc)
            self._log_store_error(exc)
            raise
        return result

    def _log_store_error(self, exc: StoreUnavailable) -> None:
        """The first failure at once, then one line per STORE_LOG_EVERY_S with a count: a
        database down for a minute is a few lines, not one per tick and request."""
        now = time.monotonic()
        self._store_failures += 1
        if self._store_logged_at is None or now - self._store_logged_at >= STORE_LOG_EVERY_S:
            log.error("%s (%d failed store call(s) since the last such line)", exc,
                      self._store_failures)
            self._store_logged_at, self._store_failures = now, 0

    def _publish(self, event: Event) -> None:
        """Called on the store thread right after the commit: keeps the commit order. With a
        shared store the event reaches the broker through the event table (`_on_tailed`)."""
        self._store_error = None  # a commit went through: the store is writable again
        _log_event(event)
        if self.store.shared:
            return
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._on_committed, event)  # one loop wake-up per event

    def _on_committed(self, event: Event) -> None:
        """On the hub's loop, in commit order: the fan-out, then who can come now."""
        self.broker.publish(event)
        self.availability.on_event(event)

    async def _until_tailed(self, event_id: int, timeout: float = 1.0) -> None:
        """Wait (a little) until the event table's reader has handed on `event_id`."""
        if self._tailed_id >= event_id:
            return
        assert self._loop is not None
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._tail_waiters.append((event_id, waiter))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiter), timeout)

    def _on_tailed(self, events: list[Event],
                   overrides: dict[str, tuple[str, datetime]] | None) -> None:
        """On the loop, events committed by any hub on the shared store, in id order: what
        this hub keeps in memory follows them, then they go out."""
        if overrides is not None:
            self._overrides = overrides
        for event in events:
            if event.type in (EventType.DESK_ONLINE, EventType.DESK_OFFLINE):
                state = self._presence.get(str(event.data.get("id")))
                if state is not None:
                    state.online = event.type is EventType.DESK_ONLINE
            elif event.type is EventType.ONCALL_CHANGED and event.site in self._sites:
                self._oncall[event.site] = self._compute_oncall(event.site)
            self._on_committed(event)
        if any(e.type.value.startswith("alert.") for e in events):
            self.notifier.wake()  # the leader sends what any hub's commit queued
        self._tailed_id = events[-1].id
        waiting, self._tail_waiters = self._tail_waiters, []
        for event_id, waiter in waiting:
            if event_id <= self._tailed_id:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                self._tail_waiters.append((event_id, waiter))

    # -- group commit of new alerts (the write path's machinery, apart from the rules) ------
    #
    # A new alert does not get a transaction and an fsync of its own: it joins the group of
    # alerts that arrived while the previous group was being committed, and the whole group is
    # one transaction and one fsync on the store thread (`Store.write_group`). Each desk still
    # gets its answer only after the commit that holds its alert, so a 201 still means "on
    # disk"; a group whose commit fails answers 503 to every request in it, none stored.

    async def _grouped(self, alert: Alert) -> tuple[Alert, bool]:
        assert self._loop is not None
        answer: asyncio.Future[tuple[Alert, bool]] = self._loop.create_future()
        self._waiting.append((alert, answer))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_groups(), name="deskalert-group")
        return await answer

    async def _commit_groups(self) -> None:
        """While alerts wait: take them all as one group, commit it, answer each of them."""
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                outcomes = await self._db(self._insert_group, [alert for alert, _ in group])
            except StoreUnavailable as exc:
                outcomes = [StoreUnavailable(exc.detail) for _ in group]
            except Exception as exc:  # noqa: BLE001 - each request answers it (500, logged)
                outcomes = [exc for _ in group]
            except asyncio.CancelledError:  # the hub stops: nobody is left to answer
                for _, answer in group + self._waiting:
                    answer.cancel()
                raise
            for (_, answer), outcome in zip(group, outcomes, strict=True):
                if answer.done():  # the request went away meanwhile; its alert is stored
                    continue
                if isinstance(outcome, BaseException):
                    answer.set_exception(outcome)
                else:
                    answer.set_result(outcome)

    def _insert_group(self, alerts: list[Alert]) -> list[tuple[Alert, bool] | Exception]:
        """On the store thread: one commit for the group, then its events, in id order."""
        outcomes = self.store.write_group([partial(self._insert_once, alert=a) for a in alerts])
        events = [o[1] for o in outcomes if not isinstance(o, Exception) and o[1] is not None]
        if events:
            self._store_error = None
            for event in events:
                _log_event(event)
            if not self.store.shared:
                assert self._loop is not None
                self._loop.call_soon_threadsafe(self.broker.publish_all, events)
        return [o if isinstance(o, Exception) else o[0] for o in outcomes]

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

    # -- who is calling -------------------------------------------------------------------

    def principal_for(self, token_sha256: str) -> Principal | None:
        return self._principals.get(token_sha256)

    def token_refused(self, token_sha256: str, address: str) -> None:
        """An unknown token from `address`: remembered and logged once a minute."""
        self._refused.refused(token_sha256, address, utcnow())

    def token_accepted(self, principal: Principal, address: str) -> None:
        self._refused.accepted(principal.id, address)

    def check_network(self, principal: Principal, address: str, request: str) -> None:
        """A desk token from outside its site's networks is refused (403), remembered and
        logged once a minute; a site that lists no networks admits any address."""
        if principal.is_supervisor or principal.site is None:
            return
        site = self._sites[principal.site]
        if site.admits(address):
            return
        self._outside.refused(principal.id, principal.name, site.id, address, request, utcnow())
        raise Forbidden(
            f"desk {principal.id} calls from {address}, outside the networks of site {site.id}"
            f" ({', '.join(site.networks)}): refused, and shown to supervisors",
            code="outside_site_network",
        )

    def visible_sites(self, principal: Principal, site: str | None) -> set[str] | None:
        """Sites the caller asks for and may see: a desk sees its own site only."""
        if site is not None and site not in self._site_ids:
            raise NotFound(f"unknown site {site!r}", code="unknown_site")
        if principal.is_supervisor:
            return {site} if site else None
        if site is not None and site != principal.site:
            raise Forbidden(f"desk {principal.id} sees only its own site {principal.site!r}")
        assert principal.site is not None
        return {principal.site}

    def _check_visible(self, principal: Principal, alert: Alert) -> None:
        if not principal.is_supervisor and alert.site != principal.site:
            raise Forbidden(f"alert {alert.id} belongs to another site")

    # -- alerts ---------------------------------------------------------------------------

    async def raise_alert(self, principal: Principal, body: AlertIn) -> tuple[Alert, bool]:
        """Store a new alert, or return the stored one if this id was seen: (alert, created)."""
        if principal.is_supervisor:
            raise Forbidden("only a desk raises an alert; a supervisor answers them")
        code = self._codes.get(body.code)
        if code is None:
            known = ", ".join(self._codes)
            raise Unprocessable(f"unknown code {body.code!r} (known: {known})", code="unknown_code")
        desk = self._desks[principal.id]
        now = utcnow()
        oncall = self._compute_oncall(desk.site)
        chain = [p.id for p in ([oncall.supervisor] if oncall.supervisor else []) + oncall.chain]
        alert = Alert(
            id=body.id,
            code=code.code,
            code_label=code.label,
            discreet=code.discreet,
            priority=code.priority,
            desk=desk.id,
            desk_label=desk.label,
            site=desk.site,
            location=desk.location,
            created_at=body.created_at,
            received_at=now,
            state=AlertState.OPEN,
            test=body.test,
            message=body.message,
            chain=chain,
            escalated_to=chain[0] if chain else EVERYONE,
            updated_at=now,
        )
        return await self._grouped(alert)

    def _insert_once(
        self, db: Any, alert: Alert
    ) -> tuple[tuple[Alert, bool], Event | None]:
        """In a group's transaction: ((alert, created), its event if stored now); a resent id
        answers the stored alert, or raises the refusal (another desk's id, another body)."""
        existing = self.store.alert_in(db, alert.id)
        if existing is not None:
            if existing.desk != alert.desk:
                raise Conflict(f"alert id {alert.id} is already used by another desk")
            differing = [name for name in RESEND_FIELDS
                         if getattr(existing, name) != getattr(alert, name)]
            if differing:
                raise AlertIdReused(existing, differing)
            return (existing, False), None
        event = self.store.add_alert(db, alert, alert.received_at)
        if event is None:  # another hub stored this id meanwhile: answer as a resend
            return self._insert_once(db, alert)
        return (alert, True), event

    async def get_alert(self, principal: Principal, alert_id: UUID) -> Alert:
        alert = await self._db(self.store.get_alert, alert_id)
        if alert is None:
            raise NotFound(f"no alert {alert_id}")
        self._check_visible(principal, alert)
        return alert

    async def alert_history(self, principal: Principal, alert_id: UUID) -> list[Event]:
        await self.get_alert(principal, alert_id)
        return await self._db(self.store.events_about, str(alert_id))

    async def share_note(self, principal: Principal, alert_id: UUID, body: NoteIn) -> tuple[Note, bool]:
        """The raising desk or a supervisor shares a finished incident note for the debrief."""
        alert = await self.get_alert(principal, alert_id)
        if not principal.is_supervisor and alert.desk != principal.id:
            raise Forbidden("only the desk that raised the alert or a supervisor writes its note")
        note = Note(**body.model_dump(), alert_id=alert.id, author=principal.id,
                    author_kind=principal.kind, desk=alert.desk, site=alert.site,
                    shared_at=utcnow())
        return note, await self._db(self.store.save_note, note)

    async def notes(self, principal: Principal, *, alert_id: UUID | None = None,
                    since: datetime | None = None, until: datetime | None = None,
                    limit: int = -1, cursor: str | None = None) -> tuple[list[Note], str | None]:
        """Supervisors read every note of their sites; a desk reads only the notes it wrote.
        A page of `limit` (-1: all) after `cursor`, and the cursor of the next page."""
        if alert_id is not None:
            await self.get_alert(principal, alert_id)
        author = None if principal.is_supervisor else principal.id
        sites = self.visible_sites(principal, None)
        after = decode_cursor(cursor, 3) if cursor is not None else None
        return await self._db(partial(self.store.list_notes, alert_id=alert_id, author=author,
                                      sites=sites, since=since, until=until, limit=limit,
                                      after=after))

    async def purge_expired(self, now: datetime) -> None:
        """Personal data is kept no longer than `retention_days`."""
        before = now - timedelta(days=self.config.hub.retention_days)
        alerts, notes, events = await self._db(self.store.purge, before)
        if alerts or notes or events:
            log.info("retention: purged %d alerts, %d notes, %d events older than %s",
                     alerts, notes, events, before.date())

    async def list_alerts(
        self,
        principal: Principal,
        *,
        open_only: bool,
        site: str | None,
        since: datetime | None,
        limit: int,
        cursor: str | None = None,
    ) -> tuple[list[Alert], str | None]:
        """A page of alerts, newest first, after `cursor`, and the cursor of the next page."""
        sites = self.visible_sites(principal, site)
        one_site = next(iter(sites)) if sites else None
        after = decode_cursor(cursor, 2) if cursor is not None else None
        return await self._db(
            partial(self.store.list_alerts, open_only=open_only, site=one_site, since=since,
                    limit=limit, after=after)
        )

    async def acknowledge(self, principal: Principal, alert_id: UUID) -> Alert:
        def change(alert: Alert) -> tuple[Alert, EventType] | None:
            self._check_visible(principal, alert)
            if alert.desk == principal.id:
                raise Forbidden("the desk that raised an alert cannot answer it itself")
            _refuse_if_closed(alert, "answer")
            if any(r.id == principal.id for r in alert.responders):
                return None
            now = utcnow()
            responder = Responder(
                id=principal.id, kind=principal.kind, name=principal.name, at=now
            )
            return alert.model_copy(update={
                "state": AlertState.ACKNOWLEDGED,
                "responders": [*alert.responders, responder],
                "updated_at": now,
            }), EventType.ALERT_ACKNOWLEDGED

        return await self._update(alert_id, change)

    async def resolve(self, principal: Principal, alert_id: UUID, summary: str | None) -> Alert:
        def change(alert: Alert) -> tuple[Alert, EventType]:
            self._check_visible(principal, alert)
            if not principal.is_supervisor and alert.desk != principal.id:
                raise Forbidden("only a supervisor or the desk that raised it resolves an alert")
            _refuse_if_closed(alert, "resolve")
            return _closed(alert, AlertState.RESOLVED, principal, summary), EventType.ALERT_RESOLVED

        return await self._update(alert_id, change)

    async def cancel(self, principal: Principal, alert_id: UUID, reason: str | None) -> Alert:
        window = self.config.hub.cancel_window_s

        def change(alert: Alert) -> tuple[Alert, EventType]:
            self._check_visible(principal, alert)
            if not principal.is_supervisor and alert.desk != principal.id:
                raise Forbidden("only a supervisor or the desk that raised it cancels an alert")
            _refuse_if_closed(alert, "cancel")
            if not principal.is_supervisor:
                elapsed = (utcnow() - alert.received_at).total_seconds()
                if elapsed > window:
                    raise Forbidden(
                        f"the {window:g} s cancel window is over ({elapsed:.0f} s since the alert);"
                        " only a supervisor can close it now",
                        code="cancel_window_over",
                    )
            cancelled = _closed(alert, AlertState.CANCELLED, principal, reason)
            return cancelled.model_copy(update={"false_alarm": True}), EventType.ALERT_CANCELLED

        return await self._update(alert_id, change)

    async def _update(
        self, alert_id: UUID, change: Callable[[Alert], tuple[Alert, EventType] | None]
    ) -> Alert:
        def run() -> Alert:
            try:
                alert, event = self.store.update_alert(alert_id, change)
            except KeyError:
                raise NotFound(f"no alert {alert_id}") from None
            if event is not None:
                self._publish(event)
            return alert

        return await self._db(run)

    # -- escalation -----------------------------------------------------------------------

    async def _escalate_due(self, now: datetime) -> None:
        """One level at a time, each `ack_timeout_s` after the previous one, from what the store
        says (level and time of the last escalation): a hub back from a long stop resumes the
        chain in order, it does not skip to everyone."""
        timeout = timedelta(seconds=self.config.hub.ack_timeout_s)
        # Due means escalated (or else received) at least `timeout` ago, so received before
        # now - timeout: the younger ones are not read at all.
        for alert in await self._db(self.store.unanswered_alerts, now - timeout):
            last = alert.escalated_at or alert.received_at
            if alert.escalation_level < len(alert.chain) and now - last >= timeout:
                await self._update(alert.id, _escalation(alert.escalation_level + 1, now))

    # -- presence -------------------------------------------------------------------------

    async def seen(self, principal: Principal) -> None:
        """A sign of life from a desk or supervisor (a heartbeat or an open stream)."""
        state = self._presence.get(principal.id)
        if state is None:
            return
        state.last_seen = utcnow()
        if self.store.shared:
            self._heard[principal.id] = state.last_seen
        if not state.online:
            event = await self._online_grouped(principal.id)
            if event is not None and self.store.shared:
                # Read your own write: the stream opening next gives numbers that count it.
                await self._until_tailed(event.id)

    async def _mark_silent_offline(self, now: datetime) -> None:
        for desk_id, state in self._presence.items():
            if state.online and self._silent(state, now):
                await self._db(self._store_presence, desk_id, False)

    def _silent(self, state: DeskPresenceState, now: datetime) -> bool:
        return state.last_seen is None or now - state.last_seen > self._offline_after()

    def _store_presence(self, desk_id: str, online: bool) -> Event | None:
        """On the store thread (so two heartbeats never both emit desk.online): the desk's new
        state is kept only once its event is committed. The store changes it only if it is not
        so already (another hub may have), and a desk goes offline only if no hub heard it."""
        state, now = self._presence[desk_id], utcnow()
        if state.online == online or (not online and not self._silent(state, now)):
            return None  # another call got there first, or the desk spoke up meanwhile
        presence = self.desk_presence(desk_id).model_copy(update={"online": online})
        silent_before = now - self._offline_after() if self.store.shared else None
        event = self.store.set_presence(desk_id, online, now, silent_before,
                                        presence.model_dump(mode="json"), presence.site)
        if event is None:
            return None  # so already, or heard by another hub: the next tick reads the table
        state.online = online
        self._publish(event)
        return event

    def _share_live_state(self, heard: dict[str, datetime], streams: str,
                          now: datetime) -> dict[str, set[frozenset[str] | None]]:
        """On the store thread, each tick, with a shared store: presence both ways, and the
        supervisors' streams both ways ({supervisor: scopes open on the other hubs})."""
        alive_after = now - timedelta(seconds=max(STREAMS_ALIVE_S, 3 * self.tick_s))
        presence, others = self.store.share_live_state(self.hub_id, heard, streams, now,
                                                       alive_after)
        self._take_presence(presence)
        remote: dict[str, set[frozenset[str] | None]] = {}
        for text in others.values():
            for supervisor, scopes in json.loads(text).items():
                remote.setdefault(supervisor, set()).update(
                    frozenset(s) if s is not None else None for s in scopes)
        return remote

    # -- desks coming online, committed in groups (5000 desks at opening time: a few commits,
    # not 5000 fsyncs; the same machinery as the alerts' group commit, without the refusals).

    async def _online_grouped(self, desk_id: str) -> Event | None:
        """The desk's desk.online once committed with the others arriving meanwhile; None if
        it was online already (another request, or another hub, got there first)."""
        assert self._loop is not None
        answer: asyncio.Future[Event | None] = self._loop.create_future()
        self._coming_online.append((desk_id, answer))
        if self._online_committer is None or self._online_committer.done():
            self._online_committer = asyncio.create_task(self._commit_online(),
                                                         name="deskalert-online")
        return await answer

    async def _commit_online(self) -> None:
        while self._coming_online:
            group, self._coming_online = self._coming_online, []
            try:
                events = await self._db(self._store_online_group, [d for d, _ in group])
            except asyncio.CancelledError:
                for _, answer in group + self._coming_online:
                    answer.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - each request answers it (503 or 500)
                for _, answer in group:
                    if not answer.done():
                        answer.set_exception(exc)
                continue
            for desk_id, answer in group:
                if not answer.done():
                    answer.set_result(events.get(desk_id))

    def _store_online_group(self, desk_ids: list[str]) -> dict[str, Event]:
        """On the store thread: the desks not yet online, in one commit; memory changes and
        events go out only after it."""
        now = utcnow()
        todo = [d for d in dict.fromkeys(desk_ids) if not self._presence[d].online]
        if not todo:
            return {}
        outcomes = self.store.write_group([partial(self._online_write, desk_id=d, now=now)
                                           for d in todo])
        events: dict[str, Event] = {}
        for desk_id, outcome in zip(todo, outcomes, strict=True):
            if isinstance(outcome, Exception):
                raise outcome
            if outcome is not None:
                self._presence[desk_id].online = True
                self._publish(outcome)
                events[desk_id] = outcome
        return events

    def _online_write(self, db: Any, desk_id: str, now: datetime) -> Event | None:
        presence = self.desk_presence(desk_id).model_copy(update={"online": True})
        return self.store.presence_in(db, desk_id, True, now, None,
                                      presence.model_dump(mode="json"), presence.site)

    def _offline_after(self) -> timedelta:
        return timedelta(seconds=OFFLINE_AFTER_HEARTBEATS * self.config.hub.heartbeat_s)

    def _take_presence(self, rows: dict[str, tuple[bool, datetime | None]]) -> None:
        """The presence table (what every hub heard) into this hub's memory."""
        for desk_id, (online, last_seen) in rows.items():
            state = self._presence.get(desk_id)
            if state is None:
                continue
            state.online = online
            if last_seen is not None and (state.last_seen is None or last_seen > state.last_seen):
                state.last_seen = last_seen

    def desk_presence(self, desk_id: str) -> DeskPresence:
        desk, state = self._desks[desk_id], self._presence[desk_id]
        return DeskPresence(
            id=desk.id,
            label=desk.label,
            site=desk.site,
            location=desk.location,
            online=state.online,
            last_seen=state.last_seen,
        )

    def desks(self, principal: Principal, site: str | None) -> list[DeskPresence]:
        sites = self.visible_sites(principal, site)
        return [
            self.desk_presence(d.id) for d in self.config.desks if sites is None or d.site in sites
        ]

    def presence(self, principal: Principal, site: str | None) -> Presence:
        """Desks online or not, and the tokens refused lately (supervisors only)."""
        if not principal.is_supervisor:
            raise Forbidden("refused tokens are for supervisors; a desk reads /v1/desks")
        sites = self.visible_sites(principal, site)
        return Presence(desks=self.desks(principal, site),
                        refused_tokens=self._refused.recent(utcnow()),
                        refused_desks=self._outside.recent(utcnow(), sites))

    def availability_now(self, principal: Principal, site: str | None) -> list[SiteAvailability]:
        """Who can come now on each site the caller sees (a desk: its own site)."""
        sites = self.visible_sites(principal, site)
        return [self.availability.now(s) for s in self._site_ids if sites is None or s in sites]

    # -- on-call --------------------------------------------------------------------------

    def _compute_oncall(
        self, site: str, overrides: dict[str, tuple[str, datetime]] | None = None
    ) -> OnCall:
        """The card of `site` now (by `oncall_clock`): override, calendar, weekly slots."""
        now = self.oncall_clock()
        override = (self._overrides if overrides is None else overrides).get(site)
        return compute_oncall(self.config, site, now, override, self.calendars.answer(site, now))

    def oncall(self, principal: Principal, site: str | None) -> list[OnCall]:
        sites = self.visible_sites(principal, site)
        return [self._compute_oncall(s) for s in self._site_ids if sites is None or s in sites]

    async def override(self, principal: Principal, site: str, until: datetime | None) -> OnCall:
        """A supervisor takes the shift of `site` until `until`; None hands it back."""
        if not principal.is_supervisor:
            raise Forbidden("only a supervisor takes or hands back an on-call shift")
        self.visible_sites(principal, site)
        now = utcnow()
        if until is not None:
            if until <= now:
                raise Unprocessable("until must be in the future", code="invalid_until")
            if until - now > timedelta(days=7):
                raise Unprocessable("an override lasts at most 7 days", code="invalid_until")
        taken = (principal.id, until.astimezone(UTC)) if until is not None else None
        await self._db(self._store_override, site, taken, now)
        return self._oncall[site]

    def _store_override(self, site: str, taken: tuple[str, datetime] | None, now: datetime) -> None:
        """On the store thread: the override and its oncall.changed event in one commit, and
        the hub's own view of them changed only after it."""
        overrides = {k: v for k, v in self._overrides.items() if k != site}
        if taken is not None:
            overrides[site] = taken
        current = self._compute_oncall(site, overrides)
        changed = current != self._oncall.get(site)
        supervisor, until = taken if taken is not None else (None, None)
        event = self.store.set_override(site, supervisor, until, now,
                                        current.model_dump(mode="json") if changed else None)
        self._overrides, self._oncall[site] = overrides, current
        if event is not None:
            self._publish(event)

    async def _refresh_oncall(self, now: datetime) -> None:
        for site in self._site_ids:
            if self._compute_oncall(site) != self._oncall.get(site):
                if self.leading:
                    await self._db(self._store_oncall, site, now)
                else:  # the leader announces it; this hub's card follows the clock alone
                    self._oncall[site] = self._compute_oncall(site)

    def _store_oncall(self, site: str, now: datetime) -> None:
        """On the store thread: emit oncall.changed, and take the new card only once stored."""
        current = self._compute_oncall(site)
        if current == self._oncall.get(site):
            return  # an override stored meanwhile already announced it
        event = self.store.append_event(EventType.ONCALL_CHANGED, now, site,
                                        current.model_dump(mode="json"))
        self._oncall[site] = current
        self._publish(event)

    # -- the stream -----------------------------------------------------------------------

    async def follow(
        self, principal: Principal, sites: set[str] | None, last_id: int,
        availability: bool = False, write: DirectWrite | None = None,
    ) -> AsyncIterator[Event | None]:
        """Events after `last_id` from the store, then live ones; None means "keep-alive now".

        With `availability`, the sites' numbers now after the replay, then each change (live
        only: `LiveEvent`s, which carry no id of their own). With `write` (the stream's
        connection), live events that find the stream idle are written by the broker directly
        and never come out of here (see `broker`)."""
        subscription = self.broker.subscribe(
            sites, None if principal.is_supervisor else principal.id, write
        )
        subscription.last_id = last_id
        self.availability.stream_opened(principal, sites)
        try:
            await self.seen(principal)
            while True:
                async with self._replaying:
                    page = await self._db(
                        self.store.events_after, last_id, sites, REPLAY_PAGE, subscription.desk_id
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
                opening = [self.availability.event(site) for site in self._site_ids
                           if sites is None or site in sites]
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

    # -- health ---------------------------------------------------------------------------

    async def health(self) -> Health:
        store_state = await self._db(self.store.check)
        if store_state == "ok":
            store_state = await self._write_state()
        try:
            last_id = await self._db(self.store.last_event_id)
            open_count = await self._db(self.store.open_alert_count)
            backlog = await self.notifier.backlog()
        except StoreUnavailable as exc:  # the database is gone: a 503 that says why
            store_state, last_id, open_count, backlog = f"error: {exc.detail}", None, None, []
        if self.store.shared and store_state != "ok":  # no token here: no host, no user
            store_state = "error: the database cannot be read or written (the hub's log says why)"
        return Health(
            status="ok" if store_state == "ok" else "degraded",
            store=store_state,
            epoch=self.epoch,
            last_event_id=last_id,
            open_alerts=open_count,
            version=__version__,
            role="solo" if not self.store.shared else "leader" if self.leading else "follower",
            notify=backlog,
        )

    async def _write_state(self) -> str:
        """'ok' unless the last write failed; probes with a real write at most every
        PROBE_EVERY_S, so a full or read-only disk shows without waiting for an alert, and a
        repaired one recovers by itself."""
        now = time.monotonic()
        if self._probed_at is None or now - self._probed_at >= PROBE_EVERY_S:
            self._probed_at = now
            with contextlib.suppress(StoreUnavailable):  # _db keeps and logs the reason
                await self._db(self.store.probe_write)
                self._store_error = None
        return f"error: {self._store_error}" if self._store_error else "ok"

    async def last_event_id(self) -> int:
        """The last event's id: where a stream opened without an id starts (from now)."""
        return await self._db(self.store.last_event_id)

    async def stream_reset(self, epoch: str | None, last_id: int) -> StreamReset | None:
        """None if a stream can replay after (`epoch`, `last_id`); else the reset that tells
        the client to start over from a snapshot: its id is from another event log (a restored
        backup), or above the last id stored (a restore by plain copy)."""
        hub_last = await self._db(self.store.last_event_id)
        if epoch is not None and epoch != self.epoch:
            reason = f"event log {epoch} is not this hub's ({self.epoch}): restored from a backup?"
        elif last_id > hub_last:
            reason = f"event {last_id} is above this hub's last ({hub_last}): restored?"
        else:
            return None
        log.warning("stream reset: %s", reason)
        return StreamReset(epoch=self.epoch, last_event_id=hub_last, reason=reason)

    # -- time passing ---------------------------------------------------------------------

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                self.availability.flush()  # memory only: first, whatever the store does
                await self._tick(utcnow())
            except StoreUnavailable:
                pass  # already logged; the next tick tries again
            except Exception:
                log.exception("hub ticker failed; it goes on")

    async def _tick(self, now: datetime) -> None:
        """What time passing does; only the leader (one hub of several) runs the timers."""
        leading = await self.cluster.is_leader()  # first: a lost database ends the lead
        if leading != self.leading:
            await self._lead(leading, now)
        if self.store.shared:
            heard, self._heard = self._heard, {}
            streams = json.dumps(self.availability.local_streams(), separators=(",", ":"))
            remote = await self._db(self._share_live_state, heard, streams, now)
            self.availability.set_remote(remote)
        if not leading:
            await self._refresh_oncall(now)
            return
        await self._mark_silent_offline(now)
        await self._escalate_due(now)
        await self.sessions.tick(now)
        await self.broadcasts.tick(now)
        await self._refresh_oncall(now)
        if self._next_purge is None or now >= self._next_purge:
            self._next_purge = now + PURGE_EVERY
            await self.purge_expired(now)

    async def _lead(self, leading: bool, now: datetime) -> None:
        """Taking the lead: desks online that nobody vouches for get the offline delay from
        now (heard by a hub now gone, maybe), and sends a gone leader left halfway are tried
        again; the notification worker runs on the leader only."""
        if leading and self.store.shared:
            await self._db(self.store.grace_online, now, now - self._offline_after())
            self._take_presence(await self._db(self.store.presence_rows))
        await self.notifier.lead(leading)
        self.leading = leading  # only now: a step that failed is tried again at the next tick


class AlertIdReused(Conflict):
    """A resent alert id whose body differs from the stored alert's: a 409 carrying the stored
    alert. An identical resend is a retry (200); a different one is a bug or a forgery, and
    answering 200 would tell the desk that what it sent now was stored."""

    def __init__(self, stored: Alert, differing: list[str]) -> None:
        super().__init__(
            f"alert id {stored.id} is already stored with another {', '.join(differing)};"
            " a retry must resend the same body, a new alert needs a new id",
            code="alert_id_reused", state=stored.state.value,
        )
        self.alert = stored


def roster_fingerprint(config: HubConfig) -> str:
    """A hash of what every hub of one database must agree on (not tokens: hashes only)."""
    import hashlib

    shared = config.model_dump(mode="json", include={"sites", "desks", "supervisors", "codes",
                                                      "oncall", "broadcasts"})
    return hashlib.sha256(json.dumps(shared, sort_keys=True).encode()).hexdigest()[:16]


def _principals_by_token_hash(config: HubConfig) -> dict[str, Principal]:
    principals = {
        d.token_sha256: Principal(id=d.id, kind=PrincipalKind.DESK, name=d.label, site=d.site)
        for d in config.desks
    }
    principals.update({
        s.token_sha256: Principal(id=s.id, kind=PrincipalKind.SUPERVISOR, name=s.name)
        for s in config.supervisors
    })
    return principals


def _refuse_if_closed(alert: Alert, verb: str) -> None:
    if alert.state.is_closed:
        raise Conflict(
            f"cannot {verb}: the alert is already {alert.state.value}",
            code="invalid_transition",
            state=alert.state.value,
        )


def _closed(alert: Alert, state: AlertState, principal: Principal, summary: str | None) -> Alert:
    now = utcnow()
    return alert.model_copy(update={
        "state": state, "closed_at": now, "closed_by": principal.id, "summary": summary,
        "updated_at": now,
    })


def _escalation(level: int, now: datetime) -> Callable[[Alert], tuple[Alert, EventType] | None]:
    def change(alert: Alert) -> tuple[Alert, EventType] | None:
        if alert.state is not AlertState.OPEN or alert.escalation_level >= level:
            return None  # answered or closed in the meantime
        target = alert.chain[level] if level < len(alert.chain) else EVERYONE
        return alert.model_copy(update={
            "escalation_level": level, "escalated_to": target, "escalated_at": now,
            "updated_at": now,
        }), EventType.ALERT_ESCALATED

    return change


def _log_event(event: Event) -> None:
    data = event.data
    if event.type.value.startswith("alert."):
        drill = " [EXERCICE]" if data.get("test") else ""
        who = ", ".join(r["name"] for r in data.get("responders", [])) or "-"
        log.info(
            "event %d %s%s: alert %s code=%s desk=%s site=%s state=%s responders=%s level=%s to=%s",
            event.id, event.type.value, drill, data["id"], data["code"], data["desk"],
            data["site"], data["state"], who, data["escalation_level"], data["escalated_to"],
        )
    elif event.type.value.startswith("notify."):
        log.info("event %d %s: alert %s %s to=%s channel=%s attempt=%s%s", event.id,
                 event.type.value, data["id"], data["kind"], data["to"], data["channel"],
                 data["attempt"], f" reason={data['reason']}" if data.get("reason") else "")
    elif event.type.value.startswith(("session.", "check.")):
        log.info("event %d %s: %s desk=%s site=%s state=%s", event.id, event.type.value,
                 data["id"], data["desk"], event.site, data["state"])
    elif event.type.value.startswith("broadcast."):
        log.info("event %d %s: %s kind=%s site=%s state=%s read=%d/%d", event.id, event.type.value,
                 data["id"], data["kind"], event.site, data["state"], len(data["reads"]),
                 len(data["desks"]))
    elif event.type.value.startswith("desk."):
        log.info("event %d %s: desk=%s site=%s", event.id, event.type.value, data["id"], event.site)
    else:
        supervisor = (data.get("supervisor") or {}).get("name", "nobody")
        log.info(
            "event %d %s: site=%s on call=%s (%s)", event.id, event.type.value, event.site,
            supervisor, data.get("source"),
        )
