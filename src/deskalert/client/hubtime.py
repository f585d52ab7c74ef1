"""The hub's clock as a screen reads it: a heartbeat's `at` against this machine's clock.

A countdown to a deadline the hub set (a "Tout va bien ?" check, an interview's end) must show
the same time left on the desk and on the pane, whatever each machine's clock says: both count
with the hub's time, estimated as this machine's time plus the offset the last heartbeat showed
(its `at` against the middle of the request's round trip). Before any heartbeat, the offset is
zero: this machine's time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta


class HubTime:
    """The hub's time now, from `clock` (this machine's, aware) and the last heartbeat."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.offset = timedelta(0)

    def heard(self, hub_at: datetime, sent: datetime, received: datetime) -> None:
        """A heartbeat sent at `sent` and answered at `received` (this machine's clock) said
        the hub's time was `hub_at`."""
        self.offset = hub_at - (sent + (received - sent) / 2)

    def now(self) -> datetime:
        return self.clock() + self.offset
