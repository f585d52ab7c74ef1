"""The store contract's fixture and rows: one store opened directly, on SQLite or PostgreSQL.

The HTTP suites run on SQLite only where their PostgreSQL run repeated what the store does on
one hub; what differs between the two databases (their SQL, types, placeholders, instants, row
locks, event ids) is checked here, through the store's public methods, on both real databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

import pg
from deskalert.hub.store import Store, open_store
from deskalert.models import (
    Alert,
    AlertState,
    Broadcast,
    BroadcastDesk,
    BroadcastState,
    Check,
    CheckKind,
    CheckState,
    InterviewSession,
    Note,
    SessionState,
)
from deskalert.models.base import PrincipalKind
from deskalert.models.notes import IncidentType

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
STORES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def open_contract_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The store of `request.param` ("sqlite", "postgresql": a new migrated database)."""
    database = None
    if request.param == "postgresql":
        server: pg.PgServer = request.getfixturevalue("pg_server")
        database = server.database(migrated=True)
    store = open_store(database, tmp_path / "hub.sqlite3")
    yield store
    store.close()


def reopen(store: Store) -> Store:
    """The same database opened again (what a restarted hub finds)."""
    return open_store(store.url, store.path)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def alert(minutes: float = 0, **changes: Any) -> Alert:
    received = at(minutes)
    base: dict[str, Any] = dict(
        id=uuid4(),
        code="renfort",
        code_label="Renfort",
        discreet=False,
        priority=2,
        desk="g1",
        desk_label="Guichet 1",
        site="accueil",
        location="RDC",
        created_at=None,
        received_at=received,
        state=AlertState.OPEN,
        test=False,
        message="Monsieur Dupont, 50 % de réduction ? «oui»",  # % and ? reach the SQL as data
        chain=["s.a"],
        updated_at=received,
    )
    return Alert.model_validate({**base, **changes})


def note(about: Alert, author: str, minutes: float, site: str = "accueil") -> Note:
    return Note(
        alert_id=about.id,
        author=author,
        author_kind=PrincipalKind.SUPERVISOR,
        desk=about.desk,
        site=site,
        shared_at=at(minutes),
        type=IncidentType.VERBAL,
        what_happened=f"note de {author}",
    )


def session(
    desk: str, due_minutes: float, site: str = "accueil", **changes: Any
) -> InterviewSession:
    base: dict[str, Any] = dict(
        id=uuid4(),
        desk=desk,
        desk_label=desk,
        site=site,
        started_at=T0,
        expected_min=due_minutes,
        due_at=at(due_minutes),
        state=SessionState.RUNNING,
        updated_at=T0,
    )
    return InterviewSession.model_validate({**base, **changes})


def check(desk: str, deadline_minutes: float, site: str = "accueil", **changes: Any) -> Check:
    base: dict[str, Any] = dict(
        id=uuid4(),
        kind=CheckKind.SUPERVISOR,
        desk=desk,
        desk_label=desk,
        site=site,
        asked_at=T0,
        deadline=at(deadline_minutes),
        state=CheckState.PENDING,
        updated_at=T0,
    )
    return Check.model_validate({**base, **changes})


def broadcast(minutes: float, sites: list[str], **changes: Any) -> Broadcast:
    base: dict[str, Any] = dict(
        id=uuid4(),
        kind="info",
        label="Information",
        look="info",
        text="Fermeture à 16 h ? 100 % des guichets",
        sites=sites,
        sender="s.a",
        sender_name="Ana",
        sent_at=at(minutes),
        state=BroadcastState.CURRENT,
        desks=[BroadcastDesk(id=f"d.{s}", label=s, site=s) for s in sites],
        unread_after_s=60,
        updated_at=at(minutes),
    )
    return Broadcast.model_validate({**base, **changes})
