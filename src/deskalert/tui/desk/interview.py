"""The desk's part of the interview timer, as one widget: the session line.

`InterviewLine` shows "Entretien <room> · fin prévue <time>" while this desk has a session open,
and handles the whole feature itself: the session key (`toggle()`: the form, or the end of the
session), the hub's session and check events (the app forwards them as `HubEvent`), the
"Tout va bien ?" prompt (screens.py) and sending its answer. Its requests run as the app's
workers (`run_on_app`), so a failure lands in the app's one handler; a refusal posts the link
change, which bubbles up to the app.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import UUID

from textual import on
from textual.message import Message

from deskalert.client.api import HubClient
from deskalert.client.hub_words import logged
from deskalert.errors import DeskAlertError, HubUnreachable, ServerError, StoreUnavailable
from deskalert.i18n import t
from deskalert.models import (
    Check,
    CheckAnswer,
    CheckEvent,
    CheckState,
    EventType,
    InterviewSession,
    SessionEvent,
    SessionState,
)
from deskalert.sitetime import local
from deskalert.tui.base import Clock, run_on_app
from deskalert.tui.desk.screens import CheckPrompt, SessionForm, SessionRequest
from deskalert.tui.desk.widgets import Banner
from deskalert.tui.messages import HubEvent, refusal


class InterviewLine(Banner):
    """This desk's interview session on one line, and the feature behind it (module docstring)."""

    @dataclass
    class Changed(Message):
        """This desk's session as the hub has it now; None or closed: no session."""

        session: InterviewSession | None

    @dataclass
    class CheckChanged(Message):
        kind: EventType
        check: Check

    def __init__(
        self,
        client: HubClient,
        desk_id: str,
        duress_key: str | None,
        clock: Clock,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.client, self.desk_id, self.duress_key, self.now = client, desk_id, duress_key, clock
        self.session: InterviewSession | None = None

    def _prompts(self) -> dict[UUID, CheckPrompt]:
        return {s.check.id: s for s in self.app.screen_stack if isinstance(s, CheckPrompt)}

    def _hub_failed(self, error: DeskAlertError) -> None:
        if (change := refusal(error)) is not None:
            self.post_message(change)

    # -- the session ------------------------------------------------------------------------

    def toggle(self) -> None:
        """The session key: open the session form, or end the running session."""
        if self.session is not None:
            run_on_app(self, self._close_session(self.session.id), group="interview")
            return
        self.app.push_screen(SessionForm(), self._session_requested)

    def _session_requested(self, request: SessionRequest | None) -> None:
        if request is not None:
            run_on_app(self, self._start_session(request), group="interview")

    async def _start_session(self, request: SessionRequest) -> None:
        try:
            session = await self.client.start_session(request.room, request.minutes)
        except DeskAlertError as exc:
            self._hub_failed(exc)
            self.notify(
                t("session.start_failed", reason=logged(exc, "session start")),
                severity="error",
                timeout=10,
            )
            return
        self.post_message(self.Changed(session))

    async def _close_session(self, session_id: UUID) -> None:
        try:
            session = await self.client.close_session(session_id)
        except DeskAlertError as exc:
            self._hub_failed(exc)
            self.notify(
                t("session.stop_failed", reason=logged(exc, "session stop")),
                severity="error",
                timeout=10,
            )
            return
        self.post_message(self.Changed(session))

    def load(self) -> None:
        """After each snapshot: this desk's open session and pending checks (a check asked
        while the desk was away is still shown, with what is left of its time)."""
        run_on_app(self, self._load(), group="interview-load", exclusive=True)

    async def _load(self) -> None:
        try:
            sessions, checks = await self.client.sessions(), await self.client.checks()
        except DeskAlertError:
            return  # the follower shows the link; the next snapshot tries again
        mine = [s for s in sessions if s.desk == self.desk_id]
        self.post_message(self.Changed(mine[-1] if mine else None))
        for check in checks:
            self.post_message(self.CheckChanged(EventType.CHECK_ASKED, check))

    @on(Changed)
    def _session_changed(self, message: Changed) -> None:
        session = message.session
        if session is not None and session.state is SessionState.CLOSED:
            session = None
        self.session = session
        if self.session is None:
            self.message = ""
            return
        due = local(self.session.due_at).strftime("%H:%M")
        self.message = t("session.line", room=self.session.room or "-", due=due)

    # -- checks -----------------------------------------------------------------------------

    @on(HubEvent)
    def _hub_event(self, message: HubEvent) -> None:
        message.stop()
        match message.event:
            case SessionEvent(data=session) if session.desk == self.desk_id:
                self.post_message(self.Changed(session))
            case CheckEvent(type=kind, data=check) if check.desk == self.desk_id:
                self.post_message(self.CheckChanged(kind, check))

    @on(CheckChanged)
    def _check_changed(self, message: CheckChanged) -> None:
        check, prompts = message.check, self._prompts()
        if message.kind is EventType.CHECK_ASKED and check.state is CheckState.PENDING:
            if check.id not in prompts and check.deadline > self.now():
                self.app.push_screen(CheckPrompt(check, self.duress_key, self.now, self))
        elif check.id in prompts and prompts[check.id].answered is None:
            prompts[check.id].close()  # withdrawn, or too late: the hub has decided

    @on(CheckPrompt.Answered)
    def _answered(self, message: CheckPrompt.Answered) -> None:
        message.stop()
        run_on_app(self, self._send_answer(message.check, message.answer), group="interview")

    async def _send_answer(self, check: Check, answer: CheckAnswer) -> None:
        """Sent until the hub has it or the deadline passes (the hub then raises its alert)."""
        while True:
            try:
                await self.client.answer_check(check.id, answer)
                return
            except (HubUnreachable, ServerError, StoreUnavailable) as exc:
                if check.deadline <= self.now():
                    self._hub_failed(exc)
                    return
                await asyncio.sleep(1.0)
            except DeskAlertError as exc:  # refused (too late, withdrawn): nothing to retry
                self._hub_failed(exc)
                return
