"""On call: who to call now for a site, the chain after them, and a supervisor's override."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from deskalert.models.base import ClientDatetime, Identifier, StrictModel


class Person(BaseModel):
    id: str
    name: str
    phone: str
    location: str


class OnCall(BaseModel):
    """Who to call now for a site, and who comes next if they do not answer."""

    site: str
    site_label: str
    supervisor: Person | None
    chain: list[Person] = Field(description="The fallback chain after the supervisor, in order")
    source: Literal["schedule", "calendar", "override", "none"] = Field(
        description="Where the first person comes from: a weekly slot, a calendar event, a"
        " supervisor's override; none: nobody is on call (alerts go to everyone)"
    )
    until: datetime | None = None
    calendar_event: str | None = Field(
        default=None, description="The summary of the calendar event in force, if any"
    )
    warning: str | None = Field(
        default=None,
        description="Why the site's calendar could not be used as it is (unreadable, fetch"
        " failure, an event naming nobody known): the card then comes from the weekly slots or"
        " the last good copy; shown to supervisors so that someone fixes it",
    )


class OverrideIn(StrictModel):
    """A supervisor takes the on-call shift of a site until a given time."""

    site: Identifier
    until: ClientDatetime
