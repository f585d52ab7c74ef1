"""The event log and the live stream: event types, the stored event, and one typed frame per
event kind."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from deskalert.models.alerts import Alert
from deskalert.models.broadcasts import Broadcast
from deskalert.models.interview import Check, InterviewSession
from deskalert.models.oncall import OnCall
from deskalert.models.presence import DeskPresence, SiteAvailability


class EventType(StrEnum):
    ALERT_RAISED = "alert.raised"
    ALERT_ACKNOWLEDGED = "alert.acknowledged"
    ALERT_RESOLVED = "alert.resolved"
    ALERT_CANCELLED = "alert.cancelled"
    ALERT_ESCALATED = "alert.escalated"
    DESK_ONLINE = "desk.online"
    DESK_OFFLINE = "desk.offline"
    ONCALL_CHANGED = "oncall.changed"
    # A notification attempt to a supervisor's or site's channel (data: NotifyOutcome).
    NOTIFY_SENT = "notify.sent"
    NOTIFY_FAILED = "notify.failed"
    NOTIFY_GAVE_UP = "notify.gave_up"
    # The interview timer and "tout va bien ?" checks (data: InterviewSession / Check).
    SESSION_STARTED = "session.started"
    SESSION_EXTENDED = "session.extended"
    SESSION_CLOSED = "session.closed"
    CHECK_ASKED = "check.asked"
    CHECK_ANSWERED = "check.answered"
    CHECK_UNANSWERED = "check.unanswered"
    CHECK_WITHDRAWN = "check.withdrawn"
    # Who can come now on a site (data: SiteAvailability). Live only: never stored, no id of
    # its own, sent only to streams that ask for it (`/v1/events?availability=1`).
    SITE_AVAILABILITY = "site.availability"
    # hub.toml's roster was reloaded (data: RosterChange): codes, desks, sites or on-call may
    # have changed; a desk or pane reads its picture again (client/follower.py).
    ROSTER_CHANGED = "roster.changed"
    # A supervisor's message to every desk of some sites (data: Broadcast): one event per site.
    BROADCAST_SENT = "broadcast.sent"
    BROADCAST_READ = "broadcast.read"
    BROADCAST_UNREAD = "broadcast.unread"
    BROADCAST_ENDED = "broadcast.ended"


LIVE_ONLY_EVENTS = frozenset({EventType.SITE_AVAILABILITY})


class Event(BaseModel):
    """One state change, as stored and as sent on the stream."""

    id: int
    type: EventType
    at: datetime
    site: str | None
    data: dict[str, Any]

    def typed(
        self,
    ) -> (
        AlertEvent
        | PresenceEvent
        | OnCallEvent
        | SessionEvent
        | CheckEvent
        | AvailabilityEvent
        | RosterEvent
        | BroadcastEvent
    ):
        """This event as the stream's typed union (raises ValidationError on a mismatch)."""
        return STREAM_EVENT.validate_python({"id": self.id, "type": self.type, "data": self.data})


class AlertEvent(BaseModel):
    """An alert changed: `data` is the whole alert, so applying it twice changes nothing."""

    id: int
    type: Literal[
        EventType.ALERT_RAISED,
        EventType.ALERT_ACKNOWLEDGED,
        EventType.ALERT_RESOLVED,
        EventType.ALERT_CANCELLED,
        EventType.ALERT_ESCALATED,
    ]
    data: Alert


class PresenceEvent(BaseModel):
    """A desk came online or went silent: `data` is its presence."""

    id: int
    type: Literal[EventType.DESK_ONLINE, EventType.DESK_OFFLINE]
    data: DeskPresence


class OnCallEvent(BaseModel):
    """A site's on-call card changed: `data` is the new card."""

    id: int
    type: Literal[EventType.ONCALL_CHANGED]
    data: OnCall


class SessionEvent(BaseModel):
    """An interview session started, was extended or closed: `data` is the whole session."""

    id: int
    type: Literal[EventType.SESSION_STARTED, EventType.SESSION_EXTENDED, EventType.SESSION_CLOSED]
    data: InterviewSession


class CheckEvent(BaseModel):
    """A "tout va bien ?" check was asked, answered, left unanswered or withdrawn."""

    id: int
    type: Literal[
        EventType.CHECK_ASKED,
        EventType.CHECK_ANSWERED,
        EventType.CHECK_UNANSWERED,
        EventType.CHECK_WITHDRAWN,
    ]
    data: Check


class AvailabilityEvent(BaseModel):
    """Live only (never stored, never replayed): a site's availability changed, or a stream
    that asked for it opened. `id` is the last stored event before it; it does not advance
    the stream's position (the frame has no `id:` line)."""

    id: int
    type: Literal[EventType.SITE_AVAILABILITY]
    data: SiteAvailability


class RosterChange(BaseModel):
    """Data of `roster.changed`: which roster the hub serves from now on."""

    fingerprint: str = Field(
        description="A hash of the roster (sites, desks, supervisors,"
        " codes, on-call); every hub of one database serves the same one"
    )


class RosterEvent(BaseModel):
    """The roster was reloaded: read the codes, desks and on-call cards again."""

    id: int
    type: Literal[EventType.ROSTER_CHANGED]
    data: RosterChange


class BroadcastEvent(BaseModel):
    """A broadcast was sent, read by a desk, left unread past the delay, or ended: `data` is
    the whole broadcast, so applying it twice changes nothing."""

    id: int
    type: Literal[
        EventType.BROADCAST_SENT,
        EventType.BROADCAST_READ,
        EventType.BROADCAST_UNREAD,
        EventType.BROADCAST_ENDED,
    ]
    data: Broadcast


StreamEvent = Annotated[
    AlertEvent
    | PresenceEvent
    | OnCallEvent
    | SessionEvent
    | CheckEvent
    | AvailabilityEvent
    | RosterEvent
    | BroadcastEvent,
    Field(discriminator="type"),
]
"""One frame of `/v1/events` as a client reads it: `id:`, `event:` (the type) and `data:`.

The frame carries nothing else, so neither does this (the stored `Event` also has `at` and
`site`). Dispatch with `match event: case AlertEvent(data=alert): ...`.
"""
STREAM_EVENT = TypeAdapter(StreamEvent)


class StreamReset(BaseModel):
    """Data of the stream's `stream.reset` event: the client's Last-Event-ID belongs to another
    event log (the hub was restored from a backup). Reload the snapshot (alerts, on-call,
    desks), then follow again with `Last-Event-ID: <epoch>:<last_event_id>`; the stream ends
    right after this event."""

    epoch: str
    last_event_id: int
    reason: str
