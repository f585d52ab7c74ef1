"""Page sessions ended by a logout: refused on this hub at once, on every hub within a bound.

A page session is a signed cookie (hub/links.py) the hub checks without the store; a logout
must still end it everywhere, or a cookie copied before the logout (a shared phone, a backup of
the browser) keeps working until it expires. So each session has an id, and a logout writes it
in the store's `revoked_sessions` until the cookie's own expiry (rows past it are deleted at
the next logout: the table holds the logouts of the last `page_session_h` hours at most).

The check stays off the store on most requests: this hub keeps the revoked ids in memory. With
SQLite (one hub per file) the memory is the truth once loaded: every logout passes here. With
PostgreSQL (several hubs) a cookie request reloads the ids when the last load started more
than `REVOKED_TTL_S` ago, one load at a time; so a logout answered 204 by one hub is refused by
every other hub from `REVOKED_TTL_S` after it, and the store is read at most once per
`REVOKED_TTL_S` per hub, only while page cookies are used. A load that fails (the database
gone) is a 503 for that request: the hub does not admit a cookie it could not check.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from deskalert.hub.runtime import Runtime

REVOKED_TTL_S = 2.0


class RevokedSessions:
    """The ids of page sessions ended by a logout, as this hub knows them."""

    def __init__(self, runtime: Runtime, ttl_s: float = REVOKED_TTL_S) -> None:
        self.runtime = runtime
        self.clock = runtime.clock
        self.ttl_s = ttl_s
        self._revoked: dict[str, datetime] = {}
        self._loaded_at: float | None = None  # monotonic time the last good load started
        self._loading: asyncio.Task[None] | None = None

    async def revoke(self, session_id: str, expires: datetime) -> None:
        """A logout: stored (every hub will refuse the cookie), then refused here at once."""
        await self.runtime.db(
            self.runtime.store.revoke_session, session_id, expires, self.clock.now()
        )
        self._revoked[session_id] = expires

    async def is_revoked(self, session_id: str) -> bool:
        """Whether a logout ended this session (on any hub, up to `ttl_s` ago)."""
        if self._stale():
            await self._load()
        return session_id in self._revoked

    def _stale(self) -> bool:
        if self._loaded_at is None:
            return True
        return self.runtime.shared and self.clock.monotonic() - self._loaded_at > self.ttl_s

    async def _load(self) -> None:
        """One load at a time: the requests that find the ids stale share it."""
        if self._loading is None or self._loading.done():
            self._loading = asyncio.ensure_future(self._read())
        await asyncio.shield(self._loading)

    async def _read(self) -> None:
        started = self.clock.monotonic()
        now = self.clock.now()
        stored = await self.runtime.db(self.runtime.store.revoked_sessions, now)
        # Kept: what this hub revoked while the read ran; dropped: what has expired.
        self._revoked = {i: e for i, e in {**self._revoked, **stored}.items() if e >= now}
        self._loaded_at = started
