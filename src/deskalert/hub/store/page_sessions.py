"""Page sessions ended by a logout: their ids until the cookie would have expired."""

from __future__ import annotations

from datetime import datetime

from deskalert.hub.store.core import StoreCore
from deskalert.hub.store.rows import instant


class RevokedSessionRows(StoreCore):
    """The `revoked_sessions` table (schema version 4)."""

    def revoke_session(self, session_id: str, expires: datetime, now: datetime) -> None:
        """Record a logout (idempotent), and forget the revocations that have expired: a
        cookie past its expiry is refused without them."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO revoked_sessions (id, expires) VALUES (?,?)"
                " ON CONFLICT (id) DO NOTHING",
                (session_id, instant(expires)),
            )
            db.execute("DELETE FROM revoked_sessions WHERE expires<?", (instant(now),))

    def revoked_sessions(self, now: datetime) -> dict[str, datetime]:
        """The sessions revoked and not yet expired: {id: expiry}."""
        rows = self._db.execute(
            "SELECT id, expires FROM revoked_sessions WHERE expires>=?", (instant(now),)
        ).fetchall()
        return {r[0]: datetime.fromisoformat(r[1]) for r in rows}
