"""Global keys without a display: the combination logic, the config, the device errors, and
evdev through a virtual device (uinput) where the machine has one."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from deskalert.cli import main
from deskalert.client.hotkeys.combos import ComboTracker
from deskalert.i18n import t
from hotkeys_helpers import (
    desk_env,
    hotkeys_config,
    quietly_stopped,
    start_listener,
    stop_listener,
)
from support.hubs import RunningHub

# What is tested is the desk's keys and buttons, not the store: SQLite only.
# The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py.
pytestmark = pytest.mark.stores("sqlite")

CTRL, SHIFT, F2, ALT = "ctrl", "shift", "f2", "alt"
COMBOS = {"renfort": (frozenset([CTRL]), frozenset([SHIFT]), frozenset([F2]))}


def tracker(hold_s: float, fired: list[str]) -> ComboTracker:
    return ComboTracker(COMBOS, hold_s, fired.append, asyncio.get_running_loop().call_later)


async def test_a_combination_fires_once_however_long_it_autorepeats() -> None:
    fired: list[str] = []
    keys = tracker(0, fired)
    for key in (CTRL, SHIFT, F2, F2, F2, F2):
        keys.press(key)
    assert fired == ["renfort"]
    keys.release(F2)
    keys.press(F2)
    assert fired == ["renfort", "renfort"], "released and pressed again: a second press"


async def test_part_of_a_combination_fires_nothing() -> None:
    fired: list[str] = []
    keys = tracker(0, fired)
    for key in (CTRL, F2, ALT):
        keys.press(key)
    assert fired == []


async def test_hold_ms_a_short_press_sends_nothing_a_long_one_sends_once() -> None:
    fired: list[str] = []
    keys = tracker(0.15, fired)
    for key in (CTRL, SHIFT, F2):
        keys.press(key)
    await asyncio.sleep(0.05)
    keys.release(F2)
    await asyncio.sleep(0.2)
    assert fired == [], "let go before hold_ms"
    keys.press(F2)
    await asyncio.sleep(0.1)
    keys.press(F2)  # autorepeat while held
    await asyncio.sleep(0.15)
    assert fired == ["renfort"]
    await asyncio.sleep(0.2)
    assert fired == ["renfort"], "held on: still one"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="evdev is Linux's")
def test_device_combinations_take_pynput_names_evdev_names_and_numbers() -> None:
    from evdev import ecodes

    from deskalert.client.hotkeys.sources import evdev_part

    assert evdev_part("<ctrl>") == {ecodes.KEY_LEFTCTRL, ecodes.KEY_RIGHTCTRL}
    assert evdev_part("<alt_gr>") == {ecodes.KEY_RIGHTALT}
    assert evdev_part("<f2>") == {ecodes.KEY_F2}
    assert evdev_part("<page_up>") == {ecodes.KEY_PAGEUP}
    assert evdev_part("a") == {ecodes.KEY_A}
    assert evdev_part("KEY_F13") == evdev_part("183") == {183}
    assert evdev_part("BTN_0") == {ecodes.BTN_0}
    assert evdev_part("<nosuchkey>") == frozenset()


class FakeDevice:
    """What evdev.InputDevice gives the source: events, then an unplug."""

    path, name = "/dev/input/by-id/usb-Fake_Pedal-event-kbd", "fake pedal"

    def __init__(self, events: list[tuple[int, int]]) -> None:
        self.events, self.grabbed = events, [False]

    async def async_read_loop(self) -> Any:
        from evdev import InputEvent, ecodes

        for code, value in self.events:
            await asyncio.sleep(0.01)
            yield InputEvent(0, 0, ecodes.EV_KEY, code, value)
        raise OSError(19, "No such device")

    def grab(self) -> None:
        self.grabbed.append(True)

    def ungrab(self) -> None:
        self.grabbed.append(False)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="evdev is Linux's")
async def test_a_device_source_fires_per_press_grabs_and_says_when_unplugged() -> None:
    from deskalert.client.hotkeys.sources import EvdevSource, HotkeysFailed
    from deskalert.client.settings import Hotkeys

    pedal = FakeDevice([(183, 1), (183, 2), (183, 2), (183, 0), (183, 1), (183, 0)])
    hotkeys = Hotkeys.model_validate({"renfort": "KEY_F13", "device": pedal.path, "grab": True})
    source = EvdevSource.__new__(EvdevSource)  # the device is the fake, not opened
    source.combinations = {"renfort": EvdevSource._parse("renfort", "KEY_F13")}
    source.grab, source.device = hotkeys.grab, pedal
    fired: list[str] = []
    with pytest.raises(HotkeysFailed, match="Fake_Pedal"):
        await source.run(
            ComboTracker(
                source.combinations, 0, fired.append, asyncio.get_running_loop().call_later
            )
        )
    assert fired == ["renfort", "renfort"], "two presses, autorepeat ignored"
    assert pedal.grabbed == [False, True, False], "grabbed while read, let go after"


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deskalert", "hotkeys", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_no_hotkeys_section_is_a_one_line_error(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[hub]\nurl = "http://127.0.0.1:9"\n[desk]\nid = "g1"\n', encoding="utf-8")
    line = one_line_error(run_cli(desk_env(dict(os.environ), config, tmp_path)))
    assert "[hotkeys]" in line


def test_a_bad_combination_names_the_code(tmp_path: Path) -> None:
    config = hotkeys_config(tmp_path / "config.toml", "http://127.0.0.1:9", 'renfort = "<ctrl>++"')
    line = one_line_error(run_cli(desk_env(dict(os.environ), config, tmp_path)))
    assert "hotkeys" in line and "<ctrl>++" in line


def test_no_display_and_no_device_says_what_to_do(tmp_path: Path) -> None:
    config = hotkeys_config(tmp_path / "config.toml", "http://127.0.0.1:9", 'renfort = "<f2>"')
    env = {
        k: v
        for k, v in desk_env(dict(os.environ), config, tmp_path).items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY")
    }
    if not sys.platform.startswith("linux"):
        pytest.skip("pynput reads the keys without $DISPLAY outside Linux")
    line = one_line_error(run_cli(env, "--config", str(config)))
    assert "device" in line and "deskalert send" in line


def test_a_wayland_session_without_a_device_says_to_name_one(tmp_path: Path) -> None:
    """XWayland's $DISPLAY would let pynput see keys only while an X11 window has the focus."""
    if not sys.platform.startswith("linux"):
        pytest.skip("Wayland is Linux's")
    config = hotkeys_config(tmp_path / "config.toml", "http://127.0.0.1:9", 'renfort = "<f2>"')
    env = {
        **desk_env(dict(os.environ), config, tmp_path),
        "DISPLAY": ":0",
        "WAYLAND_DISPLAY": "wayland-0",
    }
    line = one_line_error(run_cli(env))
    assert "Wayland" in line and "device" in line


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="elsewhere pynput needs no $DISPLAY"
)
async def test_the_desk_says_when_its_global_keys_cannot_work(
    hub: RunningHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskalert.client.settings import ClientConfig
    from deskalert.journal.store import Journal
    from deskalert.tui.desk.app import DeskApp

    monkeypatch.delenv("DISPLAY", raising=False)
    config = ClientConfig.model_validate(
        {
            "hub": {"url": hub.url},
            "desk": {"id": "g1"},
            "hotkeys": {"renfort": "<ctrl>+<shift>+<f2>"},
        }
    )
    app = DeskApp(config, "tok-g1", Journal(tmp_path / "journal.sqlite3"))
    async with app.run_test(notifications=True) as pilot:
        await pilot.pause(0.3)
        toasts = " ".join(str(toast.render()) for toast in app.screen.query("Toast"))
        assert "Touches globales inactives" in toasts and "[hotkeys] device" in toasts
        assert not any(w.name == "hotkeys" for w in app.workers)


def test_a_missing_device_is_a_one_line_error(tmp_path: Path) -> None:
    device = tmp_path / "usb-Panic_Button-event-kbd"
    config = hotkeys_config(
        tmp_path / "config.toml", "http://127.0.0.1:9", f'renfort = "KEY_F13"\ndevice = "{device}"'
    )
    line = one_line_error(run_cli(desk_env(dict(os.environ), config, tmp_path)))
    assert str(device) in line and "introuvable" in line


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="evdev devices are Linux's")
def test_an_unreadable_device_names_the_input_group_and_the_udev_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real input device node (char 13:64, like /dev/input/event0), mode 0660 root:root,
    opened by a user outside its group: what a desk agent's session gets. In-process, with the
    effective user switched to nobody (the interpreter may live where nobody cannot reach)."""
    if os.geteuid() != 0:
        pytest.skip("making a device node and switching to another user needs root")
    base = Path(os.environ.get("TMPDIR", "/tmp")) / f"deskalert-hk-{os.getpid()}"
    base.mkdir(mode=0o755)
    try:
        device = base / "event-kbd"
        try:
            os.mknod(device, 0o660 | stat.S_IFCHR, os.makedev(13, 64))
        except PermissionError:
            pytest.skip("this container may not make device nodes (mknod refused)")
        config = hotkeys_config(
            base / "config.toml", "http://127.0.0.1:9", f'renfort = "KEY_F13"\ndevice = "{device}"'
        )
        config.chmod(0o644)
        monkeypatch.setenv("DESKALERT_TOKEN", "tok-g1")
        # Once as root first (the device is readable then), so that every module and catalogue
        # is loaded: nobody may not reach this interpreter's files.
        warm = hotkeys_config(
            base / "warm.toml",
            "http://127.0.0.1:9",
            f'renfort = "KEY_F13"\ndevice = "{base}/absent"',
        )
        assert main(["hotkeys", "--config", str(warm)]) == 2
        t("hotkeys.device_denied", path="", user="")
        capsys.readouterr()
        os.setegid(65534)
        os.seteuid(65534)
        try:
            code = main(["hotkeys", "--config", str(config)])
        finally:
            os.seteuid(0)
            os.setegid(0)
        captured = capsys.readouterr()
        line = one_line_error(subprocess.CompletedProcess([], code, captured.out, captured.err))
        assert str(device) in line and "groupe input" in line and "udev" in line
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=False)


def uinput_unavailable() -> str | None:
    if not sys.platform.startswith("linux"):
        return "uinput is Linux's"
    if not os.path.exists("/dev/uinput"):
        return (
            "no /dev/uinput on this machine (a container without it: modprobe uinput on the host)"
        )
    if not os.access("/dev/uinput", os.W_OK):
        return "/dev/uinput is not writable by this user"
    return None


@pytest.mark.skipif(uinput_unavailable() is not None, reason=str(uinput_unavailable()))
def test_a_usb_button_through_evdev_raises_once(hub: RunningHub, tmp_path: Path) -> None:
    """A virtual USB button (uinput) sending KEY_F13, as foot pedals and panic buttons do."""
    from evdev import UInput, ecodes

    with UInput({ecodes.EV_KEY: [ecodes.KEY_F13]}, name="deskalert-test-button") as button:
        time.sleep(0.5)  # udev makes the node
        config = hotkeys_config(
            tmp_path / "config.toml",
            hub.url,
            f'renfort = "KEY_F13"\ndevice = "{button.device.path}"',
        )
        env = desk_env(dict(os.environ), config, tmp_path)
        listener = start_listener(env, tmp_path)
        try:
            for _ in range(2):
                button.write(ecodes.EV_KEY, ecodes.KEY_F13, 1)
                button.syn()
                button.write(ecodes.EV_KEY, ecodes.KEY_F13, 0)
                button.syn()
                time.sleep(1.0)
        finally:
            code, out, err = stop_listener(listener)
    with hub.client("s.a") as client:
        alerts = client.get("/v1/alerts", params={"state": "all"}).json()
    assert [a["code"] for a in alerts] == ["renfort"], "the second press is the same alert"
    assert quietly_stopped((code, out, err))


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="elsewhere pynput needs no $DISPLAY"
)
async def test_the_desk_warns_of_a_global_key_for_a_code_the_hub_does_not_know(
    hub: RunningHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskalert.client.settings import ClientConfig
    from deskalert.journal.store import Journal
    from deskalert.tui.desk.app import DeskApp

    monkeypatch.delenv("DISPLAY", raising=False)  # the listener itself is not the point here
    config = ClientConfig.model_validate(
        {
            "hub": {"url": hub.url},
            "desk": {"id": "g1"},
            "hotkeys": {"renfrot": "<ctrl>+<shift>+<f2>"},
        }
    )
    app = DeskApp(config, "tok-g1", Journal(tmp_path / "journal.sqlite3"))
    async with app.run_test(notifications=True) as pilot:
        for _ in range(100):
            toasts = " ".join(str(toast.render()) for toast in app.screen.query("Toast"))
            if "renfrot" in toasts:
                break
            await pilot.pause(0.05)
        assert "[hotkeys] : renfrot n'est pas un code du répertoire" in toasts
