"""What the desk knows: its own alerts and their steps, colleagues' alerts, the on-call card.

Plain data, no Textual: the app feeds it the hub's answers and events, then draws it. Every
alert the hub sends is the whole alert, so applying them is idempotent and order-safe: a copy
older than the one held (by `updated_at`) is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from deskalert.journal.store import Delivery
from deskalert.models import Alert, AlertCode, AlertState, DeskPresence, OnCall, Person
from deskalert.tui.link import LinkState

CLOSED_VISIBLE = timedelta(minutes=2)  # a finished alert stays on screen this long
NOT_TRANSMITTED_AFTER = timedelta(seconds=2)  # then the warning that cannot be missed
# A second press of a code is the same alert only while that alert is fresh: still in flight,
# or stored by the hub less than this long ago and nobody has answered yet. Otherwise the
# press is a new alert: the situation goes on or is new, and supervisors must see it.
REPRESS_SAME_ALERT = timedelta(seconds=10)
DEFAULT_CODES = [
    AlertCode(code="renfort", label="Renfort", key="f2", discreet=True),
]  # until the hub has been reached once: the one code every team has


class Step(StrEnum):
    """Where the agent's own alert is, as the agent sees it."""

    QUEUED = "queued"
    TRANSMITTED = "transmitted"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"
    REFUSED = "refused"

    @property
    def is_final(self) -> bool:
        return self in (Step.RESOLVED, Step.CANCELLED, Step.REFUSED)


@dataclass
class OwnAlert:
    """An alert raised from this desk: queued in the journal, then the hub's copy."""

    id: UUID
    code: str
    test: bool
    queued_at: datetime
    delivery: Delivery = Delivery.QUEUED
    alert: Alert | None = None
    error: str | None = None
    cancel_requested: bool = False
    cancel_sent: bool = False
    final_since: datetime | None = None
    refusal_seen: bool = False
    stored_at: datetime | None = None  # desk clock: when this desk first saw the hub's copy

    @property
    def step(self) -> Step:
        if self.delivery is Delivery.REFUSED:
            return Step.REFUSED
        if self.delivery is Delivery.CANCELLED:
            return Step.CANCELLED
        if self.alert is None:
            return Step.QUEUED
        if self.alert.state is AlertState.RESOLVED:
            return Step.RESOLVED
        if self.alert.state is AlertState.CANCELLED:
            return Step.CANCELLED
        if self.alert.responders:
            return Step.ACKNOWLEDGED
        return Step.TRANSMITTED

    def is_fresh(self, now: datetime) -> bool:
        """Whether a second press of its code is this same alert (`REPRESS_SAME_ALERT`): in
        flight, or stored less than 10 s ago and not yet answered; never once withdrawn."""
        if self.cancel_requested:
            return False
        if self.step is Step.QUEUED:
            return True
        return (
            self.step is Step.TRANSMITTED
            and self.stored_at is not None
            and now - self.stored_at < REPRESS_SAME_ALERT
        )


@dataclass
class DeskState:
    desk_id: str
    codes: list[AlertCode] = field(default_factory=lambda: list(DEFAULT_CODES))
    codes_known: bool = False
    desk: DeskPresence | None = None
    oncall: OnCall | None = None
    oncall_saved_at: datetime | None = None
    own: dict[UUID, OwnAlert] = field(default_factory=dict)
    colleagues: dict[UUID, Alert] = field(default_factory=dict)
    answered: set[UUID] = field(default_factory=set)
    link: LinkState = field(default_factory=LinkState)

    @property
    def link_up(self) -> bool | None:
        """True when the stream is open, False when down, None before the first answer."""
        return self.link.up

    def code(self, code: str) -> AlertCode | None:
        return next((c for c in self.codes if c.code == code), None)

    def track(self, own: OwnAlert) -> None:
        self.own[own.id] = own

    def apply(self, alert: Alert, now: datetime) -> None:
        """Take the hub's copy of an alert of this site (from an answer, a list or an event)."""
        if alert.desk == self.desk_id:
            self._apply_own(alert, now)
        elif alert.state.is_closed:
            self.colleagues.pop(alert.id, None)
        else:
            held = self.colleagues.get(alert.id)
            if held is None or held.updated_at <= alert.updated_at:
                self.colleagues[alert.id] = alert

    def _apply_own(self, alert: Alert, now: datetime) -> None:
        own = self.own.get(alert.id)
        if own is None:  # raised by `deskalert send` or before a restart: dated by its press
            own = OwnAlert(
                id=alert.id,
                code=alert.code,
                test=alert.test,
                queued_at=min(now, alert.created_at or alert.received_at),
                stored_at=min(now, alert.received_at),
            )
            self.own[alert.id] = own
        if own.alert is None or own.alert.updated_at <= alert.updated_at:
            own.alert = alert
            own.delivery = Delivery.TRANSMITTED  # the hub has it, even if withdrawn here first
        if own.stored_at is None:
            own.stored_at = now
        if own.step.is_final and own.final_since is None:
            own.final_since = now

    def refuse(self, alert_id: UUID, reason: str, now: datetime) -> None:
        own = self.own[alert_id]
        own.delivery, own.error, own.final_since = Delivery.REFUSED, reason, now

    def replace_open(self, alerts: list[Alert], now: datetime) -> None:
        """A fresh list of the site's open alerts: colleagues' alerts not in it have closed."""
        open_ids = {a.id for a in alerts}
        for alert_id in [i for i in self.colleagues if i not in open_ids]:
            del self.colleagues[alert_id]
        for alert in alerts:
            self.apply(alert, now)

    def same_alert(self, code: str, test: bool, now: datetime) -> OwnAlert | None:
        """The own alert a press of `code` (a drill or not) repeats, if one is still fresh."""
        return next(
            (o for o in self.own.values() if o.code == code and o.test == test and o.is_fresh(now)),
            None,
        )

    def current_own(self, now: datetime) -> OwnAlert | None:
        """The agent's latest alert (by its press), while it is live or closed less than two
        minutes ago: with several of one code, the newest, with its own step."""
        shown = [
            o
            for o in self.own.values()
            if o.final_since is None or now - o.final_since < CLOSED_VISIBLE
        ]
        return max(shown, key=lambda o: o.queued_at, default=None)

    def unsent(self, now: datetime) -> list[OwnAlert]:
        """Alerts help is not coming for: queued for 2 s or more, or refused and not yet seen."""
        return [
            o
            for o in sorted(self.own.values(), key=lambda o: o.queued_at)
            if not o.cancel_requested
            and (
                (o.step is Step.QUEUED and now - o.queued_at >= NOT_TRANSMITTED_AFTER)
                or (o.step is Step.REFUSED and not o.refusal_seen)
            )
        ]

    def dismiss_refusals(self) -> bool:
        refused = [o for o in self.own.values() if o.step is Step.REFUSED and not o.refusal_seen]
        for own in refused:
            own.refusal_seen = True
        return bool(refused)

    def colleague_alerts(self) -> list[Alert]:
        """Colleagues' open alerts, most urgent first, then oldest first."""
        return sorted(self.colleagues.values(), key=lambda a: (a.priority, a.received_at))

    def next_to_answer(self) -> Alert | None:
        return next((a for a in self.colleague_alerts() if a.id not in self.answered), None)

    def person(self, supervisor_id: str) -> Person | None:
        if self.oncall is None:
            return None
        people = ([self.oncall.supervisor] if self.oncall.supervisor else []) + self.oncall.chain
        return next((p for p in people if p.id == supervisor_id), None)

    def call_target(self) -> Person | None:
        """Whom the agent calls by phone when the alert cannot go through."""
        if self.oncall is None:
            return None
        return self.oncall.supervisor or next(iter(self.oncall.chain), None)
