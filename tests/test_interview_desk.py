"""The desk's interview key, form and "Tout va bien ?" prompt, with Pilot against a real hub."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Label

from desk_helpers import in_thread, text_of, wait_until
from deskalert.client.settings import ClientConfig
from deskalert.hub.clock import ManualClock
from deskalert.journal.store import Journal
from deskalert.tui.desk.app import DeskApp
from deskalert.tui.desk.screens import GRACE_S, CheckPrompt, SessionForm
from support.hubs import RunningHub

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")

SIZE = (100, 40)


def desk(hub: RunningHub, tmp_path: Path, duress_key: str | None = "o") -> DeskApp:
    config = ClientConfig.model_validate(
        {"hub": {"url": hub.url}, "desk": {"id": "g1", "duress_key": duress_key}}
    )
    return DeskApp(config, "tok-g1", Journal(tmp_path / "journal.sqlite3"))


def hub_get(hub: RunningHub, path: str, **params: str) -> list[dict[str, Any]]:
    with hub.client("s.a") as sup:
        return list(sup.get(path, params=params).json())


def alerts_of(hub: RunningHub, code: str) -> list[dict[str, Any]]:
    return [a for a in hub_get(hub, "/v1/alerts", state="all") if a["code"] == code]


def prompt_text(app: DeskApp) -> str:
    screen = app.screen
    assert isinstance(screen, CheckPrompt)
    return " ".join(str(label.render()) for label in screen.query(Label))


async def start_by_key(app: DeskApp, pilot: Any, minutes: str, room: str = "Box A") -> None:
    await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
    await pilot.press("i")
    await wait_until(pilot, lambda: isinstance(app.screen, SessionForm), what="form")
    await pilot.press(*room)
    await pilot.press("tab", "ctrl+a", *minutes, "enter")
    await wait_until(
        pilot, lambda: "Entretien Box A" in text_of(app, "#session"), what="session line"
    )


async def test_key_starts_a_session_and_enter_answers_oui_which_closes_it(
    hub_factory: Callable[..., RunningHub], tmp_path: Path
) -> None:
    hub = hub_factory(check_answer_s=20)
    app = desk(hub, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await start_by_key(app, pilot, "0.03")
        [session] = await in_thread(lambda: hub_get(hub, "/v1/sessions"))
        assert session["room"] == "Box A" and session["desk"] == "g1"
        await wait_until(pilot, lambda: isinstance(app.screen, CheckPrompt), what="prompt")
        assert "Tout va bien ?" in prompt_text(app) and "Entrée = oui" in prompt_text(app)
        await pilot.press("enter")  # an Enter typed as it appears was meant for something else
        assert "Merci" not in prompt_text(app)
        await pilot.pause(GRACE_S)
        await pilot.press("enter")
        assert "Merci" in prompt_text(app)
        await wait_until(pilot, lambda: text_of(app, "#session") == "", what="session closed")
        await wait_until(pilot, lambda: not isinstance(app.screen, CheckPrompt), what="closed")
    assert await in_thread(lambda: hub_get(hub, "/v1/sessions")) == []
    assert await in_thread(lambda: hub_get(hub, "/v1/alerts", state="all")) == []


async def test_duress_key_shows_the_same_merci_and_raises_a_discreet_alert(
    hub_factory: Callable[..., RunningHub], tmp_path: Path
) -> None:
    hub = hub_factory(check_answer_s=20)
    app = desk(hub, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await start_by_key(app, pilot, "0.02")
        await wait_until(pilot, lambda: isinstance(app.screen, CheckPrompt), what="prompt")
        await pilot.pause(GRACE_S)
        await pilot.press("o")
        assert prompt_text(app).strip() == "Merci"
        alerts = await in_thread(lambda: alerts_of(hub, "renfort"))
        deadline = time.monotonic() + 5
        while not alerts and time.monotonic() < deadline:
            await pilot.pause(0.1)
            alerts = await in_thread(lambda: alerts_of(hub, "renfort"))
        [alert] = alerts
        assert alert["discreet"] and alert["desk"] == "g1"
        assert not app.query_one("#status").display, "nothing on the desk says alert"


async def stored_alerts(pilot: Any, hub: RunningHub, code: str) -> list[dict[str, Any]]:
    """The hub's alerts of `code`, waiting up to 5 s for the first one."""
    deadline = time.monotonic() + 5
    alerts = await in_thread(lambda: alerts_of(hub, code))
    while not alerts and time.monotonic() < deadline:
        await pilot.pause(0.1)
        alerts = await in_thread(lambda: alerts_of(hub, code))
    return alerts


async def test_supervisor_check_answered_venez_and_unanswered(
    hub_factory: Callable[..., RunningHub], tmp_path: Path
) -> None:
    hub = hub_factory(check_answer_s=2)
    app = desk(hub, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        with hub.client("s.a") as sup:
            await in_thread(lambda: sup.post("/v1/checks", json={"desk": "g1"}).raise_for_status())
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, CheckPrompt) and "v = venez" in prompt_text(app),
            what="prompt drawn",
        )
        await pilot.pause(GRACE_S)
        await pilot.press("v")
        assert "Merci" in prompt_text(app)
        await wait_until(pilot, lambda: not isinstance(app.screen, CheckPrompt), what="closed")
        [alert] = await stored_alerts(pilot, hub, "renfort")  # the answer's POST may still run
        assert "venez" in alert["message"]

        with hub.client("s.a") as sup:  # asked again, not answered: the prompt goes, alert comes
            await in_thread(lambda: sup.post("/v1/checks", json={"desk": "g1"}).raise_for_status())
        await wait_until(pilot, lambda: isinstance(app.screen, CheckPrompt), what="prompt")
        await wait_until(
            pilot,
            lambda: not isinstance(app.screen, CheckPrompt),
            timeout=8,
            what="prompt withdrawn by the hub",
        )
        [alert] = await stored_alerts(pilot, hub, "sans-reponse")
        assert alert["desk"] == "g1" and "pas répondu" in alert["message"]


async def test_desk_quit_mid_session_the_hub_still_raises_the_alert_once(
    hub_factory: Callable[..., RunningHub], tmp_path: Path
) -> None:
    hub = hub_factory(clock=ManualClock(), check_answer_s=0.5)
    app = desk(hub, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await start_by_key(app, pilot, "0.02")
    # the desk is gone; the hub's time passes by hand (ManualClock, no ticker)
    hub.advance(0.02 * 60)  # the session ends: the check is asked
    hub.advance(0.5)  # nobody answers it
    for _ in range(3):  # a few more ticks: still one alert
        hub.advance(0.3)
    [alert] = alerts_of(hub, "sans-reponse")
    assert "Box A" in alert["message"]
