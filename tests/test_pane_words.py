"""The pane's history lines for the hub's notification attempts (notify.* events)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from deskalert import i18n
from deskalert.models import Event, EventType
from deskalert.tui.pane.words import event_line


def notify_event(kind: EventType, **data: object) -> Event:
    outcome = {
        "id": str(uuid4()),
        "notification": 3,
        "kind": "raised",
        "to": "s.a",
        "channel": "ntfys://ntfy.example.org",
        "attempt": 1,
        "attempt_id": "x",
        **data,
    }
    return Event(
        id=7, type=kind, at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC), site="accueil", data=outcome
    )


def test_each_notification_attempt_reads_as_what_happened_to_whom() -> None:
    names = {"s.a": "Ana Sup"}
    sent = event_line(notify_event(EventType.NOTIFY_SENT), names, {})
    assert sent == "notification envoyée à Ana Sup (ntfys://ntfy.example.org)"
    failed = event_line(
        notify_event(EventType.NOTIFY_FAILED, reason="HTTP 503", retry_in_s=5.0), names, {}
    )
    assert failed == (
        "notification à Ana Sup (ntfys://ntfy.example.org) en échec : HTTP 503 ;"
        " nouvel essai dans 5 s"
    )
    room = event_line(
        notify_event(EventType.NOTIFY_GAVE_UP, to="site:accueil", reason="timeout\x1b[2J"),
        names,
        {},
    )
    assert (
        room == "notification à salle d'équipe accueil (ntfys://ntfy.example.org) ABANDONNÉE :"
        " timeout"
    )
    i18n.set_language("en")
    assert (
        event_line(notify_event(EventType.NOTIFY_SENT), names, {})
        == "notification sent to Ana Sup (ntfys://ntfy.example.org)"
    )


def test_the_on_call_panel_says_where_the_name_comes_from_and_when_the_calendar_failed() -> None:
    from deskalert.models import OnCall, Person
    from deskalert.tui.pane.site_words import oncall

    paul = Person(id="p.leroy", name="Paul Leroy", phone="04 72 00 00 03", location="Bureau 3")
    calendar = OnCall(
        site="accueil",
        site_label="Accueil",
        supervisor=paul,
        chain=[],
        source="calendar",
        calendar_event="Astreinte - Paul Leroy",
    )
    broken = OnCall(
        site="etage",
        site_label="Étage",
        supervisor=paul,
        chain=[],
        source="schedule",
        warning="astreinte.ics: line 3: bad DTSTART\x1b[2J",
    )
    text = oncall((calendar, broken)).plain
    assert "selon l'agenda : Astreinte - Paul Leroy" in text
    assert (
        "agenda d'astreinte inutilisable, permanence selon les créneaux : astreinte.ics: line 3:"
        " bad DTSTART"
    ) in text and "\x1b" not in text
