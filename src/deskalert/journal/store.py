"""The desk's journal: one SQLite file (mode 0600) under the user data directory.

An alert is written here, and committed with `synchronous=FULL`, before any network call: the
outbox sends from this table, so a queued alert survives a crash, a restart or a power cut and
goes out at the next start, always under the same UUID.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from deskalert.config import user_data_dir
from deskalert.sqlite import open_db, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    created_at TEXT NOT NULL,
    test INTEGER NOT NULL,
    message TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    transmitted_at TEXT,
    hub_alert TEXT
);
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    alert TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notes (
    alert_id TEXT PRIMARY KEY,
    fields TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0,
    shared_at TEXT,
    postponed INTEGER NOT NULL DEFAULT 0,
    note TEXT
);
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
"""


class Delivery(StrEnum):
    QUEUED = "queued"            # written here, not yet stored by the hub
    TRANSMITTED = "transmitted"  # the hub answered 2xx: it has it
    REFUSED = "refused"          # the hub answered a 4xx: it will never take it as it is
    CANCELLED = "cancelled"      # the agent cancelled it before the hub had it: never sent


@dataclass(frozen=True)
class OutboxEntry:
    id: uuid.UUID
    code: str
    created_at: datetime
    test: bool
    message: str | None
    status: Delivery
    attempts: int
    last_error: str | None


def default_journal_path() -> Path:
    return user_data_dir() / "journal.sqlite3"


class Journal:
    def __init__(self, path: Path) -> None:
        self._db = open_db(path)  # the file, its -wal and -shm 0600, never world-readable
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(notes)")}
        if "note" not in columns:  # journals made before notes kept their validated form
            self._db.execute("ALTER TABLE notes ADD COLUMN note TEXT")
        self.path = path

    def close(self) -> None:
        self._db.close()

    def enqueue(self, code: str, *, test: bool = False, message: str | None = None) -> OutboxEntry:
        """Write a new alert to the outbox and commit it: the first thing a key press does."""
        entry = OutboxEntry(
            id=uuid.uuid4(), code=code, created_at=datetime.now(UTC).astimezone(), test=test,
            message=message, status=Delivery.QUEUED, attempts=0, last_error=None,
        )
        self._db.execute(
            "INSERT INTO outbox (id, code, created_at, test, message, status) VALUES (?,?,?,?,?,?)",
            (str(entry.id), code, entry.created_at.isoformat(), int(test), message, entry.status),
        )
        return entry

    def pending(self) -> list[OutboxEntry]:
        """Alerts not yet stored by the hub, oldest first."""
        rows = self._db.execute(
            "SELECT * FROM outbox WHERE status=? ORDER BY created_at", (Delivery.QUEUED.value,)
        ).fetchall()
        return [_entry(row) for row in rows]

    def get(self, alert_id: uuid.UUID) -> OutboxEntry | None:
        row = self._db.execute("SELECT * FROM outbox WHERE id=?", (str(alert_id),)).fetchone()
        return _entry(row) if row else None

    def record_attempt(self, alert_id: uuid.UUID, error: str) -> None:
        self._db.execute(
            "UPDATE outbox SET attempts=attempts+1, last_error=? WHERE id=?", (error, str(alert_id))
        )

    def mark_transmitted(self, alert_id: uuid.UUID, hub_alert: dict[str, Any]) -> None:
        self._db.execute(
            "UPDATE outbox SET status=?, attempts=attempts+1, last_error=NULL, transmitted_at=?,"
            " hub_alert=? WHERE id=?",
            (Delivery.TRANSMITTED.value, datetime.now(UTC).isoformat(), json.dumps(hub_alert),
             str(alert_id)),
        )

    def mark_refused(self, alert_id: uuid.UUID, error: str) -> None:
        self._db.execute(
            "UPDATE outbox SET status=?, attempts=attempts+1, last_error=? WHERE id=?",
            (Delivery.REFUSED.value, error, str(alert_id)),
        )

    def mark_cancelled(self, alert_id: uuid.UUID) -> bool:
        """Withdraw a still-queued alert; False if it had already left the queue."""
        cursor = self._db.execute(
            "UPDATE outbox SET status=? WHERE id=? AND status=?",
            (Delivery.CANCELLED.value, str(alert_id), Delivery.QUEUED.value),
        )
        return cursor.rowcount == 1

    def hub_alert(self, alert_id: uuid.UUID) -> dict[str, Any] | None:
        """The hub's answer when it stored the alert."""
        row = self._db.execute("SELECT hub_alert FROM outbox WHERE id=?", (str(alert_id),)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    # -- incidents: the desk's own alerts, as the hub last described them -------------------

    def record_alert(self, alert: dict[str, Any]) -> None:
        """Keep the newest copy of one of this desk's alerts (its timeline for the journal)."""
        self._db.execute(
            "INSERT INTO incidents (id, received_at, updated_at, alert) VALUES (?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET updated_at=excluded.updated_at, alert=excluded.alert"
            " WHERE excluded.updated_at >= incidents.updated_at",
            (alert["id"], alert["received_at"], alert["updated_at"], json.dumps(alert)),
        )

    def incidents(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Alerts of this desk the hub stored (also those sent by `send`), newest first.

        `since` filters in SQL on the hub's time, so the desk's once-a-second checks read only
        the recent ones, whatever the size of the journal.
        """
        cutoff = since.astimezone(UTC).isoformat() if since else ""
        rows = self._db.execute(
            "SELECT alert FROM incidents WHERE received_at>=? UNION ALL SELECT hub_alert FROM"
            " outbox WHERE hub_alert IS NOT NULL AND json_extract(hub_alert, '$.received_at')>=?"
            " AND id NOT IN (SELECT id FROM incidents)", (cutoff, cutoff),
        ).fetchall()
        alerts = [json.loads(row[0]) for row in rows]
        return sorted(alerts, key=lambda a: a["received_at"], reverse=True)

    # -- incident notes: drafts saved as they are typed ------------------------------------

    def save_draft(self, alert_id: uuid.UUID, fields: dict[str, Any]) -> None:
        """Every keystroke lands here, committed: a crash or a power cut loses nothing."""
        self._db.execute(
            "INSERT INTO notes (alert_id, fields, saved_at) VALUES (?,?,?)"
            " ON CONFLICT(alert_id) DO UPDATE SET fields=excluded.fields, saved_at=excluded.saved_at",
            (str(alert_id), json.dumps(fields), datetime.now(UTC).isoformat()),
        )

    def draft(self, alert_id: uuid.UUID) -> NoteRecord | None:
        row = self._db.execute(
            "SELECT alert_id, fields, saved_at, finished, shared_at, postponed, note FROM notes"
            " WHERE alert_id=?", (str(alert_id),)
        ).fetchone()
        return _note(row) if row else None

    def notes(self) -> list[NoteRecord]:
        rows = self._db.execute(
            "SELECT alert_id, fields, saved_at, finished, shared_at, postponed, note FROM notes"
        ).fetchall()
        return [_note(row) for row in rows]

    def finish_note(self, alert_id: uuid.UUID, fields: dict[str, Any],
                    note: dict[str, Any]) -> None:
        """The draft as typed, and the validated note (a NoteIn) that exports and sharing use."""
        self.save_draft(alert_id, fields)
        self._db.execute("UPDATE notes SET finished=1, postponed=0, note=? WHERE alert_id=?",
                         (json.dumps(note), str(alert_id)))

    def postpone_note(self, alert_id: uuid.UUID) -> None:
        """Later, not never: the note stays offered in the journal."""
        self._db.execute(
            "INSERT INTO notes (alert_id, fields, saved_at, postponed) VALUES (?,?,?,1)"
            " ON CONFLICT(alert_id) DO UPDATE SET postponed=1",
            (str(alert_id), "{}", datetime.now(UTC).isoformat()),
        )

    def mark_shared(self, alert_id: uuid.UUID) -> None:
        self._db.execute("UPDATE notes SET shared_at=? WHERE alert_id=?",
                         (datetime.now(UTC).isoformat(), str(alert_id)))

    def purge(self, before: datetime) -> int:
        """Forget incidents (and their notes and outbox rows) received before `before`."""
        cutoff = before.astimezone(UTC).isoformat()
        old = [row[0] for row in self._db.execute(
            "SELECT id FROM incidents WHERE received_at<? UNION SELECT id FROM outbox"
            " WHERE created_at<? AND status!=?", (cutoff, cutoff, Delivery.QUEUED.value)
        ).fetchall()]
        with transaction(self._db) as db:  # rolled back on error: later writes still commit
            for alert_id in old:  # a still-queued alert is never forgotten: it must go out
                db.execute("DELETE FROM incidents WHERE id=?", (alert_id,))
                db.execute("DELETE FROM notes WHERE alert_id=?", (alert_id,))
                db.execute("DELETE FROM outbox WHERE id=? AND status!=?",
                           (alert_id, Delivery.QUEUED.value))
        return len(old)

    def save(self, key: str, value: Any, *, at: datetime | None = None) -> None:
        """Cache what the desk must show even when the hub is down (the on-call card)."""
        self._db.execute(
            "INSERT OR REPLACE INTO cache (key, value, saved_at) VALUES (?,?,?)",
            (key, json.dumps(value), (at or datetime.now(UTC)).isoformat()),
        )

    def load(self, key: str) -> tuple[Any, datetime] | None:
        row = self._db.execute("SELECT value, saved_at FROM cache WHERE key=?", (key,)).fetchone()
        return (json.loads(row[0]), datetime.fromisoformat(row[1])) if row else None


@dataclass(frozen=True)
class NoteRecord:
    alert_id: uuid.UUID
    fields: dict[str, Any]
    saved_at: datetime
    finished: bool
    shared_at: datetime | None
    postponed: bool
    note: dict[str, Any] | None


def _note(row: tuple[Any, ...]) -> NoteRecord:
    return NoteRecord(
        alert_id=uuid.UUID(row[0]), fields=json.loads(row[1]),
        saved_at=datetime.fromisoformat(row[2]), finished=bool(row[3]),
        shared_at=datetime.fromisoformat(row[4]) if row[4] else None, postponed=bool(row[5]),
        note=json.loads(row[6]) if row[6] else None,
    )


def _entry(row: tuple[Any, ...]) -> OutboxEntry:
    return OutboxEntry(
        id=uuid.UUID(row[0]), code=row[1], created_at=datetime.fromisoformat(row[2]),
        test=bool(row[3]), message=row[4], status=Delivery(row[5]), attempts=row[6],
        last_error=row[7],
    )
