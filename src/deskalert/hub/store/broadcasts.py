"""Broadcasts (supervisors' messages to every desk of some sites): their shared SQL
(hub/broadcasts.py decides).

A broadcast and the events that announce it (one per site it goes to) are written in one
transaction; its reads live in its body, changed under the row lock (`row_lock`: FOR UPDATE on
PostgreSQL), so a desk's "lu" is stored exactly once whatever hub it reaches.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from deskalert.hub.store.connection import Connection
from deskalert.hub.store.core import StoreCore
from deskalert.hub.store.rows import ALL_ROWS, instant, next_cursor, page_of_period
from deskalert.models import Broadcast, BroadcastState, Event, EventType

T = TypeVar("T")


class BroadcastRows(StoreCore):
    """The broadcasts table, read and written inside the caller's transaction."""

    def in_broadcasts(self, write: Callable[[Connection], T]) -> T:
        """`write(db)` in one transaction; what it returns once committed."""
        with self._transaction() as db:
            return write(db)

    def broadcast_in(
        self, db: Connection, broadcast_id: UUID, lock: bool = False
    ) -> Broadcast | None:
        row = db.execute(
            f"SELECT body FROM broadcasts WHERE id=?{self.row_lock if lock else ''}",
            (str(broadcast_id),),
        ).fetchone()
        return Broadcast.model_validate_json(row[0]) if row else None

    def add_broadcast(self, db: Connection, broadcast: Broadcast) -> list[Event] | None:
        """A new broadcast and its broadcast.sent events; None if the id is stored already
        (by another hub meanwhile: PostgreSQL waits for its commit)."""
        added = db.execute(
            "INSERT INTO broadcasts (id, state, sent_at, body) VALUES (?,?,?,?)"
            " ON CONFLICT (id) DO NOTHING",
            _row(broadcast),
        ).rowcount
        if not added:
            return None
        return self._announce(db, broadcast, EventType.BROADCAST_SENT, broadcast.sites)

    def put_broadcast(
        self,
        db: Connection,
        broadcast: Broadcast,
        event_type: EventType,
        sites: list[str] | None = None,
    ) -> list[Event]:
        """Write the broadcast's new state, and `event_type` once per site of `sites`
        (default: all its sites)."""
        db.execute(
            "UPDATE broadcasts SET state=?, body=? WHERE id=?",
            (broadcast.state.value, broadcast.model_dump_json(), str(broadcast.id)),
        )
        return self._announce(
            db, broadcast, event_type, broadcast.sites if sites is None else sites
        )

    def _announce(
        self, db: Connection, broadcast: Broadcast, event_type: EventType, sites: list[str]
    ) -> list[Event]:
        data = broadcast.model_dump(mode="json")
        return [self.append(db, event_type, broadcast.updated_at, site, data) for site in sites]

    def current_broadcasts(
        self, db: Connection | None = None, lock: bool = False
    ) -> list[Broadcast]:
        """Broadcasts not ended, oldest first."""
        rows = (
            (db or self._db)
            .execute(
                "SELECT body FROM broadcasts WHERE state=? ORDER BY sent_at, id"
                f"{self.row_lock if lock else ''}",
                (BroadcastState.CURRENT.value,),
            )
            .fetchall()
        )
        return [Broadcast.model_validate_json(r[0]) for r in rows]

    def list_broadcasts(
        self,
        since: datetime | None,
        until: datetime | None,
        limit: int = -1,
        after: list[str] | None = None,
    ) -> tuple[list[Broadcast], str | None]:
        """Broadcasts sent in [since, until), current or ended, oldest first: one page of
        `limit` (-1: all) after the cursor's key (sent_at, id), and the next cursor."""
        clauses: list[str] = ["1=1"]
        params: list[object] = []
        page_of_period(clauses, params, "sent_at", (since, until), "(sent_at, id)", after)
        rows = self._db.execute(
            f"SELECT sent_at, id, body FROM broadcasts WHERE {' AND '.join(clauses)}"
            " ORDER BY sent_at, id LIMIT ?",
            (*params, limit + 1 if limit >= 0 else ALL_ROWS),
        ).fetchall()
        page = rows[:limit] if limit >= 0 else rows
        found = [Broadcast.model_validate_json(r[2]) for r in page]
        return found, next_cursor(rows, limit) if limit >= 0 else None

    def get_broadcast(self, broadcast_id: UUID) -> Broadcast | None:
        return self.broadcast_in(self._db, broadcast_id)


def _row(broadcast: Broadcast) -> tuple[str, str, str, str]:
    return (
        str(broadcast.id),
        broadcast.state.value,
        instant(broadcast.sent_at),
        broadcast.model_dump_json(),
    )
