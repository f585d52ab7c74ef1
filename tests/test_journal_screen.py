"""The desk's journal screen against a real hub: list, search, filters, note, sharing."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from conftest import RunningHub
from desk_helpers import in_thread, make_desk, text_of, wait_until
from deskalert.tui.journal_screen import JournalScreen
from deskalert.tui.note_form import NoteForm


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
        await wait_until(pilot, lambda: len(app.state.own) == 2 and all(
            o.alert is not None for o in app.state.own.values()), what="both sent")
        with hub.client("s.a") as sup:
            for own in app.state.own.values():
                await in_thread(lambda i=own.id: sup.post(f"/v1/alerts/{i}/ack").raise_for_status())
                await in_thread(lambda i=own.id: sup.post(f"/v1/alerts/{i}/resolve",
                                                          json={"summary": "calmé"}).raise_for_status())
        await wait_until(pilot, lambda: all(o.alert and o.alert.state == "resolved"
                                            for o in app.state.own.values()), what="resolved")
        await pilot.press("j")
        await wait_until(pilot, lambda: isinstance(app.screen, JournalScreen), what="journal")
        assert len(rows(app)) == 2 and all("à remplir" in r and "résolue" in r for r in rows(app))
        assert rows(app)[0].split(" | ")[1] == "Urgence médicale", "newest first"
        assert "j'arrive : Ana Sup" in str(app.screen.query_one("#timeline").content)

        app.screen.query_one("#search").value = "renfort"  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: len(rows(app)) == 1, what="search")
        app.screen.query_one("#search").value = ""  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: len(rows(app)) == 2, what="search cleared")

        app.screen.query_one("#incidents").focus()
        await pilot.press("enter")
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
