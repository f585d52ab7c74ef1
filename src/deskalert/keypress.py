"""When the key was pressed: the desk's clock (`created_at`) read against the hub's (`received_at`).

An alert that waited in a desk's outbox (link down, hub restarting) reaches the hub minutes after
the agent pressed the key; the person has been waiting since the key, not since the hub heard of
it, so elapsed times and time-to-answer figures count from the key press. The key press is read
from the desk's own clock, which may be wrong: a `created_at` after `received_at` (beyond a small
slack for clocks a second apart) is impossible, and one hours before it is more likely a clock set
wrong than an alert held that long. In both cases the desk's time is not used as the start: the
reception is, and `doubt` says why, so a screen can say so instead of showing a wrong duration.
No Textual and no network here: the pane, the history and the debrief figures share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from deskalert.models import Alert

CLOCK_SLACK = timedelta(seconds=2)  # desk and hub clocks this far apart still read as "at once"
CREDIBLE_WAIT = timedelta(minutes=15)  # longer in an outbox is more likely a desk clock set wrong

Doubt = Literal["ahead", "behind"]


@dataclass(frozen=True)
class KeyPress:
    """The start of an alert as far as the clocks can be trusted."""

    start: datetime  # what every duration counts from: the key press, else the reception
    pressed_at: datetime | None  # the desk's clock at the key press, as sent (None: not sent)
    waited: timedelta  # from the key press to the hub; zero when unknown or doubtful
    doubt: Doubt | None = None  # the desk's clock is ahead of the hub's, or far behind
    gap: timedelta = timedelta(0)  # how far off, when in doubt

    @property
    def delayed(self) -> bool:
        """The hub received it noticeably after the key press (it waited in the outbox)."""
        return self.waited > CLOCK_SLACK


def key_press(alert: Alert) -> KeyPress:
    """Read the alert's two clocks: the key press when credible, the reception otherwise."""
    pressed, received = alert.created_at, alert.received_at
    if pressed is None:
        return KeyPress(start=received, pressed_at=None, waited=timedelta(0))
    waited = received - pressed
    if waited < -CLOCK_SLACK:
        return KeyPress(
            start=received, pressed_at=pressed, waited=timedelta(0), doubt="ahead", gap=-waited
        )
    if waited > CREDIBLE_WAIT:
        return KeyPress(
            start=received, pressed_at=pressed, waited=timedelta(0), doubt="behind", gap=waited
        )
    if waited <= timedelta(0):
        return KeyPress(start=received, pressed_at=pressed, waited=timedelta(0))
    return KeyPress(start=pressed, pressed_at=pressed, waited=waited)


def span(value: timedelta) -> str:
    """A duration for people: '15 s', '2 min 05 s', '1 h 05 min' (whole seconds, floor)."""
    seconds = max(0, int(value.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
