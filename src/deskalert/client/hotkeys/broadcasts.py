"""Broadcasts when no desk app runs: each message from supervisors that this desk has not read
becomes a desktop notification that stays (critical urgency), and its end another one.

The global-keys listener follows the hub's stream for this alone: the current broadcasts at
each (re)connection, then the broadcast events. A notification cannot say "lu" back: the agent
reads it in the desk app, which shows it until then.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from deskalert.client.api import HubClient
from deskalert.client.follower import snapshot_then_events
from deskalert.client.hotkeys import feedback
from deskalert.i18n import language, t
from deskalert.models import Broadcast, BroadcastEvent, BroadcastState

log = logging.getLogger("deskalert.hotkeys")
Notify = Callable[..., Awaitable[object]]


@dataclass
class CurrentBroadcasts:
    """The snapshot the follower starts from: the current broadcasts of this desk's site."""

    broadcasts: list[Broadcast]
    heartbeat_s: float
    last_event_id: int


@dataclass
class BroadcastNotices:
    """Which broadcasts were shown, so each is shown once and its end only if it was."""

    desk_id: str
    notify: Notify = feedback.desktop_notification
    shown: set[UUID] = field(default_factory=set)

    async def take(self, broadcast: Broadcast) -> None:
        if not any(d.id == self.desk_id for d in broadcast.desks):
            return
        label, text = _words(broadcast)
        if broadcast.state is BroadcastState.ENDED:
            if broadcast.id in self.shown:
                self.shown.discard(broadcast.id)
                await self.notify(t("broadcast.ended_notice", label=label, text=text), "")
        elif broadcast.id not in self.shown and broadcast.read_by(self.desk_id) is None:
            self.shown.add(broadcast.id)
            await self.notify(t("broadcast.kind", label=label), text, critical=True)


async def follow_broadcasts(
    hub_urls: str | Sequence[str], token: str, desk_id: str, notices: BroadcastNotices | None = None
) -> None:
    """Until cancelled: the desk's broadcasts as desktop notifications (module docstring)."""
    notices = notices or BroadcastNotices(desk_id)

    async def load() -> CurrentBroadcasts:
        async with HubClient(hub_urls, token) as client:
            health, beat = await client.health(), await client.heartbeat()
            return CurrentBroadcasts(
                await client.broadcasts(), beat.heartbeat_s, health.last_event_id or 0
            )

    async for item in snapshot_then_events(load, hub_urls, token):
        match item:
            case CurrentBroadcasts(broadcasts=current):
                for broadcast in current:
                    await notices.take(broadcast)
            case BroadcastEvent(data=broadcast):
                await notices.take(broadcast)


def _words(broadcast: Broadcast) -> tuple[str, str]:
    label, text, _ = broadcast.words(language() == "en")
    return label, text
