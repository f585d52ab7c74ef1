"""The desk's journal catches up with the hub (issue 23): an alert raised by `deskalert send`
while the desk screen was closed, then answered and resolved from the pane, showed "ouverte ...
à remplir" in `journal`, `export` and `report` forever, and no note was offered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desk_helpers import free_port, in_thread, make_desk, wait_until
from deskalert.cli import main
from deskalert.journal.store import Journal
from deskalert.tui.desk.journal import JournalApp
from support.hubs import RunningHub

pytestmark = pytest.mark.stores("sqlite")


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """A desk workstation (config, token, data dir) for `main(argv)` in this process."""

    def configure(url: str) -> Path:
        config = tmp_path / "config.toml"
        config.write_text(
            f'language = "fr"\n[hub]\nurl = "{url}"\n[desk]\nid = "g1"\n', encoding="utf-8"
        )
        monkeypatch.setenv("DESKALERT_CONFIG", str(config))
        monkeypatch.setenv("DESKALERT_TOKEN", "tok-g1")
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
        return tmp_path / "data" / "deskalert" / "journal.sqlite3"

    return configure


def sent_then_resolved_from_the_pane(hub: RunningHub) -> str:
    """`deskalert send malaise`, then Ana answers and resolves it over HTTP (the pane's calls)."""
    assert main(["send", "malaise"]) == 0
    with hub.client("s.a") as sup:
        [alert] = sup.get("/v1/alerts", params={"state": "all"}).json()
        sup.post(f"/v1/alerts/{alert['id']}/ack").raise_for_status()
        sup.post(f"/v1/alerts/{alert['id']}/resolve", json={"summary": "calmé"}).raise_for_status()
    return str(alert["id"])


def test_export_shows_an_alert_closed_from_the_pane_with_its_responders(
    hub: RunningHub, desk: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    desk(hub.url)
    alert_id = sent_then_resolved_from_the_pane(hub)
    capsys.readouterr()
    assert main(["export", "--format", "json"]) == 0
    out = capsys.readouterr()
    [incident] = json.loads(out.out)
    alert = incident["alert"]
    assert alert["id"] == alert_id and alert["state"] == "resolved", alert
    assert [r["name"] for r in alert["responders"]] == ["Ana Sup"]
    assert out.err == ""


def test_export_with_the_hub_down_says_the_journal_may_be_behind(
    hub: RunningHub, desk: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    desk(hub.url)
    sent_then_resolved_from_the_pane(hub)
    desk(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    capsys.readouterr()
    assert main(["report"]) == 0
    err = capsys.readouterr().err
    assert (
        err == "journal : le hub ne répond pas, le journal peut être en retard sur l'état"
        " des alertes\n"
    )


async def test_deskalert_journal_shows_the_closed_state_and_who_came(
    hub: RunningHub, desk: Any
) -> None:
    path = desk(hub.url)
    await in_thread(lambda: sent_then_resolved_from_the_pane(hub))
    journal = Journal(path)
    app = JournalApp(journal, "fr", hub.url, "tok-g1")
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: "résolue" in rows(app), what="resolved in the list")
        assert "Ana Sup" in str(app.screen.query_one("#timeline").content)
    journal.close()


async def test_the_desk_at_start_catches_up_and_offers_the_note(hub: RunningHub, desk: Any) -> None:
    path = desk(hub.url)
    alert_id = await in_thread(lambda: sent_then_resolved_from_the_pane(hub))
    app = make_desk(hub.url, path)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await wait_until(
            pilot,
            lambda: [str(a.id) for a in app.delivery.notes_waiting()] == [alert_id],
            what="the note offered",
        )


def rows(app: Any) -> str:
    from textual.widgets import DataTable

    table = app.screen.query_one("#incidents", DataTable)
    return "\n".join(
        " | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)
    )


async def test_the_open_desk_follows_on_its_stream_an_alert_raised_by_send(
    hub: RunningHub, desk: Any
) -> None:
    path = desk(hub.url)
    app = make_desk(hub.url, path)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        alert_id = await in_thread(lambda: sent_then_resolved_from_the_pane(hub))
        await wait_until(
            pilot,
            lambda: [str(a.id) for a in app.delivery.notes_waiting()] == [alert_id],
            what="the stream's copy journaled",
        )
        assert app.journal.unsettled() == []
