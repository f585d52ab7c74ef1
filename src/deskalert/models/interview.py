"""The interview timer (`/v1/sessions` on the wire) and the "tout va bien ?" checks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from deskalert.models.base import Identifier, PlainText, StrictModel, StrippedText


class SessionState(StrEnum):
    """running: the timer counts; checking: its time is up and the desk is asked; closed."""

    RUNNING = "running"
    CHECKING = "checking"
    CLOSED = "closed"


class InterviewSession(BaseModel):
    """An interview behind a closed door, held by the hub: the desk may die, the timer goes on."""

    id: UUID
    desk: str
    desk_label: str
    site: str
    room: StrippedText = ""
    started_at: datetime = Field(description="Hub clock")
    expected_min: float = Field(description="The length the agent announced, in minutes")
    due_at: datetime = Field(description="When the desk is asked; moved by an extension")
    state: SessionState
    closed_at: datetime | None = None
    updated_at: datetime


class SessionIn(StrictModel):
    """A desk starts an interview session: where, and how long it should last."""

    room: Annotated[PlainText, StringConstraints(max_length=60)] = ""
    minutes: float = Field(default=30, gt=0, le=480)


class ExtendIn(StrictModel):
    minutes: float = Field(default=15, gt=0, le=480, description="From now")


class CheckKind(StrEnum):
    SESSION = "session"  # the interview timer ran out
    SUPERVISOR = "supervisor"  # a supervisor asked


class SessionFigures(BaseModel):
    """Interview sessions and "tout va bien ?" checks over a period, from the hub's event log."""

    sessions: int = Field(description="Interview sessions started")
    checks: int = Field(description="Checks asked (at a session's end, or by a supervisor)")
    answered: int = Field(description="Checks answered (oui, venez, or the duress answer)")
    unanswered: int = Field(description="Checks left unanswered: each raised an alert")


class CheckState(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    UNANSWERED = "unanswered"
    WITHDRAWN = "withdrawn"  # the session was closed or extended before an answer


class CheckAnswer(StrEnum):
    """ok: "oui"; venez: "come" (supervisor checks); duress: the key that looks like "oui"."""

    OK = "ok"
    VENEZ = "venez"
    DURESS = "duress"


class Check(BaseModel):
    """A discreet "tout va bien ?" to one desk, with the deadline of its answer."""

    id: UUID
    kind: CheckKind
    desk: str
    desk_label: str
    site: str
    session_id: UUID | None = None
    room: StrippedText | None = None
    session_started_at: datetime | None = None
    asked_by: str | None = Field(default=None, description="Supervisor id (supervisor checks)")
    asked_by_name: str | None = None
    asked_at: datetime
    deadline: datetime
    state: CheckState
    answer: CheckAnswer | None = None
    answered_at: datetime | None = None
    alert_id: UUID | None = Field(default=None, description="The alert it raised, if any")
    updated_at: datetime


class CheckIn(StrictModel):
    """A supervisor asks a desk "tout va bien ?"."""

    desk: Identifier


class AnswerIn(StrictModel):
    answer: CheckAnswer
    extend_min: float | None = Field(
        default=None, gt=0, le=480, description='With "ok" to a session check: keep it running'
    )
