"""What the agent alone notices when a global key was pressed: all best effort, never fatal.

- stored by the hub: the keyboard's Scroll Lock LED blinks once (X11, through python-xlib);
  a non-discreet code also gets a desktop notification (`notify-send`);
- not stored within 2 s: the terminal bell, and the desk's terminal window brought to the front
  (`xdotool windowactivate $WINDOWID`), where the desk app shows its warning and whom to call.

A missing tool is logged once and skipped: the desk app's corner is the feedback that always is.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil

from deskalert.i18n import t
from deskalert.models import Alert

log = logging.getLogger("deskalert.hotkeys")

SCROLL_LOCK_LED = 3
SCROLL_LOCK_BIT = 1 << (SCROLL_LOCK_LED - 1)
BLINK_S = 0.4
_missing_logged: set[str] = set()


def _tool(name: str, needs_display: bool = True) -> str | None:
    path = shutil.which(name)
    if path is None:
        _log_missing(name, f"{name} is not installed")
    elif needs_display and not os.environ.get("DISPLAY"):
        _log_missing(name, f"{name} needs an X display")
    else:
        return path
    return None


async def _run(*argv: str) -> None:
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL)
        await asyncio.wait_for(process.wait(), 5)
    except (OSError, TimeoutError) as exc:
        log.info("feedback: %s failed: %s", argv[0], exc)


async def blink_led() -> None:
    """The Scroll Lock LED on, then as it was: only someone looking at the keyboard sees it."""
    if not os.environ.get("DISPLAY"):
        _log_missing("led", "no X display: the Scroll Lock LED is not used")
        return
    try:
        was_on = await asyncio.to_thread(_set_led, True)
        await asyncio.sleep(BLINK_S)
        await asyncio.to_thread(_set_led, was_on)
    except Exception as exc:  # noqa: BLE001 - best effort: python-xlib raises many kinds
        _log_missing("led", f"the Scroll Lock LED could not be set: {exc!r}")


def _set_led(on: bool) -> bool:
    """Set the core protocol's LED 3 (Scroll Lock, as `xset led 3`); returns whether it was on."""
    from Xlib import X, display  # python-xlib: pynput's X11 backend, pinned with it

    screen = display.Display()
    try:
        was_on = bool(screen.get_keyboard_control().led_mask & SCROLL_LOCK_BIT)
        screen.change_keyboard_control(led=SCROLL_LOCK_LED,
                                       led_mode=X.LedModeOn if on else X.LedModeOff)
        screen.sync()
        return was_on
    finally:
        screen.close()


def _log_missing(what: str, message: str) -> None:
    if what not in _missing_logged:
        _missing_logged.add(what)
        log.info("feedback: %s, skipped", message)


async def desktop_notification(summary: str, body: str = "", *, critical: bool = False) -> None:
    if (notify_send := _tool("notify-send", needs_display=False)) is None:
        return
    await _run(
        notify_send,
        "--app-name=deskalert",
        f"--urgency={'critical' if critical else 'normal'}",
        summary,
        body,
    )


async def stored(alert: Alert) -> None:
    """The hub has it: the LED, and for a code that is not discreet a notification."""
    await blink_led()
    if not alert.discreet:
        await desktop_notification(t("hotkeys.stored", label=alert.code_label))


async def bring_terminal_forward() -> None:
    """The window of the terminal the desk app runs in, to the front (X11 terminals set
    $WINDOWID); best effort: window managers may refuse to steal the focus."""
    window = os.environ.get("WINDOWID", "")
    if not window.isdigit():
        log.info("feedback: no $WINDOWID, the desk's terminal cannot be brought forward")
        return
    if (xdotool := _tool("xdotool")) is not None:
        await _run(xdotool, "windowactivate", window)
