"""The pane's part of the interview timer, as one widget: running sessions per site with the
time left, the checks waiting for an answer, and asking a desk "tout va bien ?".

`InterviewPanel` draws as `SessionPanel` (widgets.py) and handles the feature itself: it loads
the hub's sessions and checks after each snapshot (`load()`), follows their events (the app
forwards them as `HubEvent`), ticks the time left each second, and asks a desk (`ask()`, the
app's "k" key). Its requests run as the app's workers (`run_on_app`), so a failure lands in the
app's one handler; a refusal posts the link change, which bubbles up to the app.
"""

from __future__ import annotations

from uuid import UUID

from textual import on

from deskalert.client.api import HubClient
from deskalert.client.hub_words import logged
from deskalert.errors import DeskAlertError
from deskalert.i18n import t
from deskalert.models import (
    Check,
    CheckEvent,
    CheckState,
    InterviewSession,
    SessionEvent,
    SessionState,
)
from deskalert.tui.base import Clock, run_on_app
from deskalert.tui.messages import HubEvent, refusal
from deskalert.tui.pane import words
from deskalert.tui.pane.screens import Prompt
from deskalert.tui.pane.widgets import SessionPanel


class InterviewPanel(SessionPanel):
    """Interview sessions and pending checks, kept from the hub (module docstring)."""

    def __init__(self, client: HubClient, hub_now: Clock, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client, self.hub_now = client, hub_now  # the hub's time: its deadlines count down
        self.running: dict[UUID, InterviewSession] = {}
        self.pending: dict[UUID, Check] = {}

    def on_mount(self) -> None:
        self.border_title = t("pane.sessions_title")
        self.set_interval(1.0, self._tick)

    def load(self) -> None:
        """After each snapshot (a start, a reconnection): the hub's sessions and checks."""
        run_on_app(self, self._load(), group="sessions", exclusive=True)

    async def _load(self) -> None:
        try:
            running, checks = await self.client.sessions(), await self.client.checks()
        except DeskAlertError:
            return  # the link badge says it; the next snapshot tries again
        self.running = {s.id: s for s in running}
        self.pending = {c.id: c for c in checks}
        self._publish()

    @on(HubEvent)
    def _hub_event(self, message: HubEvent) -> None:
        message.stop()
        match message.event:
            case SessionEvent(data=session):
                self.running.pop(session.id, None)
                if session.state is not SessionState.CLOSED:
                    self.running[session.id] = session
            case CheckEvent(data=check):
                self.pending.pop(check.id, None)
                if check.state is CheckState.PENDING:
                    self.pending[check.id] = check
            case _:
                return
        self._publish()

    def _publish(self) -> None:
        if not self.is_running:
            return
        self.sessions = tuple(sorted(self.running.values(), key=lambda s: s.due_at))
        self.checks = tuple(sorted(self.pending.values(), key=lambda c: c.deadline))
        self.now = self.hub_now()

    def _tick(self) -> None:
        self.now = self.hub_now()

    # -- "tout va bien ?" ---------------------------------------------------------------------

    def ask(self, known: list[str]) -> None:
        """Ask a desk "tout va bien ?": the selected alert's desk is not assumed, it is typed
        (one of `known`, the desks the pane knows)."""
        self.app.push_screen(
            Prompt(
                t("prompt.check", example=known[0] if known else "guichet-1"),
                t("prompt.hint"),
                check=lambda v: (
                    None
                    if v.strip() in known
                    else t("prompt.check_unknown", known=", ".join(known))
                ),
            ),
            self._ask_desk,
        )

    def _ask_desk(self, desk_id: str | None) -> None:
        if desk_id:
            run_on_app(self, self._ask(desk_id), group="sessions-ask")

    async def _ask(self, desk_id: str) -> None:
        try:
            check = await self.client.ask_check(desk_id)
        except DeskAlertError as exc:
            if (change := refusal(exc)) is not None:
                self.post_message(change)
            self.notify(
                t("pane.notify.check_failed", reason=logged(exc, "check")),
                severity="error",
                timeout=10,
                markup=False,
            )
            return
        self.notify(t("pane.notify.check_sent", desk=words.clean(check.desk_label)), markup=False)
