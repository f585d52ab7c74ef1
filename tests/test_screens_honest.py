"""Screens that must not mislead (issue 23): elapsed times said as they are, a closed alert
shown as closed, ctrl+q with an own alert open. A real hub on 127.0.0.1, Pilot."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from desk_helpers import FakeClock, in_thread, make_desk, text_of, wait_until
from deskalert.hub.notify import render
from deskalert.models import Alert
from pane_helpers import live, pane
from pane_helpers import text_of as pane_text
from support.hubs import RunningHub
from support.requests import new_alert

pytestmark = pytest.mark.stores("sqlite")

SIZE = (100, 40)


async def test_colleague_banner_says_just_now_only_under_ten_seconds(
    hub: RunningHub, tmp_path: Path
) -> None:
    """Before: "à l'instant" for the whole first minute (minutes rounded down)."""
    clock = FakeClock(datetime.now().astimezone())
    app = make_desk(hub.url, tmp_path / "journal.sqlite3", clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        with hub.client("g2") as g2:
            raised = await in_thread(lambda: g2.post("/v1/alerts", json=new_alert("malaise")))
        received = Alert.model_validate(raised.json()).received_at
        await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="banner")
        for after, said in (
            (5, "à l'instant"),
            (40, "il y a 40 s"),
            (59, "il y a 50 s"),
            (61, "depuis 1 min"),
        ):
            clock.moment = received + timedelta(seconds=after)
            app.tick()
            await pilot.pause()
            assert said in text_of(app, "#colleagues"), (after, text_of(app, "#colleagues"))


def test_a_reminder_under_a_minute_does_not_say_zero_minutes() -> None:
    """Before: "sans réponse depuis 0 min" for a reminder 30 s after the alert."""
    now = datetime.now().astimezone()
    alert = Alert.model_validate(
        {
            **new_alert("malaise"),
            "code_label": "Malaise",
            "priority": 1,
            "desk": "g1",
            "desk_label": "Guichet 1",
            "site": "accueil",
            "received_at": now,
            "updated_at": now,
            "test": False,
            "discreet": False,
            "location": "RDC",
            "state": "open",
        }
    )
    title, _ = render("renotify", alert, "fr", now=now + timedelta(seconds=30))
    assert "0 min" not in title and "moins d'une minute" in title
    title, _ = render("renotify", alert, "en", now=now + timedelta(seconds=150))
    assert "unanswered for 2 min" in title


async def test_the_pane_detail_says_when_the_selected_alert_closed(hub: RunningHub) -> None:
    """Before: the panel kept the resolved alert's text with nothing saying it was over."""
    app = pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        raised = new_alert("malaise")
        with hub.client("g2") as g2:
            await in_thread(lambda: g2.post("/v1/alerts", json=raised).raise_for_status())
        await wait_until(pilot, lambda: "Desk g2" in pane_text(app, "#detail"), what="detail")
        assert "plus en cours" not in pane_text(app, "#detail")
        with hub.client("s.b") as sup:
            await in_thread(
                lambda: sup.post(f"/v1/alerts/{raised['id']}/resolve", json={}).raise_for_status()
            )
        await wait_until(pilot, lambda: "résolue" in pane_text(app, "#detail"), what="closed")
        assert "Alerte résolue à" in pane_text(app, "#detail")


async def test_ctrl_q_with_an_own_alert_open_asks_first(hub: RunningHub, tmp_path: Path) -> None:
    """Before: ctrl+q closed the desk at once, the agent not told the alert stays open."""
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    notes: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        app.notify = lambda message, **kw: notes.append(message)  # type: ignore[method-assign]
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.press("f2")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="sent")
        await pilot.press("ctrl+q")
        await pilot.pause(0.2)
        assert app.is_running and app.return_code is None
        assert any("Quitter ne l'annule pas" in n and "ctrl+q encore" in n for n in notes), notes
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: app.return_code is not None, what="quit")


async def test_ctrl_q_without_an_own_alert_quits_at_once(hub: RunningHub, tmp_path: Path) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: app.return_code is not None, what="quit")


async def test_ctrl_c_says_how_to_quit_in_french(hub: RunningHub, tmp_path: Path) -> None:
    """Before: Textual's "Do you want to quit? Press ctrl+q to quit the app" in the French desk."""
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    notes: list[tuple[str, Any]] = []
    async with app.run_test(size=SIZE) as pilot:
        app.notify = lambda message, **kw: notes.append((message, kw.get("title")))  # type: ignore[method-assign]
        await pilot.press("ctrl+c")
        await pilot.pause(0.1)
    assert notes == [("ctrl+q pour quitter deskalert.", "Quitter ?")]


def test_the_english_report_writes_english_dates_and_weeks() -> None:
    """Before: "2026-S47" and "21/11/2026" in the English report."""
    from deskalert import i18n
    from deskalert.journal.days import week as _week
    from deskalert.journal.debrief import Period

    moment = datetime(2026, 11, 21, 0, 0).astimezone()
    i18n.set_language("en")
    assert _week(moment) == "2026-W47"
    assert Period(moment, moment + timedelta(days=1)).describe([]).endswith("21 Nov 2026")
    i18n.set_language("fr")
    assert _week(moment) == "2026-S47"
    assert Period(moment, moment + timedelta(days=1)).describe([]).endswith("21/11/2026")


async def test_every_time_on_the_pane_is_the_sites_local_time(
    hub: RunningHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the pane drew the machine's zone while the hub wrote the site's ([hub] timezone
    = Europe/Paris in the test roster): 22:16 on screen for 23:16 in the hub's texts."""
    import time
    from zoneinfo import ZoneInfo

    monkeypatch.setenv("TZ", "America/New_York")  # a machine far from the site
    time.tzset()
    try:
        app = pane(hub.url)
        async with app.run_test(size=SIZE) as pilot:
            await live(pilot)
            raised = new_alert("malaise")
            raised.pop("created_at")
            with hub.client("g2") as g2:
                answer = await in_thread(lambda: g2.post("/v1/alerts", json=raised))
            received = Alert.model_validate(answer.json()).received_at
            paris = received.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M:%S")
            await wait_until(pilot, lambda: "Desk g2" in pane_text(app, "#detail"), what="detail")
            assert paris in pane_text(app, "#detail"), (paris, pane_text(app, "#detail"))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
