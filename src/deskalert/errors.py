"""Errors of deskalert, one subclass per area.

    DeskAlertError                 base: a message meant for a person, one line
    ├── ConfigError                a config file (hub.toml, config.toml) is wrong: file, key, what
    ├── HubUnreachable             no usable answer from the hub: network down, hub stopped
    │   ├── HubTimeout             no answer in time (connect or read timeout, a silent stream)
    │   └── HubIncompatible        an answer that is not the hub's: a proxy's HTML page (even with
    │                              200), JSON of another shape (an older or newer hub), no stream
    └── HubError                   the hub refused a request; carries the HTTP status and error code
        ├── Unauthorized           401: no token, or a token the hub does not know
        ├── NotFound               404
        ├── Forbidden              403: the caller may not do this (code `outside_site_network`:
        │                          a desk token from outside its site's networks)
        ├── Conflict               409: not allowed from the alert's current state
        ├── Unprocessable          422: well-formed but meaningless (unknown code, past time)
        ├── RateLimited            429: a desk's burst of new alerts, any identity's burst of
        │                               other requests, or an address's burst of refused ones;
        │                               retry after retry_after_s
        ├── StoreUnavailable       503: the database cannot be written (disk full, read-only)
        └── ServerError            any other 5xx (500, 502, 504...): the hub or a gateway failed

HubUnreachable and its subclasses, 5xx and 408/429 are worth retrying (the outbox does); every
other HubError will be answered the same way again.
"""

from __future__ import annotations


class DeskAlertError(Exception):
    """Base of every error deskalert raises on purpose; its text is shown as is."""


class ConfigError(DeskAlertError):
    """A configuration file cannot be used; the message names the file and the key."""


class HubUnreachable(DeskAlertError):
    """The hub did not answer (network down, hub stopped)."""


class HubTimeout(HubUnreachable):
    """The hub did not answer in time, or its stream went silent."""


class HubIncompatible(HubUnreachable):
    """Something answered, but not as the hub does; the message describes it in one line.

    A subclass of HubUnreachable: no hub answer came through, so whatever was being sent is
    retried (a proxy's login page in front of the hub goes away once someone logs in).
    """


class HubError(DeskAlertError):
    """A request the hub refuses, answered as `{"error": code, "detail": message}`."""

    status = 400
    code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, state: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.state = state
        if code is not None:
            self.code = code


class Unauthorized(HubError):
    status = 401
    code = "unauthorized"


class NotFound(HubError):
    status = 404
    code = "not_found"


class Forbidden(HubError):
    status = 403
    code = "forbidden"


OUTSIDE_SITE_NETWORK = "outside_site_network"  # a 403's code: the desk's address is fenced out


def is_outside_site_network(error: DeskAlertError | None) -> bool:
    """The hub refuses this desk where it calls from: not an outage, nothing goes until fixed."""
    return isinstance(error, HubError) and error.code == OUTSIDE_SITE_NETWORK


class Conflict(HubError):
    status = 409
    code = "conflict"


class Unprocessable(HubError):
    status = 422
    code = "invalid"


class RateLimited(HubError):
    """Too many new alerts from one desk, requests from one identity, or refused requests
    (no token, a refused one) from one address, in a burst: try again after `retry_after_s`."""

    status = 429
    code = "rate_limited"
    retry_after_s: float = 1.0


class StoreUnavailable(HubError):
    status = 503
    code = "store_unavailable"


class ServerError(HubError):
    status = 500
    code = "server_error"
