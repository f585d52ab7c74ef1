"""The desk's journal: one SQLite file (mode 0600) under the user data directory.

An alert is written here, and committed with `synchronous=FULL`, before any network call: the
outbox sends from this table, so a queued alert survives a crash, a restart or a power cut and
goes out at the next start, always under the same UUID.

The API speaks the shared models (`Alert`, `Incident`, `NoteRecord`, `NoteDraft`, `NoteIn`) and
`OutboxEntry`; JSON stays inside this module. `incidents` is the one table of this desk's alerts
as the hub last described them: the outbox writes the hub's answer there when it stores an alert,
the desk app each newer copy it sees on the stream.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter
from pydantic_core import to_jsonable_python

from deskalert.config import user_data_dir
from deskalert.journal.models import Incident, NoteDraft, NoteRecord
from deskalert.models import Alert, Broadcast, NoteIn
from deskalert.sqlite import open_db, transaction

T = TypeVar("T")

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
    transmitted_at TEXT
);
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    alert TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_received ON incidents (received_at);
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
CREATE TABLE IF NOT EXISTS broadcasts (
    id TEXT PRIMARY KEY,
    sent_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    broadcast TEXT NOT NULL
);
"""


class Delivery(StrEnum):
    QUEUED = "queued"  # written here, not yet stored by the hub
    TRANSMITTED = "transmitted"  # the hub answered 2xx: it has it
    REFUSED = "refused"  # the hub answered a 4xx: it will never take it as it is
    CANCELLED = "cancelled"  # the agent cancelled it before the hub had it: never sent


@dataclass(frozen=True)
class OutboxEntry:
    """An alert as the desk wrote it, before and while the outbox sends it."""

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
        self.path = path
        self._migrate()

    def _migrate(self) -> None:
        """Bring a journal written by an earlier version to this schema, losing nothing."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(notes)")}
        if "note" not in columns:  # journals made before notes kept their validated form
            self._db.execute("ALTER TABLE notes ADD COLUMN note TEXT")
        outbox = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
        if "hub_alert" in outbox:  # the hub's answer lived in the outbox: now in incidents
            for (raw,) in self._db.execute(
                "SELECT hub_alert FROM outbox WHERE hub_alert IS NOT NULL"
            ).fetchall():
                self.record_alert(Alert.model_validate_json(raw))
            self._db.execute("UPDATE outbox SET hub_alert=NULL")

    def close(self) -> None:
        self._db.close()

    def enqueue(self, code: str, *, test: bool = False, message: str | None = None) -> OutboxEntry:
        """Write a new alert to the outbox and commit it: the first thing a key press does."""
        entry = OutboxEntry(
            id=uuid.uuid4(),
            code=code,
            created_at=datetime.now(UTC).astimezone(),
            test=test,
            message=message,
            status=Delivery.QUEUED,
            attempts=0,
            last_error=None,
        )
        self._db.execute(
            "INSERT INTO outbox (id, code, created_at, test, message, status) VALUES (?,?,?,?,?,?)",
            (str(entry.id), code, entry.created_at.isoformat(), int(test), message, entry.status),
        )
        return entry

    def pending(self) -> list[OutboxEntry]:
        """Alerts not yet stored by the hub, oldest first."""
        rows = self._db.execute(
            f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE status=? ORDER BY created_at",
            (Delivery.QUEUED.value,),
        ).fetchall()
        return [_entry(row) for row in rows]

    def get(self, alert_id: uuid.UUID) -> OutboxEntry | None:
        row = self._db.execute(
            f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id=?", (str(alert_id),)
        ).fetchone()
        return _entry(row) if row else None

    def record_attempt(self, alert_id: uuid.UUID, error: str) -> None:
        self._db.execute(
            "UPDATE outbox SET attempts=attempts+1, last_error=? WHERE id=?", (error, str(alert_id))
        )

    def mark_transmitted(self, alert: Alert) -> None:
        """The hub stored `alert`: keep its copy among the incidents, then leave the queue.

        In this order, so a crash in between leaves it queued: it is sent again under the same
        UUID, the hub answers with the stored copy, and recording it twice changes nothing.
        """
        self.record_alert(alert)
        self._db.execute(
            "UPDATE outbox SET status=?, attempts=attempts+1, last_error=NULL, transmitted_at=?"
            " WHERE id=?",
            (Delivery.TRANSMITTED.value, datetime.now(UTC).isoformat(), str(alert.id)),
        )

    def requeue(self, alert_id: uuid.UUID) -> OutboxEntry | None:
        """Back in the queue, under the same id, an alert the hub had stored (None if it was
        not): the hub does not have it any more (its database restored from an older copy)."""
        cursor = self._db.execute(
            "UPDATE outbox SET status=?, last_error=NULL WHERE id=? AND status=?",
            (Delivery.QUEUED.value, str(alert_id), Delivery.TRANSMITTED.value),
        )
        return self.get(alert_id) if cursor.rowcount == 1 else None

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

    # -- incidents: the desk's own alerts, as the hub last described them -------------------

    def record_alert(self, alert: Alert) -> None:
        """Keep the newest copy of one of this desk's alerts (its timeline for the journal)."""
        self._db.execute(
            "INSERT INTO incidents (id, received_at, updated_at, alert) VALUES (?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET updated_at=excluded.updated_at, alert=excluded.alert"
            " WHERE excluded.updated_at >= incidents.updated_at",
            (
                str(alert.id),
                _utc(alert.received_at),
                _utc(alert.updated_at),
                alert.model_dump_json(),
            ),
        )

    def update_known(self, alert: Alert) -> bool:
        """A newer copy of an alert already in the journal (a stream event, the hub's list);
        an alert the journal does not hold is left out. True when the copy was taken."""
        cursor = self._db.execute(
            "UPDATE incidents SET updated_at=?, alert=? WHERE id=? AND updated_at<?",
            (
                _utc(alert.updated_at),
                alert.model_dump_json(),
                str(alert.id),
                _utc(alert.updated_at),
            ),
        )
        return cursor.rowcount == 1

    def unsettled(self) -> list[Alert]:
        """The journal's alerts it still holds as open or answered: the ones the hub may have
        closed since (from the pane, the phone) while no desk screen was there to see it."""
        rows = self._db.execute(
            "SELECT alert FROM incidents WHERE json_extract(alert, '$.state')"
            " NOT IN ('resolved', 'cancelled') ORDER BY received_at"
        ).fetchall()
        return [Alert.model_validate_json(row[0]) for row in rows]

    def incidents(self, since: datetime | None = None) -> list[Incident]:
        """Alerts of this desk the hub stored (also those sent by `send`), newest first, each
        with its note record and, once finished, its note.

        `since` filters in SQL on the hub's time, so the desk's once-a-second checks read only
        the recent ones, whatever the size of the journal.
        """
        rows = self._db.execute(
            f"SELECT i.alert, {NOTE_COLUMNS} FROM incidents i LEFT JOIN notes n"
            " ON n.alert_id = i.id WHERE i.received_at>=? ORDER BY i.received_at DESC",
            (_utc(since) if since else "",),
        ).fetchall()
        result = []
        for row in rows:
            record = _note(row[1:]) if row[1] is not None else None
            notes = [record.note] if record is not None and record.note is not None else []
            result.append(
                Incident(alert=Alert.model_validate_json(row[0]), notes=notes, record=record)
            )
        return result

    # -- broadcasts this desk received (supervisors' messages, with its own "lu") -----------

    def record_broadcast(self, broadcast: Broadcast) -> None:
        """Keep the newest copy of a broadcast this desk was shown."""
        self._db.execute(
            "INSERT INTO broadcasts (id, sent_at, updated_at, broadcast) VALUES (?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET updated_at=excluded.updated_at,"
            " broadcast=excluded.broadcast WHERE excluded.updated_at >= broadcasts.updated_at",
            (
                str(broadcast.id),
                _utc(broadcast.sent_at),
                _utc(broadcast.updated_at),
                broadcast.model_dump_json(),
            ),
        )

    def broadcasts(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[Broadcast]:
        """Broadcasts received, oldest first, sent in [since, until)."""
        rows = self._db.execute(
            "SELECT broadcast FROM broadcasts WHERE sent_at>=? AND sent_at<? ORDER BY sent_at",
            (_utc(since) if since else "", _utc(until) if until else "~"),
        ).fetchall()
        return [Broadcast.model_validate_json(r[0]) for r in rows]

    # -- incident notes: drafts saved as they are typed ------------------------------------

    def save_draft(self, alert_id: uuid.UUID, draft: NoteDraft) -> None:
        """Every keystroke lands here, committed: a crash or a power cut loses nothing."""
        self._db.execute(
            "INSERT INTO notes (alert_id, fields, saved_at) VALUES (?,?,?)"
            " ON CONFLICT(alert_id) DO UPDATE SET fields=excluded.fields,"
            " saved_at=excluded.saved_at",
            (str(alert_id), draft.model_dump_json(), datetime.now(UTC).isoformat()),
        )

    def draft(self, alert_id: uuid.UUID) -> NoteRecord | None:
        """The note record of one alert (its draft, finished or not), if anything was typed."""
        row = self._db.execute(
            f"SELECT {NOTE_COLUMNS} FROM notes n WHERE alert_id=?", (str(alert_id),)
        ).fetchone()
        return _note(row) if row else None

    def notes(self) -> list[NoteRecord]:
        rows = self._db.execute(f"SELECT {NOTE_COLUMNS} FROM notes n").fetchall()
        return [_note(row) for row in rows]

    def finish_note(self, alert_id: uuid.UUID, draft: NoteDraft, note: NoteIn) -> None:
        """The draft as typed, and the validated note that exports and sharing use."""
        self.save_draft(alert_id, draft)
        self._db.execute(
            "UPDATE notes SET finished=1, postponed=0, note=? WHERE alert_id=?",
            (note.model_dump_json(), str(alert_id)),
        )

    def postpone_note(self, alert_id: uuid.UUID) -> None:
        """Later, not never: the note stays offered in the journal."""
        self._db.execute(
            "INSERT INTO notes (alert_id, fields, saved_at, postponed) VALUES (?,?,?,1)"
            " ON CONFLICT(alert_id) DO UPDATE SET postponed=1",
            (str(alert_id), "{}", datetime.now(UTC).isoformat()),
        )

    def mark_shared(self, alert_id: uuid.UUID) -> None:
        self._db.execute(
            "UPDATE notes SET shared_at=? WHERE alert_id=?",
            (datetime.now(UTC).isoformat(), str(alert_id)),
        )

    def purge(self, before: datetime) -> int:
        """Forget incidents (and their notes and outbox rows) received before `before`."""
        cutoff = before.astimezone(UTC).isoformat()
        old = [
            row[0]
            for row in self._db.execute(
                "SELECT id FROM incidents WHERE received_at<? UNION SELECT id FROM outbox"
                " WHERE created_at<? AND status!=?",
                (cutoff, cutoff, Delivery.QUEUED.value),
            ).fetchall()
        ]
        with transaction(self._db) as db:  # rolled back on error: later writes still commit
            for alert_id in old:  # a still-queued alert is never forgotten: it must go out
                db.execute("DELETE FROM incidents WHERE id=?", (alert_id,))
                db.execute("DELETE FROM notes WHERE alert_id=?", (alert_id,))
                db.execute(
                    "DELETE FROM outbox WHERE id=? AND status!=?", (alert_id, Delivery.QUEUED.value)
                )
            db.execute("DELETE FROM broadcasts WHERE sent_at<?", (cutoff,))
        return len(old)

    def save(
        self, key: str, value: BaseModel | Sequence[BaseModel] | Any, *, at: datetime | None = None
    ) -> None:
        """Cache what the desk must show even when the hub is down (the on-call card): a model,
        a list of models, or plain JSON values."""
        self._db.execute(
            "INSERT OR REPLACE INTO cache (key, value, saved_at) VALUES (?,?,?)",
            (key, json.dumps(to_jsonable_python(value)), (at or datetime.now(UTC)).isoformat()),
        )

    def load(self, key: str) -> tuple[Any, datetime] | None:
        """The cached JSON value and when it was saved."""
        row = self._db.execute("SELECT value, saved_at FROM cache WHERE key=?", (key,)).fetchone()
        return (json.loads(row[0]), datetime.fromisoformat(row[1])) if row else None

    def load_as(self, key: str, kind: type[T]) -> tuple[T, datetime] | None:
        """The cached value read back as `kind` (`OnCall`, `list[AlertCode]`...), or None if
        there is none or it no longer fits (a journal written by another version)."""
        from pydantic import ValidationError

        cached = self.load(key)
        if cached is None:
            return None
        try:
            return TypeAdapter(kind).validate_python(cached[0]), cached[1]
        except ValidationError:
            return None


def purge_expired(journal: Journal, retention_days: int, *, now: datetime | None = None) -> int:
    """Forget what is older than `retention_days` (`deskalert purge`, the desk at start)."""
    moment = now or datetime.now(UTC)
    return journal.purge(moment - timedelta(days=retention_days))


OUTBOX_COLUMNS = "id, code, created_at, test, message, status, attempts, last_error"
NOTE_COLUMNS = "n.alert_id, n.fields, n.saved_at, n.finished, n.shared_at, n.postponed, n.note"


def _utc(moment: datetime) -> str:
    """One text form for every stored time, so that SQL compares them in order."""
    return moment.astimezone(UTC).isoformat()


def _note(row: Sequence[Any]) -> NoteRecord:
    fields = json.loads(row[1])
    return NoteRecord(
        alert_id=uuid.UUID(row[0]),
        draft=NoteDraft.model_validate(fields) if fields else None,
        saved_at=datetime.fromisoformat(row[2]),
        finished=bool(row[3]),
        shared_at=datetime.fromisoformat(row[4]) if row[4] else None,
        postponed=bool(row[5]),
        note=NoteIn.model_validate_json(row[6]) if row[6] else None,
    )


def _entry(row: Sequence[Any]) -> OutboxEntry:
    return OutboxEntry(
        id=uuid.UUID(row[0]),
        code=row[1],
        created_at=datetime.fromisoformat(row[2]),
        test=bool(row[3]),
        message=row[4],
        status=Delivery(row[5]),
        attempts=row[6],
        last_error=row[7],
    )
