"""Global keys for real: an X server (Xvfb), an xterm holding the focus (the root window when
xterm is not installed), keys sent with xdotool (XTEST), the alert stored on a real hub."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desk_helpers import free_port, in_thread, text_of, wait_until
from deskalert.client.settings import ClientConfig
from deskalert.journal.store import Journal
from deskalert.tui.desk.app import DeskApp
from hotkeys_helpers import (
    XDisplay,
    desk_env,
    hotkeys_config,
    missing_x_tools,
    quietly_stopped,
    start_listener,
    stop_listener,
    x_display,
)
from support.hubs import RunningHub, start_threaded_hub
from support.roster import make_config

# What is tested here is the desktop's keys, not the store: on SQLite only.
pytestmark = [
    pytest.mark.stores("sqlite"),
    pytest.mark.skipif(missing_x_tools() is not None, reason=str(missing_x_tools())),
]
COMBO = 'renfort = "<ctrl>+<shift>+<f2>"'
SIZE = (100, 32)


@pytest.fixture(scope="module")
def xdisplay() -> Iterator[XDisplay]:
    with x_display() as display:
        yield display


def stored(hub: RunningHub) -> list[dict[str, Any]]:
    with hub.client("s.a") as client:
        return client.get("/v1/alerts", params={"state": "all"}).json()  # type: ignore[no-any-return]


def wait_stored(hub: RunningHub, count: int, timeout: float = 10) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(alerts := stored(hub)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return alerts


def test_a_global_key_from_another_window_raises_once_and_prints_nothing(
    xdisplay: XDisplay, hub: RunningHub, tmp_path: Path
) -> None:
    env = desk_env(xdisplay.env(), hotkeys_config(tmp_path / "c.toml", hub.url, COMBO), tmp_path)
    listener = start_listener(env, tmp_path)
    xdisplay.press("ctrl+shift+F2")
    leds = xdisplay.led_masks(1.5)
    [alert] = wait_stored(hub, 1)
    assert alert["code"] == "renfort" and alert["desk"] == "g1"
    assert 4 in leds and leds[-1] == 0, "Scroll Lock (LED 3) blinked once the hub had it"
    time.sleep(1.0)  # the first press's work is over: the second is checked against the hub
    xdisplay.press("ctrl+shift+F2")
    time.sleep(1.5)
    assert [a["id"] for a in stored(hub)] == [alert["id"]], "a second press: the same alert"
    code, out, err = stop_listener(listener)
    assert quietly_stopped((code, out, err)), f"focus held by the {xdisplay.focus}"
    journal = Journal(tmp_path / "data" / "deskalert" / "journal.sqlite3")
    try:
        assert [str(i.alert.id) for i in journal.incidents()] == [alert["id"]]
    finally:
        journal.close()


def test_hub_down_the_press_is_journaled_first_and_stored_once_when_the_hub_is_back(
    xdisplay: XDisplay, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = desk_env(xdisplay.env(), hotkeys_config(tmp_path / "c.toml", url, COMBO), tmp_path)
    listener = start_listener(env, tmp_path)
    xdisplay.press("ctrl+shift+F2")
    journal = Journal(tmp_path / "data" / "deskalert" / "journal.sqlite3")
    try:
        deadline = time.monotonic() + 5
        while not (queued := journal.pending()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [e.code for e in queued] == ["renfort"], "in the journal before any answer"
        log = tmp_path / "data" / "deskalert" / "hotkeys.log"
        while "not stored within 2 s" not in log.read_text(encoding="utf-8"):
            assert time.monotonic() < deadline + 5, log.read_text(encoding="utf-8")
            time.sleep(0.05)
        hub = start_threaded_hub(make_config(), tmp_path / "hub", port)
        try:
            alerts = wait_stored(hub, 1)
            time.sleep(1.0)
            assert [a["id"] for a in stored(hub)] == [str(queued[0].id)], "once, same UUID"
        finally:
            assert quietly_stopped(stop_listener(listener))
            hub.stop()
        assert alerts and journal.pending() == []
    finally:
        journal.close()


def test_hold_ms_a_short_press_sends_nothing_a_long_one_sends_once(
    xdisplay: XDisplay, hub: RunningHub, tmp_path: Path
) -> None:
    config = hotkeys_config(tmp_path / "c.toml", hub.url, f"{COMBO}\nhold_ms = 600")
    listener = start_listener(desk_env(xdisplay.env(), config, tmp_path), tmp_path)
    xdisplay.press("ctrl+shift+F2", hold_s=0.15)
    time.sleep(1.2)
    assert stored(hub) == [], "released before hold_ms: nothing sent"
    xdisplay.press("ctrl+shift+F2", hold_s=1.5)  # autorepeats while held
    assert len(wait_stored(hub, 1)) == 1
    time.sleep(0.5)
    assert len(stored(hub)) == 1
    assert quietly_stopped(stop_listener(listener))


def test_ctrl_c_stops_the_listener_with_exit_0(
    xdisplay: XDisplay, hub: RunningHub, tmp_path: Path
) -> None:
    env = desk_env(xdisplay.env(), hotkeys_config(tmp_path / "c.toml", hub.url, COMBO), tmp_path)
    listener = start_listener(env, tmp_path)
    listener.send_signal(signal.SIGINT)
    assert listener.wait(15) == 0


def desk_with_hotkeys(url: str, journal: Path, hotkeys: dict[str, Any]) -> DeskApp:
    config = ClientConfig.model_validate(
        {"hub": {"url": url}, "desk": {"id": "g1"}, "hotkeys": hotkeys}
    )
    return DeskApp(config, "tok-g1", Journal(journal))


async def test_the_desk_app_listens_too_and_its_corner_follows_the_global_key(
    xdisplay: XDisplay, hub: RunningHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", xdisplay.name)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    app = desk_with_hotkeys(
        hub.url, tmp_path / "journal.sqlite3", {"renfort": "<ctrl>+<shift>+<f2>"}
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.pause(0.5)  # the listener's X connection
        await in_thread(lambda: xdisplay.press("ctrl+shift+F2"))
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="corner")
        await in_thread(lambda: xdisplay.press("ctrl+shift+F2"))
        await pilot.pause(0.5)
    assert len(await in_thread(lambda: stored(hub))) == 1


async def test_a_global_key_not_stored_within_2s_rings_and_shows_whom_to_call(
    xdisplay: XDisplay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", xdisplay.name)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("WINDOWID", raising=False)
    journal, port = tmp_path / "journal.sqlite3", free_port()
    first = start_threaded_hub(make_config(), tmp_path / "hub", port)
    app = desk_with_hotkeys(first.url, journal, {"renfort": "<ctrl>+<shift>+<f2>"})
    async with app.run_test(size=SIZE) as pilot:  # on-call card cached
        await wait_until(pilot, lambda: app.state.oncall is not None, what="on-call card")
    await in_thread(first.stop)
    app = desk_with_hotkeys(first.url, journal, {"renfort": "<ctrl>+<shift>+<f2>"})
    bells: list[float] = []
    monkeypatch.setattr(app, "bell", lambda: bells.append(time.monotonic()))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is False, what="link down")
        await pilot.pause(0.5)
        pressed = time.monotonic()
        await in_thread(lambda: xdisplay.press("ctrl+shift+F2"))
        await wait_until(pilot, lambda: bool(bells), timeout=5, what="bell")
        assert bells[0] - pressed < 3.0
        warning = text_of(app, "#warning")
        assert "ALERTE NON TRANSMISE" in warning and "Ana Sup : 01 00" in warning


def test_two_listeners_on_one_journal_raise_one_alert_per_press(
    xdisplay: XDisplay, hub: RunningHub, tmp_path: Path
) -> None:
    """Two listeners on one journal (an autostarted one and another, as with the desk app):
    the lock beside the journal keeps one listening, the other waiting."""
    env = desk_env(xdisplay.env(), hotkeys_config(tmp_path / "c.toml", hub.url, COMBO), tmp_path)
    first = start_listener(env, tmp_path)
    second = start_listener(env, tmp_path, ready="waiting for it to stop")
    xdisplay.press("ctrl+shift+F2")
    assert len(wait_stored(hub, 1)) == 1
    time.sleep(1.0)
    assert len(stored(hub)) == 1
    assert stop_listener(first)[0] == 0
    assert stop_listener(second)[0] == 0
    assert os.path.exists(tmp_path / "data" / "deskalert" / "hotkeys.lock")


async def test_the_desk_waits_for_an_autostarted_listener_and_takes_over_when_it_stops(
    xdisplay: XDisplay, hub: RunningHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk app and `deskalert hotkeys` on one journal: a press is one alert while both run,
    and the desk's own listener answers once the other has stopped."""
    monkeypatch.setenv("DISPLAY", xdisplay.name)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    env = desk_env(xdisplay.env(), hotkeys_config(tmp_path / "c.toml", hub.url, COMBO), tmp_path)
    autostarted = start_listener(env, tmp_path)
    journal = tmp_path / "data" / "deskalert" / "journal.sqlite3"
    app = desk_with_hotkeys(hub.url, journal, {"renfort": "<ctrl>+<shift>+<f2>"})
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await in_thread(lambda: xdisplay.press("ctrl+shift+F2"))
        await wait_until(
            pilot,
            lambda: "transmise" in text_of(app, "#corner"),
            what="the other listener's alert, seen through the hub",
        )
        await pilot.pause(1.0)
        [first] = await in_thread(lambda: stored(hub))
        with hub.client("s.a") as sup:
            await in_thread(
                lambda: sup.post(f"/v1/alerts/{first['id']}/resolve", json={}).raise_for_status()
            )
        await wait_until(pilot, lambda: "terminée" in text_of(app, "#corner"), what="resolved")
        assert (await in_thread(lambda: stop_listener(autostarted)))[0] == 0
        await pilot.pause(2.5)  # the desk's listener takes the lock (retried every 2 s)
        await in_thread(lambda: xdisplay.press("ctrl+shift+F2"))
        await wait_until(pilot, lambda: len(app.state.own) == 2, what="the desk's own alert")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="second")
    assert len(await in_thread(lambda: stored(hub))) == 2
