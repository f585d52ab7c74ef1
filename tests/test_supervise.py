"""The supervisor pane against a real hub on 127.0.0.1: every key and state of issue 4."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Static

from desk_helpers import (
    free_port,
    in_thread,
    make_desk,
    make_pane,
    table_rows,
    wait_until,
)
from desk_helpers import text_of as desk_text
from deskalert.tui.pane.screens import Details
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import make_config

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")

SIZE = (140, 40)


def raise_alert(hub: RunningHub, desk: str = "g1", code: str = "renfort", **extra: Any) -> str:
    alert = new_alert(code, **extra)
    httpx.post(f"{hub.url}/v1/alerts", json=alert, headers=auth(desk)).raise_for_status()
    return str(alert["id"])


def get_alert(hub: RunningHub, alert_id: str) -> dict[str, Any]:
    with hub.client("s.c") as client:
        return dict(client.get(f"/v1/alerts/{alert_id}").json())


async def one_row(pilot: Any, hub: RunningHub, *args: Any, **extra: Any) -> str:
    """Raise an alert and wait for its row, the only one; returns its id."""
    alert_id: str = await in_thread(lambda: raise_alert(hub, *args, **extra))
    await wait_until(pilot, lambda: len(table_rows(pilot.app)) == 1, what="row")
    return alert_id


async def live_pane(pilot: Any) -> None:
    app = pilot.app
    await wait_until(
        pilot,
        lambda: app.link.up is True and app.state.oncall and app.query_one("#oncall").text,
        what="live",
    )


def text_of(app: Any, selector: str) -> str:
    """What a pane widget says (its own drawing, "" when hidden)."""
    widget = app.query_one(selector)
    return str(widget.text) if hasattr(widget, "text") else desk_text(app, selector)


async def test_a_new_alert_rings_and_stands_out_until_looked_at(hub: RunningHub) -> None:
    app = make_pane(hub.url)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        assert table_rows(app) == [] and "Aucune alerte en cours." in text_of(app, "#detail")
        await one_row(pilot, hub, "g1", "renfort")
        [row] = table_rows(app)
        assert row.startswith("● NOUVELLE | Desk g1\nnear g1 | Renfort | ") and "ouverte" in row
        assert bells == [1]
        await in_thread(lambda: raise_alert(hub, "g2", "malaise", test=True))
        await wait_until(pilot, lambda: len(table_rows(app)) == 2, what="second row")
        rows = table_rows(app)
        assert "Urgence médicale\nEXERCICE" in rows[0], "priority 1 first"
        assert all(r.startswith("● NOUVELLE") for r in rows) and bells == [1, 1]
        await pilot.press("down")
        await wait_until(
            pilot, lambda: not table_rows(app)[1].startswith("● NOUVELLE"), what="looked at"
        )
        assert table_rows(app)[0].startswith("● NOUVELLE")
        assert "Le secouriste vient avec la trousse." not in text_of(app, "#detail")
        assert "L'encadrant vient au guichet." in text_of(app, "#detail")


async def test_a_answers_jarrive_and_the_row_shows_who_and_when(hub: RunningHub) -> None:
    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        alert_id = await one_row(pilot, hub)
        await pilot.press("a")
        await wait_until(pilot, lambda: "Ana Sup" in table_rows(app)[0], what="responder")
        assert "prise en charge" in table_rows(app)[0]
        assert not table_rows(app)[0].startswith("● NOUVELLE")
    alert = await in_thread(lambda: get_alert(hub, alert_id))
    assert [r["id"] for r in alert["responders"]] == ["s.a"]


async def test_r_resolves_with_a_summary_and_h_shows_the_day(hub: RunningHub) -> None:
    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        alert_id = await one_row(pilot, hub)
        await pilot.press("r")
        await pilot.press(*"calme revenu", "enter")
        await wait_until(pilot, lambda: table_rows(app) == [], what="row leaves")
        await pilot.press("h")
        await wait_until(pilot, lambda: len(table_rows(app)) == 1, what="history")
        assert "résolue" in table_rows(app)[0]
        assert "Historique du jour (1)" in str(app.query_one("#alerts").border_title)
    alert = await in_thread(lambda: get_alert(hub, alert_id))
    assert alert["state"] == "resolved" and alert["summary"] == "calme revenu"


async def test_x_cancels_as_a_false_alarm_and_escape_in_the_prompt_does_nothing(
    hub: RunningHub,
) -> None:
    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        alert_id = await one_row(pilot, hub)
        await pilot.press("x", "escape")
        await pilot.pause(0.3)
        assert (await in_thread(lambda: get_alert(hub, alert_id)))["state"] == "open"
        await pilot.press("x", *"erreur", "enter")
        await wait_until(pilot, lambda: table_rows(app) == [], what="row leaves")
    alert = await in_thread(lambda: get_alert(hub, alert_id))
    assert alert["state"] == "cancelled" and alert["false_alarm"] and alert["closed_by"] == "s.a"


async def test_enter_opens_the_whole_history_with_times(hub: RunningHub) -> None:
    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        alert_id = await in_thread(lambda: raise_alert(hub))
        with hub.client("s.b") as sup:
            await in_thread(lambda: sup.post(f"/v1/alerts/{alert_id}/ack").raise_for_status())
        await wait_until(
            pilot, lambda: len(table_rows(app)) == 1 and "Bob Sup" in table_rows(app)[0], what="row"
        )
        app.query_one("#alerts").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, Details), what="details")
        body = str(app.screen.query_one("#details", Static).content)
        assert "alerte levée par Desk g1" in body and "j'arrive : Bob Sup" in body
        await pilot.press("escape")
        assert not isinstance(app.screen, Details)


async def test_o_takes_the_on_call_shift_until_a_time(hub: RunningHub) -> None:
    app = make_pane(hub.url, "s.b")
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        await pilot.press("o", *"25h", "enter")
        assert "HH:MM" in str(app.screen.query_one("#error").render())
        await pilot.press(*["backspace"] * 3, *"23:59", "enter")
        await wait_until(
            pilot, lambda: "Accueil RDC : Bob Sup" in text_of(app, "#oncall"), what="on call"
        )
        assert "remplacement jusqu'à 23:59" in text_of(app, "#oncall")
    with hub.client("g1") as desk:
        [card] = (await in_thread(lambda: desk.get("/v1/oncall"))).json()
    assert card["supervisor"]["id"] == "s.b" and card["source"] == "override"


async def test_an_escalated_alert_stands_out_and_rings_for_the_next_supervisor(
    hub_factory: Callable[..., RunningHub],
) -> None:
    hub = hub_factory(ack_timeout_s=0.5)
    app = make_pane(hub.url, "s.b")
    bells: list[int] = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        await one_row(pilot, hub)
        await wait_until(pilot, lambda: "niv. 1 → Bob Sup" in table_rows(app)[0], what="escalated")
        assert len(bells) >= 2, "raised, then escalated to me"
        await pilot.press("a")
        await wait_until(pilot, lambda: table_rows(app)[0].startswith("⇧ 1"), what="escalated mark")


async def test_a_desk_that_goes_offline_is_flagged(hub_factory: Callable[..., RunningHub]) -> None:
    hub = hub_factory(heartbeat_s=0.3)
    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        assert "Desk g1  jamais connecté" in text_of(app, "#presence")
        assert not app.query_one("#offline-flag").display
        with hub.client("g1") as desk:
            await in_thread(lambda: desk.post("/v1/heartbeat").raise_for_status())
        await wait_until(
            pilot, lambda: "Desk g1  en ligne" in text_of(app, "#presence"), what="online"
        )
        await wait_until(pilot, lambda: app.query_one("#offline-flag").display, what="offline")
        assert "Desk g1  HORS LIGNE depuis" in text_of(app, "#presence")
        assert "1 poste hors ligne" in text_of(app, "#offline-flag")


async def test_a_broken_stream_is_shown_at_once_and_catches_up(tmp_path: Path) -> None:
    port = free_port()
    config = make_config()
    hub = start_threaded_hub(config, tmp_path / "hub", port)
    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        await one_row(pilot, hub)
        await in_thread(hub.stop)
        await wait_until(pilot, lambda: app.link.up is False, what="broken")
        assert "flux interrompu depuis" in text_of(app, "#stream")
        assert "PAS EN DIRECT" in str(app.query_one("#alerts").border_title)
        assert len(table_rows(app)) == 1, "the last known list stays"
        hub = await in_thread(lambda: start_threaded_hub(config, tmp_path / "hub", port))
        try:
            await in_thread(lambda: raise_alert(hub, "g2"))
            await wait_until(pilot, lambda: len(table_rows(app)) == 2, what="caught up")
            await wait_until(pilot, lambda: app.link.up is True, what="live again")
            assert "Alertes en cours (2)" in str(app.query_one("#alerts").border_title)
        finally:
            await in_thread(hub.stop)


async def test_two_panes_and_a_desk_see_the_same_answer(hub: RunningHub, tmp_path: Path) -> None:
    desk = make_desk(hub.url, tmp_path / "journal.sqlite3")
    pane1, pane2 = make_pane(hub.url, "s.a"), make_pane(hub.url, "s.b")
    async with (
        desk.run_test(size=SIZE) as on_desk,
        pane1.run_test(size=SIZE) as on_pane1,
        pane2.run_test(size=SIZE) as on_pane2,
    ):
        await wait_until(on_desk, lambda: desk.state.link_up is True, what="desk link")
        await live_pane(on_pane1)
        await live_pane(on_pane2)
        await on_desk.press("f2")
        await wait_until(on_pane1, lambda: len(table_rows(pane1)) == 1, what="pane 1 row")
        pane1.query_one("#alerts").focus()
        await on_pane1.press("a")
        took = await wait_until(
            on_pane2,
            lambda: bool(table_rows(pane2)) and "Ana Sup" in table_rows(pane2)[0],
            timeout=5,
            what="pane 2",
        )
        await wait_until(
            on_desk,
            lambda: "pris en charge : Ana Sup" in text_of(desk, "#corner"),
            timeout=2,
            what="desk corner",
        )
    assert took < 1.0, f"pane 2 saw it after {took:.2f} s"


async def test_d_shows_the_figures_of_every_desk(hub: RunningHub) -> None:
    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        alert_id = await in_thread(lambda: raise_alert(hub, "g2", "malaise"))
        with hub.client("g2") as desk:
            await in_thread(
                lambda: desk.post(
                    f"/v1/alerts/{alert_id}/notes", json={"type": "physical"}
                ).raise_for_status()
            )
        await in_thread(lambda: raise_alert(hub, "g1", test=True))
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, Details), what="figures")
        body = str(app.screen.query_one("#details", Static).content)
        assert "1 alerte réelle, 1 exercice" in body
        assert "violence physique" in body and "Desk g2" in body


async def test_f_lets_a_supervisor_write_and_share_the_note(
    hub: RunningHub, tmp_path: Path
) -> None:
    from deskalert.journal.store import Journal
    from deskalert.tui.note_form import NoteForm

    app = make_pane(hub.url, journal=Journal(tmp_path / "sup.sqlite3"))
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        alert_id = await one_row(pilot, hub)
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteForm), what="form")
        await pilot.press(*"Reçu au bureau 3.")
        app.screen.query_one("#type").value = "verbal"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, NoteForm), what="closed")
        with hub.client("s.b") as other:
            await wait_until(pilot, lambda: len(other.get("/v1/notes").json()) == 1, what="shared")
            [note] = other.get("/v1/notes").json()
    assert note["author"] == "s.a" and note["alert_id"] == alert_id
    assert note["what_happened"] == "Reçu au bureau 3."


def seconds_ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat()


async def test_a_delayed_alert_shows_the_key_press_and_counts_from_it(hub: RunningHub) -> None:
    """Regression: an alert that waited in the outbox showed "Depuis 0:00" and only the hub time."""
    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        await in_thread(lambda: raise_alert(hub, created_at=seconds_ago(75)))
        await wait_until(pilot, lambda: len(table_rows(app)) == 1, what="row")
        row = table_rows(app)[0]
        elapsed = row.split(" | ")[3]
        minutes, seconds = elapsed.split("\n")[0].split(":")
        assert 75 <= int(minutes) * 60 + int(seconds) < 90, elapsed
        assert "reçu +1:1" in elapsed
        await wait_until(pilot, lambda: "appuyé à " in text_of(app, "#detail"), what="detail")
        detail = text_of(app, "#detail")
        assert "reçu 1 min 1" in detail and " s plus tard" in detail and "appuyé à " in detail
        app.query_one("#alerts").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, Details), what="details")
        body = str(app.screen.query_one("#details", Static).content)
        assert body.index("touche appuyée au poste") < body.index("alerte levée par Desk g1")


@pytest.mark.parametrize(
    ("offset_s", "said", "row_says"),
    [
        (
            -300,
            ("l'horloge du poste avance de 4 min 5", " s : heure d'appui inconnue"),
            "horloge ?",
        ),
        (
            3 * 3600,
            (
                "le poste dit appuyé à ",
                (
                    ", 3 h 00 min avant : horloge du poste douteuse, "
                    "durée comptée depuis la réception"
                ),
            ),
            "horloge ?",
        ),
        (0.5, ("appuyé à ", ", reçu aussitôt"), ""),
    ],
)
async def test_a_desk_clock_far_off_is_said_instead_of_a_wrong_duration(
    hub: RunningHub,
    offset_s: float,
    said: tuple[str, str],
    row_says: str,
) -> None:
    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        await in_thread(lambda: raise_alert(hub, created_at=seconds_ago(offset_s)))
        await wait_until(pilot, lambda: len(table_rows(app)) == 1, what="row")
        await wait_until(pilot, lambda: "Desk g1" in text_of(app, "#detail"), what="detail")
        detail = text_of(app, "#detail")
        assert (
            said[0] in detail
            and said[1] in detail
            and detail.index(said[0]) < detail.index(said[1])
        ), detail
        elapsed = table_rows(app)[0].split(" | ")[3]
        assert elapsed.startswith("0:0"), "counted from the reception, not the desk's clock"
        assert elapsed.endswith(row_says)


async def test_a_tick_moves_only_elapsed_times_and_rows_change_by_key(
    hub: RunningHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The table is never cleared: an urgent alert arriving above leaves the cursor on the
    alert it was on, and the 1 s tick updates the elapsed column and nothing else."""
    from deskalert.tui.pane.widgets import AlertTable

    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        table = app.query_one(AlertTable)
        first = await one_row(pilot, hub, "g1", "renfort")
        monkeypatch.setattr(table, "clear", lambda *a, **k: pytest.fail("table cleared"))
        await in_thread(lambda: raise_alert(hub, "g2", "malaise"))
        await wait_until(pilot, lambda: len(table_rows(app)) == 2, what="second row")
        assert "Urgence médicale" in table_rows(app)[0], "the more urgent first"
        assert str(table.selected_id()) == first and table.cursor_row == 1
        updated: list[str] = []
        original = table.update_cell

        def spy(row: Any, column: Any, value: Any, **kw: Any) -> None:
            updated.append(str(column))
            original(row, column, value, **kw)

        monkeypatch.setattr(table, "update_cell", spy)
        await pilot.pause(2.2)
        assert updated and set(updated) == {"elapsed"}


async def test_keys_are_remapped_from_config_and_labelled_in_english(hub: RunningHub) -> None:
    """[keys] respond = "k": k answers, a no longer does; the footer speaks English."""
    from pane_helpers import pane

    app = pane(hub.url, keys={"respond": "k"}, language="en")
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        assert "live" in text_of(app, "#stream")
        footer = " ".join(str(key.render()) for key in app.query("FooterKey"))
        assert "I'm coming" in footer and "False alarm" in footer and "J'arrive" not in footer
        assert "k I'm coming" in footer
        alert_id = await in_thread(lambda: raise_alert(hub))
        await wait_until(pilot, lambda: "pressed at " in text_of(app, "#detail"), what="detail")
        await pilot.press("a")
        await pilot.pause(0.3)
        assert (await in_thread(lambda: get_alert(hub, alert_id)))["responders"] == []
        await pilot.press("k")
        await wait_until(pilot, lambda: "Ana Sup" in table_rows(app)[0], what="answered")


async def test_f_without_a_journal_says_why_instead_of_doing_nothing(hub: RunningHub) -> None:
    """The demo's pane has no local journal: `f` said nothing before."""
    app = make_pane(hub.url)
    notes: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await live_pane(pilot)
        app.notify = lambda message, **kw: notes.append(str(message))
        await in_thread(lambda: raise_alert(hub))
        await wait_until(pilot, lambda: app.selected is not None, what="selected")
        await pilot.press("f")
        assert notes == [
            (
                "Fiche incident indisponible : ce tableau n'a pas de journal local "
                "(ouvrez-le avec deskalert supervise)."
            )
        ]
