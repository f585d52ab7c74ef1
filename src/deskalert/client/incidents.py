"""Incidents for the debrief: a desk's from its journal, every desk's from the hub (supervisors)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from uuid import UUID

from deskalert.client.api import HubClient
from deskalert.client.catchup import catch_up_with
from deskalert.client.profile import Profile
from deskalert.client.settings import TokenMissing
from deskalert.i18n import t
from deskalert.journal.debrief import Period
from deskalert.journal.models import Incident
from deskalert.journal.store import Journal
from deskalert.models import Broadcast, Note

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # "since the start" for the hub's `since=`


async def hub_incidents(client: HubClient, since: datetime | None) -> list[Incident]:
    """The hub's alerts received since `since` (all without it), each with its shared notes."""
    alerts = await client.alerts_since(since or EPOCH)
    notes = await client.notes(since=since)
    by_alert: dict[UUID, list[Note]] = {}
    for note in notes:
        by_alert.setdefault(note.alert_id, []).append(note)
    return [Incident(alert=alert, notes=list(by_alert.get(alert.id, []))) for alert in alerts]


async def broadcasts_of(profile: Profile, period: Period, token: str | None) -> list[Broadcast]:
    """The supervisors' messages of `period` for `deskalert export`: those a desk received, from
    its journal; for a supervisor, every one sent to their sites, from the hub (with `token`)."""
    if profile.is_desk:
        journal = Journal(profile.journal_path)
        try:
            return journal.broadcasts(period.since, period.until)
        finally:
            journal.close()
    assert token is not None, "a supervisor reads the hub with its token"
    async with HubClient(profile.config.hub_urls, token) as client:
        return await client.broadcasts_sent(period.since, period.until)


async def incidents_of(profile: Profile, period: Period, token: str | None) -> list[Incident]:
    """The incidents of `period` for `deskalert export` and `report`: a desk reads its own
    journal, caught up with the hub first when it answers (one line on stderr when it does
    not); a supervisor reads the hub, with `token`."""
    if profile.is_desk:
        journal = Journal(profile.journal_path)
        try:
            if not await catch_up_with(journal, profile.config.hub_urls, _desk_token(profile)):
                print(t("journal.behind"), file=sys.stderr)
            incidents = journal.incidents(period.since)
        finally:
            journal.close()
        return period.select(incidents)
    assert token is not None, "a supervisor reads the hub with its token"
    async with HubClient(profile.config.hub_urls, token) as client:
        return period.select(await hub_incidents(client, period.since))


def _desk_token(profile: Profile) -> str | None:
    try:
        return profile.token()
    except TokenMissing:
        return None
