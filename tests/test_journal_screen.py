"""The desk's journal screen against a real hub: list, search, filters, note, sharing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from desk_helpers import in_thread, make_desk, text_of, wait_until
from deskalert import sitetime
from deskalert.journal.store import Journal
from deskalert.models import Alert
from deskalert.tui.desk.journal import JournalApp, JournalScreen
from deskalert.tui.note_form import NoteForm
from support.hubs import RunningHub
from support.requests import new_alert

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")


def rows(app: object) -> list[str]:
    table = app.screen.query_one("#incidents", DataTable)  # type: ignore[attr-defined]
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_journal_lists_filters_opens_the_note_and_shares_it(
    hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=(110, 50)) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        for key in ("f2", "f4"):
            await pilot.press(key)
        await wait_until(
            pilot,
            lambda: (
                len(app.state.own) == 2 and all(o.alert is not None for o in app.state.own.values())
            ),
            what="both sent",
        )
        with hub.client("s.a") as sup:
            for own in app.state.own.values():
                await in_thread(lambda i=own.id: sup.post(f"/v1/alerts/{i}/ack").raise_for_status())
                await in_thread(
                    lambda i=own.id: sup.post(
                        f"/v1/alerts/{i}/resolve", json={"summary": "calmé"}
                    ).raise_for_status()
                )
        await wait_until(
            pilot,
            lambda: all(o.alert and o.alert.state == "resolved" for o in app.state.own.values()),
            what="resolved",
        )
        await pilot.press("j")
        await wait_until(pilot, lambda: isinstance(app.screen, JournalScreen), what="journal")
        assert len(rows(app)) == 2 and all("à remplir" in r and "résolue" in r for r in rows(app))
        assert rows(app)[0].split(" | ")[1] == "Urgence médicale", "newest first"
        assert "j'arrive : Ana Sup" in str(app.screen.query_one("#timeline").content)

        app.screen.query_one("#search").value = "renfort"  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: len(rows(app)) == 1, what="search")
        app.screen.query_one("#search").value = ""  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: len(rows(app)) == 2, what="search cleared")
        table = app.screen.query_one("#incidents", DataTable)
        assert table.cursor_row == 1, "the cursor stays on the incident it was on"

        table.focus()
        await pilot.press("up", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteForm), what="form")
        await pilot.press(*"Malaise, secours appelés.")
        app.screen.query_one("#type").value = "other"  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, JournalScreen), what="back")
        await wait_until(pilot, lambda: "terminée" in rows(app)[0], what="finished")

        app.screen.query_one("#type").value = "other"  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: len(rows(app)) == 1, what="type filter")
        app.screen.query_one("#incidents").focus()
        await pilot.press("s")
        await wait_until(pilot, lambda: "partagée" in rows(app)[0], what="shared")
        await pilot.press("escape")
        assert not isinstance(app.screen, JournalScreen)
        assert "Fiche incident à remplir" in text_of(app, "#note-offer"), "the other one waits"
    with hub.client("s.a") as sup:
        [note] = (await in_thread(lambda: sup.get("/v1/notes"))).json()
    assert note["what_happened"] == "Malaise, secours appelés." and note["type"] == "other"


def journal_with_a_resolved_alert(hub: RunningHub, path: Path) -> tuple[Journal, Alert]:
    """The desk's journal as `deskalert send` and the desk app leave it: one resolved alert."""
    body = new_alert(created_at=datetime.now().astimezone().isoformat())
    with hub.client("g1") as desk:
        desk.post("/v1/alerts", json=body).raise_for_status()
    with hub.client("s.a") as sup:
        sup.post(f"/v1/alerts/{body['id']}/ack").raise_for_status()
        resolved = sup.post(f"/v1/alerts/{body['id']}/resolve", json={"summary": "calmé"})
    alert = Alert.model_validate(resolved.raise_for_status().json())
    journal = Journal(path)
    journal.record_alert(alert)
    return journal, alert


async def fill_and_share(app: JournalApp, pilot: Any) -> None:
    await wait_until(pilot, lambda: isinstance(app.screen, JournalScreen), what="journal")
    app.screen.query_one("#incidents").focus()
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, NoteForm), what="form")
    await pilot.press(*"Le ton monte au guichet.")
    app.screen.query_one("#type").value = "verbal"  # type: ignore[attr-defined]
    await pilot.pause()
    await pilot.click("#share")
    await wait_until(pilot, lambda: isinstance(app.screen, JournalScreen), what="back")


async def test_finish_and_share_from_deskalert_journal_reaches_the_hub(
    hub: RunningHub, tmp_path: Path
) -> None:
    """`deskalert journal` had no NoteForm.Finished handler: "Terminer et partager" did nothing."""
    journal, alert = await in_thread(
        lambda: journal_with_a_resolved_alert(hub, tmp_path / "journal.sqlite3")
    )
    app = JournalApp(journal, "fr", hub.url, "tok-g1")
    async with app.run_test(size=(110, 60)) as pilot:
        await fill_and_share(app, pilot)
        await wait_until(pilot, lambda: "partagée" in rows(app)[0], what="shared")
    record = journal.draft(alert.id)
    assert record is not None and record.finished and record.shared_at is not None
    with hub.client("s.a") as sup:
        [note] = (await in_thread(lambda: sup.get("/v1/notes"))).json()
    assert note["alert_id"] == str(alert.id) and note["author"] == "g1"
    assert note["what_happened"] == "Le ton monte au guichet." and note["type"] == "verbal"


async def test_without_a_token_the_note_is_kept_and_the_journal_says_why(
    hub: RunningHub, tmp_path: Path
) -> None:
    journal, alert = await in_thread(
        lambda: journal_with_a_resolved_alert(hub, tmp_path / "journal.sqlite3")
    )
    app = JournalApp(journal, "fr", hub.url, None)
    shown: list[str] = []
    notify = app.notify
    app.notify = lambda message, **kw: (shown.append(message), notify(message, **kw))[1]  # type: ignore[method-assign]
    async with app.run_test(size=(110, 60)) as pilot:
        await fill_and_share(app, pilot)
        await wait_until(pilot, lambda: any("pas de jeton" in s for s in shown), what="told why")
        await wait_until(pilot, lambda: "terminée" in rows(app)[0], what="finished, not shared")
    record = journal.draft(alert.id)
    assert record is not None and record.finished and record.shared_at is None
    with hub.client("s.a") as sup:
        assert (await in_thread(lambda: sup.get("/v1/notes"))).json() == []


async def test_the_journal_opened_from_the_desk_has_its_footer_in_the_desks_language(
    hub: RunningHub, tmp_path: Path
) -> None:
    """Was: with `j`, the journal's footer showed the desk's keys as raw message ids
    ("F8 binding.respond") and its own in French whatever the language."""
    from textual.widgets._footer import FooterKey

    app = make_desk(hub.url, tmp_path / "journal.sqlite3", language="en")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.press("j")
        await wait_until(pilot, lambda: isinstance(app.screen, JournalScreen), what="journal")
        await pilot.pause(0.2)
        words = [str(key.description) for key in app.screen.query(FooterKey)]
    assert "Back" in words and "Share the note" in words and "I'm coming" in words, words
    assert not [w for w in words if w.startswith(("binding.", "journal.binding."))], words


async def test_the_timeline_is_in_the_sites_zone_like_the_list(
    hub: RunningHub, tmp_path: Path
) -> None:
    """The list said 04:12 (the site's zone) and the timeline under it 03:12 (the machine's)."""
    journal, alert = await in_thread(
        lambda: journal_with_a_resolved_alert(hub, tmp_path / "journal.sqlite3")
    )
    sitetime.set_zone("Asia/Tokyo")  # as a desk does once it hears its hub; not this machine's
    app = JournalApp(journal, "fr", hub.url, None)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, JournalScreen), what="journal")
        await pilot.pause()
        pressed = sitetime.local(alert.created_at or alert.received_at)
        assert rows(app)[0].startswith(f"{pressed:%d/%m %H:%M}")
        timeline = str(app.screen.query_one("#timeline").render())
        assert f"\n{pressed:%H:%M:%S} (+0:00)" in timeline, timeline
