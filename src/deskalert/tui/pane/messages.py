"""What the pane's workers tell the pane app: its snapshot, the hub's answers and refusals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from textual.message import Message

from deskalert.client.api import HubClient
from deskalert.errors import NotFound
from deskalert.models import (
    Alert,
    AlertCode,
    DeskPresence,
    HeartbeatOut,
    NotifyBacklog,
    OnCall,
    Presence,
    SiteAvailability,
)


@dataclass
class PaneSnapshot(Message):
    codes: list[AlertCode]
    alerts: list[Alert]
    desks: list[DeskPresence]
    refused: Presence  # its refused tokens and desks refused from outside their networks
    oncall: list[OnCall]
    heartbeat_s: float
    last_event_id: int
    availability: list[SiteAvailability]
    notify: tuple[NotifyBacklog, ...] = ()  # the notification channels' backlog (/healthz)


@dataclass
class Answered(Message):
    """The hub took a key's request (j'arrive, resolve, cancel, on-call)."""

    what: str
    alert: Alert | None = None
    oncall: OnCall | None = None


@dataclass
class Refused(Message):
    reason: str


@dataclass
class RefusedTokens(Message):
    """The refusals of /v1/presence: tokens, and desks from outside their site's networks."""

    refused: Presence


async def load_pane_snapshot(
    client: HubClient, midnight: datetime, heartbeat: Callable[[], Awaitable[HeartbeatOut]]
) -> PaneSnapshot:
    """The hub's picture for a supervisor: open alerts and the day's, desks and refusals,
    on-call cards, who can come; the health first, so events after it are replayed."""
    health = await client.health()
    beat = await heartbeat()  # the app's: it keeps the hub's time (tui/base.py, `beat_hub`)
    open_alerts = await client.alerts(state="open")
    today = await client.alerts_since(midnight)
    presence = await presence_or_desks(client)
    return PaneSnapshot(
        codes=await client.codes(),
        alerts=today + open_alerts,
        desks=presence.desks,
        refused=presence,
        oncall=await client.oncall(),
        heartbeat_s=beat.heartbeat_s,
        last_event_id=health.last_event_id or 0,
        availability=await _availability(client),
        notify=tuple(health.notify),
    )


async def presence_or_desks(client: HubClient) -> Presence:
    """Desks and refusals; a hub from before /v1/presence gives its desks only."""
    try:
        return await client.presence()
    except NotFound:
        return Presence(desks=await client.desks(), refused_tokens=[])


async def _availability(client: HubClient) -> list[SiteAvailability]:
    """Who can come now per site; none from a hub before /v1/availability."""
    try:
        return await client.availability()
    except NotFound:
        return []
