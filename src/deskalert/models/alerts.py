"""Alerts: the repertoire's codes, what a desk sends, the alert as stored, its answers, and
the notification attempts about it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from deskalert.models.base import (
    ClientDatetime,
    Identifier,
    PrincipalKind,
    ShortText,
    StrictModel,
    StrippedText,
)


class AlertState(StrEnum):
    """Where an alert is in its life: raised, someone is coming, closed."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"

    @property
    def is_closed(self) -> bool:
        return self in (AlertState.RESOLVED, AlertState.CANCELLED)


class AlertCode(BaseModel):
    """One entry of the team's repertoire: a shared shorthand for a whole protocol."""

    code: Identifier = Field(description="the code's id (renfort, hulk...)")
    label: Annotated[str, StringConstraints(min_length=1, max_length=60)] = Field(
        description="what the desks and supervisors read"
    )
    label_en: Annotated[str, StringConstraints(max_length=60)] = Field(
        default="", description="the label in English, for people in English (else the label)"
    )
    key: Annotated[str, StringConstraints(min_length=1, max_length=20)] = Field(
        description="the desk's key for it (f2, f3...); an F-key gets a ctrl alternative too"
    )
    discreet: bool = Field(
        default=False, description="nothing on the desk's screen but the small corner sign"
    )
    protocol: Annotated[str, StringConstraints(max_length=1000)] = Field(
        default="", description="what the code asks responders to do"
    )
    protocol_en: Annotated[str, StringConstraints(max_length=1000)] = Field(
        default="", description="the protocol in English (else the protocol)"
    )
    priority: int = Field(default=2, ge=1, le=5, description="1 is the most urgent")

    def words(self, english: bool) -> tuple[str, str]:
        """(label, protocol), in English where the roster gives it and `english`."""

        def pick(french: str, other: str) -> str:
            return other if english and other else french

        return pick(self.label, self.label_en), pick(self.protocol, self.protocol_en)


class AlertIn(StrictModel):
    """What a desk sends to raise an alert; the desk itself is the caller."""

    id: UUID = Field(description="Chosen by the desk; retries reuse it, so the hub stores it once")
    code: Identifier
    created_at: ClientDatetime | None = Field(
        default=None, description="The desk's clock when the key was pressed; kept as given"
    )
    test: bool = Field(default=False, description="A drill: goes through the whole chain")
    message: ShortText | None = Field(
        default=None, description="Optional short text; never the member of the public's data"
    )


class Responder(BaseModel):
    """Someone who answered "j'arrive", once, with the hub time they answered."""

    id: str
    kind: PrincipalKind
    name: str
    at: datetime


class Alert(BaseModel):
    """An alert as the hub stores it and sends it in every alert event."""

    id: UUID
    code: str
    code_label: str
    code_label_en: str = Field(default="", description="The code's English label, if any")
    discreet: bool
    priority: int
    desk: str
    desk_label: str
    site: str
    location: str
    created_at: datetime | None = Field(description="Desk clock, as the desk sent it")
    received_at: datetime = Field(description="Hub clock: the reference for every duration")
    state: AlertState
    test: bool
    message: StrippedText | None = None
    responders: list[Responder] = Field(default_factory=list)
    chain: list[str] = Field(
        default_factory=list, description="Supervisor ids to escalate to, in order, fixed at raise"
    )
    escalation_level: int = Field(
        default=0, description="0: the on-call supervisor; n: the n-th of the chain; last: everyone"
    )
    escalated_to: str | None = Field(
        default=None, description='Supervisor id of the current level, or "everyone"'
    )
    escalated_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    summary: StrippedText | None = None
    false_alarm: bool = False
    no_answer: bool = Field(
        default=False,
        description='Raised by the hub: a "Tout va bien ?" check went unanswered; nobody'
        " pressed a key (created_at is the hub's clock)",
    )
    updated_at: datetime

    def code_words(self, english: bool) -> str:
        """The code's label as raised, in English where the roster gave it and `english`."""
        return self.code_label_en if english and self.code_label_en else self.code_label


class ResolveIn(StrictModel):
    summary: ShortText | None = None


class CancelIn(StrictModel):
    reason: ShortText | None = None


class NotifyOutcome(BaseModel):
    """Data of a notify.* event: one attempt to reach one channel about one alert."""

    id: UUID = Field(description="The alert's id (so the event is in its history)")
    notification: int = Field(description="The outbox row: retries of one message share it")
    kind: Literal["raised", "escalated", "renotify", "acknowledged", "closed"]
    to: str = Field(description='Supervisor id, or "site:<id>" for a site\'s team room')
    channel: str = Field(description="The channel, masked: scheme and host only, never a token")
    attempt: int
    attempt_id: str
    reason: str | None = Field(default=None, description="Why it failed (failed, gave_up)")
    retry_in_s: float | None = Field(default=None, description="When it is tried again (failed)")
