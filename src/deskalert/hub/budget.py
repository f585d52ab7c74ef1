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

- `RefusalBudget`: the requests answered 401 (no token, an unknown one, a page session refused)
  of one client address (the peer, or behind a trusted proxy the address X-Forwarded-For gives;
  an IPv6 address by its /64, what one host is given), `refused_burst` back to back, then
  `refused_per_second`; beyond it a 429 held as the request budget's. Without it a client with
  no valid token was held only by the connection cap per address: one sent 460-770 requests a
  second, all 401, for 14-20 % of a core. Requests with a valid token never spend from it, so a
  desk behind the same address as a flood still raises its alert; a desk whose token is refused
  (a heartbeat every 5 s, its stream retried with a backoff) stays far below and keeps its 401.
  The addresses are kept in a bounded map (`MAX_ADDRESSES`, the least recently refused go).

`POST /v1/alerts` never spends nor needs the request budget: a desk whose software went wild
on heartbeats or a stolen token flooding lists must still raise its alert at once, and a
replay of a stored alert is never refused (docs/guarantees.md). Its own limit is the alert rate.
The request budget is counted per hub: with several hubs, each counts its own requests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math

from deskalert.errors import RateLimited
from deskalert.hub.clock import Clock, SystemClock
from deskalert.hub.guard import LimitLog
from deskalert.hub.settings import Principal

UNBUDGETED = frozenset({"POST /v1/alerts"})  # the alert rate's own (see the module)
REFUSAL_HOLD_S = 1.0
MAX_ADDRESSES = 10_000  # client addresses whose refusals are counted (~2 MB at most)
REFUSAL_CHARGED = "deskalert.refusal_charged"  # in an ASGI scope: its address was charged
IPV6_PREFIX = 64  # one host gets a /64: its addresses share one budget (as ntfy does)


class TokenBuckets:
    """`burst` back to back per key, refilled at `per_second`; full after a quiet spell."""

    def __init__(
        self,
        burst: int,
        per_second: float,
        clock: Clock | None = None,
        max_keys: int | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.burst = burst
        self.per_second = per_second
        self.max_keys = max_keys  # beyond it, the least recently used key goes (a full bucket)
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when), LRU order

    def take(self, key: str) -> float | None:
        """None if `key` may go on now (one token taken), else the seconds until it may."""
        tokens = self._tokens(key)
        if tokens < 1:
            return (1 - tokens) / self.per_second
        self._set(key, tokens - 1)
        return None

    def give_back(self, key: str) -> None:
        self._set(key, min(self.burst, self._tokens(key) + 1))

    def _set(self, key: str, tokens: float) -> None:
        self._buckets.pop(key, None)  # to the end: the most recently used
        self._buckets[key] = (tokens, self.clock.monotonic())
        if self.max_keys is not None and len(self._buckets) > self.max_keys:
            del self._buckets[next(iter(self._buckets))]

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
        await spend(
            self.buckets,
            self.limit_log,
            identity,
            limit="request_budget",
            logged="requests back to back",
            said="requests in a burst",
            advice="; alerts are never held back by this",
        )


class RefusalBudget:
    """Every request answered 401 takes one of its client address's tokens, or is refused
    with a 429 (`RateLimited`, Retry-After) after REFUSAL_HOLD_S."""

    def __init__(
        self,
        burst: int,
        per_second: float,
        limit_log: LimitLog | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.buckets = TokenBuckets(burst, per_second, clock, max_keys=MAX_ADDRESSES)
        self.limit_log = limit_log or LimitLog()

    async def charge(self, address: str) -> None:
        """Take one token for a refused request from `address`, or raise the 429 after
        REFUSAL_HOLD_S."""
        refused = "requests with no token or a refused one"
        await spend(
            self.buckets,
            self.limit_log,
            address_key(address),
            limit="refused_budget",
            logged=refused,
            said=refused,
            advice=", with a valid token",
        )


async def spend(
    buckets: TokenBuckets,
    limit_log: LimitLog,
    key: str,
    *,
    limit: str,
    logged: str,
    said: str,
    advice: str,
) -> None:
    """Take one of `key`'s tokens, or log the limit (`logged`: what was sent too often) and
    raise its 429 (`said`, then `advice`) after REFUSAL_HOLD_S: both budgets' refusal."""
    wait_s = buckets.take(key)
    if wait_s is None:
        return
    limit_log.hit(
        limit,
        "%s sent more than %d %s (then %g/s): answered 429",
        key,
        buckets.burst,
        logged,
        buckets.per_second,
    )
    error = RateLimited(
        f"{key} sent more than {buckets.burst} {said}; send again in {math.ceil(wait_s)} s"
        f" (Retry-After){advice}",
        code="too_many_requests",
    )
    error.retry_after_s = wait_s
    await asyncio.sleep(REFUSAL_HOLD_S)
    raise error


def address_key(address: str) -> str:
    """The budget's key for a client address: itself, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # "unknown" (no peer), or a name a test client gave
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)
