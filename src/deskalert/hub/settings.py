"""The hub's configuration: `hub.toml`, validated so that a broken file stops the hub at start.

Besides each key's own type, the whole file is checked for what a person editing it can get
wrong: duplicate ids, keys or tokens, a desk on a site that does not exist, an on-call slot naming
an unknown supervisor. A calendar's content (`[[oncall_calendar]]`) is read at run time, not
here: a broken calendar must not stop the hub (hub/calendar.py; `deskalert hub --check` parses it).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from collections import Counter
from collections.abc import Mapping
from datetime import time
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from deskalert.config import describe_config_error, load_toml, user_config_dir
from deskalert.errors import ConfigError
from deskalert.hub.broadcast_roster import BroadcastSection
from deskalert.hub.settings_hub import HubSection as HubSection  # re-exported
from deskalert.hub.settings_hub import Section, check_networks
from deskalert.models import AlertCode, Identifier, PrincipalKind, refusal
from deskalert.models.base import SHA256_PATTERN

Sha256Hex = Annotated[
    str, StringConstraints(pattern=SHA256_PATTERN, to_lower=True, strip_whitespace=True)
]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEMO_TOKEN_PREFIX = "demo-"


def _notify_entry(value: str) -> str:
    """An Apprise URL (`ntfys://host/topic`), or where to read one: `env:NAME`, `file:/path`."""
    if value.startswith("env:"):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value[4:]):
            raise refusal("config.notify_env")
    elif value.startswith("file:"):
        if not value[5:].startswith("/"):
            raise refusal("config.notify_file")
    elif not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://.", value):
        raise refusal("config.notify_entry")
    return value


NotifyEntry = Annotated[str, AfterValidator(_notify_entry)]
NotifyList = Annotated[list[NotifyEntry], Field(default_factory=list, max_length=20)]


class SiteConfig(Section):
    """A site: a building or a floor, with its desks and its on-call chain."""

    id: Identifier = Field(description="the site's id, named by desks, slots and calendars")
    label: str = Field(min_length=1, max_length=80, description="the name people read")
    notify: NotifyList = Field(description="the site's team room(s): Apprise URLs")
    networks: Annotated[list[str], AfterValidator(check_networks)] = Field(
        default_factory=list,
        max_length=256,
        description="networks the site's desks connect from (e.g. '10.1.2.0/24'); a desk token"
        " from elsewhere is refused (403); none: from anywhere",
    )

    def admits(self, address: str) -> bool:
        """Whether a desk of this site may call from `address` (any, if no networks are set)."""
        if not self.networks:
            return True
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False  # not an address (a garbled X-Forwarded-For): refused, never guessed
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._parsedcheck_networks)

    @cached_property
    def _parsedcheck_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(n, strict=False) for n in self.networks]


class DeskConfig(Section):
    """A desk: one workstation that raises alerts, with its token's hash."""

    id: Identifier = Field(description="the desk's id, as its config.toml names it ([desk] id)")
    label: str = Field(min_length=1, max_length=80, description="the name people read")
    site: Identifier = Field(description="the id of its site ([[sites]])")
    location: str = Field(default="", max_length=200, description="where it is, for responders")
    token_sha256: Sha256Hex = Field(
        description="SHA-256 of the desk's token, in hex (`deskalert token new` prints the line)"
    )


class SupervisorConfig(Section):
    """A supervisor: who answers alerts, on the pane, the page or the phone."""

    id: Identifier = Field(description="the supervisor's id ([supervisor] id, on-call slots)")
    name: str = Field(min_length=1, max_length=80, description="the name shown on the desks")
    phone: str = Field(default="", max_length=40, description="the number a desk shows to call")
    location: str = Field(
        default="", max_length=200, description="their office, shown on the desks"
    )
    token_sha256: Sha256Hex = Field(
        description="SHA-256 of the supervisor's token, in hex (`deskalert token new`)"
    )
    notify: NotifyList = Field(description="the supervisor's channels (phone, mail): Apprise URLs")
    email: str | None = Field(
        default=None,
        max_length=254,
        description="matched against a calendar event's attendees (mailto:), case-insensitively",
    )
    sites: list[Identifier] = Field(
        default_factory=list,
        description="the sites this supervisor sends broadcasts to; empty: every site",
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+", value.strip()):
            raise refusal("config.not_email", value=repr(value))
        return value.strip() if value is not None else None


class OnCallSlot(Section):
    """A weekly on-call slot; the first that matches wins."""

    site: Identifier = Field(description="the site it covers")
    supervisor: Identifier = Field(description="who is on call during the slot")
    days: list[Day] = Field(min_length=1, description='the days it starts on ("mon" ... "sun")')
    start: time = Field(description="when it starts, local time (see [hub] timezone)")
    end: time = Field(
        description="when it ends; before start: it runs past midnight; equal: all day"
    )
    backup: list[Identifier] = Field(
        default_factory=list, description="the fallback chain, in order; after it, everyone"
    )

    def covers(self, day: Day, at: time, previous_day: Day) -> bool:
        """Whether this slot is in force on `day` at `at` (start = end means the whole day)."""
        if self.start == self.end:
            return day in self.days
        if self.start < self.end:
            return day in self.days and self.start <= at < self.end
        # Past midnight: the slot belongs to the day it started on.
        return (day in self.days and at >= self.start) or (
            previous_day in self.days and at < self.end
        )


class OnCallCalendar(Section):
    """A site's on-call rota kept in a calendar: an ICS file, or an address fetched periodically."""

    site: Identifier = Field(
        description="the site whose on-call it overrides (one calendar per site)"
    )
    file: Path | None = Field(default=None, description="an ICS file on this machine (absolute)")
    url: str | None = Field(
        default=None,
        description="an ICS address (https://, http://, webcal://) fetched every refresh_min",
    )
    refresh_min: float = Field(
        default=5, ge=0.1, le=24 * 60, description="minutes between two fetches of `url`"
    )
    timeout_s: float = Field(
        default=20, gt=0, le=120, description="a fetch of `url` gives up after this"
    )

    @field_validator("file")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_absolute():
            raise refusal("config.not_absolute", value=repr(str(value)))
        return value

    @field_validator("url")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = urlsplit(value.strip())
        if url.scheme not in ("http", "https", "webcal") or not url.hostname:
            raise refusal("config.calendar_url")
        return value.strip()

    @model_validator(mode="after")
    def _one_source(self) -> OnCallCalendar:
        if (self.file is None) == (self.url is None):
            raise refusal("config.calendar_source")
        return self

    def fetch_url(self) -> str:
        """The address to fetch: webcal:// (as Outlook and Nextcloud publish it) is https://."""
        assert self.url is not None
        return (
            "https://" + self.url[len("webcal://") :]
            if self.url.startswith("webcal://")
            else self.url
        )

    def shown(self) -> str:
        """Where the calendar comes from, safe to show on a desk: a published address often
        carries a secret in its path, so only its scheme and host are shown."""
        if self.file is not None:
            return str(self.file)
        url = urlsplit(self.fetch_url())
        return f"{url.scheme}://{url.hostname}/..."


class MetricsSection(Section):
    """Who may read `GET /metrics`: nobody unless one of these is set; both set, both needed."""

    token_sha256: Sha256Hex | None = Field(
        default=None, description="sha256 of the token Prometheus sends as Bearer"
    )
    allow: list[str] = Field(
        default_factory=list, description="addresses or networks Prometheus scrapes from"
    )

    @field_validator("allow")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        return check_networks(values)


class HubConfig(Section):
    hub: HubSection = Field(default_factory=HubSection, description="the hub's own settings")
    metrics: MetricsSection = Field(
        default_factory=MetricsSection, description="who may read GET /metrics (Prometheus)"
    )
    codes: list[AlertCode] = Field(min_length=1, description="the team's alert codes")
    sites: list[SiteConfig] = Field(min_length=1, description="the sites the hub serves")
    desks: list[DeskConfig] = Field(
        default_factory=list, description="the desks, one per workstation"
    )
    supervisors: list[SupervisorConfig] = Field(default_factory=list, description="the supervisors")
    oncall: list[OnCallSlot] = Field(default_factory=list, description="weekly on-call slots")
    oncall_calendar: list[OnCallCalendar] = Field(
        default_factory=list, description="on-call from a calendar, one per site, over the slots"
    )
    broadcasts: BroadcastSection = Field(
        default_factory=BroadcastSection,
        description="messages from supervisors to every desk of a site: kinds, templates, delay",
    )
    # The key of answer links and page sessions (hub/links.py): read from the data directory
    # by create_app, never from hub.toml.
    _link_secret: bytes | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self) -> HubConfig:
        _unique("codes", "code", [c.code for c in self.codes])
        _unique("codes", "key", [c.key.lower() for c in self.codes])
        _unique("sites", "id", [s.id for s in self.sites])
        _unique("desks", "id", [d.id for d in self.desks])
        _unique("supervisors", "id", [s.id for s in self.supervisors])
        _unique(
            "desks and supervisors", "token_sha256", [p.token_sha256 for p in self.principals()]
        )
        sites = {s.id for s in self.sites}
        supervisors = {s.id for s in self.supervisors}
        for index, desk in enumerate(self.desks):
            _known(f"desks[{index}].site", desk.site, sites)
        for index, slot in enumerate(self.oncall):
            _known(f"oncall[{index}].site", slot.site, sites)
            _known(f"oncall[{index}].supervisor", slot.supervisor, supervisors)
            for name in slot.backup:
                _known(f"oncall[{index}].backup", name, supervisors)
        for index, supervisor in enumerate(self.supervisors):
            for site in supervisor.sites:
                _known(f"supervisors[{index}].sites", site, sites)
        for index, calendar in enumerate(self.oncall_calendar):
            _known(f"oncall_calendar[{index}].site", calendar.site, sites)
        _unique("oncall_calendar", "site", [c.site for c in self.oncall_calendar])
        _unique("supervisors", "email", [s.email.lower() for s in self.supervisors if s.email])
        return self

    def demo_token_users(
        self, overlay: Mapping[str, tuple[str, str | None]] | None = None
    ) -> list[str]:
        """Ids whose token in force is still the published demo token `demo-<id>`: unsafe on a
        real site. `overlay`: the store's tokens rows (hub/store/tokens.py), whose hash is in
        force instead of hub.toml's while hub.toml keeps the line it was made against (an
        enrolment, a rotation: the demo token is refused then; a revocation: no token)."""
        in_force: dict[str, str | None] = {p.id: p.token_sha256 for p in self.principals()}
        for principal, (base, digest) in (overlay or {}).items():
            if in_force.get(principal) == base:
                in_force[principal] = digest
        return [
            p.id
            for p in self.principals()
            if in_force[p.id] == token_hash(DEMO_TOKEN_PREFIX + p.id)
        ]

    def principals(self) -> list[DeskConfig | SupervisorConfig]:
        return [*self.desks, *self.supervisors]


def _unique(table: str, key: str, values: list[str]) -> None:
    duplicates = [value for value, count in Counter(values).items() if count > 1]
    if duplicates:
        raise refusal("config.twice", table=table, key=key, value=repr(duplicates[0]))


def _known(where: str, value: str, known: set[str]) -> None:
    if value not in known:
        raise refusal(
            "config.unknown_id", where=where, value=repr(value), known=", ".join(sorted(known))
        )


def token_hash(token: str) -> str:
    """The sha256 hex digest the hub keeps instead of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def default_hub_config_path() -> Path:
    return user_config_dir() / "hub.toml"


PUBLIC_URL_ENV = "DESKALERT_PUBLIC_URL"


def load_hub_config(path: Path) -> HubConfig:
    """hub.toml, with this hub's own `public_url` from DESKALERT_PUBLIC_URL when it is set:
    several hubs share one hub.toml, and each is reached at its own address."""
    config = load_toml(path, HubConfig)
    if own := os.environ.get(PUBLIC_URL_ENV, "").strip():
        try:
            hub = HubSection.model_validate({**config.hub.model_dump(), "public_url": own})
        except ValidationError as exc:
            raise ConfigError(
                f"{PUBLIC_URL_ENV}: {describe_config_error(exc, HubSection)}"
            ) from None
        config = config.model_copy(update={"hub": hub})
    return config


class Principal(BaseModel):
    """Who is calling, as told by their token: a desk or a supervisor."""

    id: str
    kind: PrincipalKind
    name: str
    site: str | None = None

    @property
    def is_supervisor(self) -> bool:
        return self.kind is PrincipalKind.SUPERVISOR
