"""Tokens the hub refused lately, so that an administrator finds a revoked or mistyped one.

A desk whose token was revoked (or typed wrong at install) cannot raise an alert, and until now
nothing said so but its own screen. The hub keeps, per token hash and client address, when and
how often it was refused, logs it once a minute, and lists it on `GET /v1/presence` with the
desk last seen from that address with a valid token. Bounded: someone trying random tokens
fills neither the memory nor the log.

`RefusedDesks` is its sibling: valid desk tokens used from outside their site's networks
(`[[sites]] networks`), listed on the same route as `refused_desks`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from deskalert.models import RefusedDesk, RefusedToken

log = logging.getLogger("deskalert.hub")
PREFIX_LEN = 12
KEPT = 200  # (token, address) pairs remembered, least recent dropped
KEPT_FOR = timedelta(hours=24)  # and none older than this
LOG_EVERY = timedelta(minutes=1)  # per token and address
LOG_LINES_PER_MINUTE = 20  # all tokens together: beyond, counted in the next line
ADDRESSES_KEPT = 4096
K = TypeVar("K")
V = TypeVar("V")


def _most_recent(entries: OrderedDict[K, V], key: K, new: V) -> V:
    """`entries[key]` (or `new`), moved to the most recent end; the least recent dropped past
    `KEPT`, so that someone trying tokens or addresses fills no memory."""
    entry = entries.pop(key, None) or new
    entries[key] = entry
    if len(entries) > KEPT:
        entries.popitem(last=False)
    return entry


class _LogBudget:
    """At most `LOG_LINES_PER_MINUTE` lines a minute for one kind of refusal, all pairs
    together; `take()` says whether a line may go, and how many were held back before it."""

    def __init__(self) -> None:
        self._window_start: datetime | None = None
        self._window_lines = 0
        self._held_back = 0

    def take(self, now: datetime) -> int | None:
        """None: no line now (counted in the pair's next one); else the lines held back."""
        if self._window_start is None or now - self._window_start >= LOG_EVERY:
            self._window_start, self._window_lines = now, 0
        if self._window_lines >= LOG_LINES_PER_MINUTE:
            self._held_back += 1
            return None
        self._window_lines += 1
        held_back, self._held_back = self._held_back, 0
        return held_back


@dataclass
class _Refusal:
    first_at: datetime
    last_at: datetime
    count: int = 0
    logged_at: datetime | None = None
    unlogged: int = 0
    known_as: str | None = None


class RefusedTokens:
    """Refused tokens by (token hash, address); addresses seen with a valid token."""

    def __init__(self) -> None:
        self._refusals: OrderedDict[tuple[str, str], _Refusal] = OrderedDict()
        self._known: OrderedDict[str, str] = OrderedDict()
        self._budget = _LogBudget()
        self.total = 0  # refusals since start, for hub/metrics.py

    def accepted(self, principal_id: str, address: str) -> None:
        """A valid token from `address`: who to name if a refused one comes from there."""
        if self._known.get(address) != principal_id:
            self._known[address] = principal_id
            self._known.move_to_end(address)
            if len(self._known) > ADDRESSES_KEPT:
                self._known.popitem(last=False)

    def refused(self, token_sha256: str, address: str, now: datetime) -> None:
        self.total += 1
        key = (token_sha256[:PREFIX_LEN], address)
        refusal = _most_recent(self._refusals, key, _Refusal(first_at=now, last_at=now))
        refusal.last_at, refusal.count, refusal.unlogged = (
            now,
            refusal.count + 1,
            refusal.unlogged + 1,
        )
        refusal.known_as = self._known.get(address) or refusal.known_as
        if refusal.logged_at is None or now - refusal.logged_at >= LOG_EVERY:
            self._log(key, refusal, now)

    def _log(self, key: tuple[str, str], refusal: _Refusal, now: datetime) -> None:
        held_back = self._budget.take(now)
        if held_back is None:
            return
        known = refusal.known_as
        log.warning(
            "refused token sha256:%s... from %s (%d time(s) since the last line%s)%s",
            key[0],
            key[1],
            refusal.unlogged,
            f"; {known} was last seen from there" if known else "",
            f"; {held_back} other refusal line(s) skipped" if held_back else "",
        )
        refusal.logged_at, refusal.unlogged = now, 0

    def recent(self, now: datetime) -> list[RefusedToken]:
        """The refusals of the last `KEPT_FOR`, most recent first."""
        return [
            RefusedToken(
                token_sha256_prefix=prefix,
                address=address,
                first_at=r.first_at,
                last_at=r.last_at,
                count=r.count,
                known_as=r.known_as,
            )
            for (prefix, address), r in reversed(self._refusals.items())
            if now - r.last_at <= KEPT_FOR
        ]


@dataclass
class _OutsideAttempt:
    desk_label: str
    site: str
    first_at: datetime
    last_at: datetime
    last_request: str
    count: int = 0
    alerts: int = 0
    logged_at: datetime | None = None
    unlogged: int = 0


class RefusedDesks:
    """Valid desk tokens used from outside their site's networks, by (desk, address).

    The same bounds as `RefusedTokens`: at most `KEPT` pairs for `KEPT_FOR`, one log line per
    pair and minute, `LOG_LINES_PER_MINUTE` lines in all. A token copied to a home computer
    shows up here (and on the pane) the first time it is tried, alert or not.
    """

    def __init__(self) -> None:
        self._attempts: OrderedDict[tuple[str, str], _OutsideAttempt] = OrderedDict()
        self._budget = _LogBudget()
        self.total = 0  # refusals since start, for hub/metrics.py

    def refused(
        self, desk: str, desk_label: str, site: str, address: str, request: str, now: datetime
    ) -> None:
        self.total += 1
        key = (desk, address)
        attempt = _most_recent(
            self._attempts,
            key,
            _OutsideAttempt(
                desk_label=desk_label, site=site, first_at=now, last_at=now, last_request=request
            ),
        )
        attempt.last_at, attempt.last_request = now, request
        attempt.count, attempt.unlogged = attempt.count + 1, attempt.unlogged + 1
        attempt.alerts += request == "POST /v1/alerts"
        if attempt.logged_at is None or now - attempt.logged_at >= LOG_EVERY:
            self._log(key, attempt, now)

    def _log(self, key: tuple[str, str], attempt: _OutsideAttempt, now: datetime) -> None:
        if self._budget.take(now) is None:
            return  # counted in the pair's next line
        log.warning(
            "refused desk %s (site %s) from %s, outside the site's networks: %s"
            " (%d time(s) since the last line)",
            key[0],
            attempt.site,
            key[1],
            attempt.last_request,
            attempt.unlogged,
        )
        attempt.logged_at, attempt.unlogged = now, 0

    def recent(self, now: datetime, sites: set[str] | None = None) -> list[RefusedDesk]:
        """The attempts of the last `KEPT_FOR` on `sites` (None: all), most recent first."""
        return [
            RefusedDesk(
                desk=desk,
                desk_label=a.desk_label,
                site=a.site,
                address=address,
                first_at=a.first_at,
                last_at=a.last_at,
                count=a.count,
                last_request=a.last_request,
                alerts=a.alerts,
            )
            for (desk, address), a in reversed(self._attempts.items())
            if now - a.last_at <= KEPT_FOR and (sites is None or a.site in sites)
        ]
