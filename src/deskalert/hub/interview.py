"""The interview timer and "tout va bien ?" checks, held by the hub.

The feature is "interview" everywhere in the code; its URL stays `/v1/sessions` (and its
tables `sessions`/`checks`, its events `session.*`), so desks and pages already deployed keep
working: an interview session is the desk's timer, not anyone's login.

A desk starts a session before a risky interview (room, expected minutes). When the time is up
the hub asks the desk "tout va bien ?" (a check) and gives it `check_answer_s` to answer; a
supervisor can ask the same at any time. An unanswered check raises an alert of
`no_answer_code` on behalf of the desk; a duress answer, or "venez" to a supervisor, raises a
discreet alert of `duress_code`.

Everything is decided on the store thread from what the store says: the check's deadline is the
session's `due_at` plus the answer time (not "when the hub noticed"), and a check turns
unanswered in the same transaction as the alert it raises, guarded by its state. So a hub that
restarts after a deadline raises the alert at its first tick, and never twice. A desk that dies
mid-interview changes nothing: the hub does not watch its stream.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from deskalert.errors import Conflict, Forbidden, NotFound
from deskalert.hub.interview_alert import check_alert
from deskalert.hub.oncall_board import OnCallBoard
from deskalert.hub.roster import Roster
from deskalert.hub.runtime import Runtime
from deskalert.hub.settings import HubConfig, Principal
from deskalert.hub.store import Connection
from deskalert.models import (
    Alert,
    AnswerIn,
    Check,
    CheckAnswer,
    CheckKind,
    CheckState,
    Event,
    EventType,
    InterviewSession,
    SessionFigures,
    SessionIn,
    SessionState,
)

T = TypeVar("T")


class InterviewKeeper:
    """Interview sessions and checks: the routes' operations and the ticker's deadlines."""

    def __init__(
        self, config: HubConfig, runtime: Runtime, roster: Roster, oncall: OnCallBoard
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.roster = roster
        self.oncall = oncall
        self.store = runtime.store
        self.clock = runtime.clock

    # -- the desk's session -----------------------------------------------------------------

    async def start(self, principal: Principal, body: SessionIn) -> InterviewSession:
        desk = self._desk_of(principal)
        now = self.clock.now()
        session = InterviewSession(
            id=uuid.uuid4(),
            desk=desk.id,
            desk_label=desk.label,
            site=desk.site,
            room=body.room,
            started_at=now,
            expected_min=body.minutes,
            due_at=now + timedelta(minutes=body.minutes),
            state=SessionState.RUNNING,
            updated_at=now,
        )

        def write(db: Connection, events: list[Event]) -> InterviewSession:
            self.store.put_session(db, session)
            events.append(self._event(db, EventType.SESSION_STARTED, session))
            return session

        return await self._write(write)

    async def extend(
        self, principal: Principal, session_id: UUID, minutes: float
    ) -> InterviewSession:
        def write(db: Connection, events: list[Event]) -> InterviewSession:
            session = self._own_open_session(db, principal, session_id)
            return self._extend_in(db, events, session, minutes, self.clock.now())

        return await self._write(write)

    async def close(self, principal: Principal, session_id: UUID) -> InterviewSession:
        def write(db: Connection, events: list[Event]) -> InterviewSession:
            session = self._own_open_session(db, principal, session_id)
            return self._close_in(db, events, session, self.clock.now())

        return await self._write(write)

    def _extend_in(
        self,
        db: Connection,
        events: list[Event],
        session: InterviewSession,
        minutes: float,
        now: datetime,
    ) -> InterviewSession:
        self._withdraw_checks(db, events, session, now)
        session = session.model_copy(
            update={
                "state": SessionState.RUNNING,
                "due_at": now + timedelta(minutes=minutes),
                "updated_at": now,
            }
        )
        self.store.put_session(db, session)
        events.append(self._event(db, EventType.SESSION_EXTENDED, session))
        return session

    def _close_in(
        self, db: Connection, events: list[Event], session: InterviewSession, now: datetime
    ) -> InterviewSession:
        self._withdraw_checks(db, events, session, now)
        session = session.model_copy(
            update={"state": SessionState.CLOSED, "closed_at": now, "updated_at": now}
        )
        self.store.put_session(db, session)
        events.append(self._event(db, EventType.SESSION_CLOSED, session))
        return session

    def _withdraw_checks(
        self, db: Connection, events: list[Event], session: InterviewSession, now: datetime
    ) -> None:
        for check in self.store.pending_checks_of_session(db, session.id):
            check = check.model_copy(update={"state": CheckState.WITHDRAWN, "updated_at": now})
            self.store.put_check(db, check)
            events.append(self._event(db, EventType.CHECK_WITHDRAWN, check))

    def _own_open_session(
        self, db: Connection, principal: Principal, session_id: UUID
    ) -> InterviewSession:
        session = self.store.get_session(db, session_id)
        if session is None:
            raise NotFound(f"no session {session_id}")
        if session.desk != principal.id:
            raise Forbidden("only the desk that started a session extends or closes it")
        if session.state is SessionState.CLOSED:
            raise Conflict("the session is already closed", code="session_closed")
        return session

    # -- checks -----------------------------------------------------------------------------

    async def ask(self, principal: Principal, desk_id: str) -> Check:
        """A supervisor asks a desk "tout va bien ?"; it has `check_answer_s` to answer."""
        if not principal.is_supervisor:
            raise Forbidden("only a supervisor asks a desk whether all is well")
        desk = self.roster.desks.get(desk_id)
        if desk is None:
            raise NotFound(f"unknown desk {desk_id!r}", code="unknown_desk")
        now = self.clock.now()
        check = Check(
            id=uuid.uuid4(),
            kind=CheckKind.SUPERVISOR,
            desk=desk.id,
            desk_label=desk.label,
            site=desk.site,
            asked_by=principal.id,
            asked_by_name=principal.name,
            asked_at=now,
            deadline=now + timedelta(seconds=self.config.hub.check_answer_s),
            state=CheckState.PENDING,
            updated_at=now,
        )

        def write(db: Connection, events: list[Event]) -> Check:
            self.store.put_check(db, check)
            events.append(self._event(db, EventType.CHECK_ASKED, check))
            return check

        return await self._write(write)

    async def answer(self, principal: Principal, check_id: UUID, body: AnswerIn) -> Check:
        """The desk answers; "ok" closes (or extends) the session, duress and "venez" raise the
        desk's discreet alert. A check no longer pending is a 409 (its alert is out)."""

        def write(db: Connection, events: list[Event]) -> Check:
            check = self.store.get_check(db, check_id)
            if check is None:
                raise NotFound(f"no check {check_id}")
            if check.desk != principal.id:
                raise Forbidden("only the desk asked answers a check")
            if check.state is not CheckState.PENDING:
                raise Conflict(
                    f"the check is already {check.state.value}", code="check_closed", state=None
                )
            return self._answer_in(db, events, check, body, self.clock.now())

        return await self._write(write)

    def _answer_in(
        self, db: Connection, events: list[Event], check: Check, body: AnswerIn, now: datetime
    ) -> Check:
        alert_id = None
        if body.answer is not CheckAnswer.OK:
            alert = self._alert_for(check, body.answer, now)
            events.append(self.store.put_alert(db, alert))
            alert_id = alert.id
        check = check.model_copy(
            update={
                "state": CheckState.ANSWERED,
                "answer": body.answer,
                "answered_at": now,
                "alert_id": alert_id,
                "updated_at": now,
            }
        )
        self.store.put_check(db, check)
        events.append(self._event(db, EventType.CHECK_ANSWERED, check))
        session = self.store.get_session(db, check.session_id) if check.session_id else None
        if session is not None and session.state is not SessionState.CLOSED:
            if body.answer is CheckAnswer.OK and body.extend_min:
                self._extend_in(db, events, session, body.extend_min, now)
            else:  # a duress answer looks like "oui": the session closes as it would
                self._close_in(db, events, session, now)
        return check

    # -- time passing (the hub's ticker) ------------------------------------------------------

    async def tick(self, now: datetime) -> None:
        await self._write(lambda db, events: self._due_in(db, events, now))

    def _due_in(self, db: Connection, events: list[Event], now: datetime) -> None:
        answer_time = timedelta(seconds=self.config.hub.check_answer_s)
        for session in self.store.sessions_due(db, now):
            check = Check(
                id=uuid.uuid4(),
                kind=CheckKind.SESSION,
                desk=session.desk,
                desk_label=session.desk_label,
                site=session.site,
                session_id=session.id,
                room=session.room,
                session_started_at=session.started_at,
                asked_at=session.due_at,
                deadline=session.due_at + answer_time,
                state=CheckState.PENDING,
                updated_at=now,
            )
            self.store.put_check(db, check)
            session = session.model_copy(update={"state": SessionState.CHECKING, "updated_at": now})
            self.store.put_session(db, session)
            events.append(self._event(db, EventType.CHECK_ASKED, check))
        for check in self.store.checks_due(db, now):
            alert = self._alert_for(check, None, now)
            events.append(self.store.put_alert(db, alert))
            check = check.model_copy(
                update={"state": CheckState.UNANSWERED, "alert_id": alert.id, "updated_at": now}
            )
            self.store.put_check(db, check)
            events.append(self._event(db, EventType.CHECK_UNANSWERED, check))
            checked = self.store.get_session(db, check.session_id) if check.session_id else None
            if checked is not None and checked.state is not SessionState.CLOSED:
                self._close_in(db, events, checked, now)  # over: its alert carries it on

    # -- reads ------------------------------------------------------------------------------

    async def open_sessions(self, principal: Principal, site: str | None) -> list[InterviewSession]:
        sites = self.roster.visible_sites(principal, site)
        return await self.runtime.db(self.store.open_sessions, sites)

    async def pending_checks(self, principal: Principal) -> list[Check]:
        """A supervisor's sites' pending checks; a desk's own."""
        sites = self.roster.visible_sites(principal, None)
        checks = await self.runtime.db(self.store.pending_checks, sites)
        return [c for c in checks if principal.is_supervisor or c.desk == principal.id]

    async def figures(
        self, principal: Principal, since: datetime | None, until: datetime | None
    ) -> SessionFigures:
        """Sessions and checks of the period on the supervisor's sites (from the event log, so
        within the hub's retention_days)."""
        if not principal.is_supervisor:
            raise Forbidden("only a supervisor reads the figures")
        types = [
            EventType.SESSION_STARTED.value,
            EventType.CHECK_ASKED.value,
            EventType.CHECK_ANSWERED.value,
            EventType.CHECK_UNANSWERED.value,
        ]
        counts = await self.runtime.db(
            self.store.count_events, types, since, until, self.roster.visible_sites(principal, None)
        )
        return SessionFigures(
            sessions=counts[types[0]],
            checks=counts[types[1]],
            answered=counts[types[2]],
            unanswered=counts[types[3]],
        )

    # -- helpers ------------------------------------------------------------------------------

    def _desk_of(self, principal: Principal) -> Any:
        desk = self.roster.desks.get(principal.id)
        if principal.is_supervisor or desk is None:
            raise Forbidden("only a desk starts an interview session")
        return desk

    async def _write(self, write: Callable[[Connection, list[Event]], T]) -> T:
        """`write` in one transaction on the store thread; its events are published after the
        commit, in order (nothing is published if it raises)."""

        def run() -> T:
            events: list[Event] = []
            result: list[T] = []
            self.store.in_transaction(lambda db: result.append(write(db, events)))
            for event in events:
                self.runtime.publish(event)
            return result[0]

        return await self.runtime.db(run)

    def _event(
        self, db: Connection, event_type: EventType, payload: InterviewSession | Check
    ) -> Event:
        return self.store.append(
            db, event_type, payload.updated_at, payload.site, payload.model_dump(mode="json")
        )

    def _alert_for(self, check: Check, answer: CheckAnswer | None, now: datetime) -> Alert:
        """The alert `check` raises on behalf of its desk (hub/interview_alert.py)."""
        chain = self.oncall.chain(self.roster.desks[check.desk].site)
        return check_alert(self.config.hub, self.roster, chain, check, answer, now)
