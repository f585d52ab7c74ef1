"""The hub's durable store: one interface (`Store`), two siblings that implement it.

- `connection.py`: what the store asks of a connection (a typed protocol), and the event hook;
- `schema.py`: the schema and its versioned migrations, for both databases;
- `core.py`, `history.py`, `outbox.py`, `interview.py`, `presence.py`, `page_sessions.py`,
  `broadcasts.py`: the shared SQL, once;
- `base.py`: `Store`, the interface the hub uses;
- `sqlite.py`: `SqliteStore`, one file, one hub; `postgres.py`: `PostgresStore`, several hubs.

The store knows nothing of the hub above it: the hub passes data, or plain functions of a
connection (a group's writes), and the one event hook is set explicitly (`set_event_hook`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from deskalert.errors import ConfigError, StoreUnavailable
from deskalert.hub.store.base import Store
from deskalert.hub.store.connection import Connection, EventHook
from deskalert.hub.store.outbox import Notification
from deskalert.hub.store.rows import decode_cursor, encode_cursor, event_of, instant, read_overrides
from deskalert.hub.store.schema import SCHEMA_VERSION, SchemaTooNew
from deskalert.hub.store.sqlite import (
    SqliteStore,
    copy_with_new_epoch,
    hold_hub_file,
    must_be_hub_database,
)
from deskalert.i18n import t

__all__ = [
    "SCHEMA_VERSION",
    "Connection",
    "EventHook",
    "Notification",
    "SchemaTooNew",
    "SqliteStore",
    "Store",
    "copy_with_new_epoch",
    "decode_cursor",
    "encode_cursor",
    "event_of",
    "hold_hub_file",
    "instant",
    "must_be_hub_database",
    "open_store",
    "read_overrides",
]


def open_store(database: str | None, sqlite_path: Path) -> Store:
    """The PostgreSQL store if `database` is a URL, else the SQLite file; a database that
    cannot be opened or is too new is a ConfigError (one line, non-zero exit)."""
    try:
        if database:
            from deskalert.hub.store.postgres import PostgresStore  # psycopg only when asked for

            return PostgresStore(database, data_dir=sqlite_path.parent)
        return SqliteStore(sqlite_path)
    except SchemaTooNew as exc:
        raise ConfigError(f"{(database and 'PostgreSQL') or sqlite_path}: {exc}") from None
    except StoreUnavailable as exc:  # libpq's words, for the administrator, in brackets
        raise ConfigError(t("cli.store_unavailable", detail=exc.detail)) from None
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError(f"{sqlite_path}: cannot open the hub database: {exc}") from None
