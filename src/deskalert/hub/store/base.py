"""`Store`: the interface the hub uses, whichever the database (sqlite.py, postgres.py)."""

from __future__ import annotations

from deskalert.hub.store.broadcasts import BroadcastRows
from deskalert.hub.store.history import HistoryRows
from deskalert.hub.store.interview import InterviewRows
from deskalert.hub.store.outbox import OutboxRows
from deskalert.hub.store.page_sessions import RevokedSessionRows
from deskalert.hub.store.presence import PresenceRows
from deskalert.hub.store.tokens import TokenRows


class Store(
    HistoryRows,
    OutboxRows,
    InterviewRows,
    PresenceRows,
    RevokedSessionRows,
    TokenRows,
    BroadcastRows,
):
    """The hub's store: every query, written once in the SQL both databases read, grouped by
    concern in classes that all build on `StoreCore` (core.py); `SqliteStore` and
    `PostgresStore` implement what differs (connecting, transactions, the commit order of
    event ids, row locks, instants in SQL)."""
