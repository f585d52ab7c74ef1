"""How much one desk or supervisor may ask of the hub: token buckets per identity.

Two budgets, apart on purpose:

- `AlertRate` (hub/alert_rate.py): the new alerts a desk may raise, `alert_burst` back to back,
  then `alerts_per_minute`; a replay of a stored id never takes from it. One count across the
  hubs of a database (each follows the others' alerts on its event tail).
- `RequestBudget`: every other authenticated request of one identity (heartbeats, streams
  opened, lists, acks, the page's calls), `request_burst` back to back, then
  `requests_per_second`; beyond it a 429 with Retry-After, answered after `REFUSAL_HOLD_S`.
  One desk token sending thousands of heartbeats a second otherwise held the hub at 98 % of a
  core; a 429 answered at once costs the hub as much as the heartbeat (measured), so a client
  that does not wait would go on costing it: held, it sends one request per second and
  connection at most. A client that waits as Retry-After says loses nothing.

`POST /v1/alerts` never spends nor needs the request budget: a desk whose software went wild
on heartbeats or a stolen token flooding lists must still raise its alert at once, and a
replay of a stored alert is never refused (docs/guarantees.md). Its own limit is the alert rate.
The request budget is counted per hub: with several hubs, each counts its own requests.
"""

from __future__ import annotations

import asyncio
import math

from deskalert.errors import RateLimited
from deskalert.hub.clock import Clock, SystemClock
from deskalert.hub.guard import LimitLog
from deskalert.hub.settings import Principal

UNBUDGETED = frozenset({"POST /v1/alerts"})  # the alert rate's own (see the module)
REFUSAL_HOLD_S = 1.0


class TokenBuckets:
    """`burst` back to back per key, refilled at `per_second`; full after a quiet spell."""

    def __init__(self, burst: int, per_second: float, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self.burst = burst
        self.per_second = per_second
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str) -> float | None:
        """None if `key` may go on now (one token taken), else the seconds until it may."""
        tokens = self._tokens(key)
        if tokens < 1:
            return (1 - tokens) / self.per_second
        self._buckets[key] = (tokens - 1, self.clock.monotonic())
        return None

    def give_back(self, key: str) -> None:
        self._buckets[key] = (min(self.burst, self._tokens(key) + 1), self.clock.monotonic())

    def _tokens(self, key: str) -> float:
        tokens, when = self._buckets.get(key, (self.burst, 0.0))
        return min(self.burst, tokens + (self.clock.monotonic() - when) * self.per_second)


class RequestBudget:
    """Every authenticated request but an alert takes one of its caller's tokens, or is
    refused with a 429 (`RateLimited`, Retry-After)."""

    def __init__(
        self,
        burst: int,
        per_second: float,
        limit_log: LimitLog | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.buckets = TokenBuckets(burst, per_second, clock)
        self.limit_log = limit_log or LimitLog()

    async def charge(self, principal: Principal, request: str) -> None:
        """Take one token for `request` ("METHOD /path"), or raise the 429 after
        REFUSAL_HOLD_S."""
        if request in UNBUDGETED:
            return
        identity = f"{principal.kind.value} {principal.id}"
        wait_s = self.buckets.take(identity)
        if wait_s is None:
            return
        self.limit_log.hit(
            "request_budget",
            "%s sent more than %d requests back to back (then %g/s): answered 429",
            identity,
            self.buckets.burst,
            self.buckets.per_second,
        )
        error = RateLimited(
            f"{identity} sent more than {self.buckets.burst} requests in a burst; send again in "
            f"{math.ceil(wait_s)} s (Retry-After); alerts are never held back by this",
            code="too_many_requests",
        )
        error.retry_after_s = wait_s
        await asyncio.sleep(REFUSAL_HOLD_S)
        raise error
