"""The hub's health and the one shape of every error the API answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from deskalert.models.alerts import Alert, AlertState


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
        default="solo",
        description="one hub on SQLite (solo), or, of several on PostgreSQL,"
        " whether this one runs the timers (leader)",
    )
    roster: str | None = Field(
        default=None,
        description="None while this hub serves its database's roster; else"
        " why it answers 503 (several hubs: its hub.toml is not the one the others serve)",
    )
    notify: list[NotifyBacklog] = Field(
        default_factory=list,
        description="channels with notifications not sent yet (none:"
        " every message went out); a hub without `notify` entries lists none",
    )


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
