"""Small helpers of the shared SQL: how times, rows and page cursors are written and read."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from deskalert.errors import HubError
from deskalert.hub.store.connection import Queryable
from deskalert.models import Alert, AlertState, Event, EventType

OPEN_STATES = (AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value)
ALL_ROWS = 1 << 62  # a LIMIT that both databases read as "no limit"


def event_of(row: Sequence[Any]) -> Event:
    """An event from its row (id, type, at, site, data), on any connection."""
    return Event(id=row[0], type=EventType(row[1]), at=row[2], site=row[3], data=json.loads(row[4]))


def read_overrides(db: Queryable) -> dict[str, tuple[str, datetime]]:
    """The on-call overrides by site, on any connection (the hub's, or the event tail's)."""
    rows = db.execute("SELECT site, supervisor, until FROM overrides").fetchall()
    return {r[0]: (r[1], datetime.fromisoformat(r[2])) for r in rows}


def alert_row(alert: Alert) -> tuple[str, str, str, str, str, str]:
    return (
        str(alert.id),
        alert.desk,
        alert.site,
        alert.state.value,
        instant(alert.received_at),
        alert.model_dump_json(),
    )


def instant(moment: datetime) -> str:
    """How a time is written in a column that is compared or sorted: UTC, to the microsecond,
    so that text order is time order (an offset of +01:00 against +00:00 text is not)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def encode_cursor(key: Sequence[str]) -> str:
    """An opaque page cursor: the sort key of the last row given, base64url of its JSON."""
    text = json.dumps(list(key), separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> list[str]:
    """The sort key in `cursor`; a cursor not made by this hub for this list is a 400."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        key = None
    if not (isinstance(key, list) and len(key) == parts and all(isinstance(k, str) for k in key)):
        raise HubError(
            'cursor: not one this hub made for this list; take it from the Link: rel="next" header',
            code="bad_cursor",
        )
    return key


def next_cursor(rows: list[Any], limit: int) -> str | None:
    """The cursor after the page's last row if the query found one more row than a page."""
    return encode_cursor(rows[limit - 1][:-1]) if len(rows) > limit else None


def page_of_period(
    clauses: list[str],
    params: list[object],
    column: str,
    period: tuple[datetime | None, datetime | None],
    key: str,
    after: Sequence[str] | None,
) -> None:
    """Add to a query's WHERE `column` in [since, until) and, for the next page, the rows whose
    `key` (the ORDER BY columns, e.g. "(sent_at, id)") comes after the cursor's `after`."""
    for condition, bound in ((f"{column}>=?", period[0]), (f"{column}<?", period[1])):
        if bound is not None:
            clauses.append(condition)
            params.append(instant(bound))
    if after is not None:
        clauses.append(f"{key} > ({', '.join('?' * len(after))})")
        params.extend(after)
