"""What the supervisor pane knows: open alerts, the day's history, desks, on-call; no Textual.

Alerts arrive whole (from lists and from every alert event), so applying them is idempotent; an
older copy (by `updated_at`) never replaces a newer one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from deskalert.keypress import key_press
from deskalert.models import (
    Alert,
    AlertCode,
    DeskPresence,
    OnCall,
    RefusedDesk,
    RefusedToken,
    SiteAvailability,
)
from deskalert.sitetime import at


@dataclass
class PaneState:
    me: str
    codes: dict[str, AlertCode] = field(default_factory=dict)
    alerts: dict[UUID, Alert] = field(default_factory=dict)  # open ones and today's closed ones
    desks: dict[str, DeskPresence] = field(default_factory=dict)
    oncall: dict[str, OnCall] = field(default_factory=dict)
    refused: tuple[RefusedToken, ...] = ()  # tokens the hub refused lately, newest first
    outside: tuple[RefusedDesk, ...] = ()  # desks refused from outside their site's networks
    availability: dict[str, SiteAvailability] = field(default_factory=dict)  # live, by site
    new: set[UUID] = field(default_factory=set)  # not looked at yet on this pane
    loaded: bool = False  # the hub's picture came at least once (else nothing is known)

    def apply(self, alert: Alert) -> bool:
        """Take the hub's copy; True if it is an alert this pane had never seen."""
        held = self.alerts.get(alert.id)
        if held is not None and held.updated_at > alert.updated_at:
            return False
        self.alerts[alert.id] = alert
        if alert.responders or alert.state.is_closed:
            self.new.discard(alert.id)
        return held is None

    def open_alerts(self) -> list[Alert]:
        """Most urgent first (code priority), then the longest waiting first (key press)."""
        return sorted(
            (a for a in self.alerts.values() if not a.state.is_closed),
            key=lambda a: (a.priority, key_press(a).start),
        )

    def history(self, since: datetime) -> list[Alert]:
        """The day's alerts, newest first, whatever their state."""
        return sorted(
            (a for a in self.alerts.values() if a.received_at >= since),
            key=lambda a: key_press(a).start,
            reverse=True,
        )

    def escalated_to_me(self, alert: Alert) -> bool:
        return alert.escalated_to in (self.me, "everyone")

    def offline_desks(self) -> list[DeskPresence]:
        """Desks that were online and went silent (a desk never opened today is not flagged)."""
        return [d for d in self.desks.values() if not d.online and d.last_seen is not None]

    def names(self) -> dict[str, str]:
        """Supervisor id -> name, from the on-call cards (the people the pane can name)."""
        people = [
            p
            for card in self.oncall.values()
            for p in ([card.supervisor] if card.supervisor else []) + card.chain
        ]
        return {p.id: p.name for p in reversed(people)}

    def person_name(self, supervisor_id: str) -> str:
        return self.names().get(supervisor_id, supervisor_id)

    def site_labels(self) -> dict[str, str]:
        return {site: card.site_label for site, card in self.oncall.items()}


def midnight(now: datetime) -> datetime:
    """The start of `now`'s day on the site: where the pane's "today" begins."""
    return at(now, 0, 0)
