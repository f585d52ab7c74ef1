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


MORE_CODES = "".join(
    f'\n[[codes]]\ncode = "{code}"\nlabel = "{label}"\nkey = "{key}"\ndiscreet = true\n'
    for code, label, key in (
        ("plusieurs", "Venez à plusieurs", "f3"),
        ("appui", "Appui technique", "f5"),
        ("suicide", "Intention suicidaire", "f6"),
        ("silence", "Sans réponse", "f7"),
    )
)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", ["session", "supervisor", "with a colleague's alert"])
async def test_at_60_by_16_the_prompt_and_every_code_key_are_in_view(
    tmp_path: Path, hub_database: Callable[[], str | None], language: str, kind: str
) -> None:
    """Why: at 60 x 16 the prompt sat over the right half of the code keys for up to 60 s
    (they still worked, but the agent facing an agitated person could not read them). It must
    be seen, and leave the top bar, the on-call line, every code key and the footer in view.
    Six codes, as the demonstration roster has; a session's check, a supervisor's, and one
    while a colleague's alert fills the middle of the screen (it gives way, not the keys)."""
    import tomllib

    from desk_helpers import screen_text
    from deskalert.hub.settings import HubConfig
    from support.hubs import start_threaded_hub
    from support.requests import new_alert
    from support.roster import roster_toml

    config = HubConfig.model_validate(tomllib.loads(roster_toml() + MORE_CODES))
    config.hub.database = hub_database()
    hub = start_threaded_hub(config, tmp_path / "hub")
    client = ClientConfig.model_validate(
        {"language": language, "hub": {"url": hub.url}, "desk": {"id": "g1"}}
    )
    app = DeskApp(client, "tok-g1", Journal(tmp_path / "journal.sqlite3"))
    try:
        async with app.run_test(size=(60, 16)) as pilot:
            await wait_until(pilot, lambda: app.state.codes_known, what="the codes")
            if kind == "with a colleague's alert":
                with hub.client("g2") as g2:
                    alert = new_alert("malaise", message="Usager tombé au sol")
                    await in_thread(lambda: g2.post("/v1/alerts", json=alert).raise_for_status())
                await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="it")
            who, path, body = (
                ("g1", "/v1/sessions", {"room": "Box A", "minutes": 0.01})
                if kind == "session"
                else ("s.a", "/v1/checks", {"desk": "g1"})
            )
            with hub.client(who) as http:
                await in_thread(lambda: http.post(path, json=body).raise_for_status())
            await wait_until(pilot, lambda: isinstance(app.screen, CheckPrompt), what="prompt")
            await pilot.pause(0.3)
            shown = screen_text(app)
            question = "Tout va bien ?" if language == "fr" else "All well?"
            assert question in shown, shown
            lines = shown.splitlines()
            assert "Desk g1" in lines[0] and "☎ 01 00" in shown, shown  # top bar, on-call
            for code, keys in app.keys.codes(app.state.codes):
                key, _, ctrl = keys.partition(",")  # "f2,ctrl+r": "F2/ctrl+r Renfort"
                assert f"{key.upper()}/{ctrl} {code.label}" in shown, (code.label, shown)
            assert ("F8 J'arrive" if language == "fr" else "F8 I'm coming") in shown, shown
    finally:
        hub.stop()


async def test_a_prompt_closing_under_a_broadcast_leaves_the_broadcast_on_top(
    hub_factory: Callable[..., RunningHub], tmp_path: Path
) -> None:
    """Why: the prompt closed itself after its "Merci" with Textual's `dismiss`, which pops the
    top screen whichever it is: a supervisors' message that came meanwhile vanished unread."""
    from broadcast_helpers import send
    from deskalert.tui.desk.broadcast import BroadcastScreen
    from deskalert.tui.desk.screens import THANKS_S

    hub = hub_factory(check_answer_s=20)
    app = desk(hub, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        with hub.client("s.a") as sup:
            await in_thread(lambda: sup.post("/v1/checks", json={"desk": "g1"}).raise_for_status())
        await wait_until(pilot, lambda: isinstance(app.screen, CheckPrompt), what="prompt")
        await pilot.pause(GRACE_S)
        await pilot.press("enter")
        assert "Merci" in prompt_text(app)
        await in_thread(lambda: send(hub))
        await wait_until(pilot, lambda: isinstance(app.screen, BroadcastScreen), what="message")
        await pilot.pause(THANKS_S + 0.5)  # the prompt's own close came, under the message
        assert isinstance(app.screen, BroadcastScreen)
        await pilot.press("l")
        await wait_until(
            pilot,
            lambda: not isinstance(app.screen, BroadcastScreen | CheckPrompt),
            what="the message read, then the prompt gone too",
        )
