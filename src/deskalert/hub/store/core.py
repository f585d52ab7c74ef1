"""The store's core, shared by SQLite and PostgreSQL: transactions, events, alert writes.

An alert and the event that announces it are written in the same transaction, and the answer to
the desk is sent only after that commit: an alert that got a 2xx survives `kill -9` of the hub and
a power cut. Event ids increase strictly, across restarts too, which is what `Last-Event-ID`
replay relies on (SQLite: AUTOINCREMENT; PostgreSQL: ids taken in commit order, postgres.py).

The store is synchronous and not thread-safe on purpose: the hub calls it from one dedicated
thread (hub/runtime.py), which serialises every write without locks. New alerts are written in
groups (`write_group`): one transaction and one fsync for the alerts that arrived while the
previous group was being committed, each answer still sent after the commit that holds it. The
writes of a group are plain functions of a connection that the caller gives: the store never
calls back into the hub.

The two databases differ in the abstract methods below (sqlite.py, postgres.py); every query
else is written once, in the SQL both read.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from deskalert.errors import StoreUnavailable
from deskalert.hub.lease import Lease
from deskalert.hub.store.connection import Connection, EventHook
from deskalert.hub.store.rows import alert_row, read_overrides
from deskalert.models import Alert, Event, EventType

T = TypeVar("T")
PROBE_BYTES = 8192


class StoreCore(ABC):
    """A connection, its transactions, events and their hook, and the alert writes."""

    # Several hubs write to this store at once (PostgreSQL): presence is read back from it and
    # events come to the broker through the event table, not from this hub's own commits.
    shared = False
    # The database's URL when it is shared (PostgreSQL); None for a file.
    url: str | None = None
    # What this database's driver raises: a write group that meets one fails as a whole.
    db_errors: tuple[type[Exception], ...] = ()
    # Appended to a SELECT that reads a row the transaction then writes (PostgreSQL: FOR UPDATE,
    # so two hubs answering one alert at once write one after the other; SQLite: one writer).
    row_lock = ""
    # Told how long each write transaction took, BEGIN to COMMIT done (hub/metrics.py).
    on_commit: Callable[[float], None] | None = None
    # The lease a leader's writes under way are fenced with (`as_leader`); None: not fenced.
    _lease: Lease | None = None

    def __init__(
        self, db: Connection, path: Path, location: str, on_event: EventHook | None = None
    ) -> None:
        self._db = db
        self.path = path  # the hub's local files live beside it (calendars, link secret)
        self.location = location  # what banners and errors show (never a password)
        self._on_event = on_event
        self.epoch = ""  # the event log's identity (set by the implementation at open)

    def set_event_hook(self, hook: EventHook | None) -> None:
        """The one hook called inside the transaction of every event appended (the hub gives
        the notification planner's, hub/service.py)."""
        self._on_event = hook

    def as_leader(self, lease: Lease, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` as the leader's: each of its transactions begins by checking `lease`
        in the database (PostgreSQL, hub/lease.py); one hub alone on SQLite always leads."""
        self._lease = lease
        try:
            return fn(*args)
        finally:
            self._lease = None

    @property
    def fatal_errors(self) -> tuple[type[Exception], ...]:
        """What fails a whole transaction: the driver's errors and a store gone."""
        return (*self.db_errors, StoreUnavailable)

    # -- what each database does its own way ------------------------------------------------

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Connection]:
        """BEGIN ... COMMIT; a database that cannot be written is a StoreUnavailable."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def checkpoint(self) -> None:
        """Flush the write-ahead log, off the commit path (SQLite); nothing elsewhere."""

    @abstractmethod
    def probe_write(self) -> None:
        """A small committed write, to learn whether the store can write."""

    @abstractmethod
    def check(self) -> str:
        """'ok' if the database answers a query, else the reason."""

    def link_secret(self) -> bytes | None:
        """The page's link secret if the store keeps it (shared by hubs); None: a file."""
        return None

    @staticmethod
    def as_instant(expression: str) -> str:
        """SQL turning a stored ISO 8601 text (any offset) into a comparable instant."""
        return f"julianday({expression})"

    def before_event(self, db: Connection) -> None:  # noqa: B027 - a hook, SQLite needs nothing
        """Called before each event insert; PostgreSQL serialises event ids here."""

    # -- writes: each returns the event it committed ---------------------------------------

    def in_transaction(self, write: Callable[[Connection], object]) -> None:
        with self._transaction() as db:
            write(db)

    def insert_alert(self, alert: Alert, event_at: datetime) -> Event | None:
        with self._transaction() as db:
            return self.add_alert(db, alert, event_at)

    def add_alert(self, db: Connection, alert: Alert, event_at: datetime) -> Event | None:
        """The alert and its alert.raised event, inside the caller's transaction; None if the
        id is stored already (by another hub meanwhile: PostgreSQL waits for its commit)."""
        added = db.execute(
            "INSERT INTO alerts (id, desk, site, state, received_at, body) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT (id) DO NOTHING",
            alert_row(alert),
        ).rowcount
        if not added:
            return None
        return self.append(db, EventType.ALERT_RAISED, event_at, alert.site, alert)

    def alert_in(self, db: Connection, alert_id: UUID) -> Alert | None:
        """The stored alert as the caller's transaction sees it (its own writes included)."""
        return self._get(db, alert_id)

    def write_group(self, writes: Sequence[Callable[[Connection], T]]) -> list[T | Exception]:
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
            # released with it (PostgreSQL's event lock, hub/store/postgres.py).
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
            row = alert_row(alert)
            db.execute("UPDATE alerts SET state=?, body=? WHERE id=?", (row[3], row[5], row[0]))
            return alert, self.append(db, event_type, alert.updated_at, alert.site, alert)

    def append_event(
        self, event_type: EventType, at: datetime, site: str | None, data: dict[str, Any]
    ) -> Event:
        with self._transaction() as db:
            return self.append(db, event_type, at, site, data)

    def set_override(
        self,
        site: str,
        supervisor: str | None,
        until: datetime | None,
        at: datetime,
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
            return self.append(db, EventType.ONCALL_CHANGED, at, site, oncall)

    def append(
        self,
        db: Connection,
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
        if self._on_event is not None:
            self._on_event(db, event)
        return event

    # -- reads of one alert, and what every hub reads at start -------------------------------

    def get_alert(self, alert_id: UUID) -> Alert | None:
        return self._get(self._db, alert_id)

    def _get(self, db: Connection, alert_id: UUID, lock: bool = False) -> Alert | None:
        row = db.execute(
            f"SELECT body FROM alerts WHERE id=?{self.row_lock if lock else ''}", (str(alert_id),)
        ).fetchone()
        return Alert.model_validate_json(row[0]) if row else None

    def last_event_id(self) -> int:
        row = self._db.execute("SELECT MAX(id) FROM events").fetchone()
        return int(row[0] or 0)

    def overrides(self) -> dict[str, tuple[str, datetime]]:
        return read_overrides(self._db)
