"""The pane's part of the interview timer: running sessions per site with the time left, the
checks waiting for an answer, and a key to ask a desk "tout va bien ?".

Mixed into SupervisorApp before HubApp; handlers are named `on_<message>` because Textual finds
`@on` handlers only on the classes it builds, and named ones along the whole MRO.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from deskalert.errors import DeskAlertError
from deskalert.i18n import t
from deskalert.models import Check, CheckEvent, CheckState, InterviewSession, SessionEvent, SessionState
from deskalert.tui.messages import HubEvent
from deskalert.tui.pane import words
from deskalert.tui.pane.screens import Prompt
from deskalert.tui.pane.widgets import SessionPanel

if TYPE_CHECKING:
    from deskalert.client.api import HubClient


class PaneInterview:
    if TYPE_CHECKING:  # SupervisorApp's own
        client: HubClient
        state: Any
        is_running: bool

        def query_one(self, selector: Any) -> Any: ...
        def push_screen(self, screen: Any, callback: Any = None) -> Any: ...
        def notify(self, message: str, **kwargs: Any) -> None: ...
        def run_worker(self, work: Any, **kwargs: Any) -> Any: ...
        def set_interval(self, interval: float, callback: Any) -> Any: ...
        def hub_failed(self, error: DeskAlertError) -> None: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.interview_sessions: dict[UUID, InterviewSession] = {}
        self.pending_checks: dict[UUID, Check] = {}

    def on_mount(self) -> None:
        self.query_one(SessionPanel).border_title = t("pane.sessions_title")
        self.set_interval(1.0, self._tick_sessions)

    def on_pane_snapshot(self) -> None:
        """After each snapshot (a start, a reconnection): the hub's sessions and checks."""
        self.run_worker(self._load_sessions(), group="sessions", exclusive=True,
                        exit_on_error=False)

    async def _load_sessions(self) -> None:
        try:
            running, checks = await self.client.sessions(), await self.client.checks()
        except DeskAlertError:
            return  # the link badge says it; the next snapshot tries again
        self.interview_sessions = {s.id: s for s in running}
        self.pending_checks = {c.id: c for c in checks}
        self._publish_sessions()

    def on_hub_event(self, message: HubEvent) -> None:
        match message.event:
            case SessionEvent(data=session):
                self.interview_sessions.pop(session.id, None)
                if session.state is not SessionState.CLOSED:
                    self.interview_sessions[session.id] = session
            case CheckEvent(data=check):
                self.pending_checks.pop(check.id, None)
                if check.state is CheckState.PENDING:
                    self.pending_checks[check.id] = check
            case _:
                return
        self._publish_sessions()

    def _publish_sessions(self) -> None:
        if not self.is_running:
            return
        panel = self.query_one(SessionPanel)
        panel.sites = self.state.site_labels()
        panel.sessions = tuple(sorted(self.interview_sessions.values(), key=lambda s: s.due_at))
        panel.checks = tuple(sorted(self.pending_checks.values(), key=lambda c: c.deadline))
        panel.now = datetime.now(UTC)

    def _tick_sessions(self) -> None:
        if self.is_running:
            self.query_one(SessionPanel).now = datetime.now(UTC)

    # -- "tout va bien ?" ---------------------------------------------------------------------

    def action_check(self) -> None:
        """Ask a desk "tout va bien ?": the selected alert's desk is not assumed, it is typed."""
        known = sorted(self.state.desks)
        self.push_screen(
            Prompt(t("prompt.check", example=known[0] if known else "guichet-1"),
                   t("prompt.hint"),
                   check=lambda v: None if v.strip() in known else
                   t("prompt.check_unknown", known=", ".join(known))),
            self._ask_desk)

    def _ask_desk(self, desk_id: str | None) -> None:
        if desk_id:
            self.run_worker(self._ask(desk_id), group="sessions-ask", exit_on_error=False)

    async def _ask(self, desk_id: str) -> None:
        try:
            check = await self.client.ask_check(desk_id)
        except DeskAlertError as exc:
            self.hub_failed(exc)
            self.notify(t("pane.notify.check_failed", reason=words.clean(str(exc))),
                        severity="error", timeout=10)
            return
        self.notify(t("pane.notify.check_sent", desk=words.clean(check.desk_label)))
