"""The leader's lease as the hub's writes carry it: which term, and until when it may act.

Several hubs on one PostgreSQL: the leader holds a lease row (`leader_lease`, hub/cluster.py)
for `LEASE_S` of the database's time from each renewal. Two rules make "two hubs acting as
leader at once" impossible rather than unlikely:

- **The leader stops first.** Its lease is valid here until the instant the renewal was *sent*
  (this hub's monotonic clock) plus `LEASE_S - MARGIN_S`: the database stamped the renewal
  after it was sent, so every other hub sees the lease still held until at least `MARGIN_S`
  after this hub stopped acting. A renewal that comes back late only shortens the lease here.
- **Fencing.** Every write of a leader's timer runs with its `Lease` in context
  (`leader_writes`); the store's transaction then begins by locking the lease row (`FOR SHARE`)
  and checking that its holder, its term and its expiry are still this hub's. A write whose
  lease lapsed is refused (`LeadLost`), and a hub taking the lease over waits for a leader's
  write under way to commit first: the database sees the two leaders one after the other.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

LEASE_S = 5.0  # a lease lasts this long in the database's time from each renewal
MARGIN_S = 1.0  # the leader stops acting this long before its lease ends for the others


class LeadLost(Exception):
    """A leader's write refused: this hub's lease lapsed, or another hub holds it now."""


@dataclass(frozen=True)
class Lease:
    """One renewal of the lease: `holder` (the hub's id) in `term`, valid here until
    `valid_until` (time.monotonic())."""

    holder: str
    term: int
    valid_until: float

    def valid(self) -> bool:
        return time.monotonic() < self.valid_until

    def check(self) -> None:
        """Raise `LeadLost` once the lease is over here (before the database's view)."""
        if not self.valid():
            raise LeadLost(f"this hub's lease (term {self.term}) is over")


_LEASE: ContextVar[Lease | None] = ContextVar("deskalert_leader_lease", default=None)


def current() -> Lease | None:
    """The lease the running code writes under (None: not a leader's write)."""
    return _LEASE.get()


@contextmanager
def leader_writes(lease: Lease | None) -> Iterator[None]:
    """The store writes made inside (in this task and the tasks it starts) are the leader's,
    fenced by `lease`; None: not fenced (one hub alone, or a follower)."""
    token = _LEASE.set(lease)
    try:
        yield
    finally:
        _LEASE.reset(token)
