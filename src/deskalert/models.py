"""Pydantic models shared by the hub, the client and the TUI.

The request and response bodies of the hub's API are these models, so the OpenAPI document at
`/openapi.json` describes exactly what goes over the wire.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
)

from deskalert.text import describe_control, find_control, strip_control

Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]


def _refuse_control(text: str) -> str:
    found = find_control(text)
    if found is not None:
        raise ValueError(f"{describe_control(*found)}: text only, no control characters")
    return text


def _refuse_control_but_newline(text: str) -> str:
    found = find_control(text, allow_newline=True)
    if found is not None:
        raise ValueError(f"{describe_control(*found)}: text and line breaks only")
    return text


# Text from a desk is text (see deskalert.text): a request body with a control character is a
# 422 that names the field. Response models strip instead, so an older row never fails a read.
PlainText = Annotated[str, AfterValidator(_refuse_control)]
MultilineText = Annotated[str, AfterValidator(_refuse_control_but_newline)]
StrippedText = Annotated[str, AfterValidator(strip_control)]
StrippedMultiline = Annotated[str, AfterValidator(partial(strip_control, keep_newlines=True))]
ShortText = Annotated[PlainText, StringConstraints(max_length=280)]


def _representable_in_utc(moment: datetime) -> datetime:
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range once in UTC (years 1 to 9999)") from None
    return moment


# A date a client sends: with its time zone, kept as given, and one that has a UTC equivalent
# (9999-12-31T23:59:59-23:59 has none, and would fail wherever it is compared or converted).
ClientDatetime = Annotated[AwareDatetime, AfterValidator(_representable_in_utc)]


class StrictModel(BaseModel):
    """A request body: unknown fields are refused, so a typo never goes unnoticed."""

    model_config = ConfigDict(extra="forbid")


class AlertState(StrEnum):
    """Where an alert is in its life: raised, someone is coming, closed."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"

    @property
    def is_closed(self) -> bool:
        return self in (AlertState.RESOLVED, AlertState.CANCELLED)


class PrincipalKind(StrEnum):
    DESK = "desk"
    SUPERVISOR = "supervisor"


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
    # A supervisor's message to every desk of some sites (data: Broadcast): one event per site.
    BROADCAST_SENT = "broadcast.sent"
    BROADCAST_READ = "broadcast.read"
    BROADCAST_UNREAD = "broadcast.unread"
    BROADCAST_ENDED = "broadcast.ended"


LIVE_ONLY_EVENTS = frozenset({EventType.SITE_AVAILABILITY})


class AlertCode(BaseModel):
    """One entry of the team's repertoire: a shared shorthand for a whole protocol."""

    code: Identifier
    label: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    key: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    discreet: bool = False
    protocol: Annotated[str, StringConstraints(max_length=1000)] = ""
    priority: int = Field(default=2, ge=1, le=5, description="1 is the most urgent")


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
    updated_at: datetime


class ResolveIn(StrictModel):
    summary: ShortText | None = None


class CancelIn(StrictModel):
    reason: ShortText | None = None


class DeskPresence(BaseModel):
    id: str
    label: str
    site: str
    location: str
    online: bool
    last_seen: datetime | None


class Event(BaseModel):
    """One state change, as stored and as sent on the stream."""

    id: int
    type: EventType
    at: datetime
    site: str | None
    data: dict[str, Any]

    def typed(self) -> (AlertEvent | PresenceEvent | OnCallEvent | SessionEvent | CheckEvent
                        | AvailabilityEvent | BroadcastEvent):
        """This event as the stream's typed union (raises ValidationError on a mismatch)."""
        return STREAM_EVENT.validate_python(  # type: ignore[no-any-return]
            {"id": self.id, "type": self.type, "data": self.data}
        )


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


# -- the interview timer and "tout va bien ?" checks (hub/sessions.py) ---------------------------


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
    SESSION = "session"        # the interview timer ran out
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
    WITHDRAWN = "withdrawn"    # the session was closed or extended before an answer


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


# -- the event stream: one typed frame per event kind ---------------------------------------


class AlertEvent(BaseModel):
    """An alert changed: `data` is the whole alert, so applying it twice changes nothing."""

    id: int
    type: Literal[EventType.ALERT_RAISED, EventType.ALERT_ACKNOWLEDGED,
                  EventType.ALERT_RESOLVED, EventType.ALERT_CANCELLED,
                  EventType.ALERT_ESCALATED]
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
    type: Literal[EventType.SESSION_STARTED, EventType.SESSION_EXTENDED,
                  EventType.SESSION_CLOSED]
    data: InterviewSession


class CheckEvent(BaseModel):
    """A "tout va bien ?" check was asked, answered, left unanswered or withdrawn."""

    id: int
    type: Literal[EventType.CHECK_ASKED, EventType.CHECK_ANSWERED,
                  EventType.CHECK_UNANSWERED, EventType.CHECK_WITHDRAWN]
    data: Check


class AvailableSupervisor(BaseModel):
    """A supervisor who can answer for a site now: their pane or page is connected, or they
    are on call (reached on their phone)."""

    id: str
    name: str
    phone: str
    connected: bool = Field(description="A pane or page of theirs follows the stream now")
    on_call: bool = Field(description="The site's on-call supervisor now")


class SiteAvailability(BaseModel):
    """Who can come now on a site: how many desks are online, which supervisors can answer."""

    site: str
    site_label: str
    desks_online: int = Field(description="Desks of the site online now (the asking desk too)")
    desks: int = Field(description="Desks of the site in the roster")
    supervisors: list[AvailableSupervisor] = Field(
        description="Supervisors who can answer now, connected ones first")
    at: datetime = Field(description="Hub clock when these numbers were taken")

    def same_numbers(self, other: SiteAvailability | None) -> bool:
        """Whether `other` says the same (whenever it was taken)."""
        return other is not None and self.model_dump(exclude={"at"}) == other.model_dump(
            exclude={"at"})


class AvailabilityEvent(BaseModel):
    """Live only (never stored, never replayed): a site's availability changed, or a stream
    that asked for it opened. `id` is the last stored event before it; it does not advance
    the stream's position (the frame has no `id:` line)."""

    id: int
    type: Literal[EventType.SITE_AVAILABILITY]
    data: SiteAvailability


# -- broadcasts: a supervisor's message to every desk of some sites (hub/broadcasts.py) -----

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
        default=None, description="When the desks that had not read it were named")
    ended_at: datetime | None = None
    ended_by: str | None = None
    updated_at: datetime

    def read_by(self, desk_id: str) -> BroadcastRead | None:
        return next((r for r in self.reads if r.desk == desk_id), None)

    def unread(self) -> list[BroadcastDesk]:
        read = {r.desk for r in self.reads}
        return [d for d in self.desks if d.id not in read]


class BroadcastEvent(BaseModel):
    """A broadcast was sent, read by a desk, left unread past the delay, or ended."""

    id: int
    type: Literal[EventType.BROADCAST_SENT, EventType.BROADCAST_READ,
                  EventType.BROADCAST_UNREAD, EventType.BROADCAST_ENDED]
    data: Broadcast


StreamEvent = Annotated[
    AlertEvent | PresenceEvent | OnCallEvent | SessionEvent | CheckEvent | AvailabilityEvent
    | BroadcastEvent,
    Field(discriminator="type"),
]
"""One frame of `/v1/events` as a client reads it: `id:`, `event:` (the type) and `data:`.

The frame carries nothing else, so neither does this (the stored `Event` also has `at` and
`site`). Dispatch with `match event: case AlertEvent(data=alert): ...`.
"""
STREAM_EVENT = TypeAdapter(StreamEvent)


class OverrideIn(StrictModel):
    """A supervisor takes the on-call shift of a site until a given time."""

    site: Identifier
    until: ClientDatetime


class RefusedToken(BaseModel):
    """A token the hub refused lately: a revoked or mistyped one, or someone trying tokens."""

    token_sha256_prefix: str = Field(description="First 12 hex digits of the token's SHA-256")
    address: str = Field(description="Client address it came from (the proxy's, behind one)")
    first_at: datetime
    last_at: datetime
    count: int = Field(description="Requests refused with it from this address")
    known_as: str | None = Field(
        default=None, description="Desk or supervisor last seen with a valid token from there"
    )


class RefusedDesk(BaseModel):
    """A valid desk token used from outside its site's networks (`[[sites]] networks`): a
    token copied to another machine, or a desk moved without its site's networks updated."""

    desk: str
    desk_label: str
    site: str
    address: str = Field(description="Client address (through trusted_proxies, the forwarded one)")
    first_at: datetime
    last_at: datetime
    count: int = Field(description="Requests refused from this address")
    last_request: str = Field(description='What it asked last, e.g. "POST /v1/alerts"')
    alerts: int = Field(default=0, description="Of which alerts (POST /v1/alerts)")


class Presence(BaseModel):
    """Desks online or not, and the tokens refused lately (a desk whose token was revoked)."""

    desks: list[DeskPresence]
    refused_tokens: list[RefusedToken] = Field(description="Most recent first")
    refused_desks: list[RefusedDesk] = Field(
        default_factory=list,
        description="Desk tokens refused from outside their site's networks, most recent first")


class HeartbeatOut(BaseModel):
    id: str
    kind: PrincipalKind
    at: datetime
    heartbeat_s: float


class NotifyBacklog(BaseModel):
    """Notifications not sent yet through one kind of channel (its scheme: ntfys, mailto...)."""

    channel: str
    waiting: int = Field(description="messages queued, being retried or being sent")
    oldest_s: float = Field(description="how long the oldest of them has waited, in seconds")
    behind: bool = Field(description="the oldest has waited more than 20 s: phones are late")


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    store: str = Field(description='"ok", or why the store cannot be read or written')
    epoch: str = Field(
        default="", description="The event log's identity: changes when a backup is restored"
    )
    last_event_id: int | None = Field(description="None while the store cannot be read")
    open_alerts: int | None = Field(description="None while the store cannot be read")
    version: str
    role: Literal["solo", "leader", "follower"] = Field(
        default="solo", description="one hub on SQLite (solo), or, of several on PostgreSQL,"
        " whether this one runs the timers (leader)",
    )
    notify: list[NotifyBacklog] = Field(
        default_factory=list, description="channels with notifications not sent yet (none:"
        " every message went out); a hub without `notify` entries lists none",
    )


class StreamReset(BaseModel):
    """Data of the stream's `stream.reset` event: the client's Last-Event-ID belongs to another
    event log (the hub was restored from a backup). Reload the snapshot (alerts, on-call,
    desks), then follow again with `Last-Event-ID: <epoch>:<last_event_id>`; the stream ends
    right after this event."""

    epoch: str
    last_event_id: int
    reason: str


class ErrorOut(BaseModel):
    """Every error the API answers has this shape."""

    error: str
    detail: str
    state: AlertState | None = Field(
        default=None, description="On a 409: the alert's current state"
    )
    alert: Alert | None = Field(
        default=None,
        description="On a 409 to a resent alert id with another body: the alert as stored",
    )


# -- after the incident: the "fiche incident" ----------------------------------------------------


class IncidentType(StrEnum):
    """The categories the social-benefit network counts."""

    VERBAL = "verbal"                # violence verbale
    INCIVILITY = "incivility"        # incivilité
    PSYCHOLOGICAL = "psychological"  # violence psychologique
    PHYSICAL = "physical"            # violence physique
    PROPERTY = "property"            # atteinte aux biens
    OTHER = "other"


class Lever(StrEnum):
    CORRECTION = "correction"      # correction without sanction
    RULES = "rules"                # restating the rules of the relationship
    EXPERTISE = "expertise"        # technical expertise
    SANCTION = "sanction"          # sanction or internal report


class Support(StrEnum):
    DEBRIEF = "debrief"
    OCCUPATIONAL_HEALTH = "occupational_health"
    PSYCHOLOGICAL = "psychological"
    NONE_WANTED = "none_wanted"


class Report(StrEnum):
    INTERNAL = "internal"          # signalement interne
    MAIN_COURANTE = "main_courante"
    COMPLAINT = "complaint"        # plainte


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


# -- the desk's journal and the debrief ----------------------------------------------------------


class NoteDraft(BaseModel):
    """The incident note as typed, widget by widget (a time typed half-way stays as typed).

    Saved at every keystroke, so reopening an alert reopens exactly what was on screen; only a
    finished note becomes a `NoteIn`.
    """

    model_config = ConfigDict(extra="ignore")

    what: str = ""
    type: str | None = None
    started: str = ""
    ended: str = ""
    office: bool = False
    levers: list[str] = Field(default_factory=list)
    intervened: str = ""
    support: list[str] = Field(default_factory=list)
    reports: list[str] = Field(default_factory=list)
    follow_up: bool = False


class NoteRecord(BaseModel):
    """One alert's note in the desk's journal: the draft, the finished note, where it stands."""

    alert_id: UUID
    draft: NoteDraft | None = Field(default=None, description="None until something is typed")
    saved_at: datetime
    finished: bool = False
    shared_at: datetime | None = None
    postponed: bool = False
    note: NoteIn | None = Field(default=None, description="The validated note, once finished")


class Incident(BaseModel):
    """One alert with the notes written about it: what the journal, exports and figures show.

    Durations start at the key press (`created_at`, the desk's clock), not when the hub got the
    alert: an alert that waited in an outbox waited for help too. A desk clock ahead of the hub's
    cannot put the press after the reception, so the earlier of the two is taken; a desk clock
    behind the hub's lengthens the figures by its offset (the hub cannot tell that apart from a
    long queue).
    """

    alert: Alert
    notes: list[NoteIn] = Field(default_factory=list)
    record: NoteRecord | None = Field(
        default=None, description="In a desk's journal: this desk's own note, draft included"
    )

    @property
    def pressed_at(self) -> datetime:
        """When the agent pressed the key (the hub's reception if the desk did not say)."""
        created, received = self.alert.created_at, self.alert.received_at
        return min(created, received) if created is not None else received

    @property
    def first_response(self) -> timedelta | None:
        """From the key press to the first "j'arrive"."""
        if not self.alert.responders:
            return None
        return min(r.at for r in self.alert.responders) - self.pressed_at

    @property
    def time_to_resolve(self) -> timedelta | None:
        """From the key press to "résolue" (a cancelled alert has none)."""
        if self.alert.state is not AlertState.RESOLVED or self.alert.closed_at is None:
            return None
        return self.alert.closed_at - self.pressed_at

    @property
    def type(self) -> str:
        """The incident type of its first note, or "unknown" without a note."""
        return self.notes[0].type.value if self.notes else "unknown"

    @property
    def is_real(self) -> bool:
        """Neither a drill nor a false alarm (cancelled, by its desk or by a supervisor)."""
        return not (self.alert.test or self.alert.false_alarm
                    or self.alert.state is AlertState.CANCELLED)
