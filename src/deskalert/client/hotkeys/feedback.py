"""What the agent alone notices when a global key was pressed: all best effort, never fatal.

- stored by the hub: the keyboard's Scroll Lock LED blinks once (X11, through python-xlib);
  a non-discreet code also gets a desktop notification;
- not stored within 2 s: a critical desktop notification with whom to call, and a sound; the
  desk app adds the terminal bell and brings its terminal window to the front
  (`xdotool windowactivate $WINDOWID`), where it shows its warning.

A desktop notification never hangs on one external command: `Feedback` is a chain probed once
at start, and each notification goes to the first channel that delivers it (every wait is bounded
by `asyncio.timeout`, never `asyncio.wait_for`: on Python 3.11 the latter can swallow a cancel
that lands as the server answers, CPython gh-86296, and a listener told to stop went on):

1. desktop-notifier: D-Bus spoken in-process on Linux (org.freedesktop.Notifications), the
   Windows and macOS notification centres elsewhere;
2. `notify-send` (libnotify), when installed;
3. a small always-on-top window (tkinter, in its own process), for the critical one only;
4. for `deskalert hotkeys` alone: the terminal bell and one line on stderr (the desk app has its
   corner instead, and must not write under its screen).

A freedesktop notification server that reads the body as markup (it lists "body-markup" in
its capabilities: a subset of HTML, <b>, <i>, <u>, <a>, <img>) gets the body escaped, so that a
text such as "Salle <B> & C" shows as typed; one that does not gets it as is; the summary is
never markup. desktop-notifier's D-Bus back-end passes both through unchanged.

The sound of a critical notification is a short WAV through `paplay` or `aplay` when one is
installed, the terminal bell otherwise. A missing tool is logged once and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from deskalert.client.hotkeys.sound import play_alarm, player
from deskalert.i18n import language, t
from deskalert.models import Alert

log = logging.getLogger("deskalert.hotkeys")

SCROLL_LOCK_LED = 3
SCROLL_LOCK_BIT = 1 << (SCROLL_LOCK_LED - 1)
BLINK_S = 0.4
PROBE_S = 2.0
SEND_S = 3.0
RUN_S = 5.0
_missing_logged: set[str] = set()


class Channel(Protocol):
    """One way of showing a notification; `notify` says whether it went out."""

    critical_only: bool

    @property
    def name(self) -> str: ...

    async def usable(self) -> bool: ...

    async def notify(self, summary: str, body: str, critical: bool) -> bool: ...


class DesktopNotifierChannel:
    """desktop-notifier: D-Bus on Linux, the notification centres on Windows and macOS."""

    name = "desktop-notifier"
    critical_only = False

    def __init__(self) -> None:
        self._notifier: Any = None
        self.body_markup = False  # the server reads the body as markup: escape it

    async def usable(self) -> bool:
        try:
            from desktop_notifier import DesktopNotifier
            from desktop_notifier.backends.dummy import DummyNotificationCenter

            notifier = DesktopNotifier(app_name="deskalert")
            if isinstance(notifier._backend, DummyNotificationCenter):
                _log_missing(self.name, "desktop-notifier has no back-end on this system")
                return False
            async with asyncio.timeout(PROBE_S):
                await notifier.get_capabilities()
        except TimeoutError:
            _log_missing(self.name, f"the notification service did not answer within {PROBE_S:g} s")
            return False
        except Exception as exc:  # noqa: BLE001 - no bus, no server, no back-end: many kinds
            _log_missing(self.name, f"no desktop notification service ({exc!r:.200})")
            return False
        self._notifier = notifier
        self.name = f"desktop-notifier ({type(notifier._backend).__name__})"
        self.body_markup = await _reads_markup(notifier._backend)
        return True

    async def notify(self, summary: str, body: str, critical: bool) -> bool:
        from desktop_notifier import Urgency

        dispatched = asyncio.Event()
        try:  # desktop-notifier logs a failure instead of raising: dispatched says it went
            async with asyncio.timeout(SEND_S):
                await self._notifier.send(
                    summary,
                    as_body(body, self.body_markup),
                    urgency=Urgency.Critical if critical else Urgency.Normal,
                    on_dispatched=dispatched.set,
                )
        except TimeoutError:
            log.info("feedback: the notification server did not answer within %g s", SEND_S)
        except Exception as exc:  # noqa: BLE001
            log.info("feedback: desktop-notifier failed: %r", exc)
        return dispatched.is_set()


async def _reads_markup(backend: object) -> bool:
    """Whether a D-Bus notification server says it reads the body as markup (other back-ends
    do not: Windows and macOS show text). desktop-notifier does not tell: its D-Bus proxy,
    connected by `get_capabilities`, is asked."""
    interface = getattr(backend, "interface", None)
    if interface is None or not hasattr(interface, "call_get_capabilities"):
        return False
    try:
        async with asyncio.timeout(PROBE_S):
            capabilities = await interface.call_get_capabilities()
    except Exception as exc:  # noqa: BLE001 - as in `usable`: a bus fails in many ways
        log.info("feedback: the notification server's capabilities unknown: %r", exc)
        return False
    return "body-markup" in capabilities


def as_body(text: str, markup: bool) -> str:
    """`text` as a notification body: escaped (&, <, >) for a server that reads markup."""
    return html.escape(text, quote=False) if markup else text


class NotifySendChannel:
    """libnotify's `notify-send`, when installed. It speaks to the same D-Bus server as
    desktop-notifier, which tells whether that server reads markup (`Feedback.probe`); alone
    (desktop-notifier unusable) it escapes the body, as the common servers (GNOME Shell, KDE
    Plasma, dunst, xfce4-notifyd, mako) read markup."""

    name = "notify-send"
    critical_only = False
    body_markup = True

    async def usable(self) -> bool:
        return _tool("notify-send", needs_display=False) is not None

    async def notify(self, summary: str, body: str, critical: bool) -> bool:
        urgency = "critical" if critical else "normal"
        return (
            await _run(
                "notify-send",
                "--app-name=deskalert",
                f"--urgency={urgency}",
                summary,
                as_body(body, self.body_markup),
            )
            == 0
        )


class WindowChannel:
    """A small always-on-top window (tkinter) in its own process: for the critical one only,
    as it takes a place on the screen a visitor may see."""

    critical_only = True

    @property
    def name(self) -> str:
        return t("feedback.window")

    async def usable(self) -> bool:
        if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
            _log_missing(self.name, "no X display for a window")
            return False
        try:
            import tkinter  # noqa: F401
        except ImportError:
            _log_missing(self.name, "tkinter is not installed")
            return False
        return True

    async def notify(self, summary: str, body: str, critical: bool) -> bool:
        argv = (sys.executable, "-m", "deskalert.client.hotkeys.window", summary, body)
        return await _start(*argv)


@dataclass
class Feedback:
    """The channels found usable at start, tried in order for each notification."""

    channels: Sequence[Channel]
    last_resort: bool = False  # the bell and a line on stderr (`deskalert hotkeys` alone)
    player: str | None = None  # paplay or aplay; None: the terminal bell, if last_resort
    _tasks: set[asyncio.Task[object]] = field(default_factory=set)

    @classmethod
    async def probe(cls, *, last_resort: bool = False) -> Feedback:
        notifier, notify_send = DesktopNotifierChannel(), NotifySendChannel()
        candidates: list[Channel] = [notifier, notify_send, WindowChannel()]
        usable = [channel for channel in candidates if await channel.usable()]
        if notifier in usable:  # the same server: what it said of markup
            notify_send.body_markup = notifier.body_markup
        return cls(usable, last_resort=last_resort, player=player())

    def describe(self) -> str:
        """The start line: which feedback this listener will use, or a warning."""
        chain = [c.name for c in self.channels] + [t("feedback.bell_stderr")]
        sound = (
            t("feedback.sound", player=Path(self.player).name)
            if self.player
            else t("feedback.bell")
        )
        if not any(not c.critical_only for c in self.channels):
            return t("feedback.none", chain=" → ".join(chain), sound=sound)
        return t("feedback.using", chain=" → ".join(chain), sound=sound)

    async def notify(self, summary: str, body: str = "", *, critical: bool = False) -> bool:
        """Show it through the first channel that delivers it; False when none did."""
        if critical and self.player:
            self._keep(asyncio.create_task(play_alarm(self.player)))
        elif critical and self.last_resort:
            sys.stderr.write("\a")
        for channel in self.channels:
            if channel.critical_only and not critical:
                continue
            if await channel.notify(summary, body, critical):
                log.info("feedback: %r shown through %s", summary, channel.name)
                return True
        if self.last_resort and critical:
            sys.stderr.write(f"\a{summary} {body}".rstrip() + "\n")
            sys.stderr.flush()
        log.warning("feedback: %r shown through no desktop channel", summary)
        return False

    def _keep(self, task: asyncio.Task[object]) -> None:
        self._tasks.add(task)  # a task is a weak reference for the loop
        task.add_done_callback(self._tasks.discard)


_default: dict[str, Feedback] = {}


async def default() -> Feedback:
    """The chain of this process, probed at first use (the desk app's; no last resort)."""
    if "chain" not in _default:
        _default["chain"] = await Feedback.probe()
    return _default["chain"]


def use(chain: Feedback) -> None:
    """Make `chain` the one `stored` and `not_stored` go through (`deskalert hotkeys`)."""
    _default["chain"] = chain


def _tool(name: str, needs_display: bool = True) -> str | None:
    path = shutil.which(name)
    if path is None:
        _log_missing(name, f"{name} is not installed")
    elif needs_display and not os.environ.get("DISPLAY"):
        _log_missing(name, f"{name} needs an X display")
    else:
        return path
    return None


async def _run(*argv: str) -> int | None:
    """Run a tool, at most `RUN_S` seconds; its exit code, or None when it could not run."""
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with asyncio.timeout(RUN_S):
            return await process.wait()
    except (OSError, TimeoutError) as exc:
        log.info("feedback: %s failed: %s", argv[0], exc or f"still running after {RUN_S:g} s")
        return None


async def _start(*argv: str) -> bool:
    """Start a process that stays (a window): True when it is still up after a moment."""
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError as exc:
        log.info("feedback: %s failed: %s", argv[0], exc)
        return False
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(0.5):
            await process.wait()
    return process.returncode is None or process.returncode == 0


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
        screen.change_keyboard_control(
            led=SCROLL_LOCK_LED, led_mode=X.LedModeOn if on else X.LedModeOff
        )
        screen.sync()
        return was_on
    finally:
        screen.close()


def _log_missing(what: str, message: str) -> None:
    if what not in _missing_logged:
        _missing_logged.add(what)
        log.info("feedback: %s, skipped", message)


async def desktop_notification(summary: str, body: str = "", *, critical: bool = False) -> bool:
    return await (await default()).notify(summary, body, critical=critical)


async def stored(alert: Alert) -> None:
    """The hub has it: the LED, and for a code that is not discreet a notification."""
    await blink_led()
    if not alert.discreet:
        await desktop_notification(t("hotkeys.stored", label=alert.code_words(language() == "en")))


async def bring_terminal_forward() -> None:
    """The window of the terminal the desk app runs in, to the front (X11 terminals set
    $WINDOWID); best effort: window managers may refuse to steal the focus."""
    window = os.environ.get("WINDOWID", "")
    if not window.isdigit():
        log.info("feedback: no $WINDOWID, the desk's terminal cannot be brought forward")
        return
    if (xdotool := _tool("xdotool")) is not None:
        await _run(xdotool, "windowactivate", window)


__all__ = [
    "Feedback",
    "blink_led",
    "bring_terminal_forward",
    "default",
    "desktop_notification",
    "stored",
    "use",
]
