"""Broadcasts: a supervisor's message to every desk of some sites, and each desk's "lu"
(hub/broadcasts.py applies the rules; the roster's kinds are in hub/broadcast_roster.py)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from deskalert.models.base import Identifier, PlainText, StrictModel, StrippedText

BROADCAST_MAX_CHARS = 300


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("empty: write the message, or choose a template")
    return text.strip()


BroadcastText = Annotated[
    PlainText, StringConstraints(max_length=BROADCAST_MAX_CHARS), AfterValidator(_not_blank)
]


class BroadcastState(StrEnum):
    CURRENT = "current"
    ENDED = "ended"


class BroadcastIn(StrictModel):
    """What a supervisor sends: a roster template, or a kind and a text (a template's text may
    be replaced by one typed), to the desks of `sites`."""

    id: UUID = Field(description="Chosen by the sender; a retry reuses it, stored once")
    template: Identifier | None = None
    kind: Identifier | None = None
    text: BroadcastText | None = None
    sites: list[Identifier] = Field(min_length=1, max_length=200)


class BroadcastDesk(BaseModel):
    """A desk a broadcast is for (the roster's desks of its sites when it was sent)."""

    id: str
    label: str
    site: str


class BroadcastRead(BaseModel):
    """A desk said "lu", once, at this hub time."""

    desk: str
    at: datetime


class Broadcast(BaseModel):
    """A broadcast as the hub stores it and sends it in every broadcast event."""

    id: UUID
    kind: str
    label: str = Field(description="The kind's label in the roster's language")
    label_en: str = ""
    look: Literal["info", "warning", "danger", "clear"]
    protocol: StrippedText = ""
    protocol_en: StrippedText = ""
    text: StrippedText
    text_en: StrippedText = Field(default="", description="A template's English text, if any")
    sites: list[str]
    sender: str
    sender_name: str
    sent_at: datetime
    state: BroadcastState
    desks: list[BroadcastDesk]
    reads: list[BroadcastRead] = Field(default_factory=list)
    unread_after_s: float
    unread_named_at: datetime | None = Field(
        default=None, description="When the desks that had not read it were named"
    )
    ended_at: datetime | None = None
    ended_by: str | None = None
    ended_by_name: str | None = Field(default=None, description="The name of who ended it")
    updated_at: datetime

    def read_by(self, desk_id: str) -> BroadcastRead | None:
        return next((r for r in self.reads if r.desk == desk_id), None)

    def words(self, english: bool) -> tuple[str, str, str]:
        """(label, text, protocol), in English where the roster gives it and `english`."""

        def pick(french: str, other: str) -> str:
            return other if english and other else french

        return (
            pick(self.label, self.label_en),
            pick(self.text, self.text_en),
            pick(self.protocol, self.protocol_en),
        )

    def unread(self) -> list[BroadcastDesk]:
        read = {r.desk for r in self.reads}
        return [d for d in self.desks if d.id not in read]


# -- the roster's kinds and templates ([broadcasts] of hub.toml), also sent to senders --------

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Protocol = Annotated[str, StringConstraints(strip_whitespace=True, max_length=600)]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=BROADCAST_MAX_CHARS)
]


class RosterEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BroadcastKind(RosterEntry):
    """A kind of message: its label, how desks show it, what to do, in French and English."""

    id: Identifier = Field(description="the kind's id, as the API and templates name it")
    label: Label = Field(description="what desks show as the message's title")
    label_en: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] = Field(
        default="", description="the label for desks in English (else the label)"
    )
    look: Literal["info", "warning", "danger", "clear"] = Field(
        default="warning", description="info, warning (orange), danger (red), clear (green)"
    )
    protocol: Protocol = Field(default="", description="what desks are asked to do")
    protocol_en: Protocol = Field(default="", description="the protocol in English")
    ends: bool = Field(
        default=False, description="sending it ends the current broadcasts of its sites"
    )


class BroadcastTemplate(RosterEntry):
    """A ready-made message the pane and the page offer."""

    id: Identifier = Field(description="the template's id, as the API names it")
    kind: Identifier = Field(description="one of the kinds' ids")
    text: Text = Field(description="the message, at most 300 characters")
    text_en: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=BROADCAST_MAX_CHARS)
    ] = Field(default="", description="the message in English, for desks in English")


class BroadcastCatalog(BaseModel):
    """What a sender chooses from: the roster's kinds and templates, and the unread delay."""

    unread_after_s: float
    kinds: list[BroadcastKind]
    templates: list[BroadcastTemplate]
