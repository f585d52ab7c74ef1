"""What the agent sees and hears after a global key, for real: a session D-Bus with a tiny
notification server on it (desktop-notifier speaks to it in-process), Xvfb for the keys and for
the always-on-top window, and the chain's last resort without a display."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dbus_helpers import missing_dbus, notification_server, session_bus, wait_received
from desk_helpers import free_port
from deskalert.client.hotkeys import feedback
from hotkeys_helpers import (
    XDisplay,
    desk_env,
    hotkeys_config,
    missing_tkinter,
    missing_x_tools,
    start_listener,
    stop_listener,
    x_display,
)
from support.hubs import start_threaded_hub
from support.roster import make_config

pytestmark = [pytest.mark.stores("sqlite")]
needs_x = pytest.mark.skipif(missing_x_tools() is not None, reason=str(missing_x_tools()))
no_notify_send = pytest.mark.skipif(
    shutil.which("notify-send") is not None,
    reason="notify-send is installed: it would be the fallback",
)
COMBO = 'malaise = "<ctrl>+<shift>+<f4>"'  # not discreet: "transmise" is notified too


@pytest.fixture(scope="module")
def xdisplay() -> Iterator[XDisplay]:
    if missing_x_tools():
        pytest.skip(str(missing_x_tools()))
    with x_display() as display:
        yield display


@needs_x
@pytest.mark.skipif(missing_dbus() is not None, reason=str(missing_dbus()))
def test_hub_down_the_agent_gets_not_transmitted_then_transmitted_over_dbus(
    xdisplay: XDisplay, tmp_path: Path
) -> None:
    """Issue 23: with the hub down and no notify-send, a press showed nothing at all."""
    port = free_port()
    config = hotkeys_config(tmp_path / "c.toml", f"http://127.0.0.1:{port}", COMBO)
    out = tmp_path / "notifications.jsonl"
    with session_bus(tmp_path) as address, notification_server(address, out):
        env = {**desk_env(xdisplay.env(), config, tmp_path), "DBUS_SESSION_BUS_ADDRESS": address}
        listener = start_listener(env, tmp_path)
        xdisplay.press("ctrl+shift+F4")
        [first] = wait_received(out, 1)
        assert first["summary"] == "deskalert : ALERTE NON TRANSMISE"
        assert first["urgency"] == 2 and first["app"] == "deskalert"
        hub = start_threaded_hub(make_config(), tmp_path / "hub", port)
        try:
            notes = wait_received(out, 2, timeout=15)
        finally:
            code, _, err = stop_listener(listener)
            hub.stop()
    assert [n["summary"] for n in notes] == [
        "deskalert : ALERTE NON TRANSMISE",
        "deskalert : alerte « Urgence médicale » transmise",
    ]
    assert notes[1]["urgency"] == 1
    assert code == 0 and err.count("\n") == 1, err
    assert err.startswith("deskalert hotkeys : retour par desktop-notifier"), err


@needs_x
@no_notify_send
@pytest.mark.skipif(missing_tkinter() is not None, reason=str(missing_tkinter()))
def test_no_dbus_no_notify_send_the_start_line_warns_and_a_window_says_not_transmitted(
    xdisplay: XDisplay, tmp_path: Path
) -> None:
    port = free_port()
    config = hotkeys_config(tmp_path / "c.toml", f"http://127.0.0.1:{port}", COMBO)
    env = {
        **desk_env(xdisplay.env(), config, tmp_path),
        "HOME": str(tmp_path),
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus",
    }
    listener = start_listener(env, tmp_path)
    try:
        xdisplay.press("ctrl+shift+F4")
        deadline, windows = time.monotonic() + 10, ""
        while "ALERTE NON TRANSMISE" not in windows and time.monotonic() < deadline:
            found = subprocess.run(
                ["xdotool", "search", "--name", "ALERTE NON TRANSMISE", "getwindowname", "%@"],
                env=xdisplay.env(),
                capture_output=True,
                text=True,
                timeout=10,
            )
            windows = found.stdout
            time.sleep(0.1)
        assert "deskalert : ALERTE NON TRANSMISE" in windows
    finally:
        code, _, err = stop_listener(listener)
    line, bell = err.split("\n")
    assert line.startswith("deskalert hotkeys : ATTENTION, aucune notification du bureau"), line
    assert "fenêtre au premier plan" in line and bell == "\a", "no sound player: the bell"
    assert code == 0


@no_notify_send
async def test_nothing_on_the_desktop_the_bell_and_a_line_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """No D-Bus, no display, no notify-send (a console session): the last resort."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no paplay, no aplay either
    chain = await feedback.Feedback.probe(last_resort=True)
    assert chain.channels == [] and chain.player is None
    assert chain.describe().startswith("deskalert hotkeys : ATTENTION")
    assert not await chain.notify(
        "deskalert : ALERTE NON TRANSMISE", "Ana Sup : 01 00", critical=True
    )
    await asyncio.sleep(0)
    assert capsys.readouterr().err == "\a\adeskalert : ALERTE NON TRANSMISE Ana Sup : 01 00\n"


@pytest.mark.skipif(missing_dbus() is not None, reason=str(missing_dbus()))
async def test_a_notification_stopped_as_the_server_answers_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why: on Python 3.11, `asyncio.wait_for` returns the result when its task is cancelled as
    the awaited call ends (CPython gh-86296). The broadcast listener, stopped while the server's
    answer came in, went on following the hub forever (the markup test hung, two suites at once).
    A notification cancelled after 0, 1, 2... turns of the loop, up to the one where it is done,
    ends cancelled every time; rounds again, as the answer's turn varies."""
    out = tmp_path / "notifications.jsonl"
    with session_bus(tmp_path) as address, notification_server(address, out):
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        chain = await feedback.Feedback.probe()
        assert chain.channels and chain.channels[0].name.startswith("desktop-notifier"), [
            channel.name for channel in chain.channels
        ]
        cancels = 0
        for _ in range(20):
            for turns in itertools.count():
                task = asyncio.create_task(chain.notify("deskalert : essai", "corps"))
                for _ in range(turns):
                    await asyncio.sleep(0)
                if not task.cancel():
                    break  # done before the cancel: this round went past the answer
                cancels += 1
                async with asyncio.timeout(10):
                    [outcome] = await asyncio.gather(task, return_exceptions=True)
                assert isinstance(outcome, asyncio.CancelledError), (
                    f"cancelled after {turns} turns, the notification went on: {outcome!r}"
                )
    assert cancels >= 20, cancels
