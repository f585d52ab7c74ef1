"""Which due notifications the outbox sends next, so that a flood from one site never delays
another site's phones (issue 27).

- First messages before reminders: an alert's "raised" and "escalated" messages go before
  "pris en charge" and "terminée", which go before reminders (`PRIORITY`).
- Sites and channels in turn: among the due rows of the best priority, the site served least
  recently goes first, then, within it, the channel served least recently, then the oldest row.
- No service holds every worker: at most `SENDS_PER_SERVICE` sends at once go through one
  service (scheme and host: one SMTP relay, one SMS gateway), `SENDS` in all. The last free
  slot of a service, and of the pool, is kept for a first message, and a site that already has
  sends under way leaves it to the other sites. So while one site floods (and whatever
  reminders are due), another site's first message starts at once instead of waiting for a
  send to end.
- A person's reminders go as one message: the due reminders of one channel are one `Batch`
  ("3 alertes sans réponse"), each row keeping its own outcome.

Plain data, no I/O: the worker (hub/notify_outbox.py) lists the due rows, asks `Turns.pick`
which to send, claims them and tells `Turns.done` when each batch ends.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

PRIORITY = {"raised": 0, "escalated": 0, "acknowledged": 1, "closed": 1, "renotify": 2}
SENDS = 8  # sends at once, every channel together (the worker's threads)
SENDS_PER_SERVICE = 4  # sends at once through one service
MERGED_MAX = 20  # reminders in one message at most


@dataclass(frozen=True)
class Due:
    """A row due to be sent, as the scheduler sees it."""

    id: int
    site: str
    kind: str
    channel: str  # the channel's key
    service: str  # what the caps count: the channel's scheme and host


@dataclass(frozen=True)
class Batch:
    """What one send carries: one row, or one channel's reminders merged."""

    rows: tuple[Due, ...]

    @property
    def head(self) -> Due:
        return self.rows[0]

    @property
    def ids(self) -> list[int]:
        return [row.id for row in self.rows]


class Turns:
    """The sends under way per service and per site, and who was served last."""

    def __init__(self, sends: int = SENDS, per_service: int = SENDS_PER_SERVICE) -> None:
        self.sends, self.per_service = sends, per_service
        self.total = 0
        self.by_service: Counter[str] = Counter()
        self.by_site: Counter[str] = Counter()
        self.by_site_service: Counter[tuple[str, str]] = Counter()
        self.turn = 0
        self.site_served: dict[str, int] = {}
        self.channel_served: dict[tuple[str, str], int] = {}

    def free(self) -> int:
        return self.sends - self.total

    def allowed(self, due: Due) -> bool:
        """A slot is free for it; the last one of a service (and of the pool) is kept for a
        first message, and a site that has sends under way leaves it to the other sites."""
        reserve = 0 if PRIORITY.get(due.kind, 1) == 0 or self.per_service < 2 else 1
        if (
            self.total >= self.sends - reserve
            or self.by_service[due.service] >= self.per_service - reserve
        ):
            return False
        if self.by_site[due.site] == 0:
            return True
        return (
            self.by_site_service[(due.site, due.service)] < self.per_service - 1
            and self.by_site[due.site] < self.sends - 1
        )

    def pick(self, due: list[Due]) -> list[Batch]:
        """The batches to start now, in order; each is counted as under way."""
        waiting, batches = list(due), []
        while waiting:
            chosen = self._next(waiting)
            if chosen is None:
                break
            batch = self._batch(chosen, waiting)
            self._start(batch)
            taken = set(batch.ids)
            waiting = [row for row in waiting if row.id not in taken]
            batches.append(batch)
        return batches

    def _next(self, waiting: list[Due]) -> Due | None:
        eligible = [row for row in waiting if self.allowed(row)]
        if not eligible:
            return None
        best = min(PRIORITY.get(row.kind, 1) for row in eligible)
        eligible = [row for row in eligible if PRIORITY.get(row.kind, 1) == best]
        site = min({row.site for row in eligible}, key=lambda s: (self.site_served.get(s, -1), s))
        return min(
            (row for row in eligible if row.site == site),
            key=lambda row: (self.channel_served.get((row.site, row.channel), -1), row.id),
        )

    @staticmethod
    def _batch(chosen: Due, waiting: list[Due]) -> Batch:
        if chosen.kind != "renotify":
            return Batch((chosen,))
        others = [
            row
            for row in waiting
            if row.kind == "renotify" and row.channel == chosen.channel and row.id != chosen.id
        ]
        return Batch((chosen, *others[: MERGED_MAX - 1]))

    def _start(self, batch: Batch) -> None:
        head = batch.head
        self.turn += 1
        self.site_served[head.site] = self.turn
        self.channel_served[(head.site, head.channel)] = self.turn
        self._count(head, 1)

    def done(self, batch: Batch) -> None:
        self._count(batch.head, -1)

    def _count(self, head: Due, step: int) -> None:
        self.total += step
        self.by_service[head.service] += step
        self.by_site[head.site] += step
        self.by_site_service[(head.site, head.service)] += step
