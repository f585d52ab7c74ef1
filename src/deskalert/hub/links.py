"""Answer links and page sessions: signed grants the hub checks without storing them.

An answer link (`answer_url`) opens the supervisors' page on one alert; a session is the cookie
the page gets after a login. Both are a few fields and an HMAC-SHA256 over them with:

- the hub's secret: 32 random bytes in `<data dir>/page.secret` (0600), made at first start and
  loaded by `create_app`; without it nobody can forge a grant (unguessable);
- the supervisor's token hash in force: hub.toml's, or the store's row over it (a rotation, an
  enrolment: hub/store/tokens.py). A session follows it: `deskalert hub token rotate ID` (or
  `revoke`, or a new enrolment, or a new hash in hub.toml) ends every session they hold, on every
  hub. An answer link is signed over hub.toml's hash (it is planned where the store's rows are
  not at hand), lives `answer_link_h` hours, and is refused once their token is revoked;
- an expiry (`answer_link_h`, `page_session_h` in `[hub]`), and for a link its alert: a link
  works for that supervisor and that alert only, and so does the session it opens.

Why stateless and not a sessions table: revocation is by token (the one lever the roster
already has), and the hub's store stays the alerts' store; deleting `page.secret` and
restarting revokes every grant of every supervisor at once. The one thing stored is the end of
a session before its expiry: each session has a random id in its cookie, and a logout writes
that id in the store's `revoked_sessions` until the cookie would have expired
(hub/page_sessions.py), so a cookie copied before the logout is refused on every hub.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from uuid import UUID

from deskalert.hub.settings import HubConfig, SupervisorConfig

SECRET_NAME = "page.secret"
SECRET_BYTES = 32
SESSION_VERSION = "v2"  # v1 cookies had no session id (a logout could not revoke them)
SESSION_ID_BYTES = 12


@dataclass(frozen=True)
class Grant:
    """What a valid link or session allows: this supervisor, on one alert or on the page."""

    supervisor_id: str
    alert_id: UUID | None  # None: the whole page; else that alert only
    expires: datetime
    session_id: str | None = None  # a session's own id (a logout revokes it); None: a link


def install_secret(config: HubConfig, data_dir: Path) -> None:
    """Load (or make, 0600) the hub's link secret and attach it to `config`."""
    config._link_secret = load_secret(data_dir / SECRET_NAME)


def load_secret(path: Path) -> bytes:
    """The secret in `path`, created with 32 random bytes (mode 0600) if it does not exist."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        secret = path.read_bytes()
        if len(secret) >= SECRET_BYTES:
            return secret
        raise OSError(
            f"{path}: the page secret is shorter than {SECRET_BYTES} bytes;"
            " delete it to make a new one (every link and session is revoked)"
        ) from None
    with os.fdopen(fd, "wb") as file:
        secret = secrets.token_bytes(SECRET_BYTES)
        file.write(secret)
        file.flush()
        os.fsync(file.fileno())
    return secret


# Several hubs: a notification is planned by the hub that commits the event and sent later by
# the leading hub, which may be another one by then (the first one killed). Its link is planned
# with this mark for the hub's address, and the hub that sends it writes its own `public_url`
# there (`with_sender_address`): a link names the hub that was alive to send it.
SENDER_ADDRESS = "@deskalert-hub@"


def answer_url(
    config: HubConfig, supervisor_id: str, alert_id: UUID, now: datetime, *, base: str | None = None
) -> str | None:
    """The link that opens the page on `alert_id` for `supervisor_id`; None without
    `[hub] public_url` (the hub does not know how phones reach it). `base` replaces
    `public_url` in the link (`SENDER_ADDRESS` for a notification)."""
    if config.hub.public_url is None:
        return None
    supervisor = _supervisor(config, supervisor_id)
    if supervisor is None:
        raise ValueError(f"unknown supervisor {supervisor_id!r}")
    expires = int((now + timedelta(hours=config.hub.answer_link_h)).timestamp())
    mac = _mac(config, supervisor, "link", str(alert_id), str(expires))
    return (
        f"{base or config.hub.public_url}/page/a/{alert_id}"
        f"?s={quote(supervisor_id, safe='')}&e={expires}&k={mac}"
    )


def with_sender_address(text: str, public_url: str | None) -> str:
    """A planned message with the sending hub's address in its links; without a `public_url`
    on this hub, its links are left out (a link to nowhere would be worse than none)."""
    if SENDER_ADDRESS not in text:
        return text
    if public_url:
        return text.replace(SENDER_ADDRESS, public_url)
    return "\n".join(line for line in text.split("\n") if SENDER_ADDRESS not in line)


# Who has which token hash in force (hub.toml's, or the store's row over it; None: revoked or
# gone): `Roster.token_in_force`, handed in so that this module needs no roster.
InForce = Callable[[str], str | None]


def verify_link(
    config: HubConfig,
    alert_id: UUID,
    supervisor_id: str,
    expires: str,
    mac: str,
    now: datetime,
    in_force: InForce,
) -> Grant | None:
    """The grant of an answer link's fields, or None: tampered, expired, or revoked (the
    supervisor gone from the roster, or their token revoked in the store)."""
    supervisor = _supervisor(config, supervisor_id)
    when = expiry_ahead(expires, now)
    if supervisor is None or when is None or in_force(supervisor_id) is None:
        return None
    if not same_mac(mac, _mac(config, supervisor, "link", str(alert_id), expires)):
        return None
    return Grant(supervisor.id, alert_id, when)


def new_session(config: HubConfig, grant: Grant, in_force: InForce) -> str | None:
    """The session cookie's value for `grant`, with a new random session id, signed over the
    supervisor's token hash in force; None if they have none (gone, or their token revoked)."""
    digest = in_force(grant.supervisor_id)
    if digest is None:
        return None
    session_id = secrets.token_urlsafe(SESSION_ID_BYTES)  # base64url: never a ':'
    fields = [str(grant.alert_id or "-"), str(int(grant.expires.timestamp())), session_id]
    signature = mac(config, "session", grant.supervisor_id, digest, *fields)
    return ":".join([SESSION_VERSION, grant.supervisor_id, *fields, signature])


def read_session(config: HubConfig, value: str, now: datetime, in_force: InForce) -> Grant | None:
    """The grant a session cookie carries, or None: tampered, expired, or its supervisor's
    token revoked or replaced since (in hub.toml or in the store); a logout's revocation is
    the store's (hub/page_sessions.py)."""
    parts = value.split(":")
    if len(parts) != 6 or parts[0] != SESSION_VERSION:
        return None
    _, supervisor_id, scope, expires, session_id, signature = parts
    digest = in_force(supervisor_id)
    when = expiry_ahead(expires, now)
    if digest is None or when is None:
        return None
    fields = (scope, expires, session_id)
    if not same_mac(signature, mac(config, "session", supervisor_id, digest, *fields)):
        return None
    try:
        alert_id = None if scope == "-" else UUID(scope)
    except ValueError:
        return None
    return Grant(supervisor_id, alert_id, when, session_id)


def session_grant(config: HubConfig, supervisor_id: str, now: datetime) -> Grant:
    """A login with the token: the whole page, for `page_session_h`."""
    return Grant(supervisor_id, None, now + timedelta(hours=config.hub.page_session_h))


def _supervisor(config: HubConfig, supervisor_id: str) -> SupervisorConfig | None:
    return next((s for s in config.supervisors if s.id == supervisor_id), None)


def expiry_ahead(expires: str, now: datetime) -> datetime | None:
    """The expiry as a date if it is a plain number of seconds still ahead of `now`."""
    if not (expires.isascii() and expires.isdigit() and len(expires) <= 11):
        return None
    when = datetime.fromtimestamp(int(expires), UTC)
    return when if when > now else None


def same_mac(given: str, expected: str) -> bool:
    """A MAC as sent equals the one computed, in constant time; one with a non-ASCII character
    is simply wrong (`hmac.compare_digest` raises on non-ASCII text: a 500 before)."""
    return given.isascii() and hmac.compare_digest(given, expected)


def _mac(config: HubConfig, supervisor: SupervisorConfig, kind: str, *fields: str) -> str:
    return mac(config, kind, supervisor.id, supervisor.token_sha256, *fields)


def mac(config: HubConfig, kind: str, principal: str, token_sha256: str, *fields: str) -> str:
    """The signature of a grant of `kind` for `principal`, over its token hash and `fields`
    (an agent's phone session signs with its desk's: hub/agent_links.py)."""
    secret = config._link_secret
    if secret is None:
        raise RuntimeError("the hub's page secret is not loaded (create_app loads it)")
    message = "\n".join([kind, principal, token_sha256, *fields]).encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
