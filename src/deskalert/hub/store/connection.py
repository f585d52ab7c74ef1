"""What the store asks of a database connection, whichever the database.

SQLite's `sqlite3.Connection` has this shape as it is; PostgreSQL's is `postgres.PgConnection`,
which turns the shared SQL's `?` placeholders into psycopg's. The shared SQL (hub/store/*.py)
is written once against this protocol, in the SQL both databases read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from deskalert.models import Event


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Queryable(Protocol):
    """Enough to read: any connection of either database (psycopg's own too)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...


class Connection(Queryable, Protocol):
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> object: ...


# Called inside the transaction of every event appended, with that transaction's connection:
# the notification outbox (hub/notify.py) plans its rows there, so they commit or roll back
# with the event that causes them.
EventHook = Callable[[Connection, Event], None]
