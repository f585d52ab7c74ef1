"""On-call from the team's calendar: an ICS file or address per site, read into shifts.

Teams keep their rota in Outlook/Exchange, Nextcloud or Thunderbird; `[[oncall_calendar]]` in
hub.toml points the hub at it. Each event in force names who is on call: its attendees whose
`mailto:` is a supervisor's `email` (in the event's order: the first is on call, the others are
the chain), else its summary (a supervisor's id or name). Recurrences (RRULE, RDATE, EXDATE,
moved occurrences) are expanded by `recurring-ical-events`; floating times and all-day events
are read in the hub's time zone.

Where the time goes: reading files, fetching addresses, parsing and expanding recurrences run
in `CalendarBook`'s background tasks (threads for the CPU and disk, httpx async for the
network); the hub's `answer(site, now)` only scans the shifts expanded ahead of time, so a slow
calendar server or a large calendar never delays an alert.

What can go wrong, and what the hub does (never a site without on-call):

    unreadable file, bad ICS             no calendar: the weekly slots apply, with a warning
    fetch failure, a copy kept           the last good copy (memory, then the data dir's cache),
                                         with a warning
    fetch failure, no copy ever fetched  the weekly slots, with a warning
    an event in force naming nobody      the weekly slots, with a warning
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import httpx
import icalendar

from deskalert.hub.calendar_ics import CalendarAnswer as CalendarAnswer  # re-exported
from deskalert.hub.calendar_ics import CalendarError as CalendarError  # re-exported
from deskalert.hub.calendar_ics import (
    Roster,
    Shift,
    answer_from,
    expand,
    first_line,
    in_force,
    parse_ics,
    read_file,
)
from deskalert.hub.settings import HubConfig, OnCallCalendar
from deskalert.i18n import t

log = logging.getLogger("deskalert.hub")

POLL_S = 1.0  # how often a file's mtime is looked at, and the window kept ahead
WINDOW_BEFORE = timedelta(hours=1)
WINDOW_AHEAD = timedelta(hours=36)
REEXPAND_MARGIN = timedelta(hours=12)  # expand again when the window ends sooner than this
MAX_ICS_BYTES = 20_000_000
CACHE_DIR = "calendars"


@dataclass(frozen=True)
class _State:
    """A calendar as last read; replaced whole (one assignment), so readers on other threads
    never see half of an update."""

    calendar: icalendar.Calendar | None = None
    error: str | None = None  # no usable calendar: why (the slots apply)
    stale: str | None = None  # a last good copy is used: why
    shifts: tuple[Shift, ...] = ()
    window: tuple[datetime, datetime] | None = None


# -- one site's calendar ---------------------------------------------------------------------


@dataclass
class SiteCalendar:
    """A site's calendar as the hub keeps it: the last good read, and its expansion ahead."""

    entry: OnCallCalendar
    roster: Roster
    zone: tzinfo | None
    cache: Path | None = None  # where a fetched copy is kept (url calendars)
    state: _State = field(default_factory=_State)
    _seen: tuple[int, int] | None = None  # a file's (mtime_ns, size) as last read
    _fetched_at: datetime | None = None  # by the book's clock: when the last fetch began

    @property
    def site(self) -> str:
        return self.entry.site

    def answer(self, now: datetime) -> CalendarAnswer:
        """Who the calendar names at `now`; cheap unless `now` is outside the expanded window."""
        state = self.state
        if state.error is not None or state.calendar is None:
            return CalendarAnswer(warning=state.error)
        if state.window is not None and state.window[0] <= now < state.window[1]:
            shifts = state.shifts
        else:  # a moment far from the hub's clock (hub oncall --at, a test's clock jump)
            try:
                shifts = expand(
                    state.calendar, self.roster, self.zone, now, now + timedelta(seconds=1)
                )
            except CalendarError as exc:
                return CalendarAnswer(warning=self._warning(str(exc)))
        return answer_from(in_force(shifts, now), state.stale)

    def _warning(self, problem: str) -> str:
        return f"on-call calendar {self.entry.shown()}: {problem}; the weekly slots apply"

    # -- reading (on a thread) -------------------------------------------------------------

    def reload_file(self, now: datetime) -> bool:
        """Read the file again if its mtime or size changed; True if the state changed."""
        assert self.entry.file is not None
        try:
            info = self.entry.file.stat()
            seen: tuple[int, int] | None = (info.st_mtime_ns, info.st_size)
        except OSError:
            seen = None
        if seen == self._seen and self.state.calendar is not None:
            return self.extend(now)
        if seen == self._seen and self.state.error is not None:
            return False
        self._seen = seen
        try:
            calendar = read_file(self.entry.file)
        except CalendarError as exc:
            self._set(_State(error=self._warning(str(exc).removeprefix(f"{self.entry.file}: "))))
            return True
        self._take(calendar, now, stale=None)
        return True

    def load_cache(self, now: datetime) -> None:
        """Start from the copy fetched before the hub stopped, if any."""
        if self.cache is None or not self.cache.exists():
            self._set(_State(error=self._warning("not fetched yet")))
            return
        try:
            self._take(read_file(self.cache), now, stale=None)
        except CalendarError as exc:
            self._set(_State(error=self._warning(f"the cached copy is unusable ({exc})")))

    def _take(self, calendar: icalendar.Calendar, now: datetime, stale: str | None) -> None:
        start, end = now - WINDOW_BEFORE, now + WINDOW_AHEAD
        try:
            shifts = expand(calendar, self.roster, self.zone, start, end)
        except CalendarError as exc:
            self._set(_State(error=self._warning(str(exc))))
            return
        self._set(_State(calendar, None, stale, shifts, (start, end)))

    def extend(self, now: datetime) -> bool:
        """Expand the window again when `now` nears its end (or left it); True if done."""
        state = self.state
        if state.calendar is None or state.window is None:
            return False
        if state.window[0] <= now and now + REEXPAND_MARGIN < state.window[1]:
            return False
        self._take(state.calendar, now, state.stale)
        return True

    def _set(self, state: _State) -> None:
        previous, self.state = self.state, state
        if state.error and state.error != previous.error:
            log.warning("%s", state.error)
        elif state.stale and state.stale != previous.stale:
            log.warning("%s", state.stale)
        elif previous.error and not state.error:
            log.info("on-call calendar %s of %s: read again", self.entry.shown(), self.site)
        for shift in state.shifts:
            if not shift.ids and shift not in previous.shifts:
                log.warning(
                    "on-call calendar %s: event %r at %s names no known supervisor",
                    self.entry.shown(),
                    shift.summary,
                    shift.start.isoformat(),
                )

    # -- fetching (async) --------------------------------------------------------------------

    def fetch_due(self, now: datetime) -> bool:
        """Every refresh_min by the book's clock (a clock set back counts as due)."""
        last = self._fetched_at
        return last is None or not last <= now < last + timedelta(minutes=self.entry.refresh_min)

    async def fetch(self, client: httpx.AsyncClient, now: datetime) -> None:
        """Fetch the address once; on success keep the copy on disk, on failure keep the last
        good copy (with a warning), or fall back to the slots if there never was one."""
        self._fetched_at = now
        try:
            data = await self._download(client)
            calendar = await asyncio.to_thread(parse_ics, data, self.entry.shown())
        except (httpx.HTTPError, CalendarError) as exc:
            await asyncio.to_thread(self._failed, first_line(exc) or type(exc).__name__, now)
            return
        await asyncio.to_thread(self._fetched, data, calendar, now)

    async def _download(self, client: httpx.AsyncClient) -> bytes:
        async with client.stream(
            "GET", self.entry.fetch_url(), timeout=self.entry.timeout_s, follow_redirects=True
        ) as response:
            if response.status_code != 200:
                raise CalendarError(f"HTTP {response.status_code}")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_ICS_BYTES:
                    raise CalendarError(f"larger than {MAX_ICS_BYTES // 1_000_000} MB")
                chunks.append(chunk)
            return b"".join(chunks)

    def _fetched(self, data: bytes, calendar: icalendar.Calendar, now: datetime) -> None:
        if self.cache is not None:
            try:
                _write_atomically(self.cache, data)
            except OSError as exc:
                log.warning(
                    "on-call calendar %s: cannot keep a copy in %s: %s",
                    self.entry.shown(),
                    self.cache,
                    exc,
                )
        self._take(calendar, now, stale=None)

    def _failed(self, problem: str, now: datetime) -> None:
        state = self.state
        if state.calendar is None and self.cache is not None and self.cache.exists():
            self.load_cache(now)
            state = self.state
        if state.calendar is None:
            self._set(_State(error=self._warning(f"cannot fetch it ({problem})")))
            return
        since = _copy_time(self.cache, self.zone)
        stale = (
            f"on-call calendar {self.entry.shown()}: cannot fetch it ({problem});"
            f" using the copy fetched {since}"
        )
        self._set(_State(state.calendar, None, stale, state.shifts, state.window))


def _copy_time(cache: Path | None, zone: tzinfo | None) -> str:
    try:
        assert cache is not None
        moment = datetime.fromtimestamp(cache.stat().st_mtime, tz=zone).astimezone(zone)
    except (OSError, AssertionError):
        return "earlier"
    return f"at {moment:%Y-%m-%d %H:%M %z}"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


# -- every site's calendar -------------------------------------------------------------------


class CalendarBook:
    """The hub's calendars, kept fresh by one background task each."""

    def __init__(
        self, config: HubConfig, data_dir: Path | None, clock: Callable[[], datetime]
    ) -> None:
        roster, zone = Roster(config.supervisors), config.hub.tz()
        self.calendars = {
            entry.site: SiteCalendar(entry, roster, zone, _cache_path(data_dir, entry))
            for entry in config.oncall_calendar
        }
        self.clock = clock
        self.poll_s = POLL_S
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None

    def answer(self, site: str, now: datetime) -> CalendarAnswer | None:
        calendar = self.calendars.get(site)
        return calendar.answer(now) if calendar is not None else None

    async def load(self, *, fetch: bool) -> None:
        """Read every file (and the cached copies); with `fetch`, fetch every address once."""
        now = self.clock()
        for calendar in self.calendars.values():
            try:
                await self._load(calendar, now, fetch=fetch)
            except Exception:  # the hub starts anyway: the slots apply
                log.exception("on-call calendar of %s: unexpected error", calendar.site)

    async def _load(self, calendar: SiteCalendar, now: datetime, *, fetch: bool) -> None:
        if calendar.entry.file is not None:
            await asyncio.to_thread(calendar.reload_file, now)
            return
        await asyncio.to_thread(calendar.load_cache, now)
        if fetch:
            async with httpx.AsyncClient() as client:
                await calendar.fetch(client, now)

    async def start(self) -> None:
        """Read the files and cached copies now; fetch and follow in the background."""
        await self.load(fetch=False)
        if not self.calendars:
            return
        self._client = httpx.AsyncClient()
        self._tasks = [
            asyncio.create_task(self._follow(c), name=f"deskalert-calendar-{c.site}")
            for c in self.calendars.values()
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    async def _follow(self, calendar: SiteCalendar) -> None:
        while True:
            try:
                await self._update(calendar)
            except asyncio.CancelledError:
                raise
            except Exception:  # a calendar must never stop being followed
                log.exception("on-call calendar of %s: unexpected error", calendar.site)
            await asyncio.sleep(self.poll_s)

    async def _update(self, calendar: SiteCalendar) -> None:
        now = self.clock()
        if calendar.entry.file is not None:
            await asyncio.to_thread(calendar.reload_file, now)
            return
        if calendar.fetch_due(now):
            assert self._client is not None
            await calendar.fetch(self._client, now)
        else:
            await asyncio.to_thread(calendar.extend, now)


def _cache_path(data_dir: Path | None, entry: OnCallCalendar) -> Path | None:
    if entry.url is None or data_dir is None:
        return None
    return data_dir / CACHE_DIR / f"{entry.site}.ics"


def check_calendars(config: HubConfig) -> list[str]:
    """For `hub --check`: every calendar file parsed and expanded over the coming year, one
    line each (in the command line's language); CalendarError (file, key, problem) for the
    first that cannot be used."""
    roster, zone, lines = Roster(config.supervisors), config.hub.tz(), []
    now = datetime.now().astimezone()
    for index, entry in enumerate(config.oncall_calendar):
        key = f"oncall_calendar[{index}]"
        if entry.file is None:
            lines.append(t("admin.check.calendar_url", site=entry.site, source=entry.shown()))
            continue
        try:
            shifts = expand(read_file(entry.file), roster, zone, now, now + timedelta(days=365))
        except CalendarError as exc:
            raise CalendarError(f"{key}.file: {exc}") from None
        nobody = sorted({s.summary for s in shifts if not s.ids})
        line = t("admin.check.calendar_file", site=entry.site, file=entry.file, count=len(shifts))
        if nobody:
            names = ", ".join(repr(n) for n in nobody[:5])
            line += t("admin.check.calendar_nobody", names=names)
        lines.append(line)
    return lines
