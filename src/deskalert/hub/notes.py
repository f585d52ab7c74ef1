"""Incident notes for the debrief, and the retention that purges personal data."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

from deskalert.errors import Forbidden
from deskalert.hub.alerts import Alerts
from deskalert.hub.roster import Roster
from deskalert.hub.runtime import Runtime
from deskalert.hub.settings import HubConfig, Principal
from deskalert.hub.store import decode_cursor
from deskalert.models import Note, NoteIn

log = logging.getLogger("deskalert.hub")


class Notes:
    """Who writes and reads incident notes; what is kept how long."""

    def __init__(self, config: HubConfig, runtime: Runtime, roster: Roster, alerts: Alerts) -> None:
        self.config = config
        self.runtime = runtime
        self.roster = roster
        self.alerts = alerts

    async def share_note(
        self, principal: Principal, alert_id: UUID, body: NoteIn
    ) -> tuple[Note, bool]:
        """The raising desk or a supervisor shares a finished incident note for the debrief."""
        alert = await self.alerts.get_alert(principal, alert_id)
        if not principal.is_supervisor and alert.desk != principal.id:
            raise Forbidden("only the desk that raised the alert or a supervisor writes its note")
        note = Note(
            **body.model_dump(),
            alert_id=alert.id,
            author=principal.id,
            author_kind=principal.kind,
            desk=alert.desk,
            site=alert.site,
            shared_at=self.runtime.clock.now(),
        )
        return note, await self.runtime.db(self.runtime.store.save_note, note)

    async def notes(
        self,
        principal: Principal,
        *,
        alert_id: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = -1,
        cursor: str | None = None,
    ) -> tuple[list[Note], str | None]:
        """Supervisors read every note of their sites; a desk reads only the notes it wrote.
        A page of `limit` (-1: all) after `cursor`, and the cursor of the next page."""
        if alert_id is not None:
            await self.alerts.get_alert(principal, alert_id)
        author = None if principal.is_supervisor else principal.id
        sites = self.roster.visible_sites(principal, None)
        after = decode_cursor(cursor, 3) if cursor is not None else None
        return await self.runtime.db(
            partial(
                self.runtime.store.list_notes,
                alert_id=alert_id,
                author=author,
                sites=sites,
                since=since,
                until=until,
                limit=limit,
                after=after,
            )
        )

    async def purge_expired(self, now: datetime) -> None:
        """Personal data is kept no longer than `retention_days`."""
        before = now - timedelta(days=self.config.hub.retention_days)
        alerts, notes, events = await self.runtime.db(self.runtime.store.purge, before)
        if alerts or notes or events:
            log.info(
                "retention: purged %d alerts, %d notes, %d events older than %s",
                alerts,
                notes,
                events,
                before.date(),
            )
