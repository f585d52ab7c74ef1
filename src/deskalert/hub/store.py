"""The hub's durable store: one SQLite file, WAL mode, `synchronous=FULL`.

An alert and the event that announces it are written in the same transaction, and the answer to
the desk is sent only after that commit: an alert that got a 2xx survives `kill -9` of the hub and
a power cut. Event ids come from an AUTOINCREMENT column, so they increase strictly, across
restarts too, which is what `Last-Event-ID` replay relies on.

The store is synchronous and not thread-safe on purpose: the hub calls it from one dedicated
thread (see `service.Hub`), which serialises every write without locks.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from deskalert.errors import HubError, StoreUnavailable
from deskalert.models import Alert, AlertState, Event, EventType, Note

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    desk TEXT NOT NULL,
    site TEXT NOT NULL,
    state TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_state ON alerts(state);
CREATE INDEX IF NOT EXISTS alerts_received ON alerts(received_at);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    site TEXT,
    subject TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_subject ON events(type, subject);
CREATE INDEX IF NOT EXISTS events_by_subject ON events(subject, id);
CREATE TABLE IF NOT EXISTS notes (
    alert_id TEXT NOT NULL,
    author TEXT NOT NULL,
    desk TEXT NOT NULL,
    site TEXT NOT NULL,
    shared_at TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (alert_id, author)
);
CREATE TABLE IF NOT EXISTS overrides (
    site TEXT PRIMARY KEY,
    supervisor TEXT NOT NULL,
    until TEXT NOT NULL,
    at TEXT NOT NULL
);
"""

OPEN_STATES = (AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value)


class Store:
    """Alerts, events and on-call overrides in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)
        path.chmod(0o600)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; a database that cannot be written is a StoreUnavailable."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._rollback()
                raise
            self._db.execute("COMMIT")
        except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
            self._rollback()
            raise StoreUnavailable(f"the hub cannot write its database: {exc}") from None

    def _rollback(self) -> None:
        # SQLite has already rolled back by itself after some errors (a full disk, for one).
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    # -- writes: each returns the event it committed ---------------------------------------

    def insert_alert(self, alert: Alert, event_at: datetime) -> Event:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO alerts (id, desk, site, state, received_at, body) VALUES (?,?,?,?,?,?)",
                _alert_row(alert),
            )
            return self._append(db, EventType.ALERT_RAISED, event_at, alert.site, alert)

    def update_alert(
        self, alert_id: UUID, change: Callable[[Alert], tuple[Alert, EventType] | None]
    ) -> tuple[Alert, Event | None]:
        """Read, change and write one alert atomically; `change` returns None for no-op."""
        with self._transaction() as db:
            current = self._get(db, alert_id)
            if current is None:
                raise KeyError(alert_id)
            outcome = change(current)
            if outcome is None:
                return current, None
            alert, event_type = outcome
            row = _alert_row(alert)
            db.execute(
                "UPDATE alerts SET state=?, body=? WHERE id=?", (row[3], row[5], row[0])
            )
            return alert, self._append(db, event_type, alert.updated_at, alert.site, alert)

    def append_event(
        self, event_type: EventType, at: datetime, site: str | None, data: dict[str, Any]
    ) -> Event:
        with self._transaction() as db:
            return self._append(db, event_type, at, site, data)

    def set_override(self, site: str, supervisor: str | None, until: datetime | None, at: datetime) -> None:
        with self._transaction() as db:
            if supervisor is None or until is None:
                db.execute("DELETE FROM overrides WHERE site=?", (site,))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO overrides (site, supervisor, until, at) VALUES (?,?,?,?)",
                    (site, supervisor, until.isoformat(), at.isoformat()),
                )

    def _append(
        self,
        db: sqlite3.Connection,
        event_type: EventType,
        at: datetime,
        site: str | None,
        payload: Alert | dict[str, Any],
    ) -> Event:
        data = payload.model_dump(mode="json") if isinstance(payload, Alert) else payload
        subject = str(data.get("id", "")) or None
        cursor = db.execute(
            "INSERT INTO events (type, at, site, subject, data) VALUES (?,?,?,?,?)",
            (event_type.value, at.isoformat(), site, subject, json.dumps(data)),
        )
        assert cursor.lastrowid is not None
        return Event(id=cursor.lastrowid, type=event_type, at=at, site=site, data=data)

    # -- reads ------------------------------------------------------------------------------

    def get_alert(self, alert_id: UUID) -> Alert | None:
        return self._get(self._db, alert_id)

    def _get(self, db: sqlite3.Connection, alert_id: UUID) -> Alert | None:
        row = db.execute("SELECT body FROM alerts WHERE id=?", (str(alert_id),)).fetchone()
        return Alert.model_validate_json(row[0]) if row else None

    def list_alerts(
        self, *, open_only: bool, site: str | None, since: datetime | None, limit: int,
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
            " ORDER BY received_at DESC, id DESC LIMIT ?", (*params, limit + 1)
        ).fetchall()
        return [Alert.model_validate_json(r[2]) for r in rows[:limit]], _next_cursor(rows, limit)

    def unanswered_alerts(self) -> list[Alert]:
        rows = self._db.execute(
            "SELECT body FROM alerts WHERE state=?", (AlertState.OPEN.value,)
        ).fetchall()
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
        return [
            Event(id=r[0], type=EventType(r[1]), at=r[2], site=r[3], data=json.loads(r[4]))
            for r in rows
        ]

    def events_about(self, subject: str) -> list[Event]:
        """Every event of one alert (or desk), oldest first: its history."""
        rows = self._db.execute(
            "SELECT id, type, at, site, data FROM events WHERE subject=? ORDER BY id", (subject,)
        ).fetchall()
        return [
            Event(id=r[0], type=EventType(r[1]), at=r[2], site=r[3], data=json.loads(r[4]))
            for r in rows
        ]

    def save_note(self, note: Note) -> bool:
        """Insert or replace the author's note on an alert; True if it is new."""
        with self._transaction() as db:
            existed = db.execute(
                "SELECT 1 FROM notes WHERE alert_id=? AND author=?",
                (str(note.alert_id), note.author),
            ).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO notes (alert_id, author, desk, site, shared_at, body)"
                " VALUES (?,?,?,?,?,?)",
                (str(note.alert_id), note.author, note.desk, note.site,
                 instant(note.shared_at), note.model_dump_json()),
            )
            return existed is None

    def list_notes(self, *, alert_id: UUID | None = None, author: str | None = None,
                   sites: set[str] | None = None, since: datetime | None = None,
                   until: datetime | None = None, limit: int = -1,
                   after: list[str] | None = None) -> tuple[list[Note], str | None]:
        """Notes oldest shared first, one page of `limit` (-1: all) after the cursor's key."""
        clauses: list[str] = ["1=1"]
        params: list[object] = []
        for column, value in (("alert_id", str(alert_id) if alert_id else None),
                              ("author", author)):
            if value is not None:
                clauses.append(f"{column}=?")
                params.append(value)
        if sites is not None:
            clauses.append(f"site IN ({','.join('?' * len(sites))})")
            params.extend(sorted(sites))
        for condition, bound in (("shared_at>=?", since), ("shared_at<?", until)):
            if bound is not None:
                clauses.append(condition)
                params.append(instant(bound))
        if after is not None:
            clauses.append("(shared_at, alert_id, author) > (?, ?, ?)")
            params.extend(after)
        rows = self._db.execute(
            f"SELECT shared_at, alert_id, author, body FROM notes WHERE {' AND '.join(clauses)}"
            " ORDER BY shared_at, alert_id, author LIMIT ?",
            (*params, limit + 1 if limit >= 0 else -1),
        ).fetchall()
        notes = [Note.model_validate_json(r[3]) for r in (rows[:limit] if limit >= 0 else rows)]
        return notes, _next_cursor(rows, limit) if limit >= 0 else None

    def purge(self, before: datetime) -> tuple[int, int, int]:
        """Delete closed alerts received before `before`, their notes, and older events."""
        cutoff = instant(before)
        with self._transaction() as db:
            old = [row[0] for row in db.execute(
                "SELECT id FROM alerts WHERE received_at<? AND state NOT IN (?,?)",
                (cutoff, *OPEN_STATES),
            ).fetchall()]
            notes = 0
            for alert_id in old:
                notes += db.execute("DELETE FROM notes WHERE alert_id=?", (alert_id,)).rowcount
                db.execute("DELETE FROM alerts WHERE id=?", (alert_id,))
            events = db.execute("DELETE FROM events WHERE at<? AND id<(SELECT MAX(id) FROM events)",
                                (cutoff,)).rowcount
            return len(old), notes, events

    def last_event_id(self) -> int:
        row = self._db.execute("SELECT MAX(id) FROM events").fetchone()
        return int(row[0] or 0)

    def open_alert_count(self) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM alerts WHERE state IN (?,?)", OPEN_STATES
        ).fetchone()
        return int(row[0])

    def last_presence(self) -> dict[str, dict[str, Any]]:
        """The last presence event's data for each desk (to resume presence after a restart)."""
        rows = self._db.execute(
            "SELECT data FROM events WHERE id IN (SELECT MAX(id) FROM events"
            " WHERE type IN (?,?) GROUP BY subject)",
            (EventType.DESK_ONLINE.value, EventType.DESK_OFFLINE.value),
        ).fetchall()
        return {data["id"]: data for data in (json.loads(r[0]) for r in rows)}

    def overrides(self) -> dict[str, tuple[str, datetime]]:
        rows = self._db.execute("SELECT site, supervisor, until FROM overrides").fetchall()
        return {r[0]: (r[1], datetime.fromisoformat(r[2])) for r in rows}

    def check(self) -> str:
        """'ok' if the file answers a query, else the reason."""
        try:
            self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        except sqlite3.Error as exc:
            return f"error: {exc}"
        return "ok"


def _alert_row(alert: Alert) -> tuple[str, str, str, str, str, str]:
    return (
        str(alert.id),
        alert.desk,
        alert.site,
        alert.state.value,
        instant(alert.received_at),
        alert.model_dump_json(),
    )


def instant(moment: datetime) -> str:
    """How a time is written in a column that is compared or sorted: UTC, to the microsecond,
    so that text order is time order (an offset of +01:00 against +00:00 text is not)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def encode_cursor(key: Sequence[str]) -> str:
    """An opaque page cursor: the sort key of the last row given, base64url of its JSON."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> list[str]:
    """The sort key in `cursor`; a cursor not made by this hub for this list is a 400."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        key = None
    if not (isinstance(key, list) and len(key) == parts and all(isinstance(k, str) for k in key)):
        raise HubError("cursor: not a cursor of this list; use next_cursor as given",
                       code="bad_cursor")
    return key


def _next_cursor(rows: list[Any], limit: int) -> str | None:
    """The cursor after the page's last row if the query found one more row than a page."""
    return encode_cursor(rows[limit - 1][:-1]) if len(rows) > limit else None
