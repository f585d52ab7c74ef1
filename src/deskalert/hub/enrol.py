"""A desk (or a supervisor's machine) joins in one step: a one-time code for an id of the
roster, made on the hub's machine (`deskalert hub enrol guichet-7`), kept hashed in the
database, exchanged once before it expires for a fresh token (`deskalert enrol CODE --hub URL`,
POST /v1/enrol). The token is a row of the tokens table (hub/store/tokens.py) over hub.toml's
line, in force on every hub of the database at once. A code unknown, used or expired is
refused in one line, logged, and counted with the refused tokens (/metrics)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from deskalert.errors import Forbidden
from deskalert.hub.settings import token_hash
from deskalert.models import PrincipalKind

if TYPE_CHECKING:
    from deskalert.hub.service import Hub
    from deskalert.hub.store import Store

log = logging.getLogger("deskalert.hub")
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or typed
CODE_LENGTH = 12  # 59 bits: out of reach of guessing within a code's minutes
REASONS = {
    "unknown": "this enrolment code is unknown: check it, or ask for a new one",
    "used": "this enrolment code was already used: ask the hub's administrator for a new one",
    "expired": "this enrolment code has expired: ask the hub's administrator for a new one",
    "gone": "this enrolment code's desk is no longer in the roster",
}
# A supervisor's phone: a one-time link (`deskalert hub enrol ID --page`) opens the page once
# and sets its session cookie; the token is not touched (the supervisor keeps theirs). Its code
# is hashed in another domain ("page:"), so that a page link is no enrolment code and back.
PAGE_PURPOSE = "page"
PAGE_REASONS = {
    "unknown": "this page link is unknown: ask the hub's administrator for a new one",
    "used": "this page link was already used: ask the hub's administrator for a new one",
    "expired": "this page link has expired: ask the hub's administrator for a new one",
    "gone": "this page link's supervisor is no longer in the roster",
}


class EnrolIn(BaseModel):
    code: str = Field(min_length=4, max_length=64, description="the one-time code")


class EnrolOut(BaseModel):
    id: str = Field(description="the desk's or supervisor's id in the roster")
    kind: PrincipalKind
    name: str
    site: str | None = None
    token: str = Field(description="its new token: keep it secret (the system keyring)")


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def code_hash(code: str, purpose: str = "enrol") -> str:
    """The code as kept: case, spaces and dashes do not matter."""
    plain = "".join(c for c in code.upper() if c.isalnum())
    return hashlib.sha256(f"{purpose}:{plain}".encode()).hexdigest()


def issue(
    store: Store, principal: str, minutes: float, now: datetime, purpose: str = "enrol"
) -> str:
    """A new one-time code for `principal`, valid `minutes` from `now` (stored hashed)."""
    code = new_code()
    store.add_enrolment(code_hash(code, purpose), principal, now + timedelta(minutes=minutes))
    return code


async def redeem(hub: Hub, code: str, address: str) -> EnrolOut:
    """The code spent for a fresh token, in force at once; Forbidden (one line) if not."""
    token = secrets.token_urlsafe(32)
    digest = code_hash(code)

    def base(principal: str) -> str | None:
        found = next((p for p in hub.config.principals() if p.id == principal), None)
        return found.token_sha256 if found is not None else None

    principal, outcome = await hub.runtime.db(
        hub.store.use_enrolment, digest, hub.clock.now(), base, token_hash(token)
    )
    if outcome != "ok":
        hub.roster.token_refused(digest, address)
        log.warning(
            "enrolment refused from %s: %s code%s",
            address,
            outcome,
            f" (for {principal})" if principal else "",
        )
        raise Forbidden(REASONS[outcome], code=f"enrol_{outcome}")
    await hub.follow_tokens()
    who = hub.roster.principal_for(token_hash(token))
    assert who is not None
    log.info("enrolled %s from %s: a new token, in force", who.id, address)
    return EnrolOut(id=who.id, kind=who.kind, name=who.name, site=who.site, token=token)


async def page_link_outcome(hub: Hub, code: str, address: str) -> str:
    """Whether a page link would open the page now ("ok"), without spending it; a refusal is
    logged (the GET of the link: hub/routes/page.py)."""
    principal, outcome = await hub.runtime.db(
        hub.store.enrolment_outcome, code_hash(code, PAGE_PURPOSE), hub.clock.now()
    )
    if outcome == "ok" and principal not in {s.id for s in hub.config.supervisors}:
        outcome = "gone"
    if outcome != "ok":
        _page_refused(hub, code, address, principal, outcome)
    return str(outcome)


async def open_page(hub: Hub, code: str, address: str) -> str:
    """The page link spent: the supervisor whose page it opens; Forbidden (one line) if it
    is unknown, used, expired or its supervisor gone (logged, counted as a refused token)."""
    supervisors = {s.id: s.token_sha256 for s in hub.config.supervisors}
    principal, outcome = await hub.runtime.db(
        hub.store.use_enrolment,
        code_hash(code, PAGE_PURPOSE),
        hub.clock.now(),
        supervisors.get,
        None,
    )
    if outcome != "ok" or principal is None:
        _page_refused(hub, code, address, principal, outcome)
        raise Forbidden(PAGE_REASONS[outcome], code=f"page_link_{outcome}")
    log.info("page link of %s opened from %s: a page session, once", principal, address)
    return str(principal)


def _page_refused(hub: Hub, code: str, address: str, principal: str | None, why: str) -> None:
    hub.roster.token_refused(code_hash(code, PAGE_PURPOSE), address)
    who = f" (for {principal})" if principal else ""
    log.warning("page link refused from %s: %s link%s", address, why, who)
