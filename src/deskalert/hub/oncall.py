"""Who is on call for a site at a given moment.

Precedence, highest first: a supervisor's override (`POST /v1/oncall/override`), an event of
the site's calendar (hub/calendar.py), the weekly `[[oncall]]` slots. The calendar's warning (a
broken file, a fetch failure, an event naming nobody) rides on the card whatever wins.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from deskalert.errors import ConfigError
from deskalert.hub.calendar import CalendarAnswer, CalendarBook
from deskalert.hub.settings import DAYS, HubConfig, SupervisorConfig
from deskalert.i18n import t
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


# -- `deskalert hub oncall`: the same computation, for a moment chosen by a person ------------


def parse_moment(text: str | None, config: HubConfig) -> datetime:
    """`--at` ("2026-12-24 22:00", or ISO 8601 with an offset) in the hub's zone; None: now."""
    if text is None:
        return datetime.now().astimezone(config.hub.tz())
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(t("admin.error.at", at=text)) from None
    if moment.tzinfo is not None:
        return moment
    zone = config.hub.tz()
    return moment.replace(tzinfo=zone) if zone is not None else moment.astimezone()


async def cards_at(
    config: HubConfig, moment: datetime, sites: list[str], data_dir: Path | None
) -> list[OnCall]:
    """The cards the hub would show at `moment` (without its overrides): calendar files read,
    addresses fetched once (their copy in `data_dir` used if the fetch fails)."""
    book = CalendarBook(config, data_dir, clock=lambda: moment)
    await book.load(fetch=True)
    return [compute_oncall(config, site, moment, None, book.answer(site, moment)) for site in sites]


def describe(card: OnCall, config: HubConfig) -> list[str]:
    """A card as `hub oncall` prints it, in the command line's language: who, where it comes
    from, the chain, the warning (the calendar's own words: the hub's)."""
    site = {"site": card.site, "label": card.site_label}
    if card.supervisor is None:
        lines = [t("admin.oncall.nobody", **site)]
    else:
        lines = [t("admin.oncall.who", who=_who(card.supervisor), **site)]
    lines.append(t("admin.oncall.from", origin=_origin(card, config)))
    chain = [_who(p) for p in card.chain] + [t("admin.oncall.everyone")]
    if card.supervisor is not None:
        lines.append(t("admin.oncall.then", chain=t("admin.oncall.then_join").join(chain)))
    if card.warning:
        lines.append(t("admin.oncall.warning", warning=card.warning))
    return lines


def _who(someone: Person) -> str:
    phone = f", {someone.phone}" if someone.phone else ""
    return f"{someone.name} ({someone.id}{phone})"


def _origin(card: OnCall, config: HubConfig) -> str:
    if card.source == "calendar":
        entry = next(c for c in config.oncall_calendar if c.site == card.site)
        return t("admin.oncall.calendar", event=repr(card.calendar_event), source=entry.shown())
    if card.source == "schedule":
        return t("admin.oncall.slot_fallback" if card.warning else "admin.oncall.slot")
    return t("admin.oncall.uncovered")
