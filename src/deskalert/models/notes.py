"""After the incident: the "fiche incident" a desk or supervisor shares with the hub."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import ConfigDict, Field, StringConstraints

from deskalert.models.base import (
    ClientDatetime,
    MultilineText,
    PlainText,
    PrincipalKind,
    StrictModel,
    StrippedMultiline,
    StrippedText,
)


class IncidentType(StrEnum):
    """The categories the social-benefit network counts."""

    VERBAL = "verbal"  # violence verbale
    INCIVILITY = "incivility"  # incivilité
    PSYCHOLOGICAL = "psychological"  # violence psychologique
    PHYSICAL = "physical"  # violence physique
    PROPERTY = "property"  # atteinte aux biens
    OTHER = "other"


class Lever(StrEnum):
    CORRECTION = "correction"  # correction without sanction
    RULES = "rules"  # restating the rules of the relationship
    EXPERTISE = "expertise"  # technical expertise
    SANCTION = "sanction"  # sanction or internal report


class Support(StrEnum):
    DEBRIEF = "debrief"
    OCCUPATIONAL_HEALTH = "occupational_health"
    PSYCHOLOGICAL = "psychological"
    NONE_WANTED = "none_wanted"


class Report(StrEnum):
    INTERNAL = "internal"  # signalement interne
    MAIN_COURANTE = "main_courante"
    COMPLAINT = "complaint"  # plainte


NoteText = Annotated[MultilineText, StringConstraints(max_length=4000)]
NoteName = Annotated[PlainText, StringConstraints(max_length=80)]


class NoteIn(StrictModel):
    """A finished incident note, shared with the hub for the debrief.

    Never the member of the public's name or file number: the form says so, and nothing here asks
    for them.
    """

    what_happened: NoteText = ""
    type: IncidentType
    started_at: ClientDatetime | None = None
    ended_at: ClientDatetime | None = None
    separate_office: bool = False
    levers: list[Lever] = Field(default_factory=list)
    intervened: list[NoteName] = Field(default_factory=list, max_length=20)
    support: list[Support] = Field(default_factory=list)
    reports: list[Report] = Field(default_factory=list)
    follow_up: bool = False


class Note(NoteIn):
    """A note as the hub stores it: one per alert and author."""

    model_config = ConfigDict(extra="ignore")

    what_happened: Annotated[StrippedMultiline, StringConstraints(max_length=4000)] = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    intervened: list[Annotated[StrippedText, StringConstraints(max_length=80)]] = Field(
        default_factory=list, max_length=20
    )
    alert_id: UUID
    author: str
    author_kind: PrincipalKind
    desk: str
    site: str
    shared_at: datetime
