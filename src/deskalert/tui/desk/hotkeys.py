"""Global keys (`[hotkeys]`, client/hotkeys) on the desk, as one feature widget that shows nothing.

A long-lived worker listens to the desktop or a device; each combination is raised as the
F-key does (`raise_alert`, the app's: the corner and the 2 s warning follow it the same way).
Two seconds later, if the hub does not have it yet, the bell and the terminal brought forward,
to the warning with whom to call; once the hub has it, the device's feedback (`stored`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from textual import on
from textual.message import Message
from textual.widget import Widget

from deskalert.client.hotkeys import display_available, feedback, listen, lock_path
from deskalert.client.settings import Hotkeys
from deskalert.i18n import t
from deskalert.models import Alert
from deskalert.tui.base import Clock, HubApp, run_on_app
from deskalert.tui.desk.state import NOT_TRANSMITTED_AFTER, DeskState, Step


class GlobalKeys(Widget):
    """The `[hotkeys]` listener and its feedback (module docstring)."""

    DEFAULT_CSS = "GlobalKeys { display: none; }"

    @dataclass
    class Pressed(Message):
        """A `[hotkeys]` combination was pressed somewhere on the desktop."""

        code: str

    def __init__(
        self,
        hotkeys: Hotkeys | None,
        journal_path: Path,
        state: DeskState,
        raise_alert: Callable[[str], None],
        clock: Clock,
    ) -> None:
        super().__init__()
        self.hotkeys, self.journal_path = hotkeys, journal_path
        self.state, self.raise_alert, self.now = state, raise_alert, clock
        self.raised: set[UUID] = set()  # the alerts a global key raised

    def start(self) -> None:
        """Listen, if there is anything to listen to; say so when keys cannot be read here."""
        if self.hotkeys is None:
            return
        if display_available(self.hotkeys):
            app = self.app
            assert isinstance(app, HubApp)  # restarted with backoff, failures shown: the app's
            app.keep_running("hotkeys", self._listen, t("worker.hotkeys"))
        else:  # the agent must not count on a key that does nothing here
            self.notify(
                t("notify.hotkeys_unavailable"), severity="warning", timeout=15, markup=False
            )

    async def _listen(self) -> None:
        assert self.hotkeys is not None
        await listen(
            self.hotkeys,
            lambda code: self.post_message(self.Pressed(code)),
            lock=lock_path(self.journal_path),
        )

    @on(Pressed)
    def _pressed(self, message: Pressed) -> None:
        message.stop()
        code, before = message.code, set(self.state.own)
        self.raise_alert(code)
        self.raised |= set(self.state.own) - before
        self.set_timer(NOT_TRANSMITTED_AFTER.total_seconds() + 0.1, lambda: self._late(code))

    def _late(self, code: str) -> None:
        if any(
            own.code == code and own.step is Step.QUEUED for own in self.state.unsent(self.now())
        ):
            self.app.bell()
            run_on_app(self, feedback.bring_terminal_forward(), group="feedback")

    def stored(self, alert: Alert) -> None:
        """The hub has an alert: the device's feedback if a global key raised it."""
        if alert.id in self.raised:
            run_on_app(self, feedback.stored(alert), group="feedback")
