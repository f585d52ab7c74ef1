"""Where the keys come from: the display (X11, Windows, macOS) through pynput, or one input
device through evdev (Linux without X: Wayland, a console; a USB panic button, a foot pedal).

Each source parses the `[hotkeys]` combinations into its own keys, then feeds a `ComboTracker`
until cancelled. Opening the device happens in the constructor, so that a device that cannot be
read is a one-line `ConfigError` before anything else runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import os
import sys
import threading
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Protocol

from deskalert.client.hotkeys.combos import Combination, ComboTracker
from deskalert.client.settings import Hotkeys, combo_parts
from deskalert.errors import ConfigError, DeskAlertError
from deskalert.i18n import t

ALIVE_CHECK_S = 1.0
READY_POLL_S = 0.05
STOP_WAIT_S = 0.5
log = logging.getLogger("deskalert.hotkeys")
# pynput's names for the keys that come in a left and a right version.
EVDEV_SIDES = {
    "ctrl": ("LEFTCTRL", "RIGHTCTRL"),
    "shift": ("LEFTSHIFT", "RIGHTSHIFT"),
    "alt": ("LEFTALT", "RIGHTALT"),
    "cmd": ("LEFTMETA", "RIGHTMETA"),
}
EVDEV_NAMES = {
    "ctrl_l": "LEFTCTRL",
    "ctrl_r": "RIGHTCTRL",
    "shift_l": "LEFTSHIFT",
    "shift_r": "RIGHTSHIFT",
    "alt_l": "LEFTALT",
    "alt_r": "RIGHTALT",
    "alt_gr": "RIGHTALT",
    "cmd_l": "LEFTMETA",
    "cmd_r": "RIGHTMETA",
    "page_up": "PAGEUP",
    "page_down": "PAGEDOWN",
    "caps_lock": "CAPSLOCK",
    "num_lock": "NUMLOCK",
    "scroll_lock": "SCROLLLOCK",
    "print_screen": "SYSRQ",
}


class HotkeysFailed(DeskAlertError):
    """The key source stopped (the display went away, the device was unplugged)."""


class Source(Protocol):
    combinations: dict[str, Combination]

    async def run(self, tracker: ComboTracker) -> None: ...


def display_available(hotkeys: Hotkeys) -> bool:
    """Whether keys can be read here: a device is named, or an X11 display to read them on.

    Not under Wayland, even with XWayland's $DISPLAY: pynput would then see the keys only while
    an X11 application has the focus, a global key that works now and then."""
    if hotkeys.device is not None or not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY")) and not os.environ.get("WAYLAND_DISPLAY")


def open_source(hotkeys: Hotkeys) -> Source:
    if hotkeys.device is not None:
        return EvdevSource(hotkeys)
    if not display_available(hotkeys):
        raise ConfigError(
            t("hotkeys.wayland") if os.environ.get("WAYLAND_DISPLAY") else t("hotkeys.no_display")
        )
    return PynputSource(hotkeys)


class PynputSource:
    """The whole desktop's keys through pynput (X11 RECORD, Windows and macOS hooks)."""

    def __init__(self, hotkeys: Hotkeys) -> None:
        try:
            from pynput import keyboard
        except ImportError as exc:  # pynput picks its backend at import: no usable display
            raise ConfigError(
                t("hotkeys.no_backend", reason=" ".join(str(exc).split())[:200])
            ) from None
        self._keyboard = keyboard
        self.combinations = {
            code: self._parse(code, keys) for code, keys in hotkeys.combinations.items()
        }

    def _parse(self, code: str, keys: str) -> Combination:
        try:
            return tuple(frozenset([key]) for key in self._keyboard.HotKey.parse(keys))
        except ValueError:
            raise ConfigError(t("hotkeys.bad_combination", code=code, keys=keys)) from None

    async def run(self, tracker: ComboTracker) -> None:
        loop = asyncio.get_running_loop()
        listener: Any = None

        def seen(handler: Any) -> Any:
            def on_key(key: Any) -> None:
                if key is not None:
                    loop.call_soon_threadsafe(handler, listener.canonical(key))

            return on_key

        listener = self._keyboard.Listener(
            on_press=seen(tracker.press), on_release=seen(tracker.release)
        )
        listener.start()
        ready = asyncio.Event()
        # a daemon thread, not to_thread: a listener that dies before it is ready never ends
        # wait(), and the event loop's executor would hang the process's exit on it
        threading.Thread(
            target=lambda: (listener.wait(), loop.call_soon_threadsafe(ready.set)), daemon=True
        ).start()
        announced = False
        try:
            while listener.is_alive():
                if ready.is_set() and not announced:
                    log.info("keys read from the display %s", os.environ.get("DISPLAY", ""))
                    announced = True
                await asyncio.sleep(ALIVE_CHECK_S if announced else READY_POLL_S)
            raise HotkeysFailed(t("hotkeys.stopped"))
        finally:
            _stop(listener)


def _stop(listener: Any) -> None:
    """Stop a pynput listener and wait for its thread, its X connections closed.

    On X11, pynput 1.8's stop() leaves the RECORD context enabled, and the thread ends only at
    the next key event (moses-palmer/pynput pull request 583, not merged): the context is
    disabled here through the listener's own stop connection, as that fix does. pynput is
    pinned, so these attributes are known; elsewhere they do not exist and nothing is tried.
    """
    listener.stop()
    listener.join(0.05)
    display, context = getattr(listener, "_display_stop", None), getattr(listener, "_context", None)
    if listener.is_alive() and display is not None and context is not None:
        with contextlib.suppress(Exception):
            display.record_disable_context(context)
            display.flush()
        listener.join(STOP_WAIT_S)


class EvdevSource:
    """One input device (/dev/input/by-id/...) through evdev: no display needed."""

    def __init__(self, hotkeys: Hotkeys) -> None:
        assert hotkeys.device is not None
        self.combinations = {
            code: self._parse(code, keys) for code, keys in hotkeys.combinations.items()
        }
        self.grab = hotkeys.grab
        self.device = open_device(hotkeys.device)

    @staticmethod
    def _parse(code: str, keys: str) -> Combination:
        parts = [evdev_part(part) for part in combo_parts(keys)]
        if not all(parts):
            raise ConfigError(t("hotkeys.bad_combination", code=code, keys=keys))
        return tuple(parts)

    async def run(self, tracker: ComboTracker) -> None:
        import evdev

        if self.grab:
            self.device.grab()
        log.info("keys read from %s (%s)", self.device.path, self.device.name)
        try:
            async for event in self.device.async_read_loop():
                if event.type == evdev.ecodes.EV_KEY and event.value in (0, 1):
                    (tracker.press if event.value == 1 else tracker.release)(event.code)
        except OSError as exc:  # unplugged
            tracker.reset()
            raise HotkeysFailed(
                t("hotkeys.device_lost", path=self.device.path, reason=exc)
            ) from None
        finally:
            if self.grab:
                with contextlib.suppress(OSError):
                    self.device.ungrab()


def evdev_part(part: str) -> frozenset[Hashable]:
    """The evdev key numbers one part of a combination stands for (empty if none): "183",
    "KEY_F13", "BTN_0", or pynput's names ("<ctrl>" is the left or the right Ctrl)."""
    from evdev import ecodes

    if part.isdigit():
        return frozenset([int(part)])
    name = part.strip("<>").lower()
    if part.startswith(("KEY_", "BTN_")):
        names: tuple[str, ...] = (part,)
    elif name in EVDEV_SIDES:
        names = tuple(f"KEY_{side}" for side in EVDEV_SIDES[name])
    else:
        names = (f"KEY_{EVDEV_NAMES.get(name, name.upper().replace('_', ''))}",)
    return frozenset(number for n in names if isinstance(number := ecodes.ecodes.get(n), int))


def open_device(path: Path) -> Any:
    """The evdev device at `path`, or a one-line ConfigError saying why it cannot be read."""
    import evdev

    try:
        return evdev.InputDevice(str(path))
    except PermissionError:
        raise ConfigError(t("hotkeys.device_denied", path=path, user=_user())) from None
    except FileNotFoundError:
        raise ConfigError(t("hotkeys.device_missing", path=path)) from None
    except OSError as exc:
        raise ConfigError(
            t("hotkeys.device_unreadable", path=path, reason=exc.strerror or exc)
        ) from None


def _user() -> str:
    """Who runs this: on POSIX the effective user, not $USER (what the device's permissions
    see); elsewhere (Windows) the logged-in user as getpass finds it."""
    if sys.platform != "win32":
        try:
            import pwd

            return pwd.getpwuid(os.geteuid()).pw_name
        except (ImportError, KeyError):
            pass
    try:
        return getpass.getuser()
    except (ImportError, OSError):  # no name in the environment, and no pwd to ask
        return "?"
