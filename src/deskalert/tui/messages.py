"""What the workers tell the app: the hub's answers and events, the link, deliveries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID

from textual.message import Message
from textual.message_pump import MessagePump

from deskalert.client.follower import LinkDown, LinkUp, StreamEvent
from deskalert.errors import DeskAlertError
from deskalert.journal.store import Delivery
from deskalert.models import (
    Alert,
    AlertCode,
    AlertEvent,
    AvailabilityEvent,
    CheckEvent,
    DeskPresence,
    OnCall,
    OnCallEvent,
    PresenceEvent,
    SessionEvent,
    SiteAvailability,
)


@dataclass
class SnapshotLoaded(Message):
    """The hub's current picture for this desk, loaded before following its events."""

    codes: list[AlertCode]
    oncall: OnCall | None
    desk: DeskPresence | None
    alerts: list[Alert]
    heartbeat_s: float
    last_event_id: int
    availability: SiteAvailability | None = None  # who can come now on the desk's site


@dataclass
class LinkChanged(Message):
    """The event stream opened (up) or broke, or a request was refused; `error` says why."""

    up: bool
    reason: str = ""
    error: DeskAlertError | None = None
    hub: int = 1  # up: which of the configured hubs the stream is on (1: the first listed)


@dataclass
class HubEvent(Message):
    """One event of the stream, typed: dispatch with `match message.event`."""

    event: StreamEvent


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


async def relay(feed: AsyncIterator[object], app: MessagePump) -> None:
    """Post a `snapshot_then_events` feed to `app`: link changes, hub events, the snapshot."""
    async for item in feed:
        match item:
            case LinkUp(hub=hub):
                app.post_message(LinkChanged(up=True, hub=hub))
            case LinkDown(reason=reason, error=error):
                app.post_message(LinkChanged(up=False, reason=reason, error=error))
            case (AlertEvent() | PresenceEvent() | OnCallEvent() | SessionEvent() | CheckEvent()
                  | AvailabilityEvent()):
                app.post_message(HubEvent(item))
            case Message():
                app.post_message(item)  # the screen's own snapshot message
