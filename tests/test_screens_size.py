"""The desk and the pane at the size of the real screen (issue 23): a corner of 60 x 16 or
80 x 24 beside the case-management software. Real hub, Pilot, the terminal's text as shown."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.containers import Vertical
from textual.widgets import Label
from textual.widgets._footer import FooterKey

from broadcast_helpers import send
from desk_helpers import in_thread, make_desk, screen_text, text_of, wait_until
from deskalert.hub.settings import HubConfig
from deskalert.models import AlertCode
from deskalert.tui.desk import words
from deskalert.tui.desk.journal import JournalScreen
from deskalert.tui.desk.screens import SessionForm
from deskalert.tui.note_form import NoteForm
from deskalert.tui.pane.screens import Prompt
from pane_helpers import live, pane
from support.hubs import RunningHub, start_threaded_hub
from support.requests import new_alert
from support.roster import roster_toml

pytestmark = pytest.mark.stores("sqlite")

PHONE = "04 72 00 00 03"


@pytest.fixture
def real_hub(tmp_path: Path) -> Iterator[RunningHub]:
    """The test roster with a real phone number and two more desks on the site accueil."""
    toml = roster_toml(extra_desks=2).replace('phone = "01 00"', f'phone = "{PHONE}"')
    hub = start_threaded_hub(HubConfig.model_validate(tomllib.loads(toml)), tmp_path / "hub")
    yield hub
    hub.stop()


def raise_from(hub: RunningHub, desk: str, code: str = "malaise", **extra: Any) -> None:
    with hub.client(desk) as client:
        client.post("/v1/alerts", json=new_alert(code, **extra)).raise_for_status()


@pytest.mark.parametrize("size", [(60, 16), (80, 24)])
async def test_the_desk_keeps_link_oncall_keys_and_a_colleagues_alert_in_view(
    real_hub: RunningHub, tmp_path: Path, size: tuple[int, int]
) -> None:
    """Before: at 80 x 24 a colleague's alert pushed the agent's own keys off screen."""
    app = make_desk(real_hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=size) as pilot:
        await wait_until(
            pilot, lambda: app.state.link_up is True and app.state.codes_known, what="link up"
        )
        await in_thread(lambda: raise_from(real_hub, "g2", message="Usager tombé au sol"))
        await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="banner")
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert "● liaison OK" in shown, shown
        assert f"Ana Sup ☎ {PHONE}" in shown, shown  # the name and the whole number, one line
        assert "F2/ctrl+r Renfort" in shown and "F4/ctrl+y Urgence" in shown, shown
        assert "Desk g2 appelle : Urgence médicale" in shown, shown
        assert "F8 J'arrive" in shown, shown


async def test_the_desk_at_60_columns_shows_the_own_alerts_step(
    real_hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(real_hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=(60, 16)) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await in_thread(lambda: raise_from(real_hub, "g2"))
        await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="banner")
        await pilot.press("f4")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="sent")
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert "● liaison OK" in shown and "transmise" in shown.splitlines()[0], shown
        assert f"☎ {PHONE}" in shown and "F2/ctrl+r Renfort" in shown, shown


async def test_a_long_desk_name_gives_way_with_a_space_before_the_link(tmp_path: Path) -> None:
    """Before: "Guiche…● liaison OK", the cut name against the link's sign."""
    toml = roster_toml().replace('label = "Desk g1"', 'label = "Guichet 3 · RDC, troisième"')
    hub = start_threaded_hub(HubConfig.model_validate(tomllib.loads(toml)), tmp_path / "hub")
    try:
        app = make_desk(hub.url, tmp_path / "journal.sqlite3")
        async with app.run_test(size=(60, 16)) as pilot:
            await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
            await pilot.press("f4")
            await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="sent")
            await pilot.pause(0.2)
            top = screen_text(app).splitlines()[0]
            assert "Guichet" in top and "…" in top, top
            assert "… ● liaison OK" in top, top
    finally:
        hub.stop()


async def test_the_desk_at_120_columns_keeps_its_full_boxes(
    real_hub: RunningHub, tmp_path: Path
) -> None:
    """Wide enough: nothing gives way (the office, the chain, the protocol are there)."""
    app = make_desk(real_hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(
            pilot, lambda: app.state.codes_known and app.state.link_up is True, what="link up"
        )
        await in_thread(lambda: raise_from(real_hub, "g2"))
        await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="banner")
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert not app.compact
        assert "office s.a" in shown and "ensuite : Bob Sup" in shown, shown
        assert "Le secouriste vient avec la trousse." in shown, shown
        assert "F2 · ctrl+r   Renfort  (discrète)" in shown, shown


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_the_pane_at_80_by_24_shows_five_alerts_a_whole_number_and_every_key(
    real_hub: RunningHub, language: str
) -> None:
    """Before: three alerts before scrolling, the on-call number wrapped mid-number, and
    "Tout va bien ?" in the footer only from 140 columns."""
    app = pane(real_hub.url, language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        await live(pilot)
        for desk in ("g1", "g2", "e1", "d00", "d01"):
            await in_thread(lambda desk=desk: raise_from(real_hub, desk))
        await wait_until(pilot, lambda: len(app.state.open_alerts()) == 5, what="five alerts")
        await pilot.pause(0.3)
        shown = screen_text(app)
        for desk in ("g1", "g2", "e1", "d00", "d01"):
            assert f"Desk {desk}" in shown, shown
        assert f"☎ {PHONE}" in shown, shown
        check = "Tout va bien ?" if language == "fr" else "All well?"
        assert f"k {check}" in "\n".join(shown.splitlines()[-2:]), shown  # the footer
        assert_every_key_shown(app, shown)


# -- at 60 x 16, every screen: nothing the person needs is cut -------------------------------


def footer_keys(app: Any) -> list[str]:
    """Each key of the footer as it reads: "F8 J'arrive"."""
    return [f"{k.key_display} {k.description}" for k in app.screen.query(FooterKey)]


def assert_every_key_shown(app: Any, shown: str) -> None:
    keys = footer_keys(app)
    assert keys, shown
    missing = [key for key in keys if key not in shown]
    assert not missing, f"{missing} not on screen:\n{shown}"


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_the_desk_at_60_by_16_shows_every_key_of_its_footer(
    real_hub: RunningHub, tmp_path: Path, language: str
) -> None:
    """Before: the footer was one line, cut at 60 columns ("i E" for "i Entretien")."""
    app = make_desk(real_hub.url, tmp_path / "journal.sqlite3", language=language)
    async with app.run_test(size=(60, 16)) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await in_thread(lambda: raise_from(real_hub, "g2", message="Usager tombé au sol"))
        await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="banner")
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert_every_key_shown(app, shown)
        assert f"Ana Sup ☎ {PHONE}" in shown, shown
        assert ("● liaison OK" if language == "fr" else "● link OK") in shown, shown


def test_the_codes_stay_whole_in_two_columns_at_60() -> None:
    """Before: "F3 · ctrl+t Venez à plusieu…", "F6 · ctrl+g Intention suici…" (the demo's
    codes, at the 58 cells the compact codes box has at 60 columns: its left padding and the
    body's scrollbar column)."""
    demo = [
        ("renfort", "Renfort", "f2,ctrl+r"),
        ("hulk", "Venez à plusieurs", "f3,ctrl+t"),
        ("malaise", "Urgence médicale", "f4,ctrl+y"),
        ("appui", "Appui technique", "f5,ctrl+u"),
        ("suicide", "Intention suicidaire", "f6,ctrl+g"),
        ("sans-reponse", "Sans réponse", "f7,ctrl+l"),
    ]
    codes = tuple((AlertCode(code=c, label=label, key=k.split(",")[0]), k) for c, label, k in demo)
    lines = words.packed(codes, True, 58).plain.splitlines()
    assert len(lines) == 3 and "…" not in "".join(lines), lines
    assert all(len(line) <= 58 for line in lines), lines
    assert "F6/ctrl+g Intention suicidaire" in lines[2], lines


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_the_pane_at_60_by_16_keeps_an_alert_the_on_call_and_every_key(
    real_hub: RunningHub, language: str
) -> None:
    """Before: at 60 x 16 the pane hid who is on call and cut half its keys; a supervisors'
    message squeezed the alerts table to nothing and the screen itself scrolled."""
    app = pane(real_hub.url, language=language)
    async with app.run_test(size=(60, 16)) as pilot:
        await live(pilot)
        await in_thread(lambda: raise_from(real_hub, "g2"))
        await in_thread(lambda: send(real_hub).raise_for_status())
        await wait_until(pilot, lambda: len(app.state.open_alerts()) == 1, what="the alert")
        await wait_until(pilot, lambda: app.query_one("#broadcasts").display, what="message")
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert_every_key_shown(app, shown)
        assert "Desk g2" in shown.split("\n", 4)[-1], shown  # in the table, not only the message
        assert f"Ana Sup ☎ {PHONE}" in shown, shown
        assert app.screen.max_scroll_y == 0, shown


async def test_the_journal_at_60_by_16_shows_its_rows_and_the_notes_state(
    real_hub: RunningHub, tmp_path: Path
) -> None:
    """Before: the note's state ("à remplir") was the last column, cut at 60 columns, and the
    timeline left the table no room."""
    app = make_desk(real_hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=(60, 16)) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.press("f4")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="sent")
        await pilot.press("j")
        await wait_until(pilot, lambda: isinstance(app.screen, JournalScreen), what="journal")
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert "Urgence médicale" in shown and "à remplir" in shown, shown
        assert "toute la période" in shown, shown  # the last filter, whole
        assert_every_key_shown(app, shown)


async def test_the_note_form_at_60_by_16_opens_on_its_notice_and_question(
    real_hub: RunningHub, tmp_path: Path
) -> None:
    """Before: the form opened scrolled past the privacy notice and the question, on an
    unlabelled text box."""
    app = make_desk(real_hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=(60, 16)) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.press("f4")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="sent")
        await pilot.press("j")
        await wait_until(pilot, lambda: isinstance(app.screen, JournalScreen), what="journal")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteForm), what="form")
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert "Ni le nom ni le numéro de dossier" in shown, shown
        assert "Ce qui s'est passé" in shown, shown
        assert app.focused is not None and app.focused.id == "what"
        assert app.focused.region.bottom <= 16 - 2  # the text box whole, above the footer
        assert_every_key_shown(app, shown)


async def test_the_interview_form_at_60_by_16_leaves_the_link_and_the_on_call_in_view(
    real_hub: RunningHub, tmp_path: Path
) -> None:
    """Before: the form's box covered the on-call line."""
    app = make_desk(real_hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=(60, 16)) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionForm), what="form")
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert "● liaison OK" in shown and f"Ana Sup ☎ {PHONE}" in shown, shown
        assert "Entrée = commencer" in shown, shown


async def test_a_supervisors_message_at_60_by_16_leaves_the_link_and_the_on_call_in_view(
    real_hub: RunningHub, tmp_path: Path
) -> None:
    """Before: the message's box covered the on-call line (and its blank lines the rest)."""
    app = make_desk(real_hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=(60, 16)) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        text = "La personne partie du guichet 2 se dirige vers l'accueil, très énervée."
        await in_thread(lambda: send(real_hub, text=text).raise_for_status())
        await wait_until(
            pilot, lambda: type(app.screen).__name__ == "BroadcastScreen", what="message"
        )
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert "● liaison OK" in shown and f"Ana Sup ☎ {PHONE}" in shown, shown
        assert "Appuyez sur L" in shown, shown


async def test_the_pane_at_80_by_24_shows_the_newest_message_and_an_alert_under_three(
    real_hub: RunningHub,
) -> None:
    """Before: three messages filled the panel oldest first (the newest, a lockdown say, was
    cut) and left the alerts table no row; the screen itself scrolled."""
    app = pane(real_hub.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await live(pilot)
        await in_thread(lambda: raise_from(real_hub, "g2"))
        for text in ("Premier message.", "Deuxième message.", "Troisième message, le dernier."):
            await in_thread(lambda text=text: send(real_hub, text=text).raise_for_status())
        await wait_until(pilot, lambda: len(app.state.open_alerts()) == 1, what="the alert")
        await wait_until(
            pilot, lambda: "le dernier" in text_of(app, "#broadcasts"), what="three messages"
        )
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert "Troisième message, le dernier." in shown, shown
        assert "Desk g2" in shown.split("Alertes en cours")[-1], shown  # a row of the table
        assert app.screen.max_scroll_y == 0, shown


@pytest.mark.parametrize("key", ["k", "m"])
async def test_a_pane_prompt_at_60_by_16_fits_the_window_and_wraps_its_question(
    real_hub: RunningHub, key: str
) -> None:
    """Before: the prompt's box was 80 columns wide, so at 60 its right side and the end of
    its question ("(identifiant, ex. box-a)") were cut."""
    app = pane(real_hub.url)
    async with app.run_test(size=(60, 16)) as pilot:
        await live(pilot)
        if key == "m":  # before its catalog is in, "m" says so instead of asking
            from deskalert.tui.pane.broadcast import BroadcastPanel

            panel = app.query_one(BroadcastPanel)
            await wait_until(pilot, lambda: panel.catalog is not None, what="catalog")
        await pilot.press(key)
        await wait_until(pilot, lambda: isinstance(app.screen, Prompt), what="prompt")
        await pilot.pause(0.2)
        box = app.screen.query_one(Vertical).region
        assert box.x >= 0 and box.right <= 60 and box.bottom <= 16, box
        question = app.screen.query(Label).first()
        assert question.region.right <= 58, question.region  # inside the box's frame


async def test_several_colleagues_alerts_say_how_many_in_their_title(
    real_hub: RunningHub, tmp_path: Path
) -> None:
    """Before: "Alerte d'un collègue" over five alerts, of which a small window shows one."""
    app = make_desk(real_hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=(60, 16)) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await in_thread(lambda: raise_from(real_hub, "g2"))
        await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="banner")
        await pilot.pause(0.2)
        assert "Alerte d'un collègue" in screen_text(app)
        await in_thread(lambda: raise_from(real_hub, "d00", code="renfort"))
        await wait_until(
            pilot, lambda: "2 alertes de collègues" in screen_text(app), what="two, said"
        )
