"""Who is who, from hub.toml: principals by token, sites, desks, codes, networks.

The roster answers "who is calling", "may they call from there" and "which sites may they
see"; it remembers the tokens and desks it refused lately (hub/refused.py) for supervisors.
Shared by every component; a reload (hub/roster_swap.py) indexes the new roster in place.
"""

from __future__ import annotations

from deskalert.errors import Forbidden, NotFound
from deskalert.hub.clock import Clock
from deskalert.hub.one_roster import legacy_fingerprint, roster_fingerprint
from deskalert.hub.refused import RefusedDesks, RefusedTokens
from deskalert.hub.settings import HubConfig, Principal
from deskalert.hub.store.tokens import Overlay
from deskalert.models import Alert, PrincipalKind, RefusedDesk, RefusedToken


class Roster:
    """The roster of hub.toml, indexed, and the refusals it made lately."""

    def __init__(self, config: HubConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self._refused = RefusedTokens()
        self._outside = RefusedDesks()
        self.overlay: Overlay = {}  # tokens revoked or rotated in the store (store/tokens.py)
        self.reindex(config)

    def reindex(self, config: HubConfig) -> None:
        """What is looked up by id, from `config`: at start and after each reload."""
        self.sites = {s.id: s for s in config.sites}
        self.codes = {c.code: c for c in config.codes}
        self.desks = {d.id: d for d in config.desks}
        self.site_ids = [s.id for s in config.sites]
        self._principals = _principals_by_token_hash(config, self.overlay)
        self.fingerprint = roster_fingerprint(config)
        self._older_fingerprint = legacy_fingerprint(config)

    def is_ours(self, fingerprint: str | None) -> bool:
        """Whether the database's roster `fingerprint` is this one (hub/one_roster.py: also
        in the form older hubs write)."""
        return fingerprint in (self.fingerprint, self._older_fingerprint)

    def take_overlay(self, overlay: Overlay) -> set[str]:
        """Tokens revoked or rotated in the store, in force from now; the ids whose token
        changed (their open streams end: the reconnection says 401 or goes on with the new)."""
        before = {p.id: digest for digest, p in self._principals.items()}
        self.overlay = overlay
        self._principals = _principals_by_token_hash(self.config, overlay)
        after = {p.id: digest for digest, p in self._principals.items()}
        return {who for who in before if before[who] != after.get(who)}

    def token_in_force(self, principal_id: str) -> str | None:
        """The hash of the token `principal_id` has now: hub.toml's, or the store's row over
        it; None if it is revoked or the id is not in the roster (hub/links.py signs with it)."""
        found = next((p for p in self.config.principals() if p.id == principal_id), None)
        if found is None:
            return None
        return effective_hash(found.id, found.token_sha256, self.overlay)

    def principal_for(self, token_sha256: str) -> Principal | None:
        return self._principals.get(token_sha256)

    def token_refused(self, token_sha256: str, address: str) -> None:
        """An unknown token from `address`: remembered and logged once a minute."""
        self._refused.refused(token_sha256, address, self.clock.now())

    def token_accepted(self, principal: Principal, address: str) -> None:
        self._refused.accepted(principal.id, address)

    def check_network(self, principal: Principal, address: str, request: str) -> None:
        """A desk token from outside its site's networks is refused (403), remembered and
        logged once a minute; a site that lists no networks admits any address."""
        if principal.is_supervisor or principal.site is None:
            return
        site = self.sites[principal.site]
        if site.admits(address):
            return
        self._outside.refused(
            principal.id, principal.name, site.id, address, request, self.clock.now()
        )
        raise Forbidden(
            f"desk {principal.id} calls from {address}, outside the networks of site {site.id}"
            f" ({', '.join(site.networks)}): refused, and shown to supervisors",
            code="outside_site_network",
        )

    def refusals(self) -> tuple[int, int]:
        """Refusals since start: (unknown tokens, desks outside their networks)."""
        return self._refused.total, self._outside.total

    def refused_tokens(self) -> list[RefusedToken]:
        return self._refused.recent(self.clock.now())

    def refused_desks(self, sites: set[str] | None) -> list[RefusedDesk]:
        return self._outside.recent(self.clock.now(), sites)

    def visible_sites(self, principal: Principal, site: str | None) -> set[str] | None:
        """Sites the caller asks for and may see: a desk sees its own site only."""
        if site is not None and site not in self.site_ids:
            raise NotFound(f"unknown site {site!r}", code="unknown_site")
        if principal.is_supervisor:
            return {site} if site else None
        if site is not None and site != principal.site:
            raise Forbidden(f"desk {principal.id} sees only its own site {principal.site!r}")
        assert principal.site is not None
        return {principal.site}

    def check_visible(self, principal: Principal, alert: Alert) -> None:
        if not principal.is_supervisor and alert.site != principal.site:
            raise Forbidden(f"alert {alert.id} belongs to another site")


def _principals_by_token_hash(config: HubConfig, overlay: Overlay) -> dict[str, Principal]:
    """Each principal by the hash of its token: hub.toml's, or the store's row over it while
    hub.toml still has the hash that row was made against (none: revoked)."""
    principals: dict[str, Principal] = {}
    for d in config.desks:
        digest = effective_hash(d.id, d.token_sha256, overlay)
        if digest is not None:
            principals[digest] = Principal(
                id=d.id, kind=PrincipalKind.DESK, name=d.label, site=d.site
            )
    for s in config.supervisors:
        digest = effective_hash(s.id, s.token_sha256, overlay)
        if digest is not None:
            principals[digest] = Principal(id=s.id, kind=PrincipalKind.SUPERVISOR, name=s.name)
    return principals


def effective_hash(principal: str, file_hash: str, overlay: Overlay) -> str | None:
    row = overlay.get(principal)
    if row is None or row[0] != file_hash:
        return file_hash
    return row[1]
