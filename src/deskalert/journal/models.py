"""The desk journal's own models: the note as typed, the note's record, and the incident (an
alert with its notes) that the journal, the exports and the figures show. Never on the wire."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from deskalert.models import Alert, AlertState, NoteIn


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
        return not (
            self.alert.test or self.alert.false_alarm or self.alert.state is AlertState.CANCELLED
        )
