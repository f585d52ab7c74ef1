"""A code key pressed again: the same alert while it is fresh, a new one once answered or older.

Against a real hub on 127.0.0.1, with Textual's Pilot: a second incident at a desk whose earlier
alert a supervisor had answered used to do nothing (the key was dead until a supervisor closed
the old alert), while the screen still said "pris en charge".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from desk_helpers import FakeClock, in_thread, make_desk, text_of, wait_until
from deskalert.models import Alert, AlertState
from deskalert.tui.base import local_now
from deskalert.tui.desk.app import DeskApp
from deskalert.tui.desk.state import REPRESS_SAME_ALERT, DeskState, OwnAlert, Step
from support.hubs import RunningHub

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")

SIZE = (100, 40)


def hub_alerts(hub: RunningHub) -> list[dict[str, Any]]:
    with hub.client("s.a") as client:
        return sorted(
            client.get("/v1/alerts", params={"state": "all"}).json(), key=lambda a: a["received_at"]
        )


def acknowledge(hub: RunningHub, who: str, alert_id: str) -> None:
    with hub.client(who) as supervisor:
        supervisor.post(f"/v1/alerts/{alert_id}/ack").raise_for_status()


def toasts(app: DeskApp) -> str:
    return " ".join(str(toast.render()) for toast in app.screen.query("Toast"))


async def link_up(pilot: Any, app: DeskApp) -> None:
    await wait_until(
        pilot, lambda: app.state.link_up is True and app.state.codes_known, what="link up"
    )


async def test_a_press_after_a_supervisor_answered_raises_a_new_alert_shown_as_current(
    hub: RunningHub, tmp_path: Path
) -> None:
    """The tester's case: F2, "j'arrive", a new incident, F2 -> nothing happened before."""
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await link_up(pilot, app)
        await pilot.press("f2")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="first")
        [first] = await in_thread(lambda: hub_alerts(hub))
        await in_thread(lambda: acknowledge(hub, "s.a", first["id"]))
        await wait_until(
            pilot,
            lambda: "pris en charge : Ana Sup" in text_of(app, "#corner"),
            what="acknowledged",
        )

        await pilot.press("f2")
        await wait_until(pilot, lambda: len(app.state.own) == 2, what="a second own alert")
        await wait_until(
            pilot,
            lambda: text_of(app, "#corner") == "· transmise",
            what="the new alert shown with its own step",
        )
        first_stored, second = await in_thread(lambda: hub_alerts(hub))
        assert first_stored["id"] == first["id"] and second["id"] != first["id"]
        assert second["code"] == "renfort" and second["desk"] == "g1"
        assert second["state"] == "open" and first_stored["state"] == "acknowledged"
        assert "Déjà" not in toasts(app)
        assert not app.query_one("#warning").display

        await in_thread(lambda: acknowledge(hub, "s.b", second["id"]))
        await wait_until(
            pilot,
            lambda: text_of(app, "#corner") == "✓ pris en charge : Bob Sup",
            what="the new alert's own responder, not the old one's",
        )
        await in_thread(lambda: acknowledge(hub, "s.c", first["id"]))  # the old one moves on
        await pilot.pause(0.3)
        assert text_of(app, "#corner") == "✓ pris en charge : Bob Sup"


async def test_two_presses_within_a_second_are_one_alert_and_say_so(
    hub: RunningHub, tmp_path: Path
) -> None:
    """A panicked double press: one alert stored, and a short notice on screen."""
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await link_up(pilot, app)
        await pilot.press("f2")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="stored")
        await pilot.pause(0.2)
        await pilot.press("ctrl+r")  # the same code by its ctrl alternative
        await wait_until(
            pilot, lambda: "Déjà transmise : même alerte" in toasts(app), what="the notice"
        )
        assert "Renfort" not in toasts(app), "a discreet code is not named on screen"
        await pilot.pause(0.3)
        assert len(app.state.own) == 1
    assert len(await in_thread(lambda: hub_alerts(hub))) == 1


async def test_a_press_while_the_first_is_still_in_flight_is_the_same_alert(
    hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3", language="en")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await link_up(pilot, app)
        app.deliver = lambda entry: None  # type: ignore[method-assign]  # never reaches the hub
        await pilot.press("f2", "f2")
        await wait_until(
            pilot, lambda: "Already being sent: same alert" in toasts(app), what="the notice"
        )
        [own] = app.state.own.values()
        assert own.step is Step.QUEUED
    assert await in_thread(lambda: hub_alerts(hub)) == []


async def test_a_press_more_than_10_s_after_an_unanswered_alert_raises_a_new_one(
    hub: RunningHub, tmp_path: Path
) -> None:
    clock = FakeClock(local_now())
    app = make_desk(hub.url, tmp_path / "journal.sqlite3", clock=clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await link_up(pilot, app)
        await pilot.press("f2")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="stored")
        clock.advance(REPRESS_SAME_ALERT.total_seconds() - 1)
        await pilot.press("f2")
        await wait_until(pilot, lambda: "Déjà transmise" in toasts(app), what="still fresh")
        clock.advance(2)
        await pilot.press("f2")
        await wait_until(pilot, lambda: len(app.state.own) == 2, what="a new alert")
        await wait_until(
            pilot,
            lambda: all(o.step is Step.TRANSMITTED for o in app.state.own.values()),
            what="stored",
        )
    assert len(await in_thread(lambda: hub_alerts(hub))) == 2


async def test_a_drill_press_is_apart_from_a_fresh_real_alert(
    hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await link_up(pilot, app)
        await pilot.press("f2")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="real")
        await pilot.press("f9", "f2")
        await wait_until(pilot, lambda: "EXERCICE" in text_of(app, "#corner"), what="drill")
        await pilot.press("f9", "f2")
        await wait_until(pilot, lambda: "Déjà" in toasts(app), what="the drill repeated")
    stored = await in_thread(lambda: hub_alerts(hub))
    assert sorted(a["test"] for a in stored) == [False, True]


def hub_copy(code: str, created: datetime, state: AlertState = AlertState.OPEN) -> Alert:
    return Alert(
        id=uuid4(),
        code=code,
        code_label=code,
        discreet=True,
        priority=2,
        desk="g1",
        desk_label="Desk g1",
        site="accueil",
        location="near g1",
        created_at=created,
        received_at=created,
        state=state,
        test=False,
        updated_at=created,
    )


def test_after_a_restart_the_newest_of_two_alerts_of_a_code_is_the_one_shown() -> None:
    """Alerts the desk learns from the hub (another process, an earlier run) are dated by
    their press, not by when the desk heard of them: the newest is the current one."""
    now = local_now()
    state = DeskState("g1")
    newer = hub_copy("renfort", now - timedelta(seconds=40))
    older = hub_copy("renfort", now - timedelta(minutes=5), AlertState.ACKNOWLEDGED)
    state.replace_open([newer, older], now)
    current = state.current_own(now)
    assert current is not None and current.id == newer.id
    assert state.same_alert("renfort", False, now) is None, "both stored more than 10 s ago"


def test_fresh_means_in_flight_or_stored_under_10_s_and_unanswered() -> None:
    now = local_now()
    own = OwnAlert(id=uuid4(), code="renfort", test=False, queued_at=now)
    assert own.is_fresh(now + timedelta(minutes=5)), "in flight: the same alert, however long"
    own.alert, own.stored_at = hub_copy("renfort", now), now
    assert own.is_fresh(now + timedelta(seconds=9))
    assert not own.is_fresh(now + REPRESS_SAME_ALERT)
    own.cancel_requested = True
    assert not own.is_fresh(now), "a withdrawn alert is never repeated"
