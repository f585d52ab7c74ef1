"""Presence shared through the store: every hub's heartbeats and supervisors' streams."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from deskalert.hub.store.connection import Connection
from deskalert.hub.store.core import StoreCore
from deskalert.hub.store.rows import instant
from deskalert.models import Event, EventType


class PresenceRows(StoreCore):
    """The presence table, the hubs' stream lines, and presence events."""

    def ensure_desks(self, desk_ids: Sequence[str]) -> None:
        """A presence row for each desk of the roster (offline, never seen) if it has none; a
        database from before version 2 takes each desk's state from its last presence event."""
        last = self.last_presence()
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO presence (desk, online, last_seen) VALUES (?,?,NULL)"
                " ON CONFLICT (desk) DO NOTHING",
                [(d, 1 if last.get(d, {}).get("online") else 0) for d in desk_ids],
            )

    def presence_rows(
        self, db: Connection | None = None
    ) -> dict[str, tuple[bool, datetime | None]]:
        rows = (db or self._db).execute("SELECT desk, online, last_seen FROM presence").fetchall()
        return {r[0]: (bool(r[1]), datetime.fromisoformat(r[2]) if r[2] else None) for r in rows}

    def share_live_state(
        self,
        hub_id: str,
        seen: dict[str, datetime],
        streams: str,
        now: datetime,
        alive_after: datetime,
    ) -> tuple[dict[str, tuple[bool, datetime | None]], dict[str, str]]:
        """One transaction per tick of a hub among others: the heartbeats it heard (each desk's
        last_seen moves forward, never back) and its supervisors' streams (JSON) go in; the
        presence table and the other live hubs' streams ({hub id: JSON}) come back."""
        with self._transaction() as db:
            if seen:
                db.executemany(
                    "UPDATE presence SET last_seen=? WHERE desk=? AND (last_seen IS NULL OR"
                    " last_seen<?)",
                    [(instant(t), d, instant(t)) for d, t in seen.items()],
                )
            db.execute(
                "INSERT INTO hub_streams (hub, streams, at) VALUES (?,?,?) ON CONFLICT"
                " (hub) DO UPDATE SET streams=excluded.streams, at=excluded.at",
                (hub_id, streams, instant(now)),
            )
            rows = db.execute(
                "SELECT hub, streams FROM hub_streams WHERE hub!=? AND at>=?",
                (hub_id, instant(alive_after)),
            ).fetchall()
            return self.presence_rows(db), {r[0]: r[1] for r in rows}

    def grace_online(self, now: datetime, silent_before: datetime) -> None:
        """Desks online but silent since before `silent_before` are given until now + the
        offline delay: what a hub that starts leading cannot know (heard by a hub now gone)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE presence SET last_seen=? WHERE online=1 AND (last_seen IS NULL OR"
                " last_seen<?)",
                (instant(now), instant(silent_before)),
            )

    def set_presence(
        self,
        desk_id: str,
        online: bool,
        now: datetime,
        silent_before: datetime | None,
        data: dict[str, Any],
        site: str,
    ) -> Event | None:
        """Turn a desk on- or offline and append its event, only if it is not so already (and,
        going offline, only if no hub heard it since `silent_before`); None if nothing changed.
        Two hubs hearing the same desk come back online write one desk.online between them."""
        with self._transaction() as db:
            return self.presence_in(db, desk_id, online, now, silent_before, data, site)

    def presence_in(
        self,
        db: Connection,
        desk_id: str,
        online: bool,
        now: datetime,
        silent_before: datetime | None,
        data: dict[str, Any],
        site: str,
    ) -> Event | None:
        """`set_presence` inside the caller's transaction (a group of desks coming online)."""
        if online:
            changed = db.execute(
                "UPDATE presence SET online=1, last_seen=? WHERE desk=? AND online=0",
                (instant(now), desk_id),
            ).rowcount
        else:
            where, params = "desk=? AND online=1", [desk_id]
            if silent_before is not None:
                where += " AND (last_seen IS NULL OR last_seen<?)"
                params.append(instant(silent_before))
            changed = db.execute(f"UPDATE presence SET online=0 WHERE {where}", params).rowcount
        if not changed:
            return None
        event_type = EventType.DESK_ONLINE if online else EventType.DESK_OFFLINE
        return self.append(db, event_type, now, site, data)

    def forget_streams(self, hub_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM hub_streams WHERE hub=?", (hub_id,))

    def last_presence(self) -> dict[str, dict[str, Any]]:
        """The last presence event's data for each desk (to resume presence after a restart)."""
        rows = self._db.execute(
            "SELECT data FROM events WHERE id IN (SELECT MAX(id) FROM events"
            " WHERE type IN (?,?) GROUP BY subject)",
            (EventType.DESK_ONLINE.value, EventType.DESK_OFFLINE.value),
        ).fetchall()
        return {data["id"]: data for data in (json.loads(r[0]) for r in rows)}
