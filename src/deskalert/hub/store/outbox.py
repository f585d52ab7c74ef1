"""The notification outbox's shared SQL (hub/notify.py decides what goes in it)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deskalert.hub.store.connection import Connection
from deskalert.hub.store.core import StoreCore
from deskalert.hub.store.rows import instant
from deskalert.models import Alert, AlertState, Event, EventType

NOTIFICATION_DONE = ("sent", "gave_up", "cancelled")
# What tells a supervisor about an open alert (the others say it is taken or over).
ALERTING_KINDS = ("raised", "escalated", "renotify")


@dataclass(frozen=True)
class Notification:
    """One message for one channel: a row of the outbox. `channel` is the channel's key, never
    its URL (a URL may hold a token); `owner` is a supervisor id or `site:<id>`."""

    alert_id: str
    site: str | None
    kind: str
    owner: str
    channel: str
    title: str
    body: str
    id: int = 0
    attempts: int = 0
    attempt_id: str | None = None


class OutboxRows(StoreCore):
    """The outbox's queries, on the store's thread; rows planned inside an event's transaction."""

    def add_notifications(
        self, db: Connection, rows: Sequence[Notification], now: datetime
    ) -> None:
        """Queue `rows` inside the caller's transaction (the event that causes them)."""
        db.executemany(
            "INSERT INTO notifications (alert_id, site, kind, owner, channel, title, body, state,"
            " created_at, due_at) VALUES (?,?,?,?,?,?,?,'pending',?,?)",
            [
                (
                    r.alert_id,
                    r.site,
                    r.kind,
                    r.owner,
                    r.channel,
                    r.title,
                    r.body,
                    instant(now),
                    instant(now),
                )
                for r in rows
            ],
        )

    def notified_channels(
        self, db: Connection, alert_id: str, *, attempted: bool
    ) -> list[tuple[str, str]]:
        """(owner, channel) told about the alert so far: queued at all, or tried at least once."""
        rows = db.execute(
            "SELECT DISTINCT owner, channel FROM notifications WHERE alert_id=? AND kind IN"
            f" (?,?,?){' AND attempts>0' if attempted else ''} ORDER BY owner, channel",
            (alert_id, *ALERTING_KINDS),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def unsent_channels(self, db: Connection, alert_id: str) -> set[str]:
        """Channels with an alerting message about the alert not sent yet (a backlog)."""
        rows = db.execute(
            "SELECT DISTINCT channel FROM notifications WHERE alert_id=? AND kind IN (?,?,?)"
            " AND state IN ('pending','retry','sending')",
            (alert_id, *ALERTING_KINDS),
        ).fetchall()
        return {r[0] for r in rows}

    def cancel_notifications(self, db: Connection, alert_id: str) -> None:
        """Alerting rows not yet being sent are dropped: someone answered, or it is over."""
        db.execute(
            "UPDATE notifications SET state='cancelled' WHERE alert_id=? AND kind IN (?,?,?)"
            " AND state IN ('pending','retry')",
            (alert_id, *ALERTING_KINDS),
        )

    def alert_state(self, db: Connection, alert_id: str) -> str | None:
        row = db.execute("SELECT state FROM alerts WHERE id=?", (alert_id,)).fetchone()
        return str(row[0]) if row else None

    def alerts_to_renotify(self, last_before: datetime) -> list[Alert]:
        """Open (unanswered) alerts whose last alerting notification was queued before then."""
        rows = self._db.execute(
            "SELECT a.body FROM alerts a JOIN (SELECT alert_id, MAX(created_at) AS last"
            " FROM notifications WHERE kind IN (?,?,?) AND owner NOT LIKE 'site:%'"
            " GROUP BY alert_id) n ON n.alert_id=a.id"
            " WHERE a.state=? AND n.last<=?",
            (*ALERTING_KINDS, AlertState.OPEN.value, instant(last_before)),
        ).fetchall()
        return [Alert.model_validate_json(r[0]) for r in rows]

    def due_notifications(self, now: datetime, per_queue: int) -> list[tuple[int, str, str, str]]:
        """(id, site, kind, channel) of rows due to be sent: the first `per_queue` of each
        site's queue for each channel (first messages first, then the oldest), so that a site
        with thousands waiting cannot hide another's one; the worker picks among them
        (hub/notify_queue.py)."""
        rank = (
            "CASE kind WHEN 'raised' THEN 0 WHEN 'escalated' THEN 0 WHEN 'renotify' THEN 2"
            " ELSE 1 END"
        )
        rows = self._db.execute(
            "SELECT id, site, kind, channel FROM (SELECT id, site, kind, channel, due_at,"
            f" {rank} AS rank, ROW_NUMBER() OVER (PARTITION BY site, channel"
            f" ORDER BY {rank}, due_at, id) AS place FROM notifications"
            " WHERE state IN ('pending','retry') AND due_at<=?) AS due"
            " WHERE place<=? ORDER BY rank, due_at, id",
            (instant(now), per_queue),
        ).fetchall()
        return [(r[0], r[1] or "", r[2], r[3]) for r in rows]

    def claim_notifications(self, ids: Sequence[int]) -> list[Notification]:
        """Mark the rows `ids` still waiting 'sending' under a fresh attempt id, committed
        before any is sent: a row found 'sending' after a crash is one whose fate is unknown."""
        with self._transaction() as db:
            claimed = []
            for row_id in ids:
                r = db.execute(
                    "SELECT id, alert_id, site, kind, owner, channel, title, body, attempts"
                    " FROM notifications WHERE id=? AND state IN ('pending','retry')",
                    (row_id,),
                ).fetchone()
                if r is None:
                    continue  # cancelled since it was listed (someone answered)
                attempt_id = secrets.token_hex(8)
                db.execute(
                    "UPDATE notifications SET state='sending', attempts=attempts+1,"
                    " attempt_id=? WHERE id=?",
                    (attempt_id, r[0]),
                )
                claimed.append(_notification(r, r[8] + 1, attempt_id))
            return claimed

    def notification_backlog(self) -> list[tuple[str, int, str]]:
        """(channel, rows not sent yet, when the oldest was queued) of every channel with some."""
        rows = self._db.execute(
            "SELECT channel, COUNT(*), MIN(created_at) FROM notifications"
            " WHERE state IN ('pending','retry','sending') GROUP BY channel"
        ).fetchall()
        return [(r[0], int(r[1]), str(r[2])) for r in rows]

    def finish_notification(
        self,
        row: Notification,
        state: str,
        at: datetime,
        retry_at: datetime | None,
        event_type: EventType,
        data: dict[str, Any],
    ) -> Event | None:
        """Record an attempt's outcome and its event in one commit; None if the row is no
        longer this attempt's (never happens with one worker; guards a stale one)."""
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE notifications SET state=?, due_at=?, last_error=? WHERE id=? AND"
                " attempt_id=? AND state='sending'",
                (state, instant(retry_at or at), data.get("reason"), row.id, row.attempt_id),
            ).rowcount
            if not changed:
                return None
            return self.append(db, event_type, at, row.site, data)

    def interrupted_notifications(self) -> list[Notification]:
        """Rows left 'sending' by a hub that stopped mid-attempt."""
        rows = self._db.execute(
            "SELECT id, alert_id, site, kind, owner, channel, title, body, attempts, attempt_id"
            " FROM notifications WHERE state='sending' ORDER BY id"
        ).fetchall()
        return [_notification(r, r[8], r[9]) for r in rows]


def _notification(r: Sequence[Any], attempts: int, attempt_id: str | None) -> Notification:
    """A row read as (id, alert_id, site, kind, owner, channel, title, body, ...)."""
    return Notification(
        id=r[0],
        alert_id=r[1],
        site=r[2],
        kind=r[3],
        owner=r[4],
        channel=r[5],
        title=r[6],
        body=r[7],
        attempts=attempts,
        attempt_id=attempt_id,
    )
