"""The hub database's schema and its versioned migrations, for SQLite and PostgreSQL alike.

Version 1 is SCHEMA (what every hub before versioning created); each later migration is
written once for both databases (`postgres_ddl` changes the id columns). A hub refuses a
database whose version is above the last it knows (`SchemaTooNew`).
"""

from __future__ import annotations

import secrets

from deskalert.hub.store.connection import Connection

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
    # 4 (revoked_sessions): page sessions ended by a logout before their expiry, shared by
    # every hub (hub/page_sessions.py); a row goes once the cookie would have expired anyway.
    """
CREATE TABLE IF NOT EXISTS revoked_sessions (
    id TEXT PRIMARY KEY,
    expires TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS revoked_sessions_expires ON revoked_sessions(expires);
""",
    # 5: tokens revoked or rotated without a restart, over hub.toml's (store/tokens.py).
    """
CREATE TABLE IF NOT EXISTS tokens (
    principal TEXT PRIMARY KEY,
    base_sha256 TEXT NOT NULL,
    token_sha256 TEXT,
    at TEXT NOT NULL
);
""",
    # 6: one-time enrolment codes, kept hashed (store/tokens.py, `deskalert hub enrol`).
    """
CREATE TABLE IF NOT EXISTS enrolments (
    code_sha256 TEXT PRIMARY KEY,
    principal TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
""",
    # 7: supervisors' messages to every desk of some sites (store/broadcasts.py).
    """
CREATE TABLE IF NOT EXISTS broadcasts (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS broadcasts_state ON broadcasts(state, sent_at);
""",
    # 8: the lease of the hub that runs the timers (hub/cluster.py, hub/lease.py): one row,
    # its holder, its term (one more at each new holder) and its end in the database's time
    # (seconds since 1970). Several hubs on PostgreSQL only; a SQLite hub leads alone.
    """
CREATE TABLE IF NOT EXISTS leader_lease (
    id INTEGER PRIMARY KEY,
    holder TEXT,
    term BIGINT NOT NULL DEFAULT 0,
    expires_at DOUBLE PRECISION NOT NULL DEFAULT 0
);
INSERT INTO leader_lease (id, holder, term, expires_at) VALUES (1, NULL, 0, 0)
    ON CONFLICT (id) DO NOTHING;
""",
)
SCHEMA_VERSION = len(MIGRATIONS)


def run_script(db: Connection, script: str) -> None:
    """DDL statements one by one, inside the caller's transaction (SQLite's executescript
    would commit first)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def schema_version(db: Connection) -> int:
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(version)
    return version


def set_schema_version(db: Connection) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
        " ON CONFLICT (key) DO UPDATE SET value=excluded.value",
        (str(SCHEMA_VERSION),),
    )


class SchemaTooNew(Exception):
    """The database was migrated by a newer deskalert: this hub would misread it."""

    def __init__(self, version: int) -> None:
        super().__init__(
            f"the database has schema version {version}, newer than this hub's"
            f" {SCHEMA_VERSION}: run the newer deskalert, or upgrade this one"
        )
        self.version = version


def stamp_epoch(db: Connection) -> str:
    """Give the event log a new identity (inside the caller's transaction); returns it."""
    epoch = secrets.token_hex(8)
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('epoch', ?)"
        " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
        (epoch,),
    )
    return epoch


def postgres_ddl(script: str) -> str:
    """SQLite's DDL as PostgreSQL reads it: the only difference is the id columns."""
    return script.replace(
        "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    )
