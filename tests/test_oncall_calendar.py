"""On-call from a calendar ([[oncall_calendar]]), through a real hub and GET /v1/oncall.

The hub's on-call clock (`OnCallBoard.now`) is set to a FakeClock: the tests move through a
calendar's weeks without waiting; events stay stamped with the real time.
"""

from __future__ import annotations

import http.server
import itertools
import os
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from desk_helpers import FakeClock
from deskalert.hub.server import build_server
from deskalert.hub.settings import HubConfig
from support.cli import run_cli
from support.events import EventReader
from support.hubs import RunningHub
from support.requests import new_alert
from support.roster import roster_toml
from support.waiting import wait_until

PARIS = ZoneInfo("Europe/Paris")
EMAILS = {
    "Ana Sup": "ana@example.org",
    "Bob Sup": "bob@example.org",
    "Cleo Sup": "Cleo@Example.org",
}

WEEKLY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//deskalert//tests//EN
BEGIN:VEVENT
UID:weekly-monday
DTSTART;TZID=Europe/Paris:20261123T080000
DTEND;TZID=Europe/Paris:20261123T180000
RRULE:FREQ=WEEKLY;BYDAY=MO
EXDATE;TZID=Europe/Paris:20261130T080000
SUMMARY:Astreinte du lundi
ATTENDEE;CN=Cleo:mailto:cleo@example.org
ATTENDEE;CN=Someone else:mailto:room-3@example.org
ATTENDEE;CN=Bob:MAILTO:bob@example.org
END:VEVENT
BEGIN:VEVENT
UID:one-off
DTSTART;TZID=Europe/Paris:20261202T100000
DTEND;TZID=Europe/Paris:20261202T120000
SUMMARY:Astreinte - Bob Sup
END:VEVENT
END:VCALENDAR
"""

ZONES = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//deskalert//tests//EN
BEGIN:VEVENT
UID:new-york
DTSTART;TZID=America/New_York:20261124T030000
DTEND;TZID=America/New_York:20261124T050000
SUMMARY:s.b
END:VEVENT
BEGIN:VEVENT
UID:utc
DTSTART:20261125T080000Z
DTEND:20261125T090000Z
SUMMARY:s.c
END:VEVENT
BEGIN:VEVENT
UID:floating
DTSTART:20261126T090000
DTEND:20261126T100000
SUMMARY:Bob Sup
END:VEVENT
BEGIN:VEVENT
UID:all-day
DTSTART;VALUE=DATE:20261127
DTEND;VALUE=DATE:20261128
SUMMARY:Cleo Sup
END:VEVENT
END:VCALENDAR
"""


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def calendar_config(calendar: str) -> HubConfig:
    """The test roster (s.a on call all week for accueil, s.b behind), supervisors with an
    e-mail, and `calendar` as its [[oncall_calendar]] lines."""
    text = roster_toml()
    for name, email in EMAILS.items():
        text = text.replace(f'name = "{name}"\n', f'name = "{name}"\nemail = "{email}"\n')
    return HubConfig.model_validate(tomllib.loads(text + "\n[[oncall_calendar]]\n" + calendar))


@pytest.fixture
def start_hub(tmp_path: Path) -> Iterator[Callable[..., RunningHub]]:
    """Starts a hub whose on-call clock is `clock`, and whose calendars are looked at often."""
    started: list[RunningHub] = []

    def start(config: HubConfig, clock: Callable[[], datetime], name: str = "hub") -> RunningHub:
        server = build_server(config, host="127.0.0.1", port=0, data_dir=tmp_path / name)
        app: Any = server.server.config.app
        hub = app.state.hub
        hub.oncall.now = clock
        hub.calendars.poll_s = 0.1
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.server.started:
            assert time.monotonic() < deadline, "hub did not start"
            time.sleep(0.01)
        running = RunningHub(server, thread, config, tmp_path / name)
        started.append(running)
        return running

    yield start
    for hub in started:
        if hub.thread.is_alive():
            hub.stop()


def card(hub: RunningHub, site: str = "accueil") -> dict[str, Any]:
    with hub.client("s.a") as client:
        [answer] = client.get("/v1/oncall", params={"site": site}).json()
    return answer  # type: ignore[no-any-return]


def who(answer: dict[str, Any]) -> list[str]:
    first = [answer["supervisor"]["id"]] if answer["supervisor"] else []
    return first + [p["id"] for p in answer["chain"]]


_BUMP = itertools.count()


def write(path: Path, text: str) -> Path:
    """Writes `text` and moves the mtime on, as an editor saving twice in a second would not."""
    path.write_text(text, encoding="utf-8")
    later = time.time() + next(_BUMP)
    os.utime(path, (later, later))
    return path


# -- recurrences, exceptions, one-off events -----------------------------------------------


def test_weekly_rrule_with_an_exdate_and_a_one_off_event(
    tmp_path: Path, start_hub: Callable[..., RunningHub]
) -> None:
    ics = write(tmp_path / "astreinte.ics", WEEKLY)
    clock = FakeClock(paris("2026-11-23T09:00"))
    hub = start_hub(calendar_config(f'site = "accueil"\nfile = "{ics}"\n'), clock)

    monday = card(hub)
    assert who(monday) == ["s.c", "s.b"], "attendees in order; the unknown room is skipped"
    assert monday["source"] == "calendar" and monday["calendar_event"] == "Astreinte du lundi"
    assert monday["warning"] is None

    clock.moment = paris("2026-11-23T18:00")  # the event ends: the weekly slot again
    assert who(card(hub)) == ["s.a", "s.b"] and card(hub)["source"] == "schedule"

    clock.moment = paris("2026-11-30T09:00")  # EXDATE: no calendar shift that Monday
    assert who(card(hub)) == ["s.a", "s.b"] and card(hub)["source"] == "schedule"

    clock.moment = paris("2026-12-07T17:59")  # the rule goes on after the exception
    assert who(card(hub)) == ["s.c", "s.b"]

    clock.moment = paris("2026-12-02T11:00")  # the one-off event, named in its summary
    one_off = card(hub)
    assert who(one_off) == ["s.b"] and one_off["calendar_event"] == "Astreinte - Bob Sup"
    clock.moment = paris("2026-12-02T12:00")
    assert who(card(hub)) == ["s.a", "s.b"]

    # A desk sees the same card for its site.
    with hub.client("g1") as desk:
        assert who(desk.get("/v1/oncall").json()[0]) == ["s.a", "s.b"]


def test_time_zones_utc_floating_and_all_day_events(
    tmp_path: Path, start_hub: Callable[..., RunningHub]
) -> None:
    ics = write(tmp_path / "zones.ics", ZONES)
    clock = FakeClock(paris("2026-11-24T08:59"))
    hub = start_hub(calendar_config(f'site = "accueil"\nfile = "{ics}"\n'), clock)
    expected = [
        ("2026-11-24T08:59", "s.a"),  # 02:59 in New York: not yet
        ("2026-11-24T09:00", "s.b"),  # 03:00 in New York (TZID)
        ("2026-11-24T10:59", "s.b"),
        ("2026-11-24T11:00", "s.a"),
        ("2026-11-25T09:30", "s.c"),  # 08:30 UTC
        ("2026-11-25T10:00", "s.a"),  # 09:00 UTC: ended
        ("2026-11-26T09:30", "s.b"),  # floating: the hub's zone (Europe/Paris)
        ("2026-11-26T10:00", "s.a"),
        ("2026-11-27T00:00", "s.c"),  # all day, from the hub's midnight...
        ("2026-11-27T23:59", "s.c"),
        ("2026-11-28T00:00", "s.a"),  # ...to the next
    ]
    for moment, supervisor in expected:
        clock.moment = paris(moment)
        assert card(hub)["supervisor"]["id"] == supervisor, moment


# -- a calendar that cannot be used ---------------------------------------------------------


def test_a_broken_ics_file_falls_back_to_the_slots_with_a_warning(
    tmp_path: Path, start_hub: Callable[..., RunningHub], follow: Callable[..., EventReader]
) -> None:
    ics = write(tmp_path / "astreinte.ics", "BEGIN:VCALENDAR\nthis is not ICS\n")
    clock = FakeClock(paris("2026-11-23T09:00"))
    hub = start_hub(calendar_config(f'site = "accueil"\nfile = "{ics}"\n'), clock)
    broken = card(hub)
    assert who(broken) == ["s.a", "s.b"] and broken["source"] == "schedule"
    assert str(ics) in broken["warning"] and "not a valid ICS calendar" in broken["warning"]
    assert "the weekly slots apply" in broken["warning"]

    # Repaired under the running hub: the calendar applies again, the warning goes.
    reader = follow(hub.url, "s.a", params={"site": "accueil"})
    write(ics, WEEKLY)
    changed = reader.events_until("oncall.changed")[-1][2]
    assert changed["supervisor"]["id"] == "s.c" and changed["warning"] is None

    ics.unlink()  # gone: the slots again, with why
    changed = reader.events_until("oncall.changed")[-1][2]
    assert changed["supervisor"]["id"] == "s.a" and "cannot read" in changed["warning"]


def test_an_event_naming_nobody_known_falls_back_to_the_slots_with_a_warning(
    tmp_path: Path, start_hub: Callable[..., RunningHub]
) -> None:
    ics = write(tmp_path / "astreinte.ics", WEEKLY.replace("Astreinte - Bob Sup", "Astreinte ?"))
    clock = FakeClock(paris("2026-12-02T11:00"))
    hub = start_hub(calendar_config(f'site = "accueil"\nfile = "{ics}"\n'), clock)
    answer = card(hub)
    assert who(answer) == ["s.a", "s.b"] and answer["source"] == "schedule"
    assert "'Astreinte ?' names no known supervisor" in answer["warning"]


def test_hub_check_parses_the_calendar_file(tmp_path: Path) -> None:
    ics = write(tmp_path / "astreinte.ics", WEEKLY)
    hub_toml = tmp_path / "hub.toml"
    text = roster_toml().replace(
        'name = "Cleo Sup"\n', 'name = "Cleo Sup"\nemail = "cleo@example.org"\n'
    )
    hub_toml.write_text(text + f'\n[[oncall_calendar]]\nsite = "accueil"\nfile = "{ics}"\n')
    result = run_cli("hub", "--config", str(hub_toml), "--check")
    assert result.returncode == 0, result.stderr
    assert f"agenda accueil\u00a0: {ics}\u00a0: " in result.stdout

    write(ics, WEEKLY.replace("DTSTART;TZID=Europe/Paris:20261202T100000", "DTSTART:2026xx"))
    result = run_cli("hub", "--config", str(hub_toml), "--check")
    assert result.returncode == 2 and result.stdout == ""
    said = f"deskalert : {hub_toml}: oncall_calendar[0].file: {ics}: event"
    assert result.stderr.startswith(said), result.stderr
    assert len(result.stderr.splitlines()) == 1

    hub_toml.write_text(text + '\n[[oncall_calendar]]\nsite = "accueil"\nfile = "astreinte.ics"\n')
    result = run_cli("hub", "--config", str(hub_toml), "--check")
    assert result.returncode == 2 and "oncall_calendar[0].file" in result.stderr
    assert "doit être un chemin absolu" in result.stderr  # French by default


# -- changes under a running hub ------------------------------------------------------------


def test_the_file_changing_and_an_event_starting_emit_oncall_changed(
    tmp_path: Path, start_hub: Callable[..., RunningHub], follow: Callable[..., EventReader]
) -> None:
    ics = write(tmp_path / "astreinte.ics", WEEKLY)
    clock = FakeClock(paris("2026-11-23T07:59"))
    hub = start_hub(calendar_config(f'site = "accueil"\nfile = "{ics}"\n'), clock)
    reader = follow(hub.url, "g1", params={"site": "accueil"})
    assert card(hub)["supervisor"]["id"] == "s.a"

    clock.moment = paris("2026-11-23T08:00")  # the Monday event starts
    started = reader.events_until("oncall.changed")[-1][2]
    assert started["supervisor"]["id"] == "s.c" and started["source"] == "calendar"

    write(ics, WEEKLY.replace("cleo@example.org", "ana@example.org"))  # the rota is edited
    edited = reader.events_until("oncall.changed")[-1][2]
    assert [edited["supervisor"]["id"], *(p["id"] for p in edited["chain"])] == ["s.a", "s.b"]
    assert edited["source"] == "calendar"

    clock.moment = paris("2026-11-23T18:00")  # it ends: the slot's chain comes back
    ended = reader.events_until("oncall.changed")[-1][2]
    assert ended["source"] == "schedule"


def test_an_override_wins_over_the_calendar(
    tmp_path: Path, start_hub: Callable[..., RunningHub]
) -> None:
    now = datetime.now(UTC)
    ics = write(
        tmp_path / "now.ics",
        WEEKLY.replace(
            "DTSTART;TZID=Europe/Paris:20261202T100000",
            f"DTSTART:{now - timedelta(hours=1):%Y%m%dT%H%M%SZ}",
        ).replace(
            "DTEND;TZID=Europe/Paris:20261202T120000",
            f"DTEND:{now + timedelta(hours=2):%Y%m%dT%H%M%SZ}",
        ),
    )
    hub = start_hub(
        calendar_config(f'site = "accueil"\nfile = "{ics}"\n'), lambda: datetime.now(UTC)
    )
    assert who(card(hub)) == ["s.b"] and card(hub)["source"] == "calendar"
    until = (now + timedelta(hours=1)).isoformat()
    with hub.client("s.c") as sup:
        taken = sup.post("/v1/oncall/override", json={"site": "accueil", "until": until}).json()
        assert who(taken) == ["s.c", "s.b"] and taken["source"] == "override"
        back = sup.delete("/v1/oncall/override", params={"site": "accueil"}).json()
    assert who(back) == ["s.b"] and back["source"] == "calendar"


# -- a calendar fetched from an address ------------------------------------------------------


class CalendarServer:
    """A small HTTP server publishing one ICS, as Outlook or Nextcloud would; `fail` makes it
    answer 500."""

    def __init__(self, body: str) -> None:
        self.body, self.fail, self.requests = body, False, 0
        self.delay_s = 0.0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                time.sleep(outer.delay_s)
                status, data = (500, b"oops") if outer.fail else (200, outer.body.encode())
                self.send_response(status)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/secret-token/calendar.ics"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def calendar_server() -> Iterator[CalendarServer]:
    server = CalendarServer(WEEKLY)
    yield server
    server.stop()


def test_a_url_calendar_keeps_its_last_good_copy_when_the_server_fails(
    start_hub: Callable[..., RunningHub], calendar_server: CalendarServer
) -> None:
    clock = FakeClock(paris("2026-11-23T09:00"))
    config = calendar_config(f'site = "accueil"\nurl = "{calendar_server.url}"\nrefresh_min = 5\n')
    hub = start_hub(config, clock)
    fetched = wait_until(lambda: card(hub)["source"] == "calendar" and card(hub))
    assert who(fetched) == ["s.c", "s.b"] and fetched["warning"] is None

    calendar_server.fail = True
    clock.advance(5 * 60)  # refresh_min later, by the hub's clock: fetched again, and refused
    failing = wait_until(lambda: card(hub)["warning"] and card(hub))
    assert who(failing) == ["s.c", "s.b"] and failing["source"] == "calendar"
    assert "cannot fetch it (HTTP 500); using the copy fetched at" in failing["warning"]
    assert "secret-token" not in failing["warning"], "a published address's secret stays hidden"
    assert "http://127.0.0.1/..." in failing["warning"]

    # The copy is on disk: a hub started again while the server fails still uses it.
    hub.stop()
    requests = calendar_server.requests
    again = start_hub(config, clock, name="hub")
    wait_until(lambda: calendar_server.requests > requests)
    assert who(wait_until(lambda: card(again)["warning"] and card(again))) == ["s.c", "s.b"]


def test_a_url_calendar_never_fetched_falls_back_to_the_slots(
    start_hub: Callable[..., RunningHub], calendar_server: CalendarServer
) -> None:
    calendar_server.fail = True
    clock = FakeClock(paris("2026-11-23T09:00"))
    hub = start_hub(calendar_config(f'site = "accueil"\nurl = "{calendar_server.url}"\n'), clock)
    answer = wait_until(lambda: "cannot fetch" in (card(hub)["warning"] or "") and card(hub))
    assert who(answer) == ["s.a", "s.b"] and answer["source"] == "schedule"


def test_a_slow_calendar_server_does_not_delay_an_alert(
    start_hub: Callable[..., RunningHub], calendar_server: CalendarServer
) -> None:
    calendar_server.delay_s = 4
    clock = FakeClock(paris("2026-11-23T09:00"))
    config = calendar_config(f'site = "accueil"\nurl = "{calendar_server.url}"\ntimeout_s = 10\n')
    hub = start_hub(config, clock)
    wait_until(lambda: calendar_server.requests == 1)  # the fetch hangs from here on
    with hub.client("g1") as desk:
        began = time.monotonic()
        raised = desk.post("/v1/alerts", json=new_alert())
        took = time.monotonic() - began
    assert raised.status_code == 201 and took < 1, f"{took:.2f} s"
    assert who(card(hub)) == ["s.a", "s.b"], "meanwhile, the weekly slots"
    fetched = wait_until(lambda: card(hub)["source"] == "calendar" and card(hub))
    assert who(fetched) == ["s.c", "s.b"]


# -- deskalert hub oncall --at ---------------------------------------------------------------


def test_hub_oncall_at_prints_who_where_from_and_the_chain(tmp_path: Path) -> None:
    ics = write(tmp_path / "astreinte.ics", WEEKLY)
    hub_toml = tmp_path / "hub.toml"
    text = roster_toml()
    for name, email in EMAILS.items():
        text = text.replace(f'name = "{name}"\n', f'name = "{name}"\nemail = "{email}"\n')
    hub_toml.write_text(text + f'\n[[oncall_calendar]]\nsite = "accueil"\nfile = "{ics}"\n')
    args = ("hub", "oncall", "--config", str(hub_toml), "--data-dir", str(tmp_path))

    result = run_cli("--language", "en", *args, "--at", "2026-12-07 09:00", "--site", "accueil")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "On call at 2026-12-07 09:00 CET:\n"
        "accueil (Accueil RDC): Cleo Sup (s.c, 01 00)\n"
        f"  from:    calendar event 'Astreinte du lundi' ({ics})\n"
        "  then:    Bob Sup (s.b, 01 00), then everyone\n"
    )

    result = run_cli(*args, "--at", "2026-11-30 09:00")  # the EXDATE: the weekly slot; 2 sites
    assert result.returncode == 0, result.stderr
    assert result.stdout == (  # French by default
        "De permanence le 2026-11-30 09:00 CET\u00a0:\n"
        "accueil (Accueil RDC)\u00a0: Ana Sup (s.a, 01 00)\n"
        "  source\u00a0:  créneau hebdomadaire [[oncall]]\n"
        "  puis\u00a0:   Bob Sup (s.b, 01 00), puis tous\n"
        "etage (Étage)\u00a0: personne de permanence\u00a0; une alerte va à tous\n"
        "  source\u00a0:  aucun créneau hebdomadaire ni événement d'agenda ne couvre ce moment\n"
    )

    write(ics, "not a calendar")
    result = run_cli("--language", "en", *args, "--at", "2026-12-07 09:00", "--site", "accueil")
    assert result.returncode == 1, "a calendar that cannot be used is worth an exit code"
    assert (
        "  from:    weekly [[oncall]] slot (the calendar could not be used: see the warning)\n"
        in result.stdout
    )
    assert f"  warning: on-call calendar {ics}: not a valid ICS calendar" in result.stdout

    result = run_cli(*args, "--at", "24/12/2026")
    assert result.returncode == 2
    assert (
        result.stderr
        == "deskalert : --at « 24/12/2026 » : pas une date et heure comme « 2026-12-24 22:00 »\n"
    )


@pytest.mark.parametrize(
    ("calendar", "message"),
    [
        (
            'site = "accueil"\nfile = "/a.ics"\nurl = "https://x.example/a.ics"\n',
            "oncall_calendar[0]: give either file or url (exactly one)",
        ),
        ('site = "accueil"\n', "oncall_calendar[0]: give either file or url (exactly one)"),
        ('site = "cave"\nfile = "/a.ics"\n', "oncall_calendar[0].site: unknown 'cave'"),
        (
            'site = "accueil"\nurl = "ftp://x.example/a.ics"\n',
            "oncall_calendar[0].url: url must be",
        ),
        (
            'site = "accueil"\nfile = "/a.ics"\n\n'
            '[[oncall_calendar]]\nsite = "accueil"\nfile = "/b.ics"\n',
            "oncall_calendar: site 'accueil' appears more than once",
        ),
    ],
)
def test_calendar_keys_are_checked_with_one_line_naming_the_key(
    tmp_path: Path, calendar: str, message: str
) -> None:
    hub_toml = tmp_path / "hub.toml"
    hub_toml.write_text(roster_toml() + "\n[[oncall_calendar]]\n" + calendar)
    result = run_cli("--language", "en", "hub", "--config", str(hub_toml), "--check")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"deskalert: {hub_toml}: {message}"), result.stderr


def test_a_supervisor_email_is_checked(tmp_path: Path) -> None:
    hub_toml = tmp_path / "hub.toml"
    hub_toml.write_text(
        roster_toml().replace('name = "Bob Sup"\n', 'name = "Bob Sup"\nemail = "bob"\n')
    )
    result = run_cli("--language", "en", "hub", "--config", str(hub_toml), "--check")
    assert result.returncode == 2
    assert "supervisors[1].email: 'bob' is not an e-mail address" in result.stderr, result.stderr
