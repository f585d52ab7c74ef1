"""`deskalert hub migrate`: a site's history from its SQLite file into PostgreSQL.

Every row moves, with its id: the event log keeps its ids and its epoch, so desks and panes
that followed the SQLite hub resume on the PostgreSQL hubs after their Last-Event-ID, with no
gap and no reload. The page's link secret moves too (answer links already sent still open).
The target must be empty (a database that holds events is another site's, or a half-done
earlier run: the whole copy is one transaction, so there is no half-done run). The counts are
checked after the copy, inside the same transaction.
"""

from __future__ import annotations

import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deskalert.errors import ConfigError
from deskalert.hub.links import SECRET_NAME
from deskalert.hub.store import hold_hub_file, must_be_hub_database, open_store
from deskalert.hub.store.postgres import PostgresStore, masked
from deskalert.i18n import N_

# Parents before children is not needed (no foreign keys); ids are copied as they are.
TABLES = (
    "alerts",
    "events",
    "notes",
    "overrides",
    "notifications",
    "sessions",
    "checks",
    "presence",
    "tokens",
    "enrolments",
    "broadcasts",
)
IDENTITY_TABLES = ("events", "notifications")
BATCH = 1000


@dataclass
class Moved:
    counts: dict[str, int]
    epoch: str
    target: str


def migrate(source: Path, target_url: str) -> Moved:
    """Copy the hub database `source` into the empty PostgreSQL database at `target_url`, then
    mark `source` as moved (a hub started on it by mistake refuses, in one line)."""
    must_be_hub_database(source)
    held = hold_hub_file(source, N_("hub.held.migrate"))
    try:
        open_store(None, source).close()  # brings an older file to the current schema first
        target = open_store(target_url, source)
        assert isinstance(target, PostgresStore)
        try:
            with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src:
                counts = _copy_all(src, target, source.parent / SECRET_NAME)
            moved = Moved(counts, target.epoch, masked(target_url))
        finally:
            target.close()
        _mark_moved(source, moved.target)
    finally:
        held.release()
    return moved


def _mark_moved(source: Path, target: str) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        with closing(sqlite3.connect(source)) as db, db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('moved_to', ?) ON CONFLICT (key)"
                " DO UPDATE SET value=excluded.value",
                (f"{target} on {now}",),
            )
    except sqlite3.Error as exc:
        raise ConfigError(
            f"moved, but {source} could not be marked as moved ({exc}): never"
            " start a hub on it again"
        ) from None


def _copy_all(src: sqlite3.Connection, target: PostgresStore, secret: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    epoch = src.execute("SELECT value FROM meta WHERE key='epoch'").fetchone()
    with target._transaction() as db:
        held = db.execute(
            "SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM alerts)"
        ).fetchone()[0]
        if held:
            raise ConfigError(
                f"{target.location} already holds {held} alerts and events:"
                " migrate into an empty database"
            )
        db.execute("DELETE FROM presence")  # rows the target's start made, none with history
        for table in TABLES:
            counts[table] = _copy_table(src, db, table)
        for table in IDENTITY_TABLES:
            db.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" GREATEST((SELECT MAX(id) FROM {table}), 1))"
            )
        if epoch is not None:
            db.execute("UPDATE meta SET value=? WHERE key='epoch'", (epoch[0],))
            target.epoch = str(epoch[0])
        if secret.is_file():
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('link_secret', ?) ON CONFLICT"
                " (key) DO UPDATE SET value=excluded.value",
                (secret.read_bytes().hex(),),
            )
        for table, expected in counts.items():
            copied = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            if copied != expected:
                raise ConfigError(
                    f"{table}: {copied} rows in the target, {expected} in the"
                    " source: nothing was moved"
                )
    return counts


def _copy_table(src: sqlite3.Connection, db: object, table: str) -> int:
    columns = [row[1] for row in src.execute(f"PRAGMA table_info({table})")]
    if not columns:  # a file from before that table's migration: nothing to move
        return 0
    cursor = src.execute(f"SELECT {', '.join(columns)} FROM {table}")
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    total = 0
    while rows := cursor.fetchmany(BATCH):
        db.executemany(insert, rows)  # type: ignore[attr-defined]
        total += len(rows)
    return total


def new_epoch(target_url: str) -> str:
    """Give the PostgreSQL event log a new identity: after restoring a backup of it, so that
    every desk and pane reloads instead of waiting for events it already had. Refused while
    hubs run on it (they would keep serving the old epoch)."""
    store = open_store(target_url, Path(tempfile.gettempdir()) / "hub.sqlite3")
    assert isinstance(store, PostgresStore)
    try:
        alive = store.live_hubs(datetime.now(UTC) - timedelta(seconds=LIVE_HUB_S))
        if alive:
            raise ConfigError(
                f"{alive} hub(s) run on {masked(target_url)} (seen in the last"
                f" {LIVE_HUB_S} s): stop them all, then stamp the new epoch"
            )
        return store.new_epoch()
    finally:
        store.close()


LIVE_HUB_S = 10
