"""The on-call cards the hub shows and announces: one per site, kept current.

A card is computed (hub/oncall.py: override, calendar, weekly slots) for the time of `now`,
and announced by an `oncall.changed` event when it changes: a supervisor's override, or time
passing (a slot starts, an override ends, a calendar event starts or ends). Only the leading
hub announces what time changes; the others follow the clock alone and the leader's events.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from deskalert.errors import Forbidden, Unprocessable
from deskalert.hub.calendar import CalendarBook
from deskalert.hub.oncall import compute_oncall
from deskalert.hub.roster import Roster
from deskalert.hub.runtime import Runtime
from deskalert.hub.settings import HubConfig, Principal
from deskalert.models import EventType, OnCall

Overrides = dict[str, tuple[str, datetime]]


class OnCallBoard:
    """Each site's card now, the overrides, and the events that announce a change."""

    def __init__(
        self, config: HubConfig, runtime: Runtime, roster: Roster, overrides: Overrides
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.roster = roster
        self._overrides = overrides
        self._cards: dict[str, OnCall] = {}
        # The time cards are computed for: tests set another here to move through a calendar's
        # events without waiting; events are still stamped with the runtime's clock.
        self.now: Callable[[], datetime] = runtime.clock.now
        self.calendars = CalendarBook(config, runtime.store.path.parent, lambda: self.now())

    def start(self) -> None:
        self._cards = {site: self.compute(site) for site in self.roster.site_ids}

    def reindex(self, calendars: CalendarBook | None) -> CalendarBook | None:
        """A reloaded roster: removed sites' cards dropped (a new site's is announced by the
        next `refresh`); with `calendars`, those read from it from now on. The book replaced,
        to stop."""
        self._cards = {s: card for s, card in self._cards.items() if s in self.roster.sites}
        if calendars is None:
            return None
        stale, self.calendars = self.calendars, calendars
        return stale

    def card(self, site: str) -> OnCall | None:
        """The card last announced for `site` (None before start)."""
        return self._cards.get(site)

    def compute(self, site: str, overrides: Overrides | None = None) -> OnCall:
        """The card of `site` now (by `now`): override, calendar, weekly slots."""
        now = self.now()
        override = (self._overrides if overrides is None else overrides).get(site)
        return compute_oncall(self.config, site, now, override, self.calendars.answer(site, now))

    def chain(self, site: str) -> list[str]:
        """Who an alert of `site` raised now escalates to, in order."""
        oncall = self.compute(site)
        return [p.id for p in ([oncall.supervisor] if oncall.supervisor else []) + oncall.chain]

    def cards(self, principal: Principal, site: str | None) -> list[OnCall]:
        sites = self.roster.visible_sites(principal, site)
        return [self.compute(s) for s in self.roster.site_ids if sites is None or s in sites]

    async def override(self, principal: Principal, site: str, until: datetime | None) -> OnCall:
        """A supervisor takes the shift of `site` until `until`; None hands it back."""
        if not principal.is_supervisor:
            raise Forbidden("only a supervisor takes or hands back an on-call shift")
        self.roster.visible_sites(principal, site)
        now = self.runtime.clock.now()
        if until is not None:
            if until <= now:
                raise Unprocessable("until must be in the future", code="invalid_until")
            if until - now > timedelta(days=7):
                raise Unprocessable("an override lasts at most 7 days", code="invalid_until")
        taken = (principal.id, until.astimezone(UTC)) if until is not None else None
        await self.runtime.db(self._store_override, site, taken, now)
        return self._cards[site]

    def _store_override(self, site: str, taken: tuple[str, datetime] | None, now: datetime) -> None:
        """On the store thread: the override and its oncall.changed event in one commit, and
        the hub's own view of them changed only after it."""
        overrides = {k: v for k, v in self._overrides.items() if k != site}
        if taken is not None:
            overrides[site] = taken
        current = self.compute(site, overrides)
        changed = current != self._cards.get(site)
        supervisor, until = taken if taken is not None else (None, None)
        event = self.runtime.store.set_override(
            site, supervisor, until, now, current.model_dump(mode="json") if changed else None
        )
        self._overrides, self._cards[site] = overrides, current
        if event is not None:
            self.runtime.publish(event)

    async def refresh(self, now: datetime, leading: bool) -> None:
        """Time passed: the leader announces each card that changed; a follower's card
        follows the clock alone (the leader's event comes through the event table)."""
        for site in self.roster.site_ids:
            if self.compute(site) != self._cards.get(site):
                if leading:
                    await self.runtime.db(self._store_oncall, site, now)
                else:
                    self._cards[site] = self.compute(site)

    def _store_oncall(self, site: str, now: datetime) -> None:
        """On the store thread: emit oncall.changed, and take the new card only once stored."""
        current = self.compute(site)
        if current == self._cards.get(site):
            return  # an override stored meanwhile already announced it
        event = self.runtime.store.append_event(
            EventType.ONCALL_CHANGED, now, site, current.model_dump(mode="json")
        )
        self._cards[site] = current
        self.runtime.publish(event)

    def follow_overrides(self, overrides: Overrides) -> None:
        """The overrides as the event table's reader read them (any hub may have set one)."""
        self._overrides = overrides

    def follow(self, site: str | None) -> None:
        """Another hub announced a change of `site`'s card (oncall.changed)."""
        if site is not None and site in self.roster.sites:
            self._cards[site] = self.compute(site)
