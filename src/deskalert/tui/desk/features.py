"""The desk's features that follow the hub themselves: the interview line (interview.py) and the
broadcasts (broadcast.py). Each loads what it shows after every snapshot and takes its own
events; the app only hands them on (`load`, `take`)."""

from __future__ import annotations

from deskalert.client.api import HubClient
from deskalert.client.follower import StreamEvent
from deskalert.client.settings import DeskIdentity
from deskalert.journal.store import Journal
from deskalert.models import BroadcastEvent
from deskalert.tui.base import Clock
from deskalert.tui.desk.broadcast import BroadcastWatch
from deskalert.tui.desk.interview import InterviewLine
from deskalert.tui.messages import HubEvent


class DeskFeatures:
    def __init__(
        self, client: HubClient, desk: DeskIdentity, clock: Clock, journal: Journal
    ) -> None:
        self.interview = InterviewLine(client, desk.id, desk.duress_key, clock, id="session")
        self.broadcasts = BroadcastWatch(client, desk.id, journal, id="broadcasts")

    def load(self) -> None:
        """After each snapshot (a start, a reconnection)."""
        self.interview.load()
        self.broadcasts.load()

    def take(self, event: StreamEvent) -> None:
        """A session, check or broadcast event, to the feature it is for."""
        feature = self.broadcasts if isinstance(event, BroadcastEvent) else self.interview
        feature.post_message(HubEvent(event))
