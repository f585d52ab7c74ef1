"""Broadcasts: a supervisor's message to every desk of one site or several, acknowledged.

A supervisor sends a kind of the roster (`[broadcasts]`, hub/broadcast_roster.py) with a text,
or one of the roster's templates, to sites they may send to; every desk of those sites shows it
and says "lu" once; the leader's tick names the desks that have not read it once the roster's
delay has passed; a supervisor ends it, or a kind that `ends` (`fin-alerte`) ends the current
broadcasts of its sites.

Stored and fanned out like alerts: each change is one transaction on the store thread holding
the broadcast and its events (one per site it goes to, so each desk's stream carries its own
site's), published after the commit; a stream replays them after a reconnect, and a desk reads
the current ones (`GET /v1/broadcasts`) after each snapshot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from deskalert.errors import Conflict, Forbidden, NotFound, Unprocessable
from deskalert.hub.settings import HubConfig, Principal
from deskalert.hub.store import Store, decode_cursor
from deskalert.models import (
    Broadcast,
    BroadcastDesk,
    BroadcastIn,
    BroadcastRead,
    BroadcastState,
    Event,
    EventType,
)
from deskalert.models.broadcasts import BroadcastKind

Db = Callable[..., Awaitable[Any]]
# What a resend of the same id must repeat to be a retry (else 409).
RESEND_FIELDS = ("kind", "text", "sites", "sender")


class Broadcasts:
    """The rules of broadcasts; the store is reached through `db` (the hub's store thread) and
    each committed event handed to `publish` on that thread, as the hub does for alerts."""

    def __init__(
        self,
        config: HubConfig,
        store: Store,
        db: Db,
        publish: Callable[[Event], None],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self._db, self._publish, self.now = store, db, publish, now
        self.reindex(config)

    def reindex(self, config: HubConfig) -> None:
        """The roster's kinds, templates, sites, desks and senders, read again (at start and
        at each reload: hub/roster_swap.py); broadcasts already sent keep what they were."""
        self.roster = config.broadcasts
        self._site_ids = [s.id for s in config.sites]
        self._desks = {d.id: d for d in config.desks}
        self._sender_sites = {s.id: set(s.sites) or set(self._site_ids) for s in config.supervisors}

    # -- who may -------------------------------------------------------------------------

    def sites_of(self, principal: Principal) -> set[str]:
        """The sites whose broadcasts the caller sees: a desk its own, a supervisor theirs."""
        if principal.is_supervisor:
            return self._sender_sites.get(principal.id, set(self._site_ids))
        assert principal.site is not None
        return {principal.site}

    def _sender_may(self, principal: Principal, sites: list[str], verb: str) -> None:
        if not principal.is_supervisor:
            raise Forbidden(f"only a supervisor {verb} a broadcast; a desk reads it")
        unknown = [s for s in sites if s not in self._site_ids]
        if unknown:
            raise Unprocessable(
                f"unknown site {unknown[0]!r} (known: {', '.join(self._site_ids)})",
                code="unknown_site",
            )
        outside = sorted(set(sites) - self.sites_of(principal))
        if outside:
            raise Forbidden(
                f"supervisor {principal.id} does not send to site {outside[0]!r}"
                f" (theirs: {', '.join(sorted(self.sites_of(principal)))})",
                code="site_not_yours",
            )

    # -- send ------------------------------------------------------------------------------

    async def send(self, principal: Principal, body: BroadcastIn) -> tuple[Broadcast, bool]:
        """Store a new broadcast (and, for a kind that ends, end the current ones of its
        sites), or answer the stored one for a resent id: (broadcast, created)."""
        sites = list(dict.fromkeys(body.sites))
        self._sender_may(principal, sites, "sends")
        kind, text, text_en = self._kind_and_text(body)
        broadcast = self._new(principal, body.id, kind, (text, text_en), sites)
        stored: tuple[Broadcast, bool] = await self._db(self._store_new, broadcast, kind.ends)
        return stored

    def _new(
        self,
        principal: Principal,
        broadcast_id: UUID,
        kind: BroadcastKind,
        texts: tuple[str, str],
        sites: list[str],
    ) -> Broadcast:
        text, text_en = texts
        now = self.now()
        desks = [
            BroadcastDesk(id=d.id, label=d.label, site=d.site)
            for d in self._desks.values()
            if d.site in sites
        ]
        return Broadcast(
            id=broadcast_id,
            kind=kind.id,
            label=kind.label,
            label_en=kind.label_en,
            look=kind.look,
            protocol=kind.protocol,
            protocol_en=kind.protocol_en,
            text=text,
            text_en=text_en,
            sites=sites,
            sender=principal.id,
            sender_name=principal.name,
            sent_at=now,
            state=BroadcastState.CURRENT,
            desks=desks,
            unread_after_s=self.roster.unread_after_s,
            updated_at=now,
        )

    def _kind_and_text(self, body: BroadcastIn) -> tuple[BroadcastKind, str, str]:
        """The kind and text of a template (its text may be replaced), or as given."""
        text, text_en, kind_id = body.text, "", body.kind
        if body.template is not None:
            template = self.roster.template(body.template)
            if template is None:
                known = ", ".join(t.id for t in self.roster.templates) or "none"
                raise Unprocessable(
                    f"unknown template {body.template!r} (known: {known})", code="unknown_template"
                )
            kind_id = kind_id or template.kind
            if text is None or text == template.text:
                text, text_en = template.text, template.text_en
        if kind_id is None or text is None:
            raise Unprocessable("give a template, or a kind and a text", code="missing_text")
        kind = self.roster.kind(kind_id)
        if kind is None:
            known = ", ".join(k.id for k in self.roster.kinds)
            raise Unprocessable(f"unknown kind {kind_id!r} (known: {known})", code="unknown_kind")
        return kind, text, text_en

    def _store_new(self, broadcast: Broadcast, ends: bool) -> tuple[Broadcast, bool]:
        """On the store thread: the broadcast, its events, the ones it ends; then publish."""

        def write(db: Any) -> tuple[Broadcast, bool, list[Event]]:
            stored = self.store.broadcast_in(db, broadcast.id)
            if stored is None:
                events = self.store.add_broadcast(db, broadcast)
                if events is not None:
                    if ends:
                        events += self._end_current(db, broadcast)
                    return broadcast, True, events
                stored = self.store.broadcast_in(db, broadcast.id)  # another hub's, just now
                assert stored is not None
            differing = [f for f in RESEND_FIELDS if getattr(stored, f) != getattr(broadcast, f)]
            if differing:
                raise Conflict(
                    f"broadcast id {broadcast.id} is already stored with another"
                    f" {', '.join(differing)}; a new broadcast needs a new id",
                    code="broadcast_id_reused",
                )
            return stored, False, []

        stored, created, events = self.store.in_broadcasts(write)
        self._publish_all(events)
        return stored, created

    def _end_current(self, db: Any, by: Broadcast) -> list[Event]:
        """End the current broadcasts whose sites are all among `by`'s (a fin d'alerte for one
        site leaves a broadcast that also goes to another site current)."""
        events: list[Event] = []
        for current in self.store.current_broadcasts(db, lock=True):
            if current.id != by.id and set(current.sites) <= set(by.sites):
                ended = _ended(current, (by.sender, by.sender_name), by.sent_at)
                events += self.store.put_broadcast(db, ended, EventType.BROADCAST_ENDED)
        return events

    # -- read, end, list -------------------------------------------------------------------

    async def read(self, principal: Principal, broadcast_id: UUID) -> Broadcast:
        """A desk says "lu": stored once (a second "lu" answers the broadcast unchanged)."""
        if principal.is_supervisor:
            raise Forbidden("a desk says it read a broadcast; a supervisor sees who did")

        def change(broadcast: Broadcast) -> tuple[Broadcast, list[str]] | None:
            if not any(d.id == principal.id for d in broadcast.desks):
                raise Forbidden(f"broadcast {broadcast.id} is not for desk {principal.id}")
            if broadcast.read_by(principal.id) is not None:
                return None
            now = self.now()
            reads = [*broadcast.reads, BroadcastRead(desk=principal.id, at=now)]
            return (
                broadcast.model_copy(update={"reads": reads, "updated_at": now}),
                [principal.site or ""],
            )

        return await self._update(broadcast_id, change, EventType.BROADCAST_READ)

    async def end(self, principal: Principal, broadcast_id: UUID) -> Broadcast:
        """A supervisor ends a broadcast (every desk shows it ended); ending it again is 200."""

        def change(broadcast: Broadcast) -> tuple[Broadcast, list[str]] | None:
            self._sender_may(principal, broadcast.sites, "ends")
            if broadcast.state is BroadcastState.ENDED:
                return None
            ender = (principal.id, principal.name)
            return _ended(broadcast, ender, self.now()), broadcast.sites

        return await self._update(broadcast_id, change, EventType.BROADCAST_ENDED)

    async def get(self, principal: Principal, broadcast_id: UUID) -> Broadcast:
        broadcast: Broadcast | None = await self._db(self.store.get_broadcast, broadcast_id)
        if broadcast is None or self.sites_of(principal).isdisjoint(broadcast.sites):
            raise NotFound(f"no broadcast {broadcast_id}")
        return broadcast

    async def current(self, principal: Principal, site: str | None) -> list[Broadcast]:
        """The current broadcasts of the caller's sites (or of `site` among them)."""
        sites = self._seen_sites(principal, site)
        return list(iter_sites(await self._db(self.store.current_broadcasts), sites))

    def _seen_sites(self, principal: Principal, site: str | None) -> set[str]:
        """The caller's sites, or `site` if it is one of them (404 unknown, 403 not theirs)."""
        sites = self.sites_of(principal)
        if site is None:
            return sites
        if site not in self._site_ids:
            raise NotFound(f"unknown site {site!r}", code="unknown_site")
        if site not in sites:
            raise Forbidden(f"{principal.id} does not see the broadcasts of site {site!r}")
        return {site}

    async def sent_in(
        self,
        principal: Principal,
        site: str | None,
        period: tuple[datetime | None, datetime | None],
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Broadcast], str | None]:
        """The broadcasts sent in [since, until) to the caller's sites (or `site`), current or
        ended, for
        the debrief: a page of `limit` rows of the table (fewer when some go to other sites)
        and the next page's cursor."""
        sites = self._seen_sites(principal, site)
        after = decode_cursor(cursor, 2) if cursor is not None else None
        found, next_cursor = await self._db(self.store.list_broadcasts, *period, limit, after)
        return list(iter_sites(found, sites)), next_cursor

    async def _update(
        self,
        broadcast_id: UUID,
        change: Callable[[Broadcast], tuple[Broadcast, list[str]] | None],
        event_type: EventType,
    ) -> Broadcast:
        def write(db: Any) -> tuple[Broadcast, list[Event]]:
            current = self.store.broadcast_in(db, broadcast_id, lock=True)
            if current is None:
                raise NotFound(f"no broadcast {broadcast_id}")
            outcome = change(current)
            if outcome is None:
                return current, []
            changed, sites = outcome
            return changed, self.store.put_broadcast(db, changed, event_type, sites)

        def run() -> Broadcast:
            broadcast, events = self.store.in_broadcasts(write)
            self._publish_all(events)
            return broadcast

        updated: Broadcast = await self._db(run)
        return updated

    # -- time passing (the leader's tick) --------------------------------------------------

    async def tick(self, now: datetime) -> None:
        """Name the desks that have not read a broadcast once its delay has passed (once)."""
        for broadcast in await self._db(self.store.current_broadcasts):
            due = broadcast.sent_at + timedelta(seconds=broadcast.unread_after_s)
            if broadcast.unread_named_at is None and now >= due:
                await self._update(broadcast.id, _unread_named(now), EventType.BROADCAST_UNREAD)

    def _publish_all(self, events: list[Event]) -> None:
        for event in events:
            self._publish(event)


def iter_sites(broadcasts: list[Broadcast], sites: set[str] | None) -> Iterator[Broadcast]:
    """Those of `broadcasts` that go to one of `sites` (None: all)."""
    return (b for b in broadcasts if sites is None or not sites.isdisjoint(b.sites))


def _ended(broadcast: Broadcast, by: tuple[str, str], at: datetime) -> Broadcast:
    """Ended at `at` by `by` (id, name)."""
    ender, name = by
    return broadcast.model_copy(
        update={
            "state": BroadcastState.ENDED,
            "ended_at": at,
            "ended_by": ender,
            "ended_by_name": name,
            "updated_at": at,
        }
    )


def _unread_named(now: datetime) -> Callable[[Broadcast], tuple[Broadcast, list[str]] | None]:
    def change(broadcast: Broadcast) -> tuple[Broadcast, list[str]] | None:
        if broadcast.unread_named_at is not None or broadcast.state is BroadcastState.ENDED:
            return None  # named or ended meanwhile (by another hub's tick)
        sites = list(dict.fromkeys(d.site for d in broadcast.unread()))
        named = broadcast.model_copy(update={"unread_named_at": now, "updated_at": now})
        return named, sites  # every desk read it: stored, no event

    return change
