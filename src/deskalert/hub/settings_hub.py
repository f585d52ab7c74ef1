"""The `[hub]` table of hub.toml: the hub's timings, limits, zone and addresses.

Split from `deskalert.hub.settings` (which imports it and keeps `HubSection` importable from
there); `Section`, the base of every table, and `check_networks` are shared with it.
"""

from __future__ import annotations

import ipaddress
import zoneinfo
from datetime import tzinfo
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from deskalert.models import Identifier, refusal


class Section(BaseModel):
    """A table of hub.toml: an unknown key is an error."""

    model_config = ConfigDict(extra="forbid")


class HubSection(Section):
    database: str | None = Field(
        default=None,
        description="postgresql://user:password@host/db to share one database between several"
        " hubs (or env:NAME, file:/path to read it from); unset: the SQLite file in the data"
        " directory. DESKALERT_DATABASE overrides it.",
    )
    ack_timeout_s: float = Field(
        default=30,
        gt=0,
        le=3600,
        description='no "j\'arrive" by then: the alert escalates to the next person of the chain',
    )
    cancel_window_s: float = Field(
        default=10, ge=0, le=3600, description="the raising desk may cancel its alert within this"
    )
    heartbeat_s: float = Field(
        default=5,
        gt=0,
        le=300,
        description="presence interval of the desks; silent for 1.7 times this: offline",
    )
    retention_days: int = Field(
        default=365,
        ge=1,
        le=3650,
        description="alerts, notes and events older than this are purged (personal data)",
    )
    timezone: str | None = Field(
        default=None, description="IANA zone of the on-call slots; the machine's zone if unset"
    )
    # What nobody on the network may hold or flood (docs/guarantees.md).
    request_timeout_s: float = Field(
        default=5,
        gt=0,
        le=60,
        description="a request's head and body must arrive within this, or the connection closes",
    )
    keepalive_timeout_s: float = Field(
        default=10, gt=0, le=300, description="an idle keep-alive connection is closed after this"
    )
    max_connections_per_address: int = Field(
        default=32,
        ge=1,
        le=100_000,
        description="open connections from one client address (trusted_addresses excepted)",
    )
    trusted_addresses: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="addresses or networks exempt from the per-address cap (a local TLS proxy)",
    )
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="reverse proxies whose X-Forwarded-For is believed (the right-most address"
        " not in this list is the client's); not the same list as trusted_addresses",
    )
    max_streams_per_identity: int = Field(
        default=8,
        ge=1,
        le=10_000,
        description="open event streams per token; a new one beyond this closes the oldest",
    )
    alert_burst: int = Field(
        default=10, ge=1, le=100_000, description="new alerts a desk may raise back to back"
    )
    alerts_per_minute: float = Field(
        default=30, gt=0, le=60_000, description="rate at which a desk's alert burst refills"
    )
    request_burst: int = Field(
        default=200,
        ge=1,
        le=1_000_000,
        description="other requests (heartbeats, lists, streams...) one token may send back to"
        " back; new alerts are never counted here",
    )
    requests_per_second: float = Field(
        default=20, gt=0, le=100_000, description="rate at which a token's request burst refills"
    )
    refused_burst: int = Field(
        default=60,
        ge=1,
        le=1_000_000,
        description="requests with no token or a refused one (401) one client address may send"
        " back to back; then 429. Requests with a valid token are never counted here",
    )
    refused_per_second: float = Field(
        default=5, gt=0, le=100_000, description="rate at which an address's refused burst refills"
    )
    renotify_s: float = Field(
        default=60,
        gt=0,
        le=86_400,
        description="an unanswered alert's notifications are sent again this often",
    )
    language: Literal["fr", "en"] = Field(
        default="fr", description="language of the notifications sent to phones and mailboxes"
    )

    # The interview timer and "tout va bien ?" checks (hub/interview.py).
    check_answer_s: float = Field(
        default=60,
        gt=0,
        le=3600,
        description="a desk has this long to answer a check before the hub raises an alert",
    )
    no_answer_code: Identifier = Field(
        default="sans-reponse",
        description="code of the alert raised for an unanswered check (a discreet built-in one"
        " if the roster does not define it)",
    )
    duress_code: Identifier = Field(
        default="renfort",
        description='code of the discreet alert raised by a duress answer or a "venez"',
    )

    # The supervisors' page (docs/supervisors/page.md): links in notifications and login sessions.
    public_url: str | None = Field(
        default=None,
        description="the hub's address as phones reach it (https://...); answer links need it",
    )
    answer_link_h: float = Field(
        default=24, gt=0, le=24 * 30, description="hours an answer link stays valid"
    )
    page_session_h: float = Field(
        default=12, gt=0, le=24 * 90, description="hours a login on the page lasts"
    )
    phone_session_days: float = Field(
        default=30,
        gt=0,
        le=365,
        description="days an agent's phone stays enrolled on the agents' page (/page/agent/)",
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            url = urlsplit(value.strip())
        except ValueError:
            url = urlsplit("")
        if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
            raise refusal("config.not_base_address", value=repr(value))
        return value.strip().rstrip("/")

    @field_validator("trusted_addresses", "trusted_proxies")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        return check_networks(values)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise refusal("config.unknown_zone", value=repr(value)) from None
        return value

    def tz(self) -> tzinfo | None:
        """The zone on-call slots are read in; None means the machine's local zone."""
        return zoneinfo.ZoneInfo(self.timezone) if self.timezone else None


def check_networks(values: list[str]) -> list[str]:
    """Each an IP address or network; the first that is not is a one-line error."""
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise refusal("config.not_network", value=repr(value)) from None
    return values
