"""The desk app against a real hub on 127.0.0.1: keys, steps, warning, cancel, colleagues,
drills."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from desk_helpers import free_port, in_thread, make_desk, text_of, wait_until
from deskalert.client.api import HubClient
from deskalert.client.send import SendReport, send_alert
from deskalert.journal.store import Delivery, Journal
from deskalert.tui.desk import app as desk
from deskalert.tui.desk.app import DeskApp
from deskalert.tui.desk.state import Step
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import make_config

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")

SIZE = (100, 40)


def hub_alerts(hub: RunningHub) -> list[dict[str, Any]]:
    with hub.client("s.a") as client:
        return list(client.get("/v1/alerts", params={"state": "all"}).json())


async def test_main_screen_shows_who_is_on_call_the_link_and_the_keys(
    hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: app.state.link_up is True and app.state.codes_known, what="link up"
        )
        card = text_of(app, "#oncall")
        assert "Ana Sup" in card and "☎ 01 00" in card and "office s.a" in card
        assert "ensuite : Bob Sup (01 00)" in card
        assert "dernière information connue" not in card
        assert text_of(app, "#link") == "● liaison OK"
        assert text_of(app, "#desk-name") == "Desk g1 · near g1"
        codes = text_of(app, "#codes")
        assert (
            "F2 · ctrl+r   Renfort  (discrète)" in codes
            and "F4 · ctrl+y   Urgence médicale" in codes
        )
        assert app.query_one("#oncall").border_title == "Encadrant de permanence"


async def test_a_discreet_key_sends_at_once_and_the_corner_follows_each_step(
    hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.press("f2")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="transmitted")
        [alert] = await in_thread(lambda: hub_alerts(hub))
        assert alert["code"] == "renfort" and alert["desk"] == "g1" and not alert["test"]
        assert not app.query_one("#status").display, "a discreet code shows only the corner sign"
        assert not app.query_one("#warning").display

        with hub.client("s.a") as sup:
            await in_thread(lambda: sup.post(f"/v1/alerts/{alert['id']}/ack").raise_for_status())
            await wait_until(
                pilot,
                lambda: "pris en charge : Ana Sup" in text_of(app, "#corner"),
                what="acknowledged",
            )
        with hub.client("s.b") as sup:
            await in_thread(lambda: sup.post(f"/v1/alerts/{alert['id']}/ack").raise_for_status())
            await wait_until(
                pilot,
                lambda: "pris en charge : Ana Sup, Bob Sup" in text_of(app, "#corner"),
                what="second responder",
            )
            await in_thread(
                lambda: sup.post(f"/v1/alerts/{alert['id']}/resolve", json={}).raise_for_status()
            )
        await wait_until(pilot, lambda: "terminée" in text_of(app, "#corner"), what="resolved")


async def test_a_second_press_of_the_same_code_does_not_raise_a_second_alert(
    hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.press("f2", "f2", "ctrl+r")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="transmitted")
        await pilot.pause(0.3)
    assert len(await in_thread(lambda: hub_alerts(hub))) == 1


async def test_the_ctrl_alternative_sends_from_any_focus_and_shows_the_status_panel(
    hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        app.query_one("#body").focus()
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#status"), what="status")
        status = text_of(app, "#status")
        assert "Votre alerte : Urgence médicale" in status
        assert "Le secouriste vient avec la trousse." in status
    [alert] = await in_thread(lambda: hub_alerts(hub))
    assert alert["code"] == "malaise"


async def test_hub_down_warns_within_2s_then_delivers_exactly_once_when_it_is_back(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "journal.sqlite3"
    port = free_port()
    # A first session with the hub up, so the desk has the on-call card cached.
    first = start_threaded_hub(make_config(), tmp_path / "hub", port)
    app = make_desk(first.url, journal)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.oncall is not None, what="on-call card")
    await in_thread(first.stop)

    app = make_desk(first.url, journal)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is False, what="link down")
        assert "dernière information connue" in text_of(app, "#oncall")
        assert "liaison perdue depuis" in text_of(app, "#link")
        await pilot.press("f2")
        took = await wait_until(
            pilot, lambda: app.query_one("#warning").display, timeout=5, what="warning"
        )
        assert took <= 2.5, f"warning after {took:.2f} s"
        warning = text_of(app, "#warning")
        assert "ALERTE NON TRANSMISE" in warning and "Appelez maintenant Ana Sup : 01 00" in warning
        [queued] = list(app.state.own.values())

        hub = await in_thread(lambda: start_threaded_hub(make_config(), tmp_path / "hub", port))
        try:
            await wait_until(
                pilot, lambda: queued.step is Step.TRANSMITTED, timeout=10, what="delivered"
            )
            await wait_until(
                pilot, lambda: not app.query_one("#warning").display, what="warning cleared"
            )
            alerts = await in_thread(lambda: hub_alerts(hub))
            assert [a["id"] for a in alerts] == [str(queued.id)], "stored exactly once"
        finally:
            await in_thread(hub.stop)


def send_from_outside(journal_path: Path, url: str, timeout: float) -> SendReport:
    """`deskalert send renfort` in another process: its own journal connection and client."""

    async def send() -> SendReport:
        async with HubClient(url, "tok-g1") as client:
            return await send_alert(journal, client, "renfort", timeout=timeout)

    journal = Journal(journal_path)
    try:
        return asyncio.run(send())
    finally:
        journal.close()


async def open_desk_with_the_hub_stopped(pilot: Pilot[Any], app: DeskApp, hub: RunningHub) -> None:
    await wait_until(
        pilot, lambda: app.state.link_up is True and app.state.oncall is not None, what="link up"
    )
    await in_thread(hub.stop)
    await wait_until(pilot, lambda: app.state.link_up is False, what="link down")


async def test_the_open_desk_delivers_an_alert_queued_by_send_when_the_link_comes_up(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(desk, "ADOPT_EVERY_S", 3600.0)  # only the link coming up adopts it
    journal, port, config = tmp_path / "journal.sqlite3", free_port(), make_config(heartbeat_s=0.5)
    hub = start_threaded_hub(config, tmp_path / "hub", port)
    app = make_desk(hub.url, journal)
    async with app.run_test(size=SIZE) as pilot:
        await open_desk_with_the_hub_stopped(pilot, app, hub)
        report = await in_thread(lambda: send_from_outside(journal, hub.url, timeout=0.3))
        assert report.result.status is Delivery.QUEUED, "send gave up: it stays in the journal"
        await pilot.pause(0.5)
        assert report.entry.id not in app.state.own, "the link is still down"

        hub = await in_thread(lambda: start_threaded_hub(config, tmp_path / "hub", port))
        try:
            await wait_until(
                pilot,
                lambda: (
                    report.entry.id in app.state.own
                    and app.state.own[report.entry.id].step is Step.TRANSMITTED
                ),
                what="adopted and delivered",
            )
            assert "transmise" in text_of(app, "#corner")
            await pilot.pause(0.5)
            alerts = await in_thread(lambda: hub_alerts(hub))
            assert [a["id"] for a in alerts] == [str(report.entry.id)], "stored exactly once"
        finally:
            await in_thread(hub.stop)
    assert Journal(journal).pending() == []


async def test_an_alert_send_is_still_retrying_is_adopted_shown_and_stored_once(
    tmp_path: Path,
) -> None:
    journal, port, config = tmp_path / "journal.sqlite3", free_port(), make_config(heartbeat_s=0.5)
    hub = start_threaded_hub(config, tmp_path / "hub", port)
    app = make_desk(hub.url, journal)
    async with app.run_test(size=SIZE) as pilot:
        await open_desk_with_the_hub_stopped(pilot, app, hub)
        sending = asyncio.create_task(
            in_thread(lambda: send_from_outside(journal, hub.url, timeout=30))
        )
        await wait_until(
            pilot,
            lambda: len(app.state.own) == 1,
            timeout=6,
            what="adopted by the periodic read while send retries",
        )
        [own] = app.state.own.values()
        await wait_until(pilot, lambda: app.query_one("#warning").display, what="warning")
        assert "ALERTE NON TRANSMISE" in text_of(app, "#warning"), "shown as not transmitted"

        hub = await in_thread(lambda: start_threaded_hub(config, tmp_path / "hub", port))
        try:
            report = await sending
            assert report.result.transmitted and report.entry.id == own.id
            await wait_until(pilot, lambda: own.step is Step.TRANSMITTED, what="delivered")
            await wait_until(
                pilot, lambda: not app.query_one("#warning").display, what="warning cleared"
            )
            assert "transmise" in text_of(app, "#corner")
            await pilot.pause(0.5)
            alerts = await in_thread(lambda: hub_alerts(hub))
            assert [a["id"] for a in alerts] == [str(own.id)], "one alert, not two"
            assert list(app.state.own) == [own.id]
        finally:
            await in_thread(hub.stop)


async def test_an_adopted_alert_cancelled_at_the_desk_stops_send_retrying_it(
    tmp_path: Path,
) -> None:
    journal, port, config = tmp_path / "journal.sqlite3", free_port(), make_config(heartbeat_s=0.5)
    hub = start_threaded_hub(config, tmp_path / "hub", port)
    app = make_desk(hub.url, journal)
    async with app.run_test(size=SIZE) as pilot:
        await open_desk_with_the_hub_stopped(pilot, app, hub)
        sending = asyncio.create_task(
            in_thread(lambda: send_from_outside(journal, hub.url, timeout=30))
        )
        await wait_until(pilot, lambda: len(app.state.own) == 1, timeout=6, what="adopted")
        await pilot.press("ctrl+x")
        assert "annulée" in text_of(app, "#corner")
        report = await wait_for_task(pilot, sending)
        assert report.result.status is Delivery.CANCELLED, "send stops: it would lie otherwise"
        hub = await in_thread(lambda: start_threaded_hub(config, tmp_path / "hub", port))
        try:
            await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
            await pilot.pause(0.5)
            assert await in_thread(lambda: hub_alerts(hub)) == []
        finally:
            await in_thread(hub.stop)


async def wait_for_task(pilot: Pilot[Any], task: asyncio.Task[SendReport]) -> SendReport:
    await wait_until(pilot, task.done, what="send finished")
    return task.result()


async def test_a_queued_alert_withdrawn_before_the_hub_had_it_is_never_sent(
    tmp_path: Path,
) -> None:
    port = free_port()
    app = make_desk(f"http://127.0.0.1:{port}", tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is False, what="link down")
        await pilot.press("f2")
        await pilot.press("ctrl+x")
        assert "annulée" in text_of(app, "#corner")
        hub = await in_thread(lambda: start_threaded_hub(make_config(), tmp_path / "hub", port))
        try:
            await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
            await pilot.pause(0.5)
            assert await in_thread(lambda: hub_alerts(hub)) == []
        finally:
            await in_thread(hub.stop)
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        assert db.execute("SELECT status FROM outbox").fetchall() == [("cancelled",)]


async def test_the_cancel_key_cancels_an_alert_the_hub_has(hub: RunningHub, tmp_path: Path) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.press("f4")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#status"), what="sent")
        await pilot.press("f10")
        await wait_until(pilot, lambda: "annulée" in text_of(app, "#status"), what="cancelled")
    [alert] = await in_thread(lambda: hub_alerts(hub))
    assert alert["state"] == "cancelled" and alert["closed_by"] == "g1"


async def test_too_late_to_cancel_says_so(
    hub_factory: Callable[..., RunningHub], tmp_path: Path
) -> None:
    hub = hub_factory(cancel_window_s=0)
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    notes: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        app.notify = lambda message, **kw: notes.append(message)  # type: ignore[method-assign]
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.press("f2")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="sent")
        await pilot.press("ctrl+x")
        await wait_until(
            pilot, lambda: any("Annulation impossible" in n for n in notes), what="refusal shown"
        )
    [alert] = await in_thread(lambda: hub_alerts(hub))
    assert alert["state"] == "open"


async def test_a_colleagues_alert_shows_a_banner_and_the_key_answers_jarrive(
    hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        raised = new_alert("malaise")
        with hub.client("g2") as g2:
            await in_thread(lambda: g2.post("/v1/alerts", json=raised).raise_for_status())
        await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="banner")
        banner = text_of(app, "#colleagues")
        assert "Desk g2 appelle : Urgence médicale" in banner and "near g2" in banner
        assert "Le secouriste vient avec la trousse." in banner
        assert "F8 · ctrl+o : j'arrive" in banner
        await pilot.press("f8")
        await wait_until(
            pilot, lambda: "vous avez répondu" in text_of(app, "#colleagues"), what="answered"
        )
        with hub.client("s.a") as sup:
            alert = (await in_thread(lambda: sup.get(f"/v1/alerts/{raised['id']}"))).json()
        assert [(r["id"], r["kind"]) for r in alert["responders"]] == [("g1", "desk")]
        with hub.client("g2") as g2:
            await in_thread(
                lambda: g2.post(f"/v1/alerts/{raised['id']}/cancel", json={}).raise_for_status()
            )
        await wait_until(
            pilot, lambda: not app.query_one("#colleagues").display, what="banner gone"
        )


async def test_the_drill_key_marks_the_next_alert_as_an_exercise(
    hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.press("f9")
        assert "EXERCICE" in text_of(app, "#drill")
        await pilot.press("f2")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="sent")
        assert "EXERCICE" in text_of(app, "#corner")
        assert not app.query_one("#drill").display, "armed for one alert only"
        await pilot.press("f4")
        await wait_until(
            pilot,
            lambda: (
                len(app.state.own) == 2
                and all(o.step is Step.TRANSMITTED for o in app.state.own.values())
            ),
            what="second sent",
        )
    tests = sorted((a["code"], a["test"]) for a in await in_thread(lambda: hub_alerts(hub)))
    assert tests == [("malaise", False), ("renfort", True)]


async def test_a_drill_session_marks_every_alert(hub: RunningHub, tmp_path: Path) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3", drill_session=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        assert "toutes les alertes de cette session" in text_of(app, "#drill")
        await pilot.press("f4")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#status"), what="sent")
        assert "[EXERCICE]" in text_of(app, "#status")
    [alert] = await in_thread(lambda: hub_alerts(hub))
    assert alert["test"] is True


async def test_english_and_remapped_keys(hub: RunningHub, tmp_path: Path) -> None:
    app = make_desk(
        hub.url,
        tmp_path / "journal.sqlite3",
        language="en",
        keys={"renfort": "f6", "respond": "f7"},
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        assert app.query_one("#oncall").border_title == "Supervisor on call"
        assert text_of(app, "#link") == "● link OK"
        assert "next: Bob Sup" in text_of(app, "#oncall")
        assert "F6 · ctrl+g   Renfort  (discreet)" in text_of(app, "#codes")
        await pilot.press("f2")
        await pilot.pause(0.3)
        assert app.state.own == {}, "f2 no longer sends once remapped"
        await pilot.press("f6")
        await wait_until(pilot, lambda: "transmitted" in text_of(app, "#corner"), what="sent")


async def test_link_loss_is_shown_within_two_heartbeats_and_clears_when_back(
    tmp_path: Path,
) -> None:
    port = free_port()
    config = make_config(heartbeat_s=0.5)
    hub = start_threaded_hub(config, tmp_path / "hub", port)
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await in_thread(hub.stop)
        took = await wait_until(pilot, lambda: app.state.link_up is False, what="link down")
        assert "liaison perdue depuis" in text_of(app, "#link")
        assert "En urgence, appelez Ana Sup : 01 00" in text_of(app, "#link-advice")
        hub = await in_thread(lambda: start_threaded_hub(config, tmp_path / "hub", port))
        try:
            await wait_until(pilot, lambda: app.state.link_up is True, what="link back")
            assert not app.query_one("#link-advice").display
            # Events raised while the desk reconnected are not missed.
            raised = new_alert("malaise")
            await in_thread(
                lambda: httpx.post(
                    f"{hub.url}/v1/alerts", json=raised, headers=auth("g2")
                ).raise_for_status()
            )
            await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="banner")
        finally:
            await in_thread(hub.stop)
    assert took < 2 * 0.5 + 0.5


async def test_a_key_for_an_unknown_code_in_config_is_reported(
    hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3", keys={"renfrot": "f6"})
    notes: list[str] = []
    app.notify = lambda message, **kw: notes.append(message)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.codes_known, what="codes")
        await wait_until(pilot, lambda: any("renfrot" in n for n in notes), what="warning")
