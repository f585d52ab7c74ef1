"""Pydantic models shared by the hub, the client and the TUI: the wire contract.

The request and response bodies of the hub's API are these models, so the OpenAPI document at
`/openapi.json` describes exactly what goes over the wire. One module per resource (alerts,
events and the stream, presence, on-call, the interview timer, notes, health), on a floor of
shared types (`base`); every name is re-exported here, so `from deskalert.models import Alert`
is the way to import one. The desk journal's own models, never on the wire, are in
`deskalert.journal.models`.
"""

from deskalert.models.alerts import (
    Alert,
    AlertCode,
    AlertIn,
    AlertState,
    CancelIn,
    NotifyOutcome,
    ResolveIn,
    Responder,
)
from deskalert.models.base import (
    ClientDatetime,
    Identifier,
    MultilineText,
    PlainText,
    PrincipalKind,
    ShortText,
    StrictModel,
    StrippedMultiline,
    StrippedText,
)
from deskalert.models.broadcasts import (
    BROADCAST_MAX_CHARS,
    Broadcast,
    BroadcastCatalog,
    BroadcastDesk,
    BroadcastIn,
    BroadcastKind,
    BroadcastRead,
    BroadcastState,
    BroadcastTemplate,
)
from deskalert.models.events import (
    LIVE_ONLY_EVENTS,
    STREAM_EVENT,
    AlertEvent,
    AvailabilityEvent,
    BroadcastEvent,
    CheckEvent,
    Event,
    EventType,
    OnCallEvent,
    PresenceEvent,
    RosterChange,
    RosterEvent,
    SessionEvent,
    StreamEvent,
    StreamReset,
)
from deskalert.models.health import ErrorOut, Health, NotifyBacklog
from deskalert.models.interview import (
    AnswerIn,
    Check,
    CheckAnswer,
    CheckIn,
    CheckKind,
    CheckState,
    ExtendIn,
    InterviewSession,
    SessionFigures,
    SessionIn,
    SessionState,
)
from deskalert.models.notes import (
    IncidentType,
    Lever,
    Note,
    NoteIn,
    NoteName,
    NoteText,
    Report,
    Support,
)
from deskalert.models.oncall import OnCall, OverrideIn, Person
from deskalert.models.presence import (
    AvailableSupervisor,
    DeskPresence,
    HeartbeatOut,
    Presence,
    RefusedDesk,
    RefusedToken,
    SiteAvailability,
)

__all__ = [
    "BROADCAST_MAX_CHARS", "Broadcast", "BroadcastCatalog", "BroadcastDesk", "BroadcastEvent",
    "BroadcastIn", "BroadcastKind", "BroadcastRead", "BroadcastState", "BroadcastTemplate",
    "LIVE_ONLY_EVENTS", "STREAM_EVENT", "Alert", "AlertCode", "AlertEvent", "AlertIn",
    "AlertState", "AnswerIn", "AvailabilityEvent", "AvailableSupervisor", "CancelIn", "Check",
    "CheckAnswer", "CheckEvent", "CheckIn", "CheckKind", "CheckState", "ClientDatetime",
    "DeskPresence", "ErrorOut", "Event", "EventType", "ExtendIn", "Health", "HeartbeatOut",
    "Identifier", "IncidentType", "InterviewSession", "Lever", "MultilineText", "Note", "NoteIn",
    "NoteName", "NoteText", "NotifyBacklog", "NotifyOutcome", "OnCall", "OnCallEvent",
    "OverrideIn", "Person", "PlainText", "Presence", "PresenceEvent", "PrincipalKind",
    "RefusedDesk", "RefusedToken", "Report", "ResolveIn", "Responder", "RosterChange",
    "RosterEvent", "SessionEvent",
    "SessionFigures", "SessionIn", "SessionState", "ShortText", "SiteAvailability", "StreamEvent",
    "StreamReset", "StrictModel", "StrippedMultiline", "StrippedText", "Support",
]
