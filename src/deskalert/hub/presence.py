"""Presence: which desks are online, from their signs of life.

A desk is online from its first heartbeat (or stream opening) and offline once silent for
OFFLINE_AFTER_HEARTBEATS heartbeats (the ticker calls `mark_silent_offline`). Desks coming
online are committed in groups (hub/batcher.py: 5000 desks at opening time are a few commits,
not 5000 fsyncs). With several hubs on one database, each hub's heartbeats go to the presence
table every tick and the table comes back (`share_live_state`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from deskalert.errors import Forbidden
from deskalert.hub.availability import Availability, Scope
from deskalert.hub.batcher import Batcher
from deskalert.hub.roster import Roster
from deskalert.hub.runtime import Runtime
from deskalert.hub.settings import HubConfig, Principal
from deskalert.hub.store import Store
from deskalert.models import DeskPresence, Event, EventType, Presence, SiteAvailability

# Silent for this many heartbeats -> offline: 8.5 s with the default 5 s, so with the ticker the
# hub says desk.offline within 10 s (issue 6's target), and a heartbeat may still be 3.5 s late.
OFFLINE_AFTER_HEARTBEATS = 1.7
# A hub that wrote no line of its supervisors' streams for this long is gone: its streams are
# not counted ("encadrant joignable") any more; they reconnect to another hub meanwhile.
STREAMS_ALIVE_S = 3.0
PresenceRows = dict[str, tuple[bool, datetime | None]]


@dataclass
class DeskPresenceState:
    """What the hub knows of one desk's link: when it was last heard.

    An open stream is not proof of life: over a half-open TCP connection (a pulled cable, a
    frozen machine) the hub's keep-alives go into the kernel buffer for minutes. Only the
    desk's own heartbeats (and the opening of a stream) count.
    """

    last_seen: datetime | None = None
    online: bool = False


class PresenceTracker:
    """Each desk's last sign of life and online state; the events that announce changes."""

    def __init__(
        self, config: HubConfig, runtime: Runtime, roster: Roster, availability: Availability
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.roster = roster
        self.availability = availability
        self.clock = runtime.clock
        self._states = {d.id: DeskPresenceState() for d in config.desks}
        self._heard: dict[str, datetime] = {}  # heartbeats since the last tick (shared store)
        self._online = Batcher[str, Event | None](self._commit_online, "deskalert-online")

    @property
    def desk_ids(self) -> list[str]:
        return list(self._states)

    def reindex(self, config: HubConfig) -> set[str]:
        """A reloaded roster: new desks start unheard, removed ones are forgotten; the desks
        online now."""
        self._states = {d.id: self._states.get(d.id) or DeskPresenceState() for d in config.desks}
        return {desk_id for desk_id, state in self._states.items() if state.online}

    async def stop(self) -> None:
        await self._online.drain()

    def resume(self, rows: PresenceRows, now: datetime) -> None:
        """At start: desks online before the restart get 2 x heartbeat to come back (with
        several hubs, the rows' last_seen says more, and the next tick reads it)."""
        for desk_id, (online, _) in rows.items():
            if desk_id in self._states and online:
                self._states[desk_id] = DeskPresenceState(last_seen=now, online=True)
                self.availability.desk_online(desk_id, True)

    def follow(self, event: Event) -> None:
        """Another hub's desk.online / desk.offline, through the event table."""
        if event.type in (EventType.DESK_ONLINE, EventType.DESK_OFFLINE):
            state = self._states.get(str(event.data.get("id")))
            if state is not None:
                state.online = event.type is EventType.DESK_ONLINE

    # -- signs of life --------------------------------------------------------------------

    async def seen(self, principal: Principal) -> None:
        """A sign of life from a desk or supervisor (a heartbeat or an open stream)."""
        state = self._states.get(principal.id)
        if state is None:
            return
        state.last_seen = self.clock.now()
        if self.runtime.shared:
            self._heard[principal.id] = state.last_seen
        if not state.online:
            event = await self._online.submit(principal.id)
            if event is not None and self.runtime.shared:
                # Read your own write: the stream opening next gives numbers that count it.
                await self.runtime.until_tailed(event.id)

    async def mark_silent_offline(self, now: datetime) -> None:
        for desk_id, state in self._states.items():
            if state.online and self._silent(state, now):
                await self.runtime.db(self._store_offline, desk_id)

    def _silent(self, state: DeskPresenceState, now: datetime) -> bool:
        return state.last_seen is None or now - state.last_seen > self.offline_after()

    def offline_after(self) -> timedelta:
        return timedelta(seconds=OFFLINE_AFTER_HEARTBEATS * self.config.hub.heartbeat_s)

    def _store_offline(self, desk_id: str) -> Event | None:
        """On the store thread (so two calls never both emit desk.offline): the desk's new
        state is kept only once its event is committed. The store changes it only if it is
        online still (another hub may have written), and only if no hub heard it since."""
        state, now = self._states.get(desk_id), self.clock.now()
        if state is None or not state.online or not self._silent(state, now):
            return None  # another call got there first, or the desk spoke up meanwhile
        presence = self.desk_presence(desk_id).model_copy(update={"online": False})
        silent_before = now - self.offline_after() if self.runtime.shared else None
        event = self.runtime.store.set_presence(
            desk_id, False, now, silent_before, presence.model_dump(mode="json"), presence.site
        )
        if event is None:
            return None  # so already, or heard by another hub: the next tick reads the table
        state.online = False
        self.runtime.publish(event)
        return event

    # -- desks coming online, committed in groups -----------------------------------------

    async def _commit_online(self, desk_ids: list[str]) -> list[Event | Exception | None]:
        events = await self.runtime.db(self._store_online_group, desk_ids)
        return [events.get(d) for d in desk_ids]

    def _store_online_group(self, desk_ids: list[str]) -> dict[str, Event]:
        """On the store thread: the desks not yet online, in one commit; memory changes and
        events go out only after it. None for a desk online already (another request, or
        another hub, got there first)."""
        now = self.clock.now()
        states = self._states  # a reload may replace it meanwhile: removed desks are skipped
        todo = [
            d
            for d in dict.fromkeys(desk_ids)
            if d in states and d in self.roster.desks and not states[d].online
        ]
        if not todo:
            return {}
        rows = {d: self.desk_presence(d).model_copy(update={"online": True}) for d in todo}
        outcomes = self.runtime.store.write_group(
            [partial(_online_write, self.runtime.store, presence=rows[d], now=now) for d in todo]
        )
        events: dict[str, Event] = {}
        for desk_id, outcome in zip(todo, outcomes, strict=True):
            if isinstance(outcome, Exception):
                raise outcome
            if outcome is not None:
                states[desk_id].online = True
                self.runtime.publish(outcome)
                events[desk_id] = outcome
        return events

    # -- several hubs ---------------------------------------------------------------------

    def share_live_state(
        self, streams: dict[str, Any], hub_id: str, tick_s: float, now: datetime
    ) -> dict[str, set[Scope]]:
        """On the store thread, each tick, with a shared store: presence both ways, and the
        supervisors' streams both ways ({supervisor: scopes open on the other hubs})."""
        heard, self._heard = self._heard, {}
        alive_after = now - timedelta(seconds=max(STREAMS_ALIVE_S, 3 * tick_s))
        text = json.dumps(streams, separators=(",", ":"))
        presence, others = self.runtime.store.share_live_state(
            hub_id, heard, text, now, alive_after
        )
        self.take(presence)
        remote: dict[str, set[Scope]] = {}
        for line in others.values():
            for supervisor, scopes in json.loads(line).items():
                remote.setdefault(supervisor, set()).update(
                    frozenset(s) if s is not None else None for s in scopes
                )
        return remote

    def take(self, rows: PresenceRows) -> None:
        """The presence table (what every hub heard) into this hub's memory."""
        for desk_id, (online, last_seen) in rows.items():
            state = self._states.get(desk_id)
            if state is None:
                continue
            state.online = online
            if last_seen is not None and (state.last_seen is None or last_seen > state.last_seen):
                state.last_seen = last_seen

    # -- reads ----------------------------------------------------------------------------

    def desk_presence(self, desk_id: str) -> DeskPresence:
        desk, state = self.roster.desks[desk_id], self._states[desk_id]
        return DeskPresence(
            id=desk.id,
            label=desk.label,
            site=desk.site,
            location=desk.location,
            online=state.online,
            last_seen=state.last_seen,
        )

    def desks(self, principal: Principal, site: str | None) -> list[DeskPresence]:
        sites = self.roster.visible_sites(principal, site)
        return [
            self.desk_presence(d.id) for d in self.config.desks if sites is None or d.site in sites
        ]

    def view(self, principal: Principal, site: str | None) -> Presence:
        """Desks online or not, and the tokens refused lately (supervisors only)."""
        if not principal.is_supervisor:
            raise Forbidden("refused tokens are for supervisors; a desk reads /v1/desks")
        sites = self.roster.visible_sites(principal, site)
        return Presence(
            desks=self.desks(principal, site),
            refused_tokens=self.roster.refused_tokens(),
            refused_desks=self.roster.refused_desks(sites),
        )

    def availability_now(self, principal: Principal, site: str | None) -> list[SiteAvailability]:
        """Who can come now on each site the caller sees (a desk: its own site)."""
        sites = self.roster.visible_sites(principal, site)
        return [
            self.availability.now(s) for s in self.roster.site_ids if sites is None or s in sites
        ]


def _online_write(store: Store, db: Any, presence: DeskPresence, now: datetime) -> Event | None:
    """One desk of a group coming online, in the group's transaction (None: online already)."""
    return store.presence_in(
        db, presence.id, True, now, None, presence.model_dump(mode="json"), presence.site
    )
