"""Desks online or not, who can come now on a site, and the tokens and desks the hub refused."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from deskalert.models.base import PrincipalKind


class DeskPresence(BaseModel):
    id: str
    label: str
    site: str
    location: str
    online: bool
    last_seen: datetime | None


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
        description="Supervisors who can answer now, connected ones first"
    )
    at: datetime = Field(description="Hub clock when these numbers were taken")

    def same_numbers(self, other: SiteAvailability | None) -> bool:
        """Whether `other` says the same (whenever it was taken)."""
        return other is not None and self.model_dump(exclude={"at"}) == other.model_dump(
            exclude={"at"}
        )


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
        description="Desk tokens refused from outside their site's networks, most recent first",
    )


class HeartbeatOut(BaseModel):
    id: str
    kind: PrincipalKind
    at: datetime
    heartbeat_s: float
    timezone: str | None = Field(
        default=None,
        description="the site's zone ([hub] timezone): screens show every time in"
        " it; none: each machine shows its own",
    )
