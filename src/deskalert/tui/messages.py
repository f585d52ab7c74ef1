"""What the workers tell the app: the hub's answers and events, the link, deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from textual.message import Message

from deskalert.journal.store import Delivery
from deskalert.models import Alert, AlertCode, DeskPresence, Event, OnCall


@dataclass
class SnapshotLoaded(Message):
    """The hub's current picture for this desk, loaded before following its events."""

    codes: list[AlertCode]
    oncall: OnCall | None
    desk: DeskPresence | None
    alerts: list[Alert]
    heartbeat_s: float
    last_event_id: int


@dataclass
class LinkChanged(Message):
    up: bool
    reason: str = ""


@dataclass
class HubEvent(Message):
    event: Event


@dataclass
class DeliveryDone(Message):
    """The outbox is done with an alert: the hub has it, or refused it."""

    alert_id: UUID
    delivery: Delivery
    alert: Alert | None
    error: str | None


@dataclass
class ActionFailed(Message):
    """A j'arrive or a cancel the hub did not take."""

    kind: str  # "answer" or "cancel"
    alert_id: UUID
    reason: str


@dataclass
class ActionDone(Message):
    kind: str
    alert: Alert
