"""An agent's phone session: the signed cookie of the agents' page (/page/agent/).

An agent's phone is a desk of the roster (`[[desks]]`), its own entry or a desk's: the page
acts with that desk's rights and nothing more (the routes check the principal's kind, as for a
bearer token). It gets its session from a one-time link (`deskalert hub enrol ID --phone`): a
code of the enrolments table (hub/enrol.py) hashed in its own domain ("phone:"), so a phone
link is no workstation's enrolment code nor a supervisor's page link, and back. Spending it
touches no token: the desk's workstation, if it has one, keeps working.

The cookie is the supervisors' session cookie (hub/links.py) with another version mark, so one
phone holds one session, and every check of a page session applies:

- signed with the hub's secret (`page.secret`), so nobody forges one;
- over the desk's token hash in force (hub.toml's, or the store's row over it): `deskalert hub
  token revoke ID` (or `rotate`, or a new enrolment of the desk) ends the phones' sessions of
  that desk on every hub;
- an expiry of `phone_session_days` (an agent on a home visit must not find the page logged
  out: 30 days by default);
- a random session id, which a logout stores as revoked (hub/page_sessions.py).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from deskalert.errors import Forbidden
from deskalert.hub.enrol import code_hash
from deskalert.hub.links import SESSION_ID_BYTES, expiry_ahead, mac, same_mac
from deskalert.hub.roster import Roster, effective_hash
from deskalert.hub.settings import HubConfig

if TYPE_CHECKING:
    from deskalert.hub.service import Hub

log = logging.getLogger("deskalert.hub")
AGENT_VERSION = "a1"
PHONE_PURPOSE = "phone"
PHONE_REASONS = {
    "unknown": "this phone link is unknown: ask the hub's administrator for a new one",
    "used": "this phone link was already used: ask the hub's administrator for a new one",
    "expired": "this phone link has expired: ask the hub's administrator for a new one",
    "gone": "this phone link's desk is no longer in the roster",
}


@dataclass(frozen=True)
class AgentGrant:
    """What a valid agent cookie allows: the page as this desk, until `expires`."""

    desk_id: str
    expires: datetime
    session_id: str


def is_agent_session(value: str) -> bool:
    return value.startswith(AGENT_VERSION + ":")


async def spend_phone_link(hub: Hub, code: str, address: str) -> str:
    """The phone link's code spent, once, before it expires: the desk it enrols; Forbidden
    (one line) if unknown, used, expired or its desk gone (logged, counted as a refused
    token). No token changes."""
    digest = code_hash(code, PHONE_PURPOSE)

    def base(desk_id: str) -> str | None:
        desk = hub.roster.desks.get(desk_id)
        return desk.token_sha256 if desk is not None else None

    desk_id, outcome = await hub.runtime.db(
        hub.store.use_enrolment, digest, hub.clock.now(), base, None
    )
    if outcome != "ok" or desk_id is None:
        hub.roster.token_refused(digest, address)
        who = f" (for {desk_id})" if desk_id else ""
        log.warning("phone link refused from %s: %s link%s", address, outcome, who)
        raise Forbidden(PHONE_REASONS[outcome], code=f"phone_link_{outcome}")
    log.info("phone link of %s opened from %s: a phone session, once", desk_id, address)
    return desk_id


def agent_grant(config: HubConfig, desk_id: str, now: datetime) -> AgentGrant:
    """A new session for `desk_id`, for `phone_session_days`."""
    expires = now + timedelta(days=config.hub.phone_session_days)
    return AgentGrant(desk_id, expires, secrets.token_urlsafe(SESSION_ID_BYTES))


def new_agent_session(config: HubConfig, roster: Roster, grant: AgentGrant) -> str:
    """The cookie's value for `grant`, signed over the desk's token hash in force."""
    digest = _desk_hash(roster, grant.desk_id)
    if digest is None:
        raise ValueError(f"desk {grant.desk_id!r} is unknown or its token is revoked")
    fields = [str(int(grant.expires.timestamp())), grant.session_id]
    signature = mac(config, "agent", grant.desk_id, digest, *fields)
    return ":".join([AGENT_VERSION, grant.desk_id, *fields, signature])


def read_agent_session(
    config: HubConfig, roster: Roster, value: str, now: datetime
) -> AgentGrant | None:
    """The grant an agent cookie carries, or None: tampered, expired, its desk gone from the
    roster, or its token revoked or replaced since."""
    parts = value.split(":")
    if len(parts) != 5 or parts[0] != AGENT_VERSION:
        return None
    _, desk_id, expires, session_id, signature = parts
    digest = _desk_hash(roster, desk_id)
    when = expiry_ahead(expires, now)
    if digest is None or when is None:
        return None
    if not same_mac(signature, mac(config, "agent", desk_id, digest, expires, session_id)):
        return None
    return AgentGrant(desk_id, when, session_id)


def _desk_hash(roster: Roster, desk_id: str) -> str | None:
    desk = roster.desks.get(desk_id)
    if desk is None:
        return None
    return effective_hash(desk.id, desk.token_sha256, roster.overlay)
