"""The hub's store on PostgreSQL, shared by several hubs that are all active.

Every query is `Store`'s own (written in the SQL both databases read); this module holds what
differs, as `SqliteStore`'s sibling:

- **Event ids in commit order.** With several writers a sequence hands out ids in one order
  and commits land in another: a follower reading "after id N" would skip an id given earlier
  and committed later. Each transaction that appends an event first takes a transaction-level
  advisory lock (`EVENT_LOCK`), held until its COMMIT, and only then takes its ids; so whoever
  sees id N committed can trust that every id below N is committed too, or never will be.
  Alert volumes allow it: the lock is held for one group commit, a few milliseconds.
- **A wake-up for the other hubs.** The same transaction sends `NOTIFY deskalert_events`, which
  PostgreSQL delivers at COMMIT; `hub/cluster.py` listens and reads the new events. The
  notification is only a wake-up: the reader also polls.
- **Row locks**: `SELECT ... FOR UPDATE` before an alert changes, so two hubs answering the
  same alert at once write one after the other, the second seeing the first's answer.
- **A lost database is a 503**, never a 500: any connection error is `StoreUnavailable`, and the
  next use connects again. A call that gets no answer is cut after `pgwatch.CALL_DEADLINE_S`
  (a stalled link would hang it for good); after a cut call or a failed connection, the store
  answers 503 at once for RETRY_AFTER_S instead of queueing one connection timeout per request.

The store is used from the hub's one store thread, like the SQLite one: psycopg 3's synchronous
connection, not its asyncio one, because the hub's write path (group commit, the outbox's
hooks inside the event's transaction) is built on that thread and stays the same on both
databases.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg

from deskalert.errors import ConfigError, StoreUnavailable
from deskalert.hub import pgwatch
from deskalert.hub.lease import LeadLost, Lease
from deskalert.hub.links import SECRET_BYTES
from deskalert.hub.store.base import Store
from deskalert.hub.store.connection import Connection, Cursor, EventHook
from deskalert.hub.store.core import PROBE_BYTES
from deskalert.hub.store.rows import instant
from deskalert.hub.store.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    postgres_ddl,
    run_script,
    schema_version,
    set_schema_version,
    stamp_epoch,
)
from deskalert.i18n import t

log = logging.getLogger("deskalert.hub")
EVENT_LOCK = 0x64657361  # "desa": serialises event inserts (transaction-level)
MIGRATE_LOCK = 0x64657362  # one hub at a time migrates the schema (transaction-level)
ROSTER_LOCK = 0x64657363  # one hub at a time compares its roster at start (transaction-level)
CHANNEL = "deskalert_events"
CONNECT_TIMEOUT_S = 3
RETRY_AFTER_S = 1.0  # after a failed connect or a stalled call, 503 at once for this long
# A half-open connection (a pulled cable, a frozen database host) is given up within ~10 s
# instead of the kernel's two hours: TCP keep-alives, and a send not acknowledged in 5 s.
CONNECT_OPTIONS: dict[str, Any] = {
    "connect_timeout": CONNECT_TIMEOUT_S,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "tcp_user_timeout": 5000,
    "application_name": "deskalert-hub",
}


def masked(url: str) -> str:
    """The URL as shown in banners, logs and errors: user, host and database, never the
    password, whatever its characters (the user part ends at the last @) and never the query
    (`?password=` is valid libpq)."""
    scheme, _, rest = url.partition("://")
    userinfo, at, hostpart = rest.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}{':***' if colon else ''}{at}" if at else ""
    return f"{scheme or 'postgresql'}://{shown}{hostpart.split('?', 1)[0]}"


# On the store's own connection only (its transactions are a few milliseconds long): a hub that
# freezes inside a transaction (a stopped VM, a hung process) would hold the event lock, and so
# every hub's writes, until the kernel gives up on its socket. PostgreSQL ends such a session
# after IDLE_IN_TRANSACTION_MS, freeing the lock; a write waiting for a lock gives up after
# LOCK_TIMEOUT_MS with a 503 (the desk resends) rather than hang.
IDLE_IN_TRANSACTION_MS = 1000  # below the client's 1.5 s (ALERT_FAILOVER_TIMEOUT)
LOCK_TIMEOUT_MS = 3000
STORE_SESSION = (
    f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
    f" -c lock_timeout={LOCK_TIMEOUT_MS}"
)


def connect(url: str, **options: Any) -> psycopg.Connection[Any]:
    """An autocommit connection with the module's timeouts; a failure is StoreUnavailable."""
    try:
        return psycopg.connect(url, autocommit=True, **{**CONNECT_OPTIONS, **options})
    except psycopg.Error as exc:
        raise StoreUnavailable(
            f"cannot reach PostgreSQL at {masked(url)}: {_first_line(exc)}"
        ) from None


@lru_cache(maxsize=512)
def pg_sql(query: str) -> str:
    """The store's SQL (qmark placeholders) in psycopg's format: `?` -> `%s`, `%` -> `%%`.
    None of the store's queries has a `?` inside a string literal."""
    return query.replace("%", "%%").replace("?", "%s")


class PgConnection:
    """What `Store` asks of a connection (`execute`, `executemany`, cursors with `fetchone`,
    `fetchall`, `rowcount`), on one psycopg connection that is opened again after a loss."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.Connection[Any] | None = None
        self._unreachable: tuple[float, str] | None = None  # (when, why) of the last loss

    def _live(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = self._reconnect()
        return self._conn

    def _reconnect(self) -> psycopg.Connection[Any]:
        """A new connection, or at once the last reason if one failed within RETRY_AFTER_S:
        over a stalled link each try takes CONNECT_TIMEOUT_S, and the requests queued behind
        would each wait for their own."""
        if self._unreachable and time.monotonic() - self._unreachable[0] < RETRY_AFTER_S:
            raise StoreUnavailable(self._unreachable[1])
        try:
            conn = connect(self.url, options=STORE_SESSION)
        except StoreUnavailable as exc:
            self._unreachable = (time.monotonic(), exc.detail)
            raise
        self._unreachable = None
        return conn

    def execute(self, query: str, params: Sequence[Any] = ()) -> Cursor:
        conn = self._live()
        try:
            with pgwatch.deadline(conn):
                return conn.execute(pg_sql(query), tuple(params))
        except psycopg.OperationalError as exc:
            raise self._lost(exc) from None

    def executemany(self, query: str, rows: Iterable[Sequence[Any]]) -> None:
        conn = self._live()
        try:
            with pgwatch.deadline(conn):
                conn.cursor().executemany(pg_sql(query), [tuple(r) for r in rows])
        except psycopg.OperationalError as exc:
            raise self._lost(exc) from None

    def _lost(self, exc: psycopg.OperationalError) -> StoreUnavailable:
        self.drop()
        lost = StoreUnavailable(f"PostgreSQL: {_first_line(exc)}")
        if isinstance(exc, pgwatch.Stalled):  # the next call would wait as long: not at once
            self._unreachable = (time.monotonic(), lost.detail)
        return lost

    def drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    def rollback_quietly(self) -> None:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            self.drop()
            return
        try:
            with pgwatch.deadline(conn):
                conn.execute("ROLLBACK")
        except psycopg.Error:
            self.drop()


class PostgresStore(Store):
    """`Store` on a PostgreSQL database, written to by several hubs at once."""

    shared = True
    db_errors: tuple[type[Exception], ...] = (psycopg.Error,)
    row_lock = " FOR UPDATE"

    def __init__(
        self, url: str, *, data_dir: Path | None = None, on_event: EventHook | None = None
    ) -> None:
        self._pg = PgConnection(url)
        # Calendars and other local files still live in the hub's data directory.
        path = (data_dir or Path(".")) / "hub.postgresql"
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(self._pg, path, masked(url), on_event)
        self.url = url
        self._event_locked = False
        self._migrate()
        self.epoch = self._epoch()

    def _migrate(self) -> None:
        """Create or migrate the schema; hubs starting together migrate one after the other."""
        with self._transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATE_LOCK,))
            db.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            version = schema_version(db)
            for script in MIGRATIONS[version:]:
                run_script(db, postgres_ddl(script))
            set_schema_version(db)

    def close(self) -> None:
        self._pg.drop()

    def checkpoint(self) -> None:
        """PostgreSQL checkpoints by itself."""

    @contextmanager
    def _transaction(self) -> Iterator[PgConnection]:
        db = self._pg
        self._event_locked = False
        started = time.perf_counter()
        try:
            db.execute("BEGIN")
            if self._lease is not None:
                self._fence(db, self._lease)
            yield db
            db.execute("COMMIT")
            if self.on_commit is not None:
                self.on_commit(time.perf_counter() - started)
        except BaseException as exc:
            db.rollback_quietly()
            if isinstance(exc, psycopg.Error):
                raise StoreUnavailable(
                    f"the hub cannot write its database: {_first_line(exc)}"
                ) from None
            raise
        finally:
            self._event_locked = False

    @staticmethod
    def _fence(db: PgConnection, lease: Lease) -> None:
        """A leader's write goes on only while `lease` is this hub's in the database; the
        row stays locked (FOR SHARE) until the commit, so a hub taking the lease over waits
        for this write to be committed (hub/lease.py)."""
        lease.check()
        row = db.execute(
            "SELECT term FROM leader_lease WHERE id=1 AND holder=? AND term=?"
            " AND expires_at > EXTRACT(EPOCH FROM clock_timestamp()) FOR SHARE",
            (lease.holder, lease.term),
        ).fetchone()
        if row is None:
            raise LeadLost(f"another hub leads now (this hub's term {lease.term} is over)")

    def before_event(self, db: Connection) -> None:
        """The first event of a transaction waits for the event lock, then sends the wake-up
        (delivered at COMMIT): ids are taken by one transaction at a time, in commit order."""
        if not self._event_locked:
            db.execute("SELECT pg_advisory_xact_lock(?)", (EVENT_LOCK,))
            db.execute(f"NOTIFY {CHANNEL}")
            self._event_locked = True

    def probe_write(self) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('probe', repeat('x', ?))"
                " ON CONFLICT (key) DO UPDATE SET value=excluded.value",
                (PROBE_BYTES,),
            )
            db.execute("DELETE FROM meta WHERE key='probe'")

    @staticmethod
    def as_instant(expression: str) -> str:
        return f"CAST({expression} AS timestamptz)"

    def check(self) -> str:
        try:
            self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        except (StoreUnavailable, psycopg.Error) as exc:
            return f"error: {exc}"
        return "ok"

    def _epoch(self) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key='epoch'").fetchone()
        if row is not None:
            return str(row[0])
        with self._transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATE_LOCK,))
            row = db.execute("SELECT value FROM meta WHERE key='epoch'").fetchone()
            return str(row[0]) if row is not None else stamp_epoch(db)

    def link_secret(self) -> bytes:
        """Every hub signs and checks answer links and page sessions with the same key, kept
        in meta and made by the first hub (changing it revokes every link and session)."""
        with self._transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATE_LOCK,))
            row = db.execute("SELECT value FROM meta WHERE key='link_secret'").fetchone()
            if row is None:
                row = (secrets.token_hex(SECRET_BYTES),)
                db.execute("INSERT INTO meta (key, value) VALUES ('link_secret', ?)", row)
        return bytes.fromhex(str(row[0]))

    def live_hubs(self, since: datetime) -> int:
        """How many hubs wrote their stream line (each does every tick) since then."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM hub_streams WHERE at>=?", (instant(since),)
        ).fetchone()
        return int(row[0])

    def claim_roster(
        self,
        hub_id: str,
        live_after: datetime,
        live_until: datetime,
        decide: Callable[[str | None, str | None, int], tuple[str, str] | None],
    ) -> None:
        """A starting hub's roster check, one hub at a time (a transaction-level advisory
        lock): `decide` gets the database's roster fingerprint, its summary and how many hubs
        wrote their stream line since `live_after`; it raises to refuse, or gives the
        (fingerprint, summary) to write. The hub's stream line is then written in the same
        transaction, dated `live_until` (its first tick dates it again): the next hub to
        start counts it as running, however long this one takes to start."""
        with self._transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (ROSTER_LOCK,))
            rows = db.execute(
                "SELECT key, value FROM meta WHERE key IN ('roster', 'roster_summary')"
            ).fetchall()
            meta = {str(r[0]): str(r[1]) for r in rows}
            live = db.execute(
                "SELECT COUNT(*) FROM hub_streams WHERE at>=?", (instant(live_after),)
            ).fetchone()
            chosen = decide(meta.get("roster"), meta.get("roster_summary"), int(live[0]))
            for key, value in zip(("roster", "roster_summary"), chosen or (), strict=False):
                db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                    " SET value=excluded.value",
                    (key, value),
                )
            db.execute(
                "INSERT INTO hub_streams (hub, streams, at) VALUES (?, '{}', ?) ON CONFLICT"
                " (hub) DO UPDATE SET at=excluded.at",
                (hub_id, instant(live_until)),
            )

    def new_epoch(self) -> str:
        """A new identity for the event log (after a restore of the database)."""
        with self._transaction() as db:
            self.epoch = stamp_epoch(db)
        return self.epoch


def describe_database(url: str) -> str:
    """One line for `hub --check`: reachable, and its schema against this hub's; a database
    that cannot be reached, or is newer than this hub, is an error (StoreUnavailable,
    ConfigError)."""
    conn = connect(url)
    try:
        exists = conn.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()
        row = (
            conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if exists and exists[0]
            else None
        )
        events = conn.execute("SELECT COUNT(*) FROM events").fetchone() if row is not None else None
    except psycopg.Error as exc:
        raise StoreUnavailable(f"PostgreSQL at {masked(url)}: {_first_line(exc)}") from None
    finally:
        conn.close()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise ConfigError(
            f"PostgreSQL at {masked(url)}: schema version {version}, newer than"
            f" this hub's {SCHEMA_VERSION}: upgrade deskalert"
        )
    if version == 0:
        return t("admin.check.pg_empty", url=masked(url))
    count = events[0] if events else 0
    if version == SCHEMA_VERSION:
        return t("admin.check.pg_current", url=masked(url), events=count)
    return t(
        "admin.check.pg_older",
        url=masked(url),
        version=version,
        current=SCHEMA_VERSION,
        events=count,
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def events_after(conn: psycopg.Connection[Any], last_id: int, limit: int) -> list[tuple[Any, ...]]:
    """Raw event rows after `last_id` on a connection of the caller's (the cross-hub reader)."""
    return conn.execute(
        "SELECT id, type, at, site, data FROM events WHERE id>%s ORDER BY id LIMIT %s",
        (last_id, limit),
    ).fetchall()
