"""The pane's interview sessions per site, and its "tout va bien ?" key, against a real hub."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desk_helpers import in_thread, wait_until
from pane_helpers import live, pane, text_of
from support.hubs import RunningHub

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")

SIZE = (120, 45)


async def test_pane_shows_running_sessions_with_time_left_and_asks_a_desk(
    hub_factory: Callable[..., RunningHub],
) -> None:
    hub = hub_factory(check_answer_s=30)
    app = pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        assert text_of(app, "#sessions") == ""  # hidden while there is none
        with hub.client("g1") as desk:
            await in_thread(
                lambda: desk.post(
                    "/v1/sessions", json={"room": "Box A", "minutes": 20}
                ).raise_for_status()
            )
        await wait_until(pilot, lambda: "Box A" in text_of(app, "#sessions"), what="session")
        shown = text_of(app, "#sessions")
        assert "Accueil RDC" in shown and "Desk g1" in shown and "reste 19:5" in shown

        await pilot.press("k")
        await pilot.press(*"e1", "enter")
        await wait_until(
            pilot,
            lambda: "Desk e1 · « Tout va bien ? » sans réponse · rest" in text_of(app, "#sessions"),
            what="check pending",
        )
        with hub.client("s.a") as sup:
            [check] = await in_thread(lambda: sup.get("/v1/checks").json())
        assert check["desk"] == "e1" and check["asked_by"] == "s.a"
        with hub.client("e1") as desk:
            await in_thread(
                lambda: desk.post(
                    f"/v1/checks/{check['id']}/answer", json={"answer": "ok"}
                ).raise_for_status()
            )
        await wait_until(
            pilot, lambda: "Desk e1" not in text_of(app, "#sessions"), what="check answered"
        )


@pytest.mark.parametrize(
    ("language", "said", "why", "never"),
    [
        ("fr", "levée par le hub à", "(pas de réponse)", "appuyé"),
        ("en", "raised by the hub at", "(no answer)", "pressed"),
    ],
)
async def test_an_unanswered_check_alert_says_the_hub_raised_it_not_a_key_press(
    hub_factory: Callable[..., RunningHub], language: str, said: str, why: str, never: str
) -> None:
    """The alert the hub raises when "Tout va bien ?" goes unanswered read "appuyé à 07:34:03"
    on the pane: nobody pressed anything, and the supervisor read a key press."""
    from deskalert.hub.clock import ManualClock

    hub = hub_factory(clock=ManualClock(), check_answer_s=30)
    app = pane(hub.url, language=language)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        with hub.client("s.a") as sup:
            await in_thread(lambda: sup.post("/v1/checks", json={"desk": "e1"}).raise_for_status())
        await in_thread(lambda: hub.advance(31))  # nobody answers
        await wait_until(pilot, lambda: "Desk e1" in text_of(app, "#detail"), what="alert")
        shown = text_of(app, "#detail")
        assert said in shown and why in shown
        assert never not in shown
    with hub.client("s.a") as sup:
        [alert] = (await in_thread(lambda: sup.get("/v1/alerts"))).json()
    assert alert["no_answer"] is True and alert["desk"] == "e1"


def seconds_in(text: str, pattern: str) -> int:
    """The seconds a countdown shows: '(38 s)' on the desk, 'reste 0:38' on the pane."""
    found = re.search(pattern, text)
    assert found, f"no countdown in {text!r}"
    return sum(int(part) * 60**i for i, part in enumerate(reversed(found.groups())))


async def test_desk_and_pane_count_down_to_the_hubs_deadline_with_the_hubs_clock(
    hub_factory: Callable[..., RunningHub], tmp_path: Path
) -> None:
    """The pane counted with its own machine's clock (and the desk with its own): with a hub
    whose clock is 10 minutes behind, the pane said 0:00 left and the desk never asked, while
    the hub waited a full minute for the answer. Both now count with the hub's time, as its
    heartbeats tell it, and follow it when it moves."""
    from textual.widgets import Label

    from desk_helpers import make_desk
    from deskalert.hub.clock import ManualClock
    from deskalert.tui.desk.screens import CheckPrompt

    behind = datetime.now(UTC) - timedelta(minutes=10)
    hub = hub_factory(clock=ManualClock(behind), check_answer_s=60)
    app = pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        with hub.client("s.a") as sup:
            await in_thread(lambda: sup.post("/v1/checks", json={"desk": "g1"}).raise_for_status())
        await wait_until(pilot, lambda: "Desk g1" in text_of(app, "#sessions"), what="check")
        on_pane = seconds_in(text_of(app, "#sessions"), r"reste (\d+):(\d\d)")
    assert 55 <= on_pane <= 60

    desk = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with desk.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot,
            lambda: isinstance(desk.screen, CheckPrompt) and bool(desk.screen.query("#check-hint")),
            what="the prompt and its hint",  # the screen comes before its widgets are mounted
        )

        def on_desk() -> int:
            hint = str(desk.screen.query_one("#check-hint", Label).render())
            return seconds_in(hint, r"\((\d+) s\)")

        assert 55 <= on_desk() <= 60 and abs(on_desk() - on_pane) <= 3
        await in_thread(lambda: hub.advance(20))  # the hub's clock moves; the next beat says so
        await wait_until(pilot, lambda: 35 <= on_desk() <= 40, timeout=12, what="hub's time")
