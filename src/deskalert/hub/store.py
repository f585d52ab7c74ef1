"""The hub's durable store: one SQLite file, WAL mode, `synchronous=FULL`.

An alert and the event that announces it are written in the same transaction, and the answer to
the desk is sent only after that commit: an alert that got a 2xx survives `kill -9` of the hub and
a power cut. Event ids come from an AUTOINCREMENT column, so they increase strictly, across
restarts too, which is what `Last-Event-ID` replay relies on.

The store is synchronous and not thread-safe on purpose: the hub calls it from one dedicated
thread (see `service.Hub`), which serialises every write without locks. New alerts are written
in groups (`write_group`): one transaction and one fsync for the alerts that arrived while the
previous group was being committed, each answer still sent after the commit that holds it.
WAL checkpoints run on a second connection of their own (`checkpoint`), from another thread,
not inside a commit that a desk waits for.
"""

from __future__ import annotations

import base64
import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from deskalert.errors import ConfigError, HubError, StoreUnavailable
from deskalert.hub.broadcast_store import BROADCASTS_SCHEMA, BroadcastStore
from deskalert.hub.served import note_from
from deskalert.models import (
    Alert,
    AlertState,
    Check,
    Event,
    EventType,
    InterviewSession,
    Note,
)
from deskalert.sqlite import FileInUse, HeldLock, make_private, open_db, transaction

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
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL,
    site TEXT,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    channel TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    attempt_id TEXT,
    created_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications(state, due_at);
CREATE INDEX IF NOT EXISTS notifications_alert ON notifications(alert_id, kind);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    desk TEXT NOT NULL,
    site TEXT NOT NULL,
    state TEXT NOT NULL,
    due_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_state ON sessions(state, due_at);
CREATE TABLE IF NOT EXISTS checks (
    id TEXT PRIMARY KEY,
    desk TEXT NOT NULL,
    site TEXT NOT NULL,
    session_id TEXT,
    state TEXT NOT NULL,
    deadline TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checks_state ON checks(state, deadline);
"""

# Versioned migrations, applied in order at start and recorded in meta('schema_version'). Version
# 1 is SCHEMA above (what every hub before versioning created); each later one is written once
# for both databases. A hub refuses a database whose version is above the last it knows.
MIGRATIONS: tuple[str, ...] = (
    SCHEMA,
    # 2: who is online, shared by every hub on the database (heartbeats land on any of them).
    """
CREATE TABLE IF NOT EXISTS presence (
    desk TEXT PRIMARY KEY,
    online INTEGER NOT NULL DEFAULT 0,
    last_seen TEXT
);
""",
    # 3: which supervisors have a stream open on which hub ("encadrant joignable" on every hub).
    """
CREATE TABLE IF NOT EXISTS hub_streams (
    hub TEXT PRIMARY KEY,
    streams TEXT NOT NULL,
    at TEXT NOT NULL
);
""",
    # 4: supervisors' messages to every desk of some sites (hub/broadcast_store.py).
    BROADCASTS_SCHEMA,
)
SCHEMA_VERSION = len(MIGRATIONS)

T = TypeVar("T")
PROBE_BYTES = 8192
BACKSTOP_CHECKPOINT_PAGES = 10000  # 40 MB of WAL (SQLite's default is 1000 pages)
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024  # what an idle WAL is truncated to
OPEN_STATES = (AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value)


# -- the notification outbox (hub/notify.py decides what goes in it) ------------------------------

NOTIFICATION_DONE = ("sent", "gave_up", "cancelled")
# What tells a supervisor about an open alert (the others say it is taken or over).
ALERTING_KINDS = ("raised", "escalated", "renotify")


@dataclass(frozen=True)
class Notification:
    """One message for one channel: a row of the outbox. `channel` is the channel's key, never
    its URL (a URL may hold a token); `owner` is a supervisor id or `site:<id>`."""

    alert_id: str
    site: str | None
    kind: str
    owner: str
    channel: str
    title: str
    body: str
    id: int = 0
    attempts: int = 0
    attempt_id: str | None = None


class NotificationStore:
    """The outbox's queries, mixed into Store: new methods only, on the store's thread."""

    if TYPE_CHECKING:  # Store's own
        _db: sqlite3.Connection

        def _transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _append(self, db: sqlite3.Connection, event_type: EventType, at: datetime,
                    site: str | None, payload: Alert | dict[str, Any]) -> Event: ...

    def add_notifications(self, db: sqlite3.Connection, rows: Sequence[Notification],
                          now: datetime) -> None:
        """Queue `rows` inside the caller's transaction (the event that causes them)."""
        db.executemany(
            "INSERT INTO notifications (alert_id, site, kind, owner, channel, title, body, state,"
            " created_at, due_at) VALUES (?,?,?,?,?,?,?,'pending',?,?)",
            [(r.alert_id, r.site, r.kind, r.owner, r.channel, r.title, r.body, instant(now),
              instant(now)) for r in rows],
        )

    def notified_channels(self, db: sqlite3.Connection, alert_id: str, *,
                          attempted: bool) -> list[tuple[str, str]]:
        """(owner, channel) told about the alert so far: queued at all, or tried at least once."""
        rows = db.execute(
            "SELECT DISTINCT owner, channel FROM notifications WHERE alert_id=? AND kind IN"
            f" (?,?,?){' AND attempts>0' if attempted else ''} ORDER BY owner, channel",
            (alert_id, *ALERTING_KINDS),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def unsent_channels(self, db: sqlite3.Connection, alert_id: str) -> set[str]:
        """Channels with an alerting message about the alert not sent yet (a backlog)."""
        rows = db.execute(
            "SELECT DISTINCT channel FROM notifications WHERE alert_id=? AND kind IN (?,?,?)"
            " AND state IN ('pending','retry','sending')", (alert_id, *ALERTING_KINDS),
        ).fetchall()
        return {r[0] for r in rows}

    def cancel_notifications(self, db: sqlite3.Connection, alert_id: str) -> None:
        """Alerting rows not yet being sent are dropped: someone answered, or it is over."""
        db.execute(
            "UPDATE notifications SET state='cancelled' WHERE alert_id=? AND kind IN (?,?,?)"
            " AND state IN ('pending','retry')", (alert_id, *ALERTING_KINDS),
        )

    def alert_state(self, db: sqlite3.Connection, alert_id: str) -> str | None:
        row = db.execute("SELECT state FROM alerts WHERE id=?", (alert_id,)).fetchone()
        return str(row[0]) if row else None

    def alerts_to_renotify(self, last_before: datetime) -> list[Alert]:
        """Open (unanswered) alerts whose last alerting notification was queued before then."""
        rows = self._db.execute(
            "SELECT a.body FROM alerts a JOIN (SELECT alert_id, MAX(created_at) AS last"
            " FROM notifications WHERE kind IN (?,?,?) AND owner NOT LIKE 'site:%'"
            " GROUP BY alert_id) n ON n.alert_id=a.id"
            " WHERE a.state=? AND n.last<=?",
            (*ALERTING_KINDS, AlertState.OPEN.value, instant(last_before)),
        ).fetchall()
        return [Alert.model_validate_json(r[0]) for r in rows]

    def in_transaction(self, write: Callable[[sqlite3.Connection], object]) -> None:
        with self._transaction() as db:
            write(db)

    def due_notifications(self, now: datetime, per_queue: int) -> list[tuple[int, str, str, str]]:
        """(id, site, kind, channel) of rows due to be sent: the first `per_queue` of each
        site's queue for each channel (first messages first, then the oldest), so that a site
        with thousands waiting cannot hide another's one; the worker picks among them
        (hub/notify_queue.py)."""
        rank = ("CASE kind WHEN 'raised' THEN 0 WHEN 'escalated' THEN 0 WHEN 'renotify' THEN 2"
                " ELSE 1 END")
        rows = self._db.execute(
            "SELECT id, site, kind, channel FROM (SELECT id, site, kind, channel, due_at,"
            f" {rank} AS rank, ROW_NUMBER() OVER (PARTITION BY site, channel"
            f" ORDER BY {rank}, due_at, id) AS place FROM notifications"
            " WHERE state IN ('pending','retry') AND due_at<=?) AS due"
            " WHERE place<=? ORDER BY rank, due_at, id", (instant(now), per_queue),
        ).fetchall()
        return [(r[0], r[1] or "", r[2], r[3]) for r in rows]

    def claim_notifications(self, ids: Sequence[int]) -> list[Notification]:
        """Mark the rows `ids` still waiting 'sending' under a fresh attempt id, committed
        before any is sent: a row found 'sending' after a crash is one whose fate is unknown."""
        with self._transaction() as db:
            claimed = []
            for row_id in ids:
                r = db.execute(
                    "SELECT id, alert_id, site, kind, owner, channel, title, body, attempts"
                    " FROM notifications WHERE id=? AND state IN ('pending','retry')", (row_id,),
                ).fetchone()
                if r is None:
                    continue  # cancelled since it was listed (someone answered)
                attempt_id = secrets.token_hex(8)
                db.execute("UPDATE notifications SET state='sending', attempts=attempts+1,"
                           " attempt_id=? WHERE id=?", (attempt_id, r[0]))
                claimed.append(Notification(
                    id=r[0], alert_id=r[1], site=r[2], kind=r[3], owner=r[4], channel=r[5],
                    title=r[6], body=r[7], attempts=r[8] + 1, attempt_id=attempt_id))
            return claimed

    def notification_backlog(self) -> list[tuple[str, int, str]]:
        """(channel, rows not sent yet, when the oldest was queued) of every channel with some."""
        rows = self._db.execute(
            "SELECT channel, COUNT(*), MIN(created_at) FROM notifications"
            " WHERE state IN ('pending','retry','sending') GROUP BY channel").fetchall()
        return [(r[0], int(r[1]), str(r[2])) for r in rows]

    def finish_notification(self, row: Notification, state: str, at: datetime,
                            retry_at: datetime | None, event_type: EventType,
                            data: dict[str, Any]) -> Event | None:
        """Record an attempt's outcome and its event in one commit; None if the row is no
        longer this attempt's (never happens with one worker; guards a stale one)."""
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE notifications SET state=?, due_at=?, last_error=? WHERE id=? AND"
                " attempt_id=? AND state='sending'",
                (state, instant(retry_at or at), data.get("reason"), row.id, row.attempt_id),
            ).rowcount
            if not changed:
                return None
            return self._append(db, event_type, at, row.site, data)

    def interrupted_notifications(self) -> list[Notification]:
        """Rows left 'sending' by a hub that stopped mid-attempt."""
        rows = self._db.execute(
            "SELECT id, alert_id, site, kind, owner, channel, title, body, attempts, attempt_id"
            " FROM notifications WHERE state='sending' ORDER BY id").fetchall()
        return [Notification(id=r[0], alert_id=r[1], site=r[2], kind=r[3], owner=r[4],
                             channel=r[5], title=r[6], body=r[7], attempts=r[8],
                             attempt_id=r[9]) for r in rows]


class SessionStore:
    """Interview sessions and "tout va bien ?" checks (hub/sessions.py decides): rows read and
    written inside the caller's transaction (`in_transaction`), so a check, its answer and the
    alert it raises commit together, and deadlines are read from the table, not from memory."""

    if TYPE_CHECKING:  # Store's own
        _db: sqlite3.Connection

        def _append(self, db: sqlite3.Connection, event_type: EventType, at: datetime,
                    site: str | None, payload: Alert | dict[str, Any]) -> Event: ...

    def put_session(self, db: sqlite3.Connection, session: InterviewSession) -> None:
        db.execute(
            "INSERT INTO sessions (id, desk, site, state, due_at, body) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT (id) DO UPDATE SET state=excluded.state, due_at=excluded.due_at,"
            " body=excluded.body",
            (str(session.id), session.desk, session.site, session.state.value,
             instant(session.due_at), session.model_dump_json()),
        )

    def put_check(self, db: sqlite3.Connection, check: Check) -> None:
        db.execute(
            "INSERT INTO checks (id, desk, site, session_id, state, deadline, body)"
            " VALUES (?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET state=excluded.state,"
            " deadline=excluded.deadline, body=excluded.body",
            (str(check.id), check.desk, check.site,
             str(check.session_id) if check.session_id else None, check.state.value,
             instant(check.deadline), check.model_dump_json()),
        )

    def put_alert(self, db: sqlite3.Connection, alert: Alert) -> Event:
        """A new alert and its alert.raised event, inside the caller's transaction."""
        db.execute(
            "INSERT INTO alerts (id, desk, site, state, received_at, body) VALUES (?,?,?,?,?,?)",
            _alert_row(alert),
        )
        return self._append(db, EventType.ALERT_RAISED, alert.received_at, alert.site, alert)

    def get_session(self, db: sqlite3.Connection, session_id: UUID) -> InterviewSession | None:
        row = db.execute("SELECT body FROM sessions WHERE id=?", (str(session_id),)).fetchone()
        return InterviewSession.model_validate_json(row[0]) if row else None

    def get_check(self, db: sqlite3.Connection, check_id: UUID) -> Check | None:
        row = db.execute("SELECT body FROM checks WHERE id=?", (str(check_id),)).fetchone()
        return Check.model_validate_json(row[0]) if row else None

    def sessions_due(self, db: sqlite3.Connection, now: datetime) -> list[InterviewSession]:
        """Running sessions whose expected time is over (their check is not asked yet)."""
        rows = db.execute("SELECT body FROM sessions WHERE state='running' AND due_at<=?"
                          " ORDER BY due_at", (instant(now),)).fetchall()
        return [InterviewSession.model_validate_json(r[0]) for r in rows]

    def checks_due(self, db: sqlite3.Connection, now: datetime) -> list[Check]:
        """Pending checks whose answer deadline has passed."""
        rows = db.execute("SELECT body FROM checks WHERE state='pending' AND deadline<=?"
                          " ORDER BY deadline", (instant(now),)).fetchall()
        return [Check.model_validate_json(r[0]) for r in rows]

    def pending_checks_of_session(self, db: sqlite3.Connection, session_id: UUID) -> list[Check]:
        rows = db.execute("SELECT body FROM checks WHERE session_id=? AND state='pending'",
                          (str(session_id),)).fetchall()
        return [Check.model_validate_json(r[0]) for r in rows]

    def open_sessions(self, sites: set[str] | None) -> list[InterviewSession]:
        """Sessions not closed, oldest first, of `sites` (None: all)."""
        return [InterviewSession.model_validate_json(r[0]) for r in self._rows_of(
            "sessions", "state!='closed'", "due_at", sites)]

    def pending_checks(self, sites: set[str] | None) -> list[Check]:
        return [Check.model_validate_json(r[0]) for r in self._rows_of(
            "checks", "state='pending'", "deadline", sites)]

    def _rows_of(self, table: str, where: str, order: str,
                 sites: set[str] | None) -> list[Any]:
        params: list[str] = []
        if sites is not None:
            where += f" AND site IN ({','.join('?' * len(sites))})"
            params.extend(sorted(sites))
        return self._db.execute(  # table, where and order are this module's constants
            f"SELECT body FROM {table} WHERE {where} ORDER BY {order}", params).fetchall()


class Store(NotificationStore, SessionStore, BroadcastStore):
    """The hub's store: the interface the hub uses, and its SQLite implementation (one file).

    `hub/pgstore.py` is the other implementation, PostgreSQL, shared by several hubs: it
    overrides the few places where the two databases differ (connecting, transactions, the
    commit order of event ids, row locks, instants in SQL); every query else is written once,
    in the SQL both understand."""

    # Several hubs write to this store at once (PostgreSQL): presence is read back from it and
    # events come to the broker through the event table, not from this hub's own commits.
    shared = False
    # What this database's driver raises: a write group that meets one fails as a whole.
    db_errors: tuple[type[Exception], ...] = (sqlite3.Error,)
    # Appended to a SELECT that reads a row the transaction then writes (PostgreSQL: FOR UPDATE,
    # so two hubs answering one alert at once write one after the other; SQLite: one writer).
    row_lock = ""
    # Told how long each write transaction took, BEGIN to COMMIT done (hub/metrics.py).
    on_commit: Callable[[float], None] | None = None

    @property
    def fatal_errors(self) -> tuple[type[Exception], ...]:
        """What fails a whole transaction: the driver's errors and a store gone."""
        return (*self.db_errors, StoreUnavailable)

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self._db = open_db(path)
        # WAL checkpoints off the commit path: SQLite's own, run inside the COMMIT that crosses
        # the threshold, only as a backstop; a hub runs `checkpoint()` from another thread.
        self._db.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_CHECKPOINT_PAGES}")
        self._db.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
        self._db.executescript(SCHEMA)  # version 1, so that meta exists to say the version
        self._migrate()
        self._refuse_if_moved()
        self.epoch = self._epoch()
        # Called inside the transaction of every event appended (the notification outbox plans
        # its rows there, so they commit or roll back with the event that causes them).
        self.event_hooks: list[Callable[[Any, Event], None]] = []
        self._checkpoint_db: sqlite3.Connection | None = None

    def _refuse_if_moved(self) -> None:
        """A file whose history `hub migrate` moved to PostgreSQL: a hub on it would start a
        second event log under the same epoch (desks would miss whatever it stored)."""
        row = self._db.execute("SELECT value FROM meta WHERE key='moved_to'").fetchone()
        if row is not None:
            self._db.close()
            raise ConfigError(
                f"{self.path}: this history was moved to PostgreSQL ({row[0]}) by `deskalert hub"
                " migrate`; start the hub with [hub] database (or DESKALERT_DATABASE) set,"
                " not on this file")

    def _migrate(self) -> None:
        """Apply the migrations this database has not had, in one transaction."""
        with self._transaction() as db:
            version = schema_version(db)
            for script in MIGRATIONS[version:]:
                run_script(db, script)
            set_schema_version(db)

    def _epoch(self) -> str:
        """The event log's identity, made at first start; a copy by `deskalert backup` gets a
        new one, so a restored hub never passes for the one whose events clients have seen."""
        row = self._db.execute("SELECT value FROM meta WHERE key='epoch'").fetchone()
        if row is not None:
            return str(row[0])
        with self._transaction() as db:
            return stamp_epoch(db)

    def close(self) -> None:
        note_from(self.path, self.epoch, self._db)  # hub/served.py: what this file stored
        if self._checkpoint_db is not None:
            self._checkpoint_db.close()
        self._db.close()

    def checkpoint(self) -> None:
        """A PASSIVE WAL checkpoint on a connection of its own, meant for a thread other than
        the store's: it copies committed pages into the database file without taking the
        write lock, so commits go on meanwhile (the store thread never pays for it)."""
        if self._checkpoint_db is None:
            self._checkpoint_db = open_db(self.path)
        self._checkpoint_db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        note_from(self.path, self.epoch, self._checkpoint_db)  # hub/served.py

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; a database that cannot be written is a StoreUnavailable."""
        started = time.perf_counter()
        try:
            with transaction(self._db) as db:
                yield db
        except self.db_errors as exc:
            raise StoreUnavailable(f"the hub cannot write its database: {exc}") from None
        if self.on_commit is not None:
            self.on_commit(time.perf_counter() - started)

    # -- writes: each returns the event it committed ---------------------------------------

    def insert_alert(self, alert: Alert, event_at: datetime) -> Event | None:
        with self._transaction() as db:
            return self.add_alert(db, alert, event_at)

    def add_alert(self, db: sqlite3.Connection, alert: Alert, event_at: datetime) -> Event | None:
        """The alert and its alert.raised event, inside the caller's transaction; None if the
        id is stored already (by another hub meanwhile: PostgreSQL waits for its commit)."""
        added = db.execute(
            "INSERT INTO alerts (id, desk, site, state, received_at, body) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT (id) DO NOTHING", _alert_row(alert),
        ).rowcount
        if not added:
            return None
        return self._append(db, EventType.ALERT_RAISED, event_at, alert.site, alert)

    def alert_in(self, db: sqlite3.Connection, alert_id: UUID) -> Alert | None:
        """The stored alert as the caller's transaction sees it (its own writes included)."""
        return self._get(db, alert_id)

    # -- group commit: the write path's machinery -------------------------------------------

    def write_group(
        self, writes: Sequence[Callable[[sqlite3.Connection], T]]
    ) -> list[T | Exception]:
        """Several writes in one transaction and one commit, so one fsync: group commit.

        Each write runs in its own savepoint: one that raises anything but a database error (a
        refusal: a resent id with another body) is undone alone, and that exception is its
        outcome in the list. A database error, in any write or at COMMIT, fails the whole
        group: rolled back, StoreUnavailable raised, none of it stored. So each outcome that is
        not an exception is on disk when this returns, and no write is ever half stored.
        """
        outcomes: list[T | Exception] = []
        with self._transaction() as db:
            # Outside the savepoints: a lock taken inside one that is rolled back would be
            # released with it (PostgreSQL's event lock, hub/pgstore.py).
            self.before_event(db)
            for write in writes:
                db.execute("SAVEPOINT write")
                try:
                    outcome = write(db)
                except self.fatal_errors:
                    raise  # the group fails as a whole
                except Exception as refused:  # noqa: BLE001 - the write's own answer
                    db.execute("ROLLBACK TO write")
                    db.execute("RELEASE write")
                    outcomes.append(refused)
                    continue
                db.execute("RELEASE write")
                outcomes.append(outcome)
        return outcomes

    def update_alert(
        self, alert_id: UUID, change: Callable[[Alert], tuple[Alert, EventType] | None]
    ) -> tuple[Alert, Event | None]:
        """Read, change and write one alert atomically; `change` returns None for no-op."""
        with self._transaction() as db:
            current = self._get(db, alert_id, lock=True)
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

    def set_override(
        self, site: str, supervisor: str | None, until: datetime | None, at: datetime,
        oncall: dict[str, Any] | None = None,
    ) -> Event | None:
        """Store (or, with no supervisor, delete) a site's override, and in the same transaction
        the `oncall.changed` event it causes (`oncall`: the new card, None if unchanged)."""
        with self._transaction() as db:
            if supervisor is None or until is None:
                db.execute("DELETE FROM overrides WHERE site=?", (site,))
            else:
                db.execute(
                    "INSERT INTO overrides (site, supervisor, until, at) VALUES (?,?,?,?)"
                    " ON CONFLICT (site) DO UPDATE SET supervisor=excluded.supervisor,"
                    " until=excluded.until, at=excluded.at",
                    (site, supervisor, until.isoformat(), at.isoformat()),
                )
            if oncall is None:
                return None
            return self._append(db, EventType.ONCALL_CHANGED, at, site, oncall)

    def before_event(self, db: Any) -> None:
        """Called before each event insert; PostgreSQL serialises event ids here."""

    def probe_write(self) -> None:
        """A small committed write, to learn whether the store can write: a row of two pages
        (allocated as a new alert's would be: from free pages, else by growing the file) put
        in the meta table and deleted in the same transaction."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', zeroblob(?))",
                       (PROBE_BYTES,))
            db.execute("DELETE FROM meta WHERE key='probe'")

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
        self.before_event(db)
        row = db.execute(
            "INSERT INTO events (type, at, site, subject, data) VALUES (?,?,?,?,?) RETURNING id",
            (event_type.value, at.isoformat(), site, subject, json.dumps(data)),
        ).fetchone()
        event = Event(id=int(row[0]), type=event_type, at=at, site=site, data=data)
        for hook in self.event_hooks:
            hook(db, event)
        return event

    # -- reads ------------------------------------------------------------------------------

    def get_alert(self, alert_id: UUID) -> Alert | None:
        return self._get(self._db, alert_id)

    def _get(self, db: sqlite3.Connection, alert_id: UUID, lock: bool = False) -> Alert | None:
        row = db.execute(f"SELECT body FROM alerts WHERE id=?{self.row_lock if lock else ''}",
                         (str(alert_id),)).fetchone()
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
            (*params, limit + 1 if limit >= 0 else ALL_ROWS),
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
            db.execute("DELETE FROM notifications WHERE created_at<? AND state IN (?,?,?)",
                       (cutoff, *NOTIFICATION_DONE))
            db.execute("DELETE FROM checks WHERE deadline<? AND state!='pending'", (cutoff,))
            db.execute("DELETE FROM sessions WHERE due_at<? AND state='closed'", (cutoff,))
            db.execute("DELETE FROM broadcasts WHERE sent_at<? AND state='ended'", (cutoff,))
            return len(old), notes, events

    def count_events(self, types: Sequence[str], since: datetime | None, until: datetime | None,
                     sites: set[str] | None) -> dict[str, int]:
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

    def swap_meta(self, key: str, value: str) -> str | None:
        """Set a meta value; the one it replaces (None if there was none)."""
        with self._transaction() as db:
            row = db.execute(f"SELECT value FROM meta WHERE key=?{self.row_lock}",
                             (key,)).fetchone()
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                       " SET value=excluded.value", (key, value))
        return str(row[0]) if row else None

    def link_secret(self) -> bytes | None:
        """The page's link secret if the store keeps it (shared by hubs); None: a file."""
        return None

    @staticmethod
    def as_instant(expression: str) -> str:
        """SQL turning a stored ISO 8601 text (any offset) into a comparable instant."""
        return f"julianday({expression})"

    # -- presence, shared through the store --------------------------------------------------

    def ensure_desks(self, desk_ids: Sequence[str]) -> None:
        """A presence row for each desk of the roster (offline, never seen) if it has none; a
        database from before version 2 takes each desk's state from its last presence event."""
        last = self.last_presence()
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO presence (desk, online, last_seen) VALUES (?,?,NULL)"
                " ON CONFLICT (desk) DO NOTHING",
                [(d, 1 if last.get(d, {}).get("online") else 0) for d in desk_ids])

    def presence_rows(self, db: Any = None) -> dict[str, tuple[bool, datetime | None]]:
        rows = (db or self._db).execute("SELECT desk, online, last_seen FROM presence").fetchall()
        return {r[0]: (bool(r[1]), datetime.fromisoformat(r[2]) if r[2] else None) for r in rows}

    def share_live_state(
        self, hub_id: str, seen: dict[str, datetime], streams: str, now: datetime,
        alive_after: datetime,
    ) -> tuple[dict[str, tuple[bool, datetime | None]], dict[str, str]]:
        """One transaction per tick of a hub among others: the heartbeats it heard (each desk's
        last_seen moves forward, never back) and its supervisors' streams (JSON) go in; the
        presence table and the other live hubs' streams ({hub id: JSON}) come back."""
        with self._transaction() as db:
            if seen:
                db.executemany(
                    "UPDATE presence SET last_seen=? WHERE desk=? AND (last_seen IS NULL OR"
                    " last_seen<?)", [(instant(t), d, instant(t)) for d, t in seen.items()])
            db.execute("INSERT INTO hub_streams (hub, streams, at) VALUES (?,?,?) ON CONFLICT"
                       " (hub) DO UPDATE SET streams=excluded.streams, at=excluded.at",
                       (hub_id, streams, instant(now)))
            rows = db.execute("SELECT hub, streams FROM hub_streams WHERE hub!=? AND at>=?",
                              (hub_id, instant(alive_after))).fetchall()
            return self.presence_rows(db), {r[0]: r[1] for r in rows}

    def grace_online(self, now: datetime, silent_before: datetime) -> None:
        """Desks online but silent since before `silent_before` are given until now + the
        offline delay: what a hub that starts leading cannot know (heard by a hub now gone)."""
        with self._transaction() as db:
            db.execute("UPDATE presence SET last_seen=? WHERE online=1 AND (last_seen IS NULL OR"
                       " last_seen<?)", (instant(now), instant(silent_before)))

    def set_presence(self, desk_id: str, online: bool, now: datetime,
                     silent_before: datetime | None, data: dict[str, Any],
                     site: str) -> Event | None:
        """Turn a desk on- or offline and append its event, only if it is not so already (and,
        going offline, only if no hub heard it since `silent_before`); None if nothing changed.
        Two hubs hearing the same desk come back online write one desk.online between them."""
        with self._transaction() as db:
            return self.presence_in(db, desk_id, online, now, silent_before, data, site)

    def presence_in(self, db: Any, desk_id: str, online: bool, now: datetime,
                    silent_before: datetime | None, data: dict[str, Any],
                    site: str) -> Event | None:
        """`set_presence` inside the caller's transaction (a group of desks coming online)."""
        if online:
            changed = db.execute(
                "UPDATE presence SET online=1, last_seen=? WHERE desk=? AND online=0",
                (instant(now), desk_id)).rowcount
        else:
            where, params = "desk=? AND online=1", [desk_id]
            if silent_before is not None:
                where += " AND (last_seen IS NULL OR last_seen<?)"
                params.append(instant(silent_before))
            changed = db.execute(f"UPDATE presence SET online=0 WHERE {where}",
                                 params).rowcount
        if not changed:
            return None
        event_type = EventType.DESK_ONLINE if online else EventType.DESK_OFFLINE
        return self._append(db, event_type, now, site, data)

    def forget_streams(self, hub_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM hub_streams WHERE hub=?", (hub_id,))

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
        return read_overrides(self._db)

    def check(self) -> str:
        """'ok' if the file answers a query, else the reason."""
        try:
            self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        except sqlite3.Error as exc:
            return f"error: {exc}"
        return "ok"


def hold_hub_file(db_path: Path, doing: str) -> HeldLock:
    """The hold on a hub's SQLite file while serving it, restoring or migrating it (`doing`,
    e.g. "restore a copy over it"); one process at a time. Two hubs on one file would each run
    the timers and fan out only their own alerts; a restore or a migration would write under a
    running hub's feet. The kernel drops the hold when the process ends, even by kill -9."""
    try:
        return HeldLock(db_path)
    except FileInUse as exc:
        raise ConfigError(f"a hub (process {exc.pid or '?'}) is serving {db_path}: stop it "
                          f"before you {doing}") from None
    except OSError as exc:  # a data dir this user cannot write
        raise ConfigError(f"cannot hold {exc.filename or db_path}: {exc.strerror}") from None


def open_store(database: str | None, sqlite_path: Path) -> Store:
    """The PostgreSQL store if `database` is a URL, else the SQLite file; a database that
    cannot be opened or is too new is a ConfigError (one line, non-zero exit)."""
    try:
        if database:
            from deskalert.hub.pgstore import PostgresStore  # psycopg only when asked for

            return PostgresStore(database, data_dir=sqlite_path.parent)
        return Store(sqlite_path)
    except SchemaTooNew as exc:
        raise ConfigError(f"{database and 'PostgreSQL' or sqlite_path}: {exc}") from None
    except StoreUnavailable as exc:
        raise ConfigError(exc.detail) from None
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError(f"{sqlite_path}: cannot open the hub database: {exc}") from None


def event_of(row: Sequence[Any]) -> Event:
    """An event from its row (id, type, at, site, data), on any connection."""
    return Event(id=row[0], type=EventType(row[1]), at=row[2], site=row[3],
                 data=json.loads(row[4]))


def read_overrides(db: Any) -> dict[str, tuple[str, datetime]]:
    """The on-call overrides by site, on any connection (the hub's, or the event tail's)."""
    rows = db.execute("SELECT site, supervisor, until FROM overrides").fetchall()
    return {r[0]: (r[1], datetime.fromisoformat(r[2])) for r in rows}


ALL_ROWS = 1 << 62  # a LIMIT that both databases read as "no limit"


def run_script(db: Any, script: str) -> None:
    """DDL statements one by one, inside the caller's transaction (SQLite's executescript
    would commit first)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def schema_version(db: Any) -> int:
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(version)
    return version


def set_schema_version(db: Any) -> None:
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
               " ON CONFLICT (key) DO UPDATE SET value=excluded.value", (str(SCHEMA_VERSION),))


class SchemaTooNew(Exception):
    """The database was migrated by a newer deskalert: this hub would misread it."""

    def __init__(self, version: int) -> None:
        super().__init__(f"the database has schema version {version}, newer than this hub's"
                         f" {SCHEMA_VERSION}: run the newer deskalert, or upgrade this one")
        self.version = version


def stamp_epoch(db: sqlite3.Connection) -> str:
    """Give the event log a new identity (inside the caller's transaction); returns it."""
    epoch = secrets.token_hex(8)
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('epoch', ?)"
        " ON CONFLICT(key) DO UPDATE SET value=excluded.value", (epoch,)
    )
    return epoch


def must_be_hub_database(source: Path) -> None:
    """Read-only: `source` is a hub's SQLite file (not a desk's journal, not an empty file)."""
    if not source.is_file():
        raise ConfigError(f"{source}: no such hub database (the hub's data dir holds"
                          " hub.sqlite3)")
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE"
                                               " type='table'")}
    except sqlite3.Error as exc:
        raise ConfigError(f"{source}: not a hub database ({exc})") from None
    if not {"alerts", "events", "meta"} <= tables:
        raise ConfigError(f"{source}: not a hub database (no alerts and events tables: a"
                          " desk's journal? the hub's is hub.sqlite3 in its data dir)")


def copy_with_new_epoch(source: Path, target: Path) -> str:
    """Copy a hub database with SQLite's backup API (consistent while the hub writes), then give
    the copy its own epoch: whenever it is restored, clients know to start over. Returns it."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = open_db(target)
        try:
            src.backup(dst)
            dst.executescript(SCHEMA)  # a copy of an older hub gets the meta table too
            with transaction(dst) as db:
                return stamp_epoch(db)
        finally:
            dst.close()
            make_private(target)
    finally:
        src.close()


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
    text = json.dumps(list(key), separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


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
