"""Who is on call for a site at a given moment.

Precedence, highest first: a supervisor's override (`POST /v1/oncall/override`), an event of
the site's calendar (hub/calendar.py), the weekly `[[oncall]]` slots. The calendar's warning (a
broken file, a fetch failure, an event naming nobody) rides on the card whatever wins.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from deskalert.hub.calendar import CalendarAnswer
from deskalert.hub.settings import DAYS, HubConfig, SupervisorConfig
from deskalert.models import OnCall, Person


def person(supervisor: SupervisorConfig) -> Person:
    return Person(
        id=supervisor.id, name=supervisor.name, phone=supervisor.phone, location=supervisor.location
    )


def scheduled_ids(config: HubConfig, site: str, now: datetime) -> list[str]:
    """[on-call supervisor, *backup] from the first slot covering `now`, or [] if none does."""
    local = now.astimezone(config.hub.tz())
    day = DAYS[local.weekday()]
    previous_day = DAYS[(local - timedelta(days=1)).weekday()]
    for slot in config.oncall:
        if slot.site == site and slot.covers(day, local.time(), previous_day):
            return _dedupe([slot.supervisor, *slot.backup])
    return []


def compute_oncall(
    config: HubConfig,
    site: str,
    now: datetime,
    override: tuple[str, datetime] | None,
    calendar: CalendarAnswer | None = None,
) -> OnCall:
    """The on-call card of `site` at `now`: an override in force puts its supervisor first; a
    calendar event naming known supervisors replaces the weekly slot during the event."""
    supervisors = {s.id: s for s in config.supervisors}
    site_label = next(s.label for s in config.sites if s.id == site)
    named = [i for i in (calendar.ids if calendar else ()) if i in supervisors]
    ids = named or scheduled_ids(config, site, now)
    source: str = "calendar" if named else "schedule" if ids else "none"
    event = calendar.summary if named and calendar else None
    until = None
    if override is not None and override[1] > now and override[0] in supervisors:
        ids = _dedupe([override[0], *ids])
        source, until = "override", override[1]
    people = [person(supervisors[i]) for i in ids]
    return OnCall(
        site=site,
        site_label=site_label,
        supervisor=people[0] if people else None,
        chain=people[1:],
        source=source,  # type: ignore[arg-type]
        until=until,
        calendar_event=event,
        warning=calendar.warning if calendar else None,
    )


def _dedupe(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))
