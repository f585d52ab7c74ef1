"""A reloaded roster put in force in a running hub, without a restart or a dropped stream.

hub/reload.py reads and checks the file; here every component takes the new roster at once,
on the hub's loop: the shared HubConfig object's roster keys are replaced in place (every
component holds that object, so `config.codes`, `config.supervisors`... are the new ones), then
what each component indexed from them is made again. Streams of the desks and supervisors no
longer in the roster end (their reconnection is a 401, which their screen shows); every other
stream gets `roster.changed` (desks and panes read codes, desks and on-call again) and, from the
leading hub, the `oncall.changed` of each card that changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from deskalert.hub.availability import Availability
from deskalert.hub.broker import Broker
from deskalert.hub.calendar import CalendarBook
from deskalert.hub.clock import Clock
from deskalert.hub.lease import Lease, leader_writes
from deskalert.hub.notify_outbox import Notifier
from deskalert.hub.oncall_board import OnCallBoard
from deskalert.hub.one_roster import (
    RosterOutOfStep,
    describe_change,
    out_of_step,
    roster_fingerprint,
    same_roster,
    summary,
)
from deskalert.hub.presence import PresenceTracker
from deskalert.hub.reload import ROSTER_KEYS
from deskalert.hub.roster import Roster
from deskalert.hub.runtime import Runtime
from deskalert.hub.settings import HubConfig
from deskalert.hub.store import Store
from deskalert.models import EventType


class Hub(Protocol):
    """What a swap touches of the hub (hub/service.py), named here so that this module does
    not import the one that calls it."""

    config: HubConfig
    store: Store
    clock: Clock
    broker: Broker
    runtime: Runtime
    roster: Roster
    presence: PresenceTracker
    oncall: OnCallBoard
    calendars: CalendarBook
    availability: Availability
    notifier: Notifier
    reloaded: list[Callable[[HubConfig], None]]
    leading: bool
    out_of_step: str | None

    def lease(self) -> Lease | None: ...


async def swap(hub: Hub, config: HubConfig, expected: str | None = None) -> str:
    """Put `config`'s roster in force; the one line that says what changed. `expected`: the
    fingerprint another hub made the database's (this hub follows it): a file with another
    roster is refused (RosterOutOfStep) and changes nothing."""
    runtime, store, old = hub.runtime, hub.store, hub.config
    fingerprint = roster_fingerprint(config)
    if expected is not None and not same_roster(config, expected):
        stored = await runtime.db(store.read_meta, "roster_summary")
        raise RosterOutOfStep(out_of_step(config, expected, stored))
    if fingerprint == hub.roster.fingerprint and hub.out_of_step is None:
        return f"roster unchanged ({fingerprint})"
    said = describe_change(old, config)
    if expected is None:  # first: the other hubs follow this one (and a restart compares)
        await runtime.db(_make_it_the_database_roster, hub, config, fingerprint)
    calendars = None
    if (config.oncall_calendar, config.supervisors) != (old.oncall_calendar, old.supervisors):
        calendars = CalendarBook(config, store.path.parent, lambda: hub.oncall.now())
        await calendars.start()
    await runtime.db(store.ensure_desks, [d.id for d in config.desks])
    removed = {p.id for p in old.principals()} - {p.id for p in config.principals()}
    _take(hub, config, calendars)
    stale = hub.oncall.reindex(calendars)
    if stale is not None:
        hub.calendars = hub.oncall.calendars
        await stale.stop()
    hub.broker.end(removed)
    now = hub.clock.now()
    await runtime.db(_announce, hub, fingerprint, now)
    lease = hub.lease()  # one hub: it leads; several: the leader, fenced by its lease
    with leader_writes(lease):
        await hub.oncall.refresh(now, leading=lease is not None or not store.shared)
    hub.out_of_step = None
    return f"roster reloaded ({fingerprint}): {said}"


def _take(hub: Hub, config: HubConfig, calendars: CalendarBook | None) -> None:
    """On the loop, with no await: every component's view of the roster at once."""
    for key in ROSTER_KEYS:
        setattr(hub.config, key, getattr(config, key))
    hub.roster.reindex(hub.config)
    online = hub.presence.reindex(hub.config)
    hub.availability.reindex(hub.config, online)
    hub.notifier.planner.reindex(hub.config)
    for listener in hub.reloaded:
        listener(hub.config)


def _make_it_the_database_roster(hub: Hub, config: HubConfig, fingerprint: str) -> None:
    """On the store thread: this roster is the one every hub of the database must serve."""
    hub.store.swap_meta("roster_summary", json.dumps(summary(config)))
    hub.store.swap_meta("roster", fingerprint)


def _announce(hub: Hub, fingerprint: str, now: datetime) -> None:
    """On the store thread: `roster.changed`, published in commit order."""
    event = hub.store.append_event(
        EventType.ROSTER_CHANGED, now, None, {"fingerprint": fingerprint}
    )
    hub.runtime.publish(event)
