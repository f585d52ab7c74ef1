"""The hub's store on one SQLite file: WAL mode, `synchronous=FULL`, one hub at a time.

WAL checkpoints run on a second connection of their own (`checkpoint`), from another thread,
not inside a commit that a desk waits for. The file is held by its hub (`hold_hub_file`) while
served, restored or migrated.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from deskalert.errors import ConfigError, StoreUnavailable
from deskalert.hub.served import note_from
from deskalert.hub.store.base import Store
from deskalert.hub.store.connection import EventHook
from deskalert.hub.store.core import PROBE_BYTES
from deskalert.hub.store.schema import (
    MIGRATIONS,
    SCHEMA,
    run_script,
    schema_version,
    set_schema_version,
    stamp_epoch,
)
from deskalert.i18n import t
from deskalert.sqlite import FileInUse, HeldLock, make_private, open_db, transaction

BACKSTOP_CHECKPOINT_PAGES = 10000  # 40 MB of WAL (SQLite's default is 1000 pages)
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024  # what an idle WAL is truncated to


class SqliteStore(Store):
    """`Store` on one SQLite file, written by one hub."""

    db_errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, path: Path, on_event: EventHook | None = None) -> None:
        self._sqlite = open_db(path)
        super().__init__(self._sqlite, path, str(path), on_event)
        # WAL checkpoints off the commit path: SQLite's own, run inside the COMMIT that crosses
        # the threshold, only as a backstop; a hub runs `checkpoint()` from another thread.
        self._sqlite.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_CHECKPOINT_PAGES}")
        self._sqlite.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
        self._sqlite.executescript(SCHEMA)  # version 1, so that meta exists to say the version
        self._migrate()
        self._refuse_if_moved()
        self.epoch = self._epoch()
        self._checkpoint_db: sqlite3.Connection | None = None

    def _refuse_if_moved(self) -> None:
        """A file whose history `hub migrate` moved to PostgreSQL: a hub on it would start a
        second event log under the same epoch (desks would miss whatever it stored)."""
        row = self._db.execute("SELECT value FROM meta WHERE key='moved_to'").fetchone()
        if row is not None:
            self._sqlite.close()
            raise ConfigError(t("hub.error.moved", path=self.path, target=row[0]))

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
        note_from(self.path, self.epoch, self._sqlite)  # hub/served.py: what this file stored
        if self._checkpoint_db is not None:
            self._checkpoint_db.close()
        self._sqlite.close()

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
            with transaction(self._sqlite) as db:
                yield db
        except self.db_errors as exc:
            raise StoreUnavailable(f"the hub cannot write its database: {exc}") from None
        if self.on_commit is not None:
            self.on_commit(time.perf_counter() - started)

    def probe_write(self) -> None:
        """A small committed write, to learn whether the store can write: a row of two pages
        (allocated as a new alert's would be: from free pages, else by growing the file) put
        in the meta table and deleted in the same transaction."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', zeroblob(?))",
                (PROBE_BYTES,),
            )
            db.execute("DELETE FROM meta WHERE key='probe'")

    def check(self) -> str:
        """'ok' if the file answers a query, else the reason."""
        try:
            self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        except sqlite3.Error as exc:
            return f"error: {exc}"
        return "ok"


def hold_hub_file(db_path: Path, held: str) -> HeldLock:
    """The hold on a hub's SQLite file while serving it, restoring or migrating it (`held`: the
    catalogue's refusal when a hub holds it, `hub.held.*`); one process at a time. Two hubs on
    one file would each run the timers and fan out only their own alerts; a restore or a
    migration would write under a running hub's feet. The kernel drops the hold when the
    process ends, even by kill -9."""
    try:
        return HeldLock(db_path)
    except FileInUse as exc:
        raise ConfigError(t(held, pid=exc.pid or "?", path=db_path)) from None
    except OSError as exc:  # a data dir this user cannot write
        path = exc.filename or db_path
        raise ConfigError(t("hub.error.hold", path=path, reason=exc.strerror)) from None


def must_be_hub_database(source: Path) -> None:
    """Read-only: `source` is a hub's SQLite file (not a desk's journal, not an empty file)."""
    if not source.is_file():
        raise ConfigError(t("hub.error.no_such_database", path=source))
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error as exc:
        raise ConfigError(t("hub.error.not_database", path=source, reason=exc)) from None
    if not {"alerts", "events", "meta"} <= tables:
        raise ConfigError(t("hub.error.not_hub_tables", path=source))


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
