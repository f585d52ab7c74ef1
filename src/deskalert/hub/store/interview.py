"""Interview sessions and "tout va bien ?" checks: their shared SQL (hub/interview.py decides).

Rows are read and written inside the caller's transaction (`in_transaction`), so a check, its
answer and the alert it raises commit together, and deadlines are read from the table, not from
memory. The tables keep their first names (`sessions`, `checks`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from deskalert.hub.store.connection import Connection
from deskalert.hub.store.core import StoreCore
from deskalert.hub.store.rows import alert_row, instant
from deskalert.models import Alert, Check, Event, EventType, InterviewSession


class InterviewRows(StoreCore):
    """Sessions and checks."""

    def put_session(self, db: Connection, session: InterviewSession) -> None:
        db.execute(
            "INSERT INTO sessions (id, desk, site, state, due_at, body) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT (id) DO UPDATE SET state=excluded.state, due_at=excluded.due_at,"
            " body=excluded.body",
            (
                str(session.id),
                session.desk,
                session.site,
                session.state.value,
                instant(session.due_at),
                session.model_dump_json(),
            ),
        )

    def put_check(self, db: Connection, check: Check) -> None:
        db.execute(
            "INSERT INTO checks (id, desk, site, session_id, state, deadline, body)"
            " VALUES (?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET state=excluded.state,"
            " deadline=excluded.deadline, body=excluded.body",
            (
                str(check.id),
                check.desk,
                check.site,
                str(check.session_id) if check.session_id else None,
                check.state.value,
                instant(check.deadline),
                check.model_dump_json(),
            ),
        )

    def put_alert(self, db: Connection, alert: Alert) -> Event:
        """A new alert and its alert.raised event, inside the caller's transaction."""
        db.execute(
            "INSERT INTO alerts (id, desk, site, state, received_at, body) VALUES (?,?,?,?,?,?)",
            alert_row(alert),
        )
        return self.append(db, EventType.ALERT_RAISED, alert.received_at, alert.site, alert)

    def get_session(self, db: Connection, session_id: UUID) -> InterviewSession | None:
        row = db.execute("SELECT body FROM sessions WHERE id=?", (str(session_id),)).fetchone()
        return InterviewSession.model_validate_json(row[0]) if row else None

    def get_check(self, db: Connection, check_id: UUID) -> Check | None:
        row = db.execute("SELECT body FROM checks WHERE id=?", (str(check_id),)).fetchone()
        return Check.model_validate_json(row[0]) if row else None

    def sessions_due(self, db: Connection, now: datetime) -> list[InterviewSession]:
        """Running sessions whose expected time is over (their check is not asked yet)."""
        rows = db.execute(
            "SELECT body FROM sessions WHERE state='running' AND due_at<=? ORDER BY due_at",
            (instant(now),),
        ).fetchall()
        return [InterviewSession.model_validate_json(r[0]) for r in rows]

    def checks_due(self, db: Connection, now: datetime) -> list[Check]:
        """Pending checks whose answer deadline has passed."""
        rows = db.execute(
            "SELECT body FROM checks WHERE state='pending' AND deadline<=? ORDER BY deadline",
            (instant(now),),
        ).fetchall()
        return [Check.model_validate_json(r[0]) for r in rows]

    def pending_checks_of_session(self, db: Connection, session_id: UUID) -> list[Check]:
        rows = db.execute(
            "SELECT body FROM checks WHERE session_id=? AND state='pending'", (str(session_id),)
        ).fetchall()
        return [Check.model_validate_json(r[0]) for r in rows]

    def open_sessions(self, sites: set[str] | None) -> list[InterviewSession]:
        """Sessions not closed, oldest first, of `sites` (None: all)."""
        return [
            InterviewSession.model_validate_json(r[0])
            for r in self._rows_of("sessions", "state!='closed'", "due_at", sites)
        ]

    def pending_checks(self, sites: set[str] | None) -> list[Check]:
        return [
            Check.model_validate_json(r[0])
            for r in self._rows_of("checks", "state='pending'", "deadline", sites)
        ]

    def _rows_of(self, table: str, where: str, order: str, sites: set[str] | None) -> list[Any]:
        params: list[str] = []
        if sites is not None:
            where += f" AND site IN ({','.join('?' * len(sites))})"
            params.extend(sorted(sites))
        return self._db.execute(  # table, where and order are this module's constants
            f"SELECT body FROM {table} WHERE {where} ORDER BY {order}", params
        ).fetchall()
