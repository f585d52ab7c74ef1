"""The store's broadcast queries (hub/broadcasts.py decides), mixed into Store: written once in
the SQL both databases read, like the alerts'. A broadcast and the events that announce it (one
per site it goes to) are written in one transaction; its reads live in its body, changed under
the row lock, so a desk's "lu" is stored exactly once whatever hub it reaches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from deskalert.models import Broadcast, BroadcastState, Event, EventType

T = TypeVar("T")

# The table, as migration 4 of hub/store.py's MIGRATIONS.
BROADCASTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS broadcasts (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS broadcasts_state ON broadcasts(state, sent_at);
"""


class BroadcastStore:
    """Broadcast rows, read and written inside the caller's transaction (`in_broadcasts`)."""

    if TYPE_CHECKING:  # Store's own
        _db: Any
        row_lock: str

        def _transaction(self) -> AbstractContextManager[Any]: ...

        def _append(self, db: Any, event_type: EventType, at: datetime,
                    site: str | None, payload: Any) -> Event: ...

    def in_broadcasts(self, write: Callable[[Any], T]) -> T:
        """`write(db)` in one transaction; what it returns once committed."""
        with self._transaction() as db:
            return write(db)

    def broadcast_in(self, db: Any, broadcast_id: UUID, lock: bool = False) -> Broadcast | None:
        row = db.execute(f"SELECT body FROM broadcasts WHERE id=?{self.row_lock if lock else ''}",
                         (str(broadcast_id),)).fetchone()
        return Broadcast.model_validate_json(row[0]) if row else None

    def put_broadcast(self, db: Any, broadcast: Broadcast, event_type: EventType,
                      sites: list[str] | None = None) -> list[Event]:
        """Insert or update the broadcast, and append `event_type` once per site of `sites`
        (default: all its sites)."""
        db.execute(
            "INSERT INTO broadcasts (id, state, sent_at, body) VALUES (?,?,?,?)"
            " ON CONFLICT (id) DO UPDATE SET state=excluded.state, body=excluded.body",
            _row(broadcast),
        )
        return [self._append(db, event_type, broadcast.updated_at, site,
                             broadcast.model_dump(mode="json"))
                for site in (broadcast.sites if sites is None else sites)]

    def add_broadcast(self, db: Any, broadcast: Broadcast) -> list[Event] | None:
        """A new broadcast and its broadcast.sent events; None if the id is stored already."""
        added = db.execute(
            "INSERT INTO broadcasts (id, state, sent_at, body) VALUES (?,?,?,?)"
            " ON CONFLICT (id) DO NOTHING",
            _row(broadcast),
        ).rowcount
        if not added:
            return None
        return [self._append(db, EventType.BROADCAST_SENT, broadcast.updated_at, site,
                             broadcast.model_dump(mode="json")) for site in broadcast.sites]

    def current_broadcasts(self, db: Any = None, lock: bool = False) -> list[Broadcast]:
        """Broadcasts not ended, oldest first."""
        rows = (db or self._db).execute(
            "SELECT body FROM broadcasts WHERE state=? ORDER BY sent_at, id"
            f"{self.row_lock if lock else ''}", (BroadcastState.CURRENT.value,),
        ).fetchall()
        return [Broadcast.model_validate_json(r[0]) for r in rows]

    def get_broadcast(self, broadcast_id: UUID) -> Broadcast | None:
        return self.broadcast_in(self._db, broadcast_id)


def _row(broadcast: Broadcast) -> tuple[str, str, str, str]:
    """(id, state, sent_at, body); sent_at in UTC to the microsecond, so text order is time
    order (as store.instant writes it)."""
    sent_at = broadcast.sent_at.astimezone(UTC).isoformat(timespec="microseconds")
    return str(broadcast.id), broadcast.state.value, sent_at, broadcast.model_dump_json()


def iter_sites(broadcasts: list[Broadcast], sites: set[str] | None) -> Iterator[Broadcast]:
    """Those of `broadcasts` that go to one of `sites` (None: all)."""
    return (b for b in broadcasts if sites is None or not sites.isdisjoint(b.sites))
