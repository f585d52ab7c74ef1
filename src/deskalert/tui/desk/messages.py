"""What the desk's workers tell the desk app: its snapshot, deliveries, answers and cancels."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from textual.message import Message

from deskalert.client.api import HubClient
from deskalert.errors import NotFound
from deskalert.journal.store import Delivery
from deskalert.models import (
    Alert,
    AlertCode,
    DeskPresence,
    HeartbeatOut,
    OnCall,
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


async def load_desk_snapshot(
    client: HubClient, desk_id: str, heartbeat: Callable[[], Awaitable[HeartbeatOut]]
) -> SnapshotLoaded:
    """The hub's picture for this desk; the health first, so events after it are replayed."""
    health = await client.health()
    beat = await heartbeat()  # the app's: it keeps the hub's time (tui/base.py, `beat_hub`)
    codes = await client.codes()
    oncall = await client.oncall()
    desks = await client.desks()
    alerts = await client.alerts(state="open")
    availability = await _availability_or_none(client)
    me = next((d for d in desks if d.id == desk_id), None)
    return SnapshotLoaded(
        codes=codes,
        oncall=oncall[0] if oncall else None,
        desk=me,
        alerts=alerts,
        heartbeat_s=beat.heartbeat_s,
        last_event_id=health.last_event_id or 0,
        availability=availability,
    )


async def _availability_or_none(client: HubClient) -> SiteAvailability | None:
    """Who can come now; a hub from before /v1/availability has no answer (the stream's
    opening brings the numbers anyway)."""
    try:
        return next(iter(await client.availability()), None)
    except NotFound:
        return None
