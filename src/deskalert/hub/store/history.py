"""The shared SQL of alerts' history: lists and pages, events, notes, retention, figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from deskalert.hub.store.core import StoreCore
from deskalert.hub.store.outbox import NOTIFICATION_DONE
from deskalert.hub.store.rows import (
    ALL_ROWS,
    OPEN_STATES,
    event_of,
    instant,
    next_cursor,
    page_of_period,
)
from deskalert.models import Alert, AlertState, Event, EventType, Note


class HistoryRows(StoreCore):
    """Reads of alerts and events, notes, the purge, counts, and the meta table."""

    def list_alerts(
        self,
        *,
        open_only: bool,
        site: str | None,
        since: datetime | None,
        limit: int,
        after: list[str] | None = None,
    ) -> tuple[list[Alert], str | None]:
        """Alerts newest first, one page of `limit` after the cursor's key, and the next cursor."""
        clauses: list[str] = ["1=1"]
        params: list[object] = []
        if open_only:
            clauses.append("state IN (?,?)")
            params.extend(OPEN_STATES)
        if site is not None:
            clauses.append("site=?")
            params.append(site)
        if since is not None:
            clauses.append("received_at>=?")
            params.append(instant(since))
        if after is not None:
            clauses.append("(received_at, id) < (?, ?)")
            params.extend(after)
        rows = self._db.execute(
            f"SELECT received_at, id, body FROM alerts WHERE {' AND '.join(clauses)}"
            " ORDER BY received_at DESC, id DESC LIMIT ?",
            (*params, limit + 1),
        ).fetchall()
        return [Alert.model_validate_json(r[2]) for r in rows[:limit]], next_cursor(rows, limit)

    def unanswered_alerts(self, received_before: datetime | None = None) -> list[Alert]:
        """Open alerts (none answered yet); `received_before`: only those received before it
        (read and parsed on the store thread, so the ticker does not parse every open alert
        twice a second while desks wait for their commits)."""
        where, params = "state=?", [AlertState.OPEN.value]
        if received_before is not None:
            where += " AND received_at<=?"
            params.append(instant(received_before))
        rows = self._db.execute(f"SELECT body FROM alerts WHERE {where}", params).fetchall()
        return [Alert.model_validate_json(row[0]) for row in rows]

    def events_after(
        self, last_id: int, sites: set[str] | None, limit: int, desk_id: str | None = None
    ) -> list[Event]:
        """Events with id > last_id, oldest first; `sites` keeps those sites and global events;
        `desk_id` leaves out other desks' presence (what a desk's stream carries)."""
        where = "id>?"
        params: list[object] = [last_id]
        if sites is not None:
            where += f" AND (site IS NULL OR site IN ({','.join('?' * len(sites))}))"
            params.extend(sorted(sites))
        if desk_id is not None:
            where += " AND (type NOT IN (?,?) OR subject=?)"
            params.extend((EventType.DESK_ONLINE.value, EventType.DESK_OFFLINE.value, desk_id))
        rows = self._db.execute(
            f"SELECT id, type, at, site, data FROM events WHERE {where} ORDER BY id LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [event_of(r) for r in rows]

    def events_about(self, subject: str) -> list[Event]:
        """Every event of one alert (or desk), oldest first: its history."""
        rows = self._db.execute(
            "SELECT id, type, at, site, data FROM events WHERE subject=? ORDER BY id", (subject,)
        ).fetchall()
        return [event_of(r) for r in rows]

    def save_note(self, note: Note) -> bool:
        """Insert or replace the author's note on an alert; True if it is new."""
        with self._transaction() as db:
            existed = db.execute(
                "SELECT 1 FROM notes WHERE alert_id=? AND author=?",
                (str(note.alert_id), note.author),
            ).fetchone()
            db.execute(
                "INSERT INTO notes (alert_id, author, desk, site, shared_at, body)"
                " VALUES (?,?,?,?,?,?) ON CONFLICT (alert_id, author) DO UPDATE SET"
                " desk=excluded.desk, site=excluded.site, shared_at=excluded.shared_at,"
                " body=excluded.body",
                (
                    str(note.alert_id),
                    note.author,
                    note.desk,
                    note.site,
                    instant(note.shared_at),
                    note.model_dump_json(),
                ),
            )
            return existed is None

    def list_notes(
        self,
        *,
        alert_id: UUID | None = None,
        author: str | None = None,
        sites: set[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = -1,
        after: list[str] | None = None,
    ) -> tuple[list[Note], str | None]:
        """Notes oldest shared first, one page of `limit` (-1: all) after the cursor's key."""
        clauses: list[str] = ["1=1"]
        params: list[object] = []
        for column, value in (
            ("alert_id", str(alert_id) if alert_id else None),
            ("author", author),
        ):
            if value is not None:
                clauses.append(f"{column}=?")
                params.append(value)
        if sites is not None:
            clauses.append(f"site IN ({','.join('?' * len(sites))})")
            params.extend(sorted(sites))
        key = "(shared_at, alert_id, author)"
        page_of_period(clauses, params, "shared_at", (since, until), key, after)
        rows = self._db.execute(
            f"SELECT shared_at, alert_id, author, body FROM notes WHERE {' AND '.join(clauses)}"
            " ORDER BY shared_at, alert_id, author LIMIT ?",
            (*params, limit + 1 if limit >= 0 else ALL_ROWS),
        ).fetchall()
        notes = [Note.model_validate_json(r[3]) for r in (rows[:limit] if limit >= 0 else rows)]
        return notes, next_cursor(rows, limit) if limit >= 0 else None

    def purge(self, before: datetime) -> tuple[int, int, int]:
        """Delete closed alerts received before `before`, their notes, and older events."""
        cutoff = instant(before)
        with self._transaction() as db:
            old = [
                row[0]
                for row in db.execute(
                    "SELECT id FROM alerts WHERE received_at<? AND state NOT IN (?,?)",
                    (cutoff, *OPEN_STATES),
                ).fetchall()
            ]
            notes = 0
            for alert_id in old:
                notes += db.execute("DELETE FROM notes WHERE alert_id=?", (alert_id,)).rowcount
                db.execute("DELETE FROM alerts WHERE id=?", (alert_id,))
            events = db.execute(
                "DELETE FROM events WHERE at<? AND id<(SELECT MAX(id) FROM events)", (cutoff,)
            ).rowcount
            db.execute(
                "DELETE FROM notifications WHERE created_at<? AND state IN (?,?,?)",
                (cutoff, *NOTIFICATION_DONE),
            )
            db.execute("DELETE FROM checks WHERE deadline<? AND state!='pending'", (cutoff,))
            db.execute("DELETE FROM sessions WHERE due_at<? AND state='closed'", (cutoff,))
            db.execute("DELETE FROM broadcasts WHERE sent_at<? AND state='ended'", (cutoff,))
            return len(old), notes, events

    def count_events(
        self,
        types: Sequence[str],
        since: datetime | None,
        until: datetime | None,
        sites: set[str] | None,
    ) -> dict[str, int]:
        """How many events of each of `types` in [since, until) on `sites` (all: None); times
        compared as instants (`as_instant`), whatever offset they were written with."""
        query = f"SELECT type, COUNT(*) FROM events WHERE type IN ({','.join('?' * len(types))})"
        params: list[Any] = [*types]
        for bound, operator in ((since, ">="), (until, "<")):
            if bound is not None:
                query += f" AND {self.as_instant('at')} {operator} {self.as_instant('?')}"
                params.append(instant(bound))
        if sites is not None:
            query += f" AND site IN ({','.join('?' * len(sites))})"
            params += sorted(sites)
        counts = dict(self._db.execute(query + " GROUP BY type", params).fetchall())
        return {kind: int(counts.get(kind, 0)) for kind in types}

    def open_alert_count(self) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM alerts WHERE state IN (?,?)", OPEN_STATES
        ).fetchone()
        return int(row[0])

    def read_meta(self, key: str) -> str | None:
        """A meta value (None if there is none)."""
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else None

    def swap_meta(self, key: str, value: str) -> str | None:
        """Set a meta value; the one it replaces (None if there was none)."""
        with self._transaction() as db:
            row = db.execute(
                f"SELECT value FROM meta WHERE key=?{self.row_lock}", (key,)
            ).fetchone()
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                " SET value=excluded.value",
                (key, value),
            )
        return str(row[0]) if row else None
