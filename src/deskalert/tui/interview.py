"""The desk's interview screens: the small session form, and the "Tout va bien ?" prompt.

The prompt is meant to read as nothing alarming to a visitor who sees the screen: a small
neutral box, no colour of alarm, the same "Merci" after a real "oui" and after the duress key
(`[desk] duress_key`), which looks like an answer and raises a discreet alert on the hub.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label

from deskalert.errors import DeskAlertError, HubUnreachable, ServerError, StoreUnavailable
from deskalert.i18n import N_, t
from deskalert.models import (
    Check,
    CheckAnswer,
    CheckEvent,
    CheckKind,
    CheckState,
    EventType,
    InterviewSession,
    SessionEvent,
    SessionState,
)
from deskalert.tui.base import Clock
from deskalert.tui.messages import HubEvent
from deskalert.tui.widgets import Banner

if TYPE_CHECKING:
    from deskalert.client.api import HubClient
    from deskalert.client.settings import ClientConfig

THANKS_S = 2.0
# A key pressed this soon after the prompt appears was meant for what was on screen before
# (an Enter typed in a form): it does not answer.
GRACE_S = 0.8


@dataclass
class SessionRequest:
    room: str
    minutes: float


class SessionForm(ModalScreen[SessionRequest | None]):
    """Room and expected minutes; Enter starts, Escape gives up."""

    DEFAULT_CSS = """
    SessionForm { align: center middle; }
    SessionForm > Vertical { width: 60; height: auto; border: round $primary;
                             background: $surface; padding: 1 2; }
    SessionForm Horizontal { height: auto; }
    SessionForm Horizontal > Label { width: 12; padding: 1 0; }
    SessionForm Input { width: 1fr; }
    SessionForm #session-error { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "give_up", show=False)]

    def __init__(self, room: str = "", minutes: float = 30) -> None:
        super().__init__()
        self.room, self.minutes = room, minutes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(t("session.form.title"))
            with Horizontal():
                yield Label(t("session.form.room"))
                yield Input(self.room, id="room", max_length=60)
            with Horizontal():
                yield Label(t("session.form.minutes"))
                yield Input(f"{self.minutes:g}", id="minutes", max_length=5, type="number")
            yield Label("", id="session-error")
            yield Label(t("session.form.hint"))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        text = self.query_one("#minutes", Input).value.strip().replace(",", ".")
        try:
            minutes = float(text)
        except ValueError:
            minutes = 0
        if not 0 < minutes <= 480:
            self.query_one("#session-error", Label).update(t("session.form.bad_minutes"))
            return
        self.dismiss(SessionRequest(self.query_one("#room", Input).value.strip(), minutes))

    def action_give_up(self) -> None:
        self.dismiss(None)


class CheckPrompt(ModalScreen[CheckAnswer | None]):
    """ "Tout va bien ? Entrée = oui", a countdown, then "Merci" whatever the answer.

    Enter answers "oui"; `duress_key` answers duress; "v" answers "venez" to a supervisor's
    check. The app sends the answer (`on_answer`); the prompt closes itself after the thanks,
    or when the hub says the check is over (`close()`).
    """

    DEFAULT_CSS = """
    CheckPrompt { align: right bottom; background: $background 0%; }
    CheckPrompt > Vertical { width: 44; height: auto; border: round $panel-lighten-2;
                             background: $surface; padding: 0 1; margin: 0 2 2 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "answer('ok')", show=False)]

    def __init__(self, check: Check, duress_key: str | None, clock: Clock) -> None:
        super().__init__()
        self.check, self.duress_key, self.clock = check, duress_key, clock
        self.answered: CheckAnswer | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(t("check.prompt.question"), id="check-question")
            yield Label(self._hint(), id="check-hint")

    def on_mount(self) -> None:
        self.shown_at = time.monotonic()
        self.set_interval(1.0, self._tick)

    def _hint(self) -> str:
        left = max(0, int((self.check.deadline - self.clock()).total_seconds()))
        key = (N_("check.prompt.hint_supervisor") if self.check.kind is CheckKind.SUPERVISOR
               else N_("check.prompt.hint"))
        return t(key, seconds=left)

    def _tick(self) -> None:
        if self.answered is None:
            self.query_one("#check-hint", Label).update(self._hint())

    def on_key(self, event: events.Key) -> None:
        if self.answered is not None or self._too_soon():
            return
        if self.duress_key and event.key == self.duress_key:
            event.stop()
            self.action_answer(CheckAnswer.DURESS.value)
        elif event.key == "v" and self.check.kind is CheckKind.SUPERVISOR:
            event.stop()
            self.action_answer(CheckAnswer.VENEZ.value)

    def _too_soon(self) -> bool:
        return time.monotonic() - getattr(self, "shown_at", 0.0) < GRACE_S

    def action_answer(self, answer: str) -> None:
        if self.answered is not None or self._too_soon():
            return
        self.answered = CheckAnswer(answer)
        self.query_one("#check-question", Label).update(t("check.prompt.thanks"))
        self.query_one("#check-hint", Label).update("")
        self.post_message(self.Answered(self.check, self.answered))
        self.set_timer(THANKS_S, self.close)

    def close(self) -> None:
        if self.is_current or self in self.app.screen_stack:
            self.dismiss(self.answered)

    @dataclass
    class Answered(Message):
        check: Check
        answer: CheckAnswer


@dataclass
class SessionChanged(Message):
    """This desk's session as the hub has it now; None or closed: no session."""

    session: InterviewSession | None


@dataclass
class CheckChanged(Message):
    kind: EventType
    check: Check


class InterviewDesk:
    """The desk app's part of the interview timer (mixed into DeskApp before HubApp): the
    session key and form, the session line, and the check prompt with its answer.

    Handlers are named `on_<message>`: Textual collects `@on` handlers only from classes it
    builds (widgets, apps), not from a plain mixin, but finds named handlers along the MRO."""

    if TYPE_CHECKING:  # HubApp's and DeskApp's own
        client: HubClient
        config: ClientConfig
        now: Clock
        screen_stack: list[Screen[Any]]
        is_running: bool

        def push_screen(self, screen: Any, callback: Any = None) -> Any: ...
        def notify(self, message: str, **kwargs: Any) -> None: ...
        def post_message(self, message: Message) -> bool: ...
        def hub_failed(self, error: DeskAlertError) -> None: ...
        def run_worker(self, work: Any, **kwargs: Any) -> Any: ...
        @property
        def state(self) -> Any: ...

    interview_session: InterviewSession | None = None

    def _prompts(self) -> dict[UUID, CheckPrompt]:
        return {s.check.id: s for s in self.screen_stack if isinstance(s, CheckPrompt)}

    # -- the session ------------------------------------------------------------------------

    def action_interview(self) -> None:
        """Open the session form, or end the running session."""
        if self.interview_session is not None:
            self.run_worker(self._close_session(self.interview_session.id), group="interview",
                            exit_on_error=False)
            return
        self.push_screen(SessionForm(), self._session_requested)

    def _session_requested(self, request: SessionRequest | None) -> None:
        if request is not None:
            self.run_worker(self._start_session(request), group="interview",
                            exit_on_error=False)

    async def _start_session(self, request: SessionRequest) -> None:
        try:
            session = await self.client.start_session(request.room, request.minutes)
        except DeskAlertError as exc:
            self.hub_failed(exc)
            self.notify(t("session.start_failed", reason=str(exc)), severity="error", timeout=10)
            return
        self.post_message(SessionChanged(session))

    async def _close_session(self, session_id: UUID) -> None:
        try:
            session = await self.client.close_session(session_id)
        except DeskAlertError as exc:
            self.hub_failed(exc)
            self.notify(t("session.stop_failed", reason=str(exc)), severity="error", timeout=10)
            return
        self.post_message(SessionChanged(session))

    def load_interview(self) -> None:
        """After each snapshot: this desk's open session and pending checks (a check asked
        while the desk was away is still shown, with what is left of its time)."""
        self.run_worker(self._load_interview(), group="interview-load", exclusive=True,
                        exit_on_error=False)

    async def _load_interview(self) -> None:
        try:
            sessions, checks = await self.client.sessions(), await self.client.checks()
        except DeskAlertError:
            return  # the follower shows the link; the next snapshot tries again
        mine = [s for s in sessions if s.desk == self.state.desk_id]
        self.post_message(SessionChanged(mine[-1] if mine else None))
        for check in checks:
            self.post_message(CheckChanged(EventType.CHECK_ASKED, check))

    def on_session_changed(self, message: SessionChanged) -> None:
        session = message.session
        if session is not None and session.state is SessionState.CLOSED:
            session = None
        self.interview_session = session
        self._show_session()

    def _show_session(self) -> None:
        if not self.is_running or not self.screen_stack:
            return
        line = ""
        if self.interview_session is not None:
            due = self.interview_session.due_at.astimezone().strftime("%H:%M")
            line = t("session.line", room=self.interview_session.room or "-", due=due)
        self.screen_stack[0].query_one("#session", Banner).message = line

    # -- checks -----------------------------------------------------------------------------

    def on_hub_event(self, message: HubEvent) -> None:
        match message.event:
            case SessionEvent(data=session) if session.desk == self.state.desk_id:
                self.post_message(SessionChanged(session))
            case CheckEvent(type=kind, data=check) if check.desk == self.state.desk_id:
                self.post_message(CheckChanged(kind, check))

    def on_check_changed(self, message: CheckChanged) -> None:
        check, prompts = message.check, self._prompts()
        if message.kind is EventType.CHECK_ASKED and check.state is CheckState.PENDING:
            if check.id not in prompts and check.deadline > self.now():
                assert self.config.desk is not None
                self.push_screen(CheckPrompt(check, self.config.desk.duress_key, self.now))
        elif check.id in prompts and prompts[check.id].answered is None:
            prompts[check.id].close()  # withdrawn, or too late: the hub has decided

    def on_check_prompt_answered(self, message: CheckPrompt.Answered) -> None:
        self.run_worker(self._send_answer(message.check, message.answer),
                        group="interview", exit_on_error=False)

    async def _send_answer(self, check: Check, answer: CheckAnswer) -> None:
        """Sent until the hub has it or the deadline passes (the hub then raises its alert)."""
        while True:
            try:
                await self.client.answer_check(check.id, answer)
                return
            except (HubUnreachable, ServerError, StoreUnavailable) as exc:
                if check.deadline <= self.now():
                    self.hub_failed(exc)
                    return
                await asyncio.sleep(1.0)
            except DeskAlertError as exc:  # refused (too late, withdrawn): nothing to retry
                self.hub_failed(exc)
                return
