"""The alert chain seen from outside: `GET /metrics` in Prometheus' text format.

Where the numbers come from:
- counters, from the events the hub publishes (`Broker.observers`): an alert raised, escalated,
  answered ("j'arrive"), a notification sent or failed. Nothing is incremented in the hub's own
  code paths but the store's commit timer (`Store.on_commit`) and the refused-token totals.
- gauges, read at scrape time (`StateCollector`): desks online, who can answer, open streams,
  the outbox's backlog, unanswered alerts, the store's health, the lead.

Each hub has its own `CollectorRegistry` (never the process-wide one): tests run many hubs in
one process, and a hub's numbers must not leak into another's.

Labels: `site` and `code` are identifiers an administrator chose in hub.toml (`mairie-nord`,
`agression`), not personal data. No label carries a name, a phone number, a desk's message or a
notification URL: a channel is labelled by its kind only (`mailto`, `ntfy`, `tgram`), since the
rest of a URL may hold a token. Desk ids are roster identifiers too, but they are left out:
hundreds of desks times codes would be series nobody graphs; the pane names the desk.

Several hubs on one PostgreSQL database: every hub publishes every event of the database (the
event table's reader), so each hub's counters count the whole cluster's events since that hub
started. Aggregate them with `max`, not `sum` (deploy/prometheus/deskalert.rules.yml does).
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, Info, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from deskalert import __version__
from deskalert.errors import StoreUnavailable
from deskalert.hub.notify import all_channels
from deskalert.hub.settings import HubConfig
from deskalert.models import Alert, Event, EventType, NotifyBacklog

if TYPE_CHECKING:
    from deskalert.hub.service import Hub

# The time to the first "j'arrive": most are under a minute; past ten, the escalation said more.
RESPONSE_BUCKETS = (5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0)
# A write transaction: a fsync on a good disk is a few ms; a second is a store in trouble.
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
NOTIFY_COUNTERS = {
    EventType.NOTIFY_SENT: "sent",
    EventType.NOTIFY_FAILED: "failed",
    EventType.NOTIFY_GAVE_UP: "gave_up",
}


def channel_kind(shown: str) -> str:
    """The scheme of a channel as events show it (`mailto://host` -> `mailto`), nothing else."""
    scheme, sep, _ = shown.partition("://")
    if not sep or not scheme.replace("+", "").replace("-", "").replace(".", "").isalnum():
        return "unknown"
    return scheme.lower()


class EventCounters:
    """The counters and histograms fed by the hub's published events."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.raised = Counter(
            "deskalert_alerts_raised",
            "Alerts raised, drills included",
            ["site", "code"],
            registry=registry,
        )
        self.escalated = Counter(
            "deskalert_alerts_escalated",
            "Escalations of unanswered alerts, by level reached",
            ["site", "level"],
            registry=registry,
        )
        self.first_response = Histogram(
            "deskalert_alerts_first_response_seconds",
            'From an alert reaching the hub to its first "j\'arrive"',
            ["site"],
            buckets=RESPONSE_BUCKETS,
            registry=registry,
        )
        self.notifications = {
            outcome: Counter(
                f"deskalert_notifications_{outcome}",
                f"Notification attempts {outcome.replace('_', ' ')}, by channel kind",
                ["channel"],
                registry=registry,
            )
            for outcome in NOTIFY_COUNTERS.values()
        }

    def start_at_zero(self, config: HubConfig) -> None:
        """The series the roster tells of exist from the start, at 0: Prometheus' `increase()`
        then sees the first alert of a site, not only the second."""
        for site in config.sites:
            for code in config.codes:
                self.raised.labels(site=site.id, code=code.code)
        kinds = {channel_kind(channel.shown()) for channel in all_channels(config).values()}
        for counter in self.notifications.values():
            for kind in kinds:
                counter.labels(channel=kind)

    def on_event(self, event: Event) -> None:
        """A published event (called on the hub's loop, before the fan-out)."""
        kind = event.type
        if kind is EventType.ALERT_RAISED:
            self.raised.labels(site=event.site or "", code=str(event.data.get("code"))).inc()
        elif kind is EventType.ALERT_ESCALATED:
            level = str(event.data.get("escalation_level"))
            self.escalated.labels(site=event.site or "", level=level).inc()
        elif kind is EventType.ALERT_ACKNOWLEDGED:
            self._answered(event)
        elif kind in NOTIFY_COUNTERS:
            channel = channel_kind(str(event.data.get("channel", "")))
            self.notifications[NOTIFY_COUNTERS[kind]].labels(channel=channel).inc()

    def _answered(self, event: Event) -> None:
        responders = event.data.get("responders") or []
        if len(responders) != 1:  # the second "j'arrive" is not the first response
            return
        alert = Alert.model_validate(event.data)
        seconds = (alert.responders[0].at - alert.received_at).total_seconds()
        self.first_response.labels(site=alert.site).observe(max(0.0, seconds))


@dataclass
class Snapshot:
    """What the collector shows, read just before a scrape's text is made."""

    store_up: bool = True
    unanswered: Tally[str] = field(default_factory=Tally)
    backlog: list[NotifyBacklog] | None = None


class StateCollector(Collector):
    """Gauges of the hub's current state, read at scrape time."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.snapshot = Snapshot()

    async def refresh(self) -> None:
        """The numbers that need the store (read on the store's thread)."""
        snapshot = Snapshot()
        try:
            unanswered = await self.hub.runtime.db(self.hub.store.unanswered_alerts)
            snapshot.unanswered = Tally(alert.site for alert in unanswered)
            snapshot.backlog = await self.hub.notifier.backlog()
        except StoreUnavailable:
            snapshot.store_up = False
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        yield from self._sites()
        yield from self._hub()
        yield from self._refused()

    def _sites(self) -> Iterator[Metric]:
        families = {
            "online": GaugeMetricFamily("deskalert_desks_online", "Desks online", labels=["site"]),
            "offline": GaugeMetricFamily(
                "deskalert_desks_offline", "Desks of the roster not online", labels=["site"]
            ),
            "able": GaugeMetricFamily(
                "deskalert_supervisors_available",
                "Supervisors who can answer now: on call, or following the site live",
                labels=["site"],
            ),
            "oncall": GaugeMetricFamily(
                "deskalert_oncall_assigned",
                "1 if someone is on call for the site now, else 0",
                labels=["site"],
            ),
            "unanswered": GaugeMetricFamily(
                "deskalert_alerts_unanswered", "Open alerts nobody answered yet", labels=["site"]
            ),
        }
        for site in self.hub.config.sites:
            now = self.hub.availability.now(site.id)
            families["online"].add_metric([site.id], now.desks_online)
            families["offline"].add_metric([site.id], max(0, now.desks - now.desks_online))
            families["able"].add_metric([site.id], len(now.supervisors))
            families["oncall"].add_metric([site.id], int(any(p.on_call for p in now.supervisors)))
            if self.snapshot.store_up:
                families["unanswered"].add_metric([site.id], self.snapshot.unanswered[site.id])
        yield from families.values()

    def _hub(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "deskalert_streams_open", "Event streams open on this hub", value=len(self.hub.broker)
        )
        yield GaugeMetricFamily(
            "deskalert_leader",
            "1 if this hub runs the timers and sends"
            " the notifications (the only hub on SQLite), else 0",
            value=int(
                self.hub.leading and (self.hub.lease() is not None or not self.hub.store.shared)
            ),
        )
        yield GaugeMetricFamily(
            "deskalert_store_up",
            "1 if the store answered this scrape's reads, else 0",
            value=int(self.snapshot.store_up),
        )
        if self.snapshot.backlog is not None:
            waiting = GaugeMetricFamily(
                "deskalert_outbox_backlog",
                "Notifications queued, being sent or to be retried, by channel kind",
                labels=["channel"],
            )
            oldest = GaugeMetricFamily(
                "deskalert_outbox_oldest_seconds",
                "How long the oldest of them has waited, by channel kind",
                labels=["channel"],
            )
            for kind in self.snapshot.backlog:
                waiting.add_metric([kind.channel], kind.waiting)
                oldest.add_metric([kind.channel], kind.oldest_s)
            yield waiting
            yield oldest

    def _refused(self) -> Iterator[Metric]:
        refused = CounterMetricFamily(
            "deskalert_tokens_refused",
            "Requests refused for their"
            " token: unknown, or a desk's from outside its site's"
            " networks",
            labels=["reason"],
        )
        unknown_token, outside_network = self.hub.roster.refusals()
        refused.add_metric(["unknown_token"], unknown_token)
        refused.add_metric(["outside_network"], outside_network)
        yield refused


class HubMetrics:
    """One hub's metrics: its registry, fed by its events, its store and its state."""

    def __init__(self, hub: Hub) -> None:
        self.registry = CollectorRegistry()
        self.events = EventCounters(self.registry)
        self.events.start_at_zero(hub.config)
        hub.reloaded.append(self.events.start_at_zero)  # a reload's new sites and codes
        self.state = StateCollector(hub)
        self.registry.register(self.state)
        commit = Histogram(
            "deskalert_store_commit_seconds",
            "Write transactions of the store, from BEGIN to the end of COMMIT (its fsync included)",
            buckets=COMMIT_BUCKETS,
            registry=self.registry,
        )
        Info("deskalert_build", "The hub's version", registry=self.registry).info(
            {"version": __version__}
        )
        hub.broker.observers.append(self.events.on_event)
        hub.store.on_commit = commit.observe

    async def scrape(self) -> bytes:
        await self.state.refresh()
        return generate_latest(self.registry)
