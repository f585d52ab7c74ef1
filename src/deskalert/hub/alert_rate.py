"""How many new alerts a desk may raise: one count across the hubs of a database.

A token bucket per desk (`alert_burst` back to back, then `alerts_per_minute`), full after a
quiet spell, so a desk's first alert is never refused. Only alerts stored as new take a token:
a replay of a stored id gives it back, and a drill (`test`) counts as any alert. The alerts an
interview check raises on behalf of a desk (hub/interview.py) never took one: they are the
hub's, not the desk's.

With several hubs on one PostgreSQL, a desk spreading its alerts over its `[hub] urls` must not
get a burst per hub. No write per alert is added: every hub already sees every committed event
through the event tail (hub/cluster.py), so when it sees `alert.raised` for an alert it did not
take a token for itself (raised through another hub), it takes one from that desk's bucket
(`follow`). The ids it took a token for are remembered until the tail passes them (bounded).
An interview's alert is followed, in the same transaction, by its check's event naming it
(`check.answered`, `check.unanswered`): that event gives its token back, as the hub that raised
it never took one.

What remains: an alert raised through another hub counts here once the tail has brought it
(milliseconds; `POLL_S` at most if a notification is lost; the whole outage if this hub cannot
read the database). So across N hubs a desk gets at most `alert_burst` + the refill + what it
raised at the other hubs within that delay. A bucket charged by the tail stops at 0: what the
other hubs let through within the delay is not carried as a debt.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar
from uuid import UUID

from deskalert.hub.budget import TokenBuckets
from deskalert.hub.clock import Clock
from deskalert.models import Event, EventType

MAX_REMEMBERED = 10_000  # ids this hub stored and the tail has not passed yet (a tail outage)
MAX_CHARGED = 1_000  # ids charged from the tail, for the check event that follows them
CHECK_EVENTS = frozenset({EventType.CHECK_ANSWERED, EventType.CHECK_UNANSWERED})
V = TypeVar("V")


class AlertRate(TokenBuckets):
    """The desks' token buckets, kept in step with the alerts the other hubs store."""

    def __init__(
        self, burst: int, per_minute: float, clock: Clock | None = None, shared: bool = False
    ) -> None:
        super().__init__(burst, per_minute / 60, clock)
        self.shared = shared  # several hubs on one database: the tail calls `follow`
        self._raising: dict[UUID, bool] = {}  # a token taken, not answered yet: tail passed it?
        self._stored: OrderedDict[UUID, None] = OrderedDict()  # stored here, tail not past it
        # Charged by the tail: the desk, and what was taken (less than 1 from a bucket near 0).
        self._charged: OrderedDict[UUID, tuple[str, float]] = OrderedDict()

    def begin(self, desk: str, alert_id: UUID) -> float | None:
        """Take one of `desk`'s tokens for raising `alert_id` (None), or the seconds until
        it may; `end` says how it went."""
        wait_s = self.take(desk)
        if wait_s is None:
            self._raising[alert_id] = False
        return wait_s

    def end(self, desk: str, alert_id: UUID, created: bool) -> None:
        """`alert_id`, raised after `begin`, was stored now (`created`) or not (a replay, a
        refusal, a failure): the token stays, or is given back."""
        passed = self._raising.pop(alert_id, False)
        if passed:
            return  # the tail passed it meanwhile and left it to this token: it stays
        if not created:
            self.give_back(desk)
        elif self.shared:
            _remember(self._stored, alert_id, None, MAX_REMEMBERED)

    def follow(self, event: Event) -> None:
        """An event committed by any hub of the database, from the tail, in id order."""
        if event.type is EventType.ALERT_RAISED:
            self._raised(UUID(str(event.data["id"])), str(event.data["desk"]))
        elif event.type in CHECK_EVENTS and event.data.get("alert_id") is not None:
            charged = self._charged.pop(UUID(str(event.data["alert_id"])), None)
            if charged is not None:  # the interview's alert: the hub's, not the desk's
                desk, taken = charged
                self._set(desk, min(self.burst, self._tokens(desk) + taken))

    def _raised(self, alert_id: UUID, desk: str) -> None:
        if alert_id in self._raising:
            self._raising[alert_id] = True
        elif alert_id in self._stored:
            del self._stored[alert_id]  # this hub's own: its token was taken at `begin`
        else:
            _remember(self._charged, alert_id, (desk, self.charge(desk)), MAX_CHARGED)

    def charge(self, desk: str) -> float:
        """One token less for `desk`, down to none: an alert it raised through another hub;
        what was taken."""
        tokens = self._tokens(desk)
        self._set(desk, max(0.0, tokens - 1))
        return min(1.0, tokens)


def _remember(memory: OrderedDict[UUID, V], key: UUID, value: V, bound: int) -> None:
    memory[key] = value
    if len(memory) > bound:
        memory.popitem(last=False)  # the oldest: bounded memory, whatever the tail does
