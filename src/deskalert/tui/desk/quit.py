"""Quitting the desk with an own alert open: asked once, not refused (no Textual).

ctrl+q closes the screen at once in Textual. With the agent's own alert still open that is a
surprise: the alert stays open on the hub (or queued in the journal, for the next deskalert
to send), but nothing on this screen will show who is coming. So the first ctrl+q says so and
a second one within `AGAIN_S` quits.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from deskalert.i18n import t
from deskalert.tui.desk.state import OwnAlert, Step

AGAIN_S = 5.0
KEY = "ctrl+q"  # Textual's quit key (App.BINDINGS)


class QuitGuard:
    """Whether a quit goes through, or the warning (a message id) to show first."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.asked_at = float("-inf")

    def warning(self, own: OwnAlert | None) -> str | None:
        """None: quit now. Else what stays running, in words; the next call within `AGAIN_S`
        returns None."""
        asked, self.asked_at = self.asked_at, self.clock()
        if own is None or own.step.is_final or self.asked_at - asked < AGAIN_S:
            return None
        return t("quit.own_queued" if own.step is Step.QUEUED else "quit.own_open", key=KEY)
