"""What the workers tell either app: the link and the hub's events (each wing adds its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from textual.message import Message
from textual.message_pump import MessagePump

from deskalert.client.follower import LinkDown, LinkUp, StreamEvent
from deskalert.errors import DeskAlertError, Unauthorized, is_outside_site_network
from deskalert.models import (
    AlertEvent,
    AvailabilityEvent,
    BroadcastEvent,
    CheckEvent,
    OnCallEvent,
    PresenceEvent,
    SessionEvent,
)


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


def refusal(error: DeskAlertError) -> LinkChanged | None:
    """The link change a failed request means, if any: a refusal (a token, the site's networks)
    shows at once, whatever asked; any other failure is the follower's to report.

    Posted from a widget or a screen, the change bubbles up to the app (`HubApp.hub_failed`)."""
    if isinstance(error, Unauthorized) or is_outside_site_network(error):
        return LinkChanged(up=False, reason=str(error), error=error)
    return None


async def relay(feed: AsyncIterator[object], app: MessagePump) -> None:
    """Post a `snapshot_then_events` feed to `app`: link changes, hub events, the snapshot."""
    async for item in feed:
        match item:
            case LinkUp(hub=hub):
                app.post_message(LinkChanged(up=True, hub=hub))
            case LinkDown(reason=reason, error=error):
                app.post_message(LinkChanged(up=False, reason=reason, error=error))
            case (
                AlertEvent()
                | PresenceEvent()
                | OnCallEvent()
                | SessionEvent()
                | CheckEvent()
                | AvailabilityEvent()
                | BroadcastEvent()
            ):
                app.post_message(HubEvent(item))
            case Message():
                app.post_message(item)  # the screen's own snapshot message
