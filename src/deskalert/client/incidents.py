"""Every desk's incidents as the hub knows them: alerts with their shared notes (supervisors)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from deskalert.client.api import HubClient
from deskalert.models import Incident, Note

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # "since the start" for the hub's `since=`


async def hub_incidents(client: HubClient, since: datetime | None) -> list[Incident]:
    """The hub's alerts received since `since` (all without it), each with its shared notes."""
    alerts = await client.alerts_since(since or EPOCH)
    notes = await client.notes()
    by_alert: dict[UUID, list[Note]] = {}
    for note in notes:
        by_alert.setdefault(note.alert_id, []).append(note)
    return [Incident(alert=alert, notes=list(by_alert.get(alert.id, []))) for alert in alerts]
