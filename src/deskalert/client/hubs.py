"""Several hubs on one database: which one a client uses now, and which failures move it on.

`[hub] urls = [...]` in config.toml lists hubs that serve the same event log (the same database:
the same event ids and the same epoch), in order of preference. A client uses the first that
answers and stays on it (no flapping): it tries another hub only when the one in use fails, and
then goes through the others in the listed order, so an earlier hub is tried again first.

There is no return by time alone. Every hub serves the same log, so being on hub 2 costs nothing
but the words "via hub 2" on the desk; going back on a timer would reopen the stream for nothing
and, while hub 1 is still behind a firewall that drops packets, make an alert wait for a connect
timeout. A desk comes back to hub 1 when hub 2 fails, or when it restarts.

What counts as "this hub is down, try the next" (`is_outage`): no connection, a reset, a timeout,
an answer that is not the hub's (a proxy's HTML page, anything but JSON), 502, 503 and 504; a
hub whose `/healthz` says 503 (degraded: its database unreachable) is used only if no other hub
says 200. JSON of another shape (a hub of another version) is read after the request, as a
HubIncompatible of that request: it is not a reason to move.
Any other answer is the hub's answer and another hub would give the same: a refused token (401)
is not an outage, nor a 403, 404, 409, 422 or 429, nor a 500 (a bug of the hub, not its absence).

`Hubs` is plain state shared by one process's clients (HubClient and the event follower), so
that a request made after the stream moved to hub 2 goes to hub 2 first.
"""

from __future__ import annotations

from collections.abc import Sequence

from deskalert.errors import DeskAlertError, HubError, HubUnreachable

OUTAGE_STATUSES = frozenset({502, 503, 504})


def is_outage(error: DeskAlertError) -> bool:
    """True when `error` says the hub is not there to answer (worth trying another hub)."""
    if isinstance(error, HubUnreachable):
        return True
    return isinstance(error, HubError) and error.status in OUTAGE_STATUSES


class Hubs:
    """The hub URLs in order of preference, and the index of the one in use."""

    def __init__(self, urls: str | Sequence[str]) -> None:
        listed = [urls] if isinstance(urls, str) else list(urls)
        if not listed:
            raise ValueError("no hub URL")
        self.urls = [url.rstrip("/") for url in listed]
        self.current = 0

    @classmethod
    def of(cls, hubs: str | Sequence[str] | Hubs) -> Hubs:
        """`hubs` itself if already shared, else a new list from one URL or several."""
        return hubs if isinstance(hubs, Hubs) else cls(hubs)

    def order(self) -> list[int]:
        """The hubs to try, by index: the one in use first, then the others as listed."""
        return [self.current, *(i for i in range(len(self.urls)) if i != self.current)]

    def settle(self, index: int) -> None:
        """Hub `index` answered: use it first from now on."""
        self.current = index

    @property
    def url(self) -> str:
        """The URL of the hub in use."""
        return self.urls[self.current]

    @staticmethod
    def number(index: int) -> int:
        """The hub's number as people read it: 1 for the first listed."""
        return index + 1
