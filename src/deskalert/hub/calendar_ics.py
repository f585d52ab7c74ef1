"""A calendar's ICS text read into shifts: parsing, the names in events, recurrences expanded.

The pure part of the on-call calendar (see `deskalert.hub.calendar` for the hub's keeping of
each site's calendar: files followed, addresses fetched, copies cached).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

import icalendar
import recurring_ical_events  # type: ignore[import-untyped]

from deskalert.errors import ConfigError
from deskalert.hub.settings import SupervisorConfig


class CalendarError(ConfigError):
    """A calendar cannot be used: unreadable, not ICS, an event without a usable start."""


@dataclass(frozen=True)
class Shift:
    """One occurrence of an event: who it names (ids, in order; maybe none) and when."""

    start: datetime
    end: datetime
    ids: tuple[str, ...]
    summary: str


@dataclass(frozen=True)
class CalendarAnswer:
    """What a site's calendar says at a moment: `ids` empty means the weekly slots apply."""

    ids: tuple[str, ...] = ()
    summary: str | None = None
    warning: str | None = None


# -- reading a calendar -----------------------------------------------------------------------


def parse_ics(data: bytes, where: str) -> icalendar.Calendar:
    """`data` as a calendar whose every event has a readable start, or CalendarError."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        problem = first_line(exc)
        if problem.startswith("Found no components"):  # truncated, or no BEGIN/END:VCALENDAR
            problem = "no complete BEGIN:VCALENDAR ... END:VCALENDAR"
        raise CalendarError(f"{where}: not a valid ICS calendar: {problem}") from None
    if not isinstance(calendar, icalendar.Calendar) or calendar.name != "VCALENDAR":
        raise CalendarError(f"{where}: not a valid ICS calendar: no VCALENDAR")
    for event in calendar.events:
        try:
            event.start  # noqa: B018 - raises on a missing or broken DTSTART
            event.end  # noqa: B018
        except (ValueError, KeyError, TypeError) as exc:
            name = str(event.get("SUMMARY", "")) or str(event.get("UID", "?"))
            raise CalendarError(f"{where}: event {name!r}: {first_line(exc)}") from None
    return calendar


def read_file(path: Path) -> icalendar.Calendar:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CalendarError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_ics(data, str(path))


def first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


class Roster:
    """Names in calendar events -> supervisor ids: e-mail of an attendee, else id or name."""

    def __init__(self, supervisors: Iterable[SupervisorConfig]) -> None:
        supervisors = list(supervisors)
        self.by_email = {s.email.lower(): s.id for s in supervisors if s.email}
        self.by_name = {_norm(s.id): s.id for s in supervisors}
        self.by_name.update({_norm(s.name): s.id for s in supervisors})

    def named(self, event: icalendar.Event) -> tuple[str, ...]:
        """Supervisors named by `event`: attendees first (in order), else its summary."""
        ids = [self.by_email.get(address) for address in _attendees(event)]
        known = [i for i in ids if i is not None]
        if known:
            return tuple(dict.fromkeys(known))
        summary = _norm(str(event.get("SUMMARY", "")))
        if summary in self.by_name:
            return (self.by_name[summary],)
        # "Astreinte - Martine Durand": a summary containing exactly one supervisor's name or id.
        found = {
            i
            for name, i in self.by_name.items()
            if re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", summary)
        }
        return (found.pop(),) if len(found) == 1 else ()


def _attendees(event: icalendar.Event) -> list[str]:
    """The e-mail addresses of the attendees who did not decline, lower case, in order."""
    values = event.get("ATTENDEE", [])
    values = values if isinstance(values, list) else [values]
    addresses = []
    for value in values:
        if str(getattr(value, "params", {}).get("PARTSTAT", "")).upper() == "DECLINED":
            continue
        text = str(value).strip()
        addresses.append(text[7:].lower() if text.lower().startswith("mailto:") else text.lower())
    return addresses


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _aware(moment: date | datetime, zone: tzinfo | None) -> datetime:
    """A start or end as an aware datetime: dates and floating times are the hub's zone's."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)  # noqa: DTZ001 - made aware below
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone) if zone is not None else moment.astimezone()
    return moment


def expand(
    calendar: icalendar.Calendar,
    roster: Roster,
    zone: tzinfo | None,
    start: datetime,
    end: datetime,
) -> tuple[Shift, ...]:
    """The occurrences overlapping [start, end), sorted by start; CalendarError if the
    recurrences cannot be expanded (a broken RRULE)."""
    local = zone if zone is not None else start.astimezone().tzinfo
    # A day of margin: floating and all-day events are placed in the hub's zone below.
    query_start = (start - timedelta(days=1)).astimezone(local)
    query_end = (end + timedelta(days=1)).astimezone(local)
    try:
        occurrences = recurring_ical_events.of(calendar).between(query_start, query_end)
    except Exception as exc:  # noqa: BLE001 - the library's errors are not one hierarchy
        raise CalendarError(f"recurrences cannot be expanded: {first_line(exc)}") from None
    shifts = []
    for event in occurrences:
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        shift = Shift(
            _aware(event.start, zone),
            _aware(event.end, zone),
            roster.named(event),
            str(event.get("SUMMARY", "")).strip(),
        )
        if shift.start < end and shift.end > start and shift.end > shift.start:
            shifts.append(shift)
    return tuple(sorted(shifts, key=lambda s: (s.start, s.end)))


def in_force(shifts: Iterable[Shift], now: datetime) -> list[Shift]:
    return [s for s in shifts if s.start <= now < s.end]


def answer_from(shifts: list[Shift], stale: str | None) -> CalendarAnswer:
    """What the shifts in force say: the people they name, in order, or a warning."""
    if not shifts:
        return CalendarAnswer(warning=stale)
    ids = tuple(dict.fromkeys(i for s in shifts for i in s.ids))
    nobody = [s.summary for s in shifts if not s.ids]
    warnings = [stale] if stale else []
    if nobody:
        warnings.append(
            f"calendar event {nobody[0]!r} names no known supervisor (an attendee's e-mail or"
            " a supervisor's id or name as summary)" + ("" if ids else "; the weekly slots apply")
        )
    named = next((s for s in shifts if s.ids), None)
    return CalendarAnswer(ids, named.summary if named else None, "; ".join(warnings) or None)
