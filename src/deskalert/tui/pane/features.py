"""The pane's features that follow the hub themselves: the interview panel (interview.py) and the
broadcast panel (broadcast.py). Each loads what it shows after every snapshot and takes its own
events; the app only hands them on (`load`, `take`)."""

from __future__ import annotations

from deskalert.client.api import HubClient
from deskalert.client.follower import StreamEvent
from deskalert.models import BroadcastEvent
from deskalert.tui.base import Clock
from deskalert.tui.messages import HubEvent
from deskalert.tui.pane.broadcast import BroadcastPanel
from deskalert.tui.pane.interview import InterviewPanel


class PaneFeatures:
    def __init__(self, client: HubClient, hub_now: Clock) -> None:
        self.interview = InterviewPanel(client, hub_now, id="sessions")
        self.broadcasts = BroadcastPanel(client, id="broadcasts")

    def load(self, sites: dict[str, str]) -> None:
        """After each snapshot (a start, a reconnection); `sites`: id -> label."""
        self.interview.load()
        self.broadcasts.sites = sites
        self.broadcasts.load()

    def take(self, event: StreamEvent) -> None:
        """A session, check or broadcast event, to the feature it is for."""
        feature = self.broadcasts if isinstance(event, BroadcastEvent) else self.interview
        feature.post_message(HubEvent(event))
