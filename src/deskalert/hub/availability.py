"""Who can come now, per site: desks online, supervisors who can answer; sent live, debounced.

The numbers are kept incrementally, never by scanning: a desk's `desk.online`/`desk.offline`
moves its site's count by one, a supervisor's event stream opening or closing moves a counter of
theirs, an `oncall.changed` marks its site. A site whose numbers may have changed is marked
dirty; the hub's ticker calls `flush()`, which sends each dirty site's numbers at most once per
`DEBOUNCE_S`, and only if they differ from what was last sent. So 5000 desks coming online
cost 5000 counter moves and, per site, one event a second to the streams of that site.

`site.availability` is **live only**: not stored in the event log, no id of its own, sent only
to the streams that asked for it (`/v1/events?availability=1`), and to each of them once at
opening with the current numbers (`GET /v1/availability` gives the same). Why not stored: it is
a fact about now, not the history of an alert; a stored one would be replayed stale to every
desk that reconnects, would cost a durable commit (an fsync) per site and second at the start
of a day of 5000 desks, competing with the alerts themselves, and would sit in the log that the
debrief and the purge work on. A reconnecting desk loses nothing: the stream's opening carries
the current numbers.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from pydantic import PrivateAttr

from deskalert.hub.broker import Subscription
from deskalert.hub.clock import Clock
from deskalert.hub.settings import HubConfig, Principal
from deskalert.models import (
    AvailableSupervisor,
    Event,
    EventType,
    OnCall,
    SiteAvailability,
)

DEBOUNCE_S = 1.0
Scope = frozenset[str] | None  # the sites a stream follows; None: every site


class LiveEvent(Event):
    """A live-only event: encoded once as an SSE frame without `id:`, whoever it goes to."""

    _frame: bytes | None = PrivateAttr(default=None)

    def frame(self) -> bytes:
        if self._frame is None:
            data = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
            self._frame = f"event: {self.type.value}\ndata: {data}\n\n".encode()
        return self._frame


class Availability:
    """Per site: desks online (a counter), supervisors' open streams, the last numbers sent."""

    def __init__(
        self, config: HubConfig, oncall: Callable[[str], OnCall | None], clock: Clock
    ) -> None:
        self._labels = {s.id: s.label for s in config.sites}
        self._desk_site = {d.id: d.site for d in config.desks}
        self._desks = Counter(d.site for d in config.desks)
        self._supervisors = {s.id: s for s in config.supervisors}
        self._oncall = oncall
        self._clock = clock
        self._online: Counter[str] = Counter()
        self._streams: defaultdict[str, Counter[Scope]] = defaultdict(Counter)
        self._listeners: defaultdict[str | None, set[Subscription]] = defaultdict(set)
        self._dirty: set[str] = set()
        self._sent: dict[str, SiteAvailability] = {}
        self._sent_at: dict[str, float] = {}
        self._current: dict[str, LiveEvent] = {}  # the numbers now, encoded; dropped when dirty
        # Supervisors' streams open on the other hubs of a shared database (hub/service.py).
        self._remote: dict[str, set[Scope]] = {}

    def reindex(self, config: HubConfig, online: set[str]) -> None:
        """A reloaded roster: sites, desks and supervisors from `config`, the online count
        from the desks online now (`online`); every site's numbers are sent again."""
        self._labels = {s.id: s.label for s in config.sites}
        self._desk_site = {d.id: d.site for d in config.desks}
        self._desks = Counter(d.site for d in config.desks)
        self._supervisors = {s.id: s for s in config.supervisors}
        self._online = Counter(self._desk_site[d] for d in online if d in self._desk_site)
        self._current.clear()
        self._mark(list(self._labels))

    # -- what changes the numbers -------------------------------------------------------------

    def desk_online(self, desk_id: str, online: bool) -> None:
        site = self._desk_site.get(desk_id)
        if site is not None:
            self._online[site] += 1 if online else -1
            self._mark([site])

    def on_event(self, event: Event) -> None:
        """A committed event (on the hub's loop): presence moves a count, on-call marks a site."""
        if event.type in (EventType.DESK_ONLINE, EventType.DESK_OFFLINE):
            self.desk_online(str(event.data.get("id")), event.type is EventType.DESK_ONLINE)
        elif event.type is EventType.ONCALL_CHANGED and event.site is not None:
            self._mark([event.site])

    def stream_opened(self, principal: Principal, sites: set[str] | None) -> None:
        if principal.is_supervisor:
            scope = frozenset(sites) if sites is not None else None
            self._streams[principal.id][scope] += 1
            self._mark(self._sites_of(scope))

    def stream_closed(self, principal: Principal, sites: set[str] | None) -> None:
        if principal.is_supervisor:
            scope = frozenset(sites) if sites is not None else None
            scopes = self._streams[principal.id]
            scopes[scope] -= 1
            if scopes[scope] <= 0:
                del scopes[scope]
            if not scopes:
                del self._streams[principal.id]
            self._mark(self._sites_of(scope))

    def local_streams(self) -> dict[str, list[list[str] | None]]:
        """This hub's supervisors' stream scopes, for the other hubs (JSON-ready, sorted)."""
        return {
            sup: sorted(
                (sorted(s) if s is not None else None for s in scopes),
                key=lambda s: (s is not None, s or []),
            )
            for sup, scopes in sorted(self._streams.items())
            if scopes
        }

    def set_remote(self, remote: dict[str, set[Scope]]) -> None:
        """The supervisors' streams open on the other hubs; a change marks the sites."""
        if remote == self._remote:
            return
        changed = set(remote) ^ set(self._remote) | {
            s for s in remote.keys() & self._remote.keys() if remote[s] != self._remote[s]
        }
        scopes = set().union(*(remote.get(s, set()) | self._remote.get(s, set()) for s in changed))
        self._remote = remote
        for scope in scopes:
            self._mark(self._sites_of(scope))

    def _mark(self, sites: Iterable[str]) -> None:
        for site in sites:
            self._dirty.add(site)
            self._current.pop(site, None)

    def _sites_of(self, scope: Scope) -> Iterable[str]:
        return self._labels if scope is None else scope

    # -- who listens ------------------------------------------------------------------------

    def listen(self, sites: set[str] | None, subscription: Subscription) -> None:
        for key in sites if sites is not None else [None]:
            self._listeners[key].add(subscription)

    def unlisten(self, sites: set[str] | None, subscription: Subscription) -> None:
        for key in sites if sites is not None else [None]:
            self._listeners[key].discard(subscription)
            if not self._listeners[key]:
                del self._listeners[key]

    # -- the numbers ------------------------------------------------------------------------

    def now(self, site: str) -> SiteAvailability:
        """The site's numbers at this moment (O(supervisors), no scan of the desks)."""
        card = self._oncall(site)
        on_call = card.supervisor.id if card is not None and card.supervisor else None
        people = []
        for supervisor_id, config in self._supervisors.items():
            connected = any(
                scope is None or site in scope
                for scope in (
                    *self._streams.get(supervisor_id, ()),
                    *self._remote.get(supervisor_id, ()),
                )
            )
            if connected or supervisor_id == on_call:
                people.append(
                    AvailableSupervisor(
                        id=supervisor_id,
                        name=config.name,
                        phone=config.phone,
                        connected=connected,
                        on_call=supervisor_id == on_call,
                    )
                )
        people.sort(key=lambda p: (not p.on_call, not p.connected, p.name))
        return SiteAvailability(
            site=site,
            site_label=self._labels[site],
            desks_online=max(0, self._online[site]),
            desks=self._desks[site],
            supervisors=people,
            at=self._clock.now(),
        )

    def event(self, site: str) -> LiveEvent:
        """The site's numbers now as a live event (kept until they may have changed)."""
        event = self._current.get(site)
        if event is None:
            numbers = self.now(site)
            event = self._current[site] = LiveEvent(
                id=0,
                type=EventType.SITE_AVAILABILITY,
                at=numbers.at,
                site=site,
                data=numbers.model_dump(mode="json"),
            )
        return event

    def flush(self) -> list[SiteAvailability]:
        """Send each dirty site's numbers to its listeners, at most once per DEBOUNCE_S per
        site, and only when they changed; what was sent, for the log and tests."""
        sent, moment = [], self._clock.monotonic()
        for site in list(self._dirty):
            if moment - self._sent_at.get(site, -DEBOUNCE_S) < DEBOUNCE_S:
                continue  # sent less than a second ago: stays dirty until then
            self._dirty.discard(site)
            event = self.event(site)
            numbers = SiteAvailability.model_validate(event.data)
            if numbers.same_numbers(self._sent.get(site)):
                continue
            self._sent[site], self._sent_at[site] = numbers, moment
            self._fan_out(site, event)
            sent.append(numbers)
        return sent

    def _fan_out(self, site: str, event: LiveEvent) -> None:
        """To the streams of this site and those that follow every site: never all streams."""
        for subscription in (*self._listeners.get(site, ()), *self._listeners.get(None, ())):
            try:
                subscription.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscription.overflowed = True  # the stream ends; at reopening: numbers now
