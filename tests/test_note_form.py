"""The incident note form: tab order, validation, a draft that survives a restart, sharing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Label

from desk_helpers import in_thread, make_desk, screen_text, text_of, wait_until
from deskalert.journal.privacy import has_file_number
from deskalert.journal.store import Journal
from deskalert.models import Alert, AlertState, PrincipalKind, Responder
from deskalert.tui.desk.app import DeskApp
from deskalert.tui.note_form import NoteForm
from support.hubs import RunningHub

# What is tested is a screen, not the store: SQLite only. Notes' SQL is checked on SQLite and
# PostgreSQL in test_store_contract.py (test_notes_are_replaced_per_author_and_listed_...).
pytestmark = pytest.mark.stores("sqlite")

FORM_ORDER = [
    "what",
    "type",
    "started",
    "ended",
    "office",
    "levers",
    "intervened",
    "support",
    "reports",
    "follow_up",
    "finish",
    "share",
    "later",
]


def an_alert() -> Alert:
    at = datetime(2026, 11, 20, 9, 40, tzinfo=UTC)
    return Alert(
        id=uuid4(),
        code="hulk",
        code_label="Venez à plusieurs",
        discreet=True,
        priority=1,
        desk="g1",
        desk_label="Desk g1",
        site="accueil",
        location="near g1",
        created_at=at,
        received_at=at,
        state=AlertState.RESOLVED,
        test=False,
        closed_at=at.replace(minute=55),
        responders=[Responder(id="s.a", kind=PrincipalKind.SUPERVISOR, name="Ana Sup", at=at)],
        updated_at=at,
    )


class Host(App[None]):
    def __init__(self, alert: Alert, journal: Journal) -> None:
        super().__init__()
        self.alert, self.journal = alert, journal
        self.finished: list[NoteForm.Finished] = []

    def on_mount(self) -> None:
        self.push_screen(NoteForm(self.alert, self.journal, "fr"))

    def on_note_form_finished(self, message: NoteForm.Finished) -> None:
        self.finished.append(message)


def error(app: App[Any], name: str) -> str:
    return str(app.screen.query_one(f"#{name}-error", Label).render())


async def test_tab_follows_the_form_and_the_times_and_names_are_prefilled(tmp_path: Path) -> None:
    alert = an_alert()
    app = Host(alert, Journal(tmp_path / "j.sqlite3"))
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        order = [app.focused.id if app.focused else None]
        for _ in FORM_ORDER[1:]:
            await pilot.press("tab")
            order.append(app.focused.id if app.focused else None)
        assert order == FORM_ORDER
        draft = app.screen.draft()  # type: ignore[attr-defined]
        local = alert.received_at.astimezone()
        assert draft.started == local.strftime("%H:%M") and draft.intervened == "Ana Sup"
        assert "Ni le nom ni le numéro de dossier" in str(app.screen.query_one("#privacy").render())


async def test_validation_messages_sit_next_to_their_field(tmp_path: Path) -> None:
    app = Host(an_alert(), Journal(tmp_path / "j.sqlite3"))
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        await pilot.press(*"dossier 1234 5678 9", "ctrl+s")
        assert "numéro de dossier" in error(app, "what")
        assert error(app, "type") == "Choisissez un type."
        screen: Any = app.screen
        screen.query_one("#started").value = "25:99"
        await pilot.press("ctrl+s")
        assert "HH:MM" in error(app, "time")
        screen.query_one("#started").value = "10:30"
        screen.query_one("#ended").value = "10:00"
        await pilot.press("ctrl+s")
        assert error(app, "time") == "La fin est avant le début."
        assert app.finished == [] and isinstance(app.screen, NoteForm)


async def test_every_keystroke_is_saved_and_the_draft_survives_a_restart(tmp_path: Path) -> None:
    alert, path = an_alert(), tmp_path / "j.sqlite3"
    first = Host(alert, Journal(path))
    async with first.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        await pilot.press(*"Il a crié")
        await pilot.press("tab")
        screen: Any = first.screen
        screen.query_one("#type").value = "verbal"
        screen.query_one("#office").value = True
        screen.query_one("#levers").select("rules")
        await pilot.pause()
    # The app is gone without finishing (as after a crash): the journal has every field.
    record = Journal(path).draft(alert.id)
    assert record is not None and record.draft is not None and record.draft.what == "Il a crié"
    assert record.draft.type == "verbal" and record.draft.levers == ["rules"]
    assert not record.finished

    second = Host(alert, Journal(path))
    async with second.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        draft = second.screen.draft()  # type: ignore[attr-defined]
        assert draft.what == "Il a crié" and draft.type == "verbal"
        assert draft.office is True and draft.levers == ["rules"]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(second.finished), what="finished")
    [done] = second.finished
    assert done.note.type == "verbal" and done.note.separate_office and not done.share
    assert Journal(path).draft(alert.id).finished  # type: ignore[union-attr]


async def test_a_resolved_alert_offers_the_note_and_sharing_reaches_the_supervisor(
    hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=(100, 60)) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.press("f2")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="sent")
        [own] = app.state.own.values()
        with hub.client("s.a") as sup:
            await in_thread(lambda: sup.post(f"/v1/alerts/{own.id}/ack").raise_for_status())
            await in_thread(
                lambda: sup.post(f"/v1/alerts/{own.id}/resolve", json={}).raise_for_status()
            )
        await wait_until(
            pilot, lambda: "Fiche incident à remplir" in text_of(app, "#note-offer"), what="offer"
        )
        await pilot.press("n")
        await wait_until(pilot, form_ready(app), what="form")
        await pilot.press(*"Ton qui monte.")
        app.screen.query_one("#type").value = "incivility"  # type: ignore[attr-defined]
        app.screen.query_one("#share").scroll_visible(animate=False)  # the desk shows around
        await pilot.pause()
        await pilot.click("#share")
        await wait_until(pilot, lambda: not isinstance(app.screen, NoteForm), what="closed")
        await wait_until(
            pilot,
            lambda: (rec := app.journal.draft(own.id)) is not None and rec.shared_at is not None,
            what="shared",
        )
        assert not app.query_one("#note-offer").display
    with hub.client("s.a") as sup:
        [note] = (await in_thread(lambda: sup.get("/v1/notes"))).json()
    assert note["type"] == "incivility" and note["what_happened"] == "Ton qui monte."
    assert note["intervened"] == ["Ana Sup"] and note["author"] == "g1"


def form_ready(app: Any) -> Callable[[], bool]:
    """The form is on screen with its field focused: keys pressed before would be lost."""
    return lambda: isinstance(app.screen, NoteForm) and app.screen.focused is not None


async def resolved_and_opened(app: DeskApp, pilot: Pilot[None], hub: RunningHub) -> Alert:
    """An alert of the desk's, answered and resolved by s.a, then its note form opened (n)."""
    await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
    await pilot.press("f2")
    await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="sent")
    [own] = app.state.own.values()
    with hub.client("s.a") as sup:
        await in_thread(lambda: sup.post(f"/v1/alerts/{own.id}/ack").raise_for_status())
        resolved = await in_thread(lambda: sup.post(f"/v1/alerts/{own.id}/resolve", json={}))
        resolved.raise_for_status()
    await wait_until(pilot, lambda: bool(app.delivery.notes_waiting()), what="offer")
    await pilot.press("n")
    await wait_until(pilot, form_ready(app), what="form")
    return own


@pytest.mark.parametrize("size", [(80, 24), (60, 16)])
async def test_an_alert_key_pressed_in_the_note_form_shows_its_step_with_the_link_and_on_call(
    hub: RunningHub, tmp_path: Path, size: tuple[int, int]
) -> None:
    """The form hid the whole desk: F2 pressed in it raised an alert the agent never saw
    acknowledged, and the link and the supervisor on call were out of view meanwhile."""
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=size) as pilot:
        first = await resolved_and_opened(app, pilot, hub)
        shown = screen_text(app)
        oncall = text_of(app, "#oncall").splitlines()[0].strip()
        assert "liaison OK" in shown and oncall and oncall in shown
        await pilot.press(*"Il a crié")
        await pilot.press("f2")
        await wait_until(pilot, lambda: len(app.state.own) == 2, what="second alert")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="sent")
        with hub.client("s.a") as sup:
            alerts = (await in_thread(lambda: sup.get("/v1/alerts"))).json()
        assert {a["id"] for a in alerts} - {str(first.id)}, "the hub has the second alert"
        await pilot.pause()
        shown = screen_text(app)
        assert "transmise" in shown and "liaison OK" in shown and oncall in shown
        assert ("F2/ctrl+r Renfort" in shown) == (size == (80, 24))  # room for the keys
        assert "F8 J'arrive" in shown and "ctrl+s Terminer" in shown
        assert isinstance(app.screen, NoteForm) and app.screen.draft().what == "Il a crié"


async def test_an_alert_not_transmitted_from_the_note_form_shows_the_warning_over_it(
    hub: RunningHub, tmp_path: Path
) -> None:
    """At 60 x 16, the hub gone: F2 in the form must say "ALERTE NON TRANSMISE" and whom to
    call, in view; the form gives way below it and keeps the draft."""
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=(60, 16)) as pilot:
        await resolved_and_opened(app, pilot, hub)
        await pilot.press(*"Il a crié")
        await in_thread(hub.stop)
        await pilot.press("f2")
        await wait_until(
            pilot, lambda: "ALERTE NON TRANSMISE" in screen_text(app), timeout=15, what="warning"
        )
        # and the number to call now (Ana Sup's): the form moved down (at once when the board
        # tells it, else at its check every second; not timed here, the machine may be loaded)
        await wait_until(pilot, lambda: "01 00" in screen_text(app), timeout=10, what="number")
        assert isinstance(app.screen, NoteForm) and app.screen.draft().what == "Il a crié"


@pytest.mark.parametrize(
    "text",
    [
        "allocataire 1234567",  # CAF: 7 digits (let through before)
        "n° 1234567, revenu mal déclaré",
        "identifiant 1234567A",  # France Travail: 7 digits and a letter
        "identifiant 1234567 B",
        "NIR 1 85 05 78 006 084 36",  # social security number, grouped, with its key
        "185057800608436",
        "1 85 05 78 006 084",  # 13 digits, no key
        "1 85 05 2A 006 084 36",  # born in Corsica
        "2\u00a085\u00a005\u00a02B\u00a0006\u00a0084",  # no-break spaces, as French typing inserts
        "dossier 1234 5678 9",
        "rappeler au 04 72 00 00 01",  # a phone number: personal too
    ],
)
def test_file_numbers_of_the_field_are_refused(text: str) -> None:
    assert has_file_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "de 10:42 à 10:55",
        "le 21/11/2026 à 9 h",
        "2026-11-21",
        "3 personnes, 2 fois, 15 min",
        "montant 1 200 €",
        "bureau 12, 1er étage",
        "ticket 123456",
        "appelé le 15 puis le 3114",
    ],
)
def test_times_dates_and_short_counts_pass(text: str) -> None:
    assert not has_file_number(text)


async def test_a_seven_digit_allocataire_number_is_refused_in_the_form(tmp_path: Path) -> None:
    """The guard let 7-digit numbers through: CAF allocataire numbers have 7 digits."""
    app = Host(an_alert(), Journal(tmp_path / "j.sqlite3"))
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        await pilot.press(*"allocataire 1234567 à 10:42")
        app.screen.query_one("#type").value = "verbal"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        assert "numéro de dossier" in error(app, "what")
        assert app.finished == [] and isinstance(app.screen, NoteForm)
        app.screen.query_one("#what").text = "Il a crié à 10:42, 2 agents sont venus."  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(app.finished), what="finished")


async def test_a_problem_shown_goes_once_its_field_is_fixed(tmp_path: Path) -> None:
    """The messages stayed until the next ctrl+s: a fixed field still said it was wrong."""
    app = Host(an_alert(), Journal(tmp_path / "j.sqlite3"))
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        screen: Any = app.screen
        screen.query_one("#started").value = "25:99"
        await pilot.press(*"dossier 1234 5678 9", "ctrl+s")
        assert error(app, "what") and error(app, "type") and error(app, "time")
        await pilot.press(*["backspace"] * len("dossier 1234 5678 9"), *"Il a crié")
        await pilot.pause()
        assert error(app, "what") == ""
        assert error(app, "type") == "Choisissez un type."  # not fixed yet: still said
        screen.query_one("#type").value = "verbal"
        await pilot.pause()
        assert error(app, "type") == ""
        screen.query_one("#started").value = "10:30"
        screen.query_one("#ended").value = "10:00"
        await pilot.pause()
        assert error(app, "time") == "La fin est avant le début."  # what is wrong now
        screen.query_one("#ended").value = "10:45"
        await pilot.pause()
        assert error(app, "time") == ""


async def test_a_field_not_flagged_is_not_judged_while_typing(tmp_path: Path) -> None:
    app = Host(an_alert(), Journal(tmp_path / "j.sqlite3"))
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        app.screen.query_one("#started").value = "1"  # type: ignore[attr-defined]
        await pilot.pause()
        assert error(app, "time") == ""


async def test_a_reopened_draft_puts_the_cursor_at_its_end(tmp_path: Path) -> None:
    """The cursor started at the beginning: what the agent typed next went before the text."""
    alert, path = an_alert(), tmp_path / "j.sqlite3"
    first = Host(alert, Journal(path))
    async with first.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        await pilot.press(*"Il a crié.", "enter", *"Puis il est parti.")
        await pilot.pause()
    second = Host(alert, Journal(path))
    async with second.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        await pilot.press(*" Revenu à 11h.")
        await pilot.pause()
        screen: Any = second.screen
        assert screen.query_one("#what").text == "Il a crié.\nPuis il est parti. Revenu à 11h."
        # The names of who came are added to, not replaced by the first key typed.
        screen.query_one("#intervened").focus()
        await pilot.press(*", Paul")
        assert screen.query_one("#intervened").value == "Ana Sup, Paul"


async def test_every_tab_stop_is_a_field_that_shows_its_focus(tmp_path: Path) -> None:
    """The scrolling container was a Tab stop: one press of Tab showed nothing at all."""
    app = Host(an_alert(), Journal(tmp_path / "j.sqlite3"))
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        assert [w.id for w in app.screen.focus_chain] == FORM_ORDER
        seen = []
        for _ in FORM_ORDER:
            await pilot.press("tab")
            seen.append(app.focused.id if app.focused else None)
        assert seen == [*FORM_ORDER[1:], FORM_ORDER[0]]  # round, and back to the start


@pytest.mark.parametrize("name", ["office", "follow_up"])
async def test_a_ticked_box_differs_from_an_empty_one_without_colour(
    tmp_path: Path, name: str
) -> None:
    """Ticked or not, the box showed the same X, only its colour changed: colour-blind people
    and monochrome terminals could not tell."""
    app = Host(an_alert(), Journal(tmp_path / "j.sqlite3"))
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        box: Any = app.screen.query_one(f"#{name}")
        empty = box.render().plain
        box.value = True
        await pilot.pause()
        ticked = box.render().plain
        assert empty != ticked and "X" in ticked and "X" not in empty


async def test_a_chosen_line_differs_from_the_others_without_colour(tmp_path: Path) -> None:
    app = Host(an_alert(), Journal(tmp_path / "j.sqlite3"))
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        levers: Any = app.screen.query_one("#levers")
        levers.select("rules")
        await pilot.pause()
        lines = {
            levers.get_option_at_index(y).value: levers.render_line(y).text[:3]
            for y in range(levers.option_count)
        }
        assert lines.pop("rules") == "▐X▌"
        assert set(lines.values()) == {"▐ ▌"}
