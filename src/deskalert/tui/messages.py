"""What the workers tell the app: the hub's answers and events, the link, deliveries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID

from textual.message import Message
from textual.message_pump import MessagePump

from deskalert.client.follower import LinkDown, LinkUp
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
    """The event stream opened (up) or broke; shared by the desk and the pane."""

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


async def relay(feed: AsyncIterator[Message | Event | LinkUp | LinkDown], app: MessagePump) -> None:
    """Post a `snapshot_then_events` feed to `app`: link changes, hub events, the snapshot."""
    async for item in feed:
        if isinstance(item, LinkUp):
            app.post_message(LinkChanged(up=True))
        elif isinstance(item, LinkDown):
            app.post_message(LinkChanged(up=False, reason=item.reason))
        elif isinstance(item, Event):
            app.post_message(HubEvent(item))
        else:
            app.post_message(item)  # the screen's own snapshot message
