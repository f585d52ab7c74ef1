"""The hub's one source of time: every part that reads the time takes a `Clock`.

`SystemClock` is the wall clock and the process's monotonic clock. `ManualClock` moves only
when told (`advance`), so a test starts a hub without its ticker, moves the clock past a
deadline and ticks the hub by hand (`await hub.tick()`): escalation, offline desks and
interview deadlines without sleeping.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for durations and rates)."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only by `advance` (tests): both readings move together."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime.now(UTC)).astimezone(UTC)
        self._monotonic = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> datetime:
        """Move on by `seconds`; the new time."""
        self._now += timedelta(seconds=seconds)
        self._monotonic += seconds
        return self._now
