"""What a hub's answer or its silence means, as one typed error of one line (errors.py).

The error mapping of the client (api.py): a non-2xx answer, a transport failure, every hub
down, and the one-line description of an answer that is not the hub's.
"""

from __future__ import annotations

import re

import httpx

from deskalert.errors import (
    Conflict,
    DeskAlertError,
    Forbidden,
    HubError,
    HubIncompatible,
    HubTimeout,
    HubUnreachable,
    NotFound,
    RateLimited,
    ServerError,
    StoreUnavailable,
    Unauthorized,
    Unprocessable,
)
from deskalert.text import strip_control

ERRORS_BY_STATUS: dict[int, type[HubError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Unprocessable,
    429: RateLimited,
    503: StoreUnavailable,
}


def hub_error(response: httpx.Response) -> HubError | HubIncompatible:
    """The error for a non-2xx answer. A 4xx that is not the hub's `{"error", "detail"}` (a
    proxy's page) is HubIncompatible; 401 is always a refused token; any 5xx a hub error."""
    try:
        body = response.json() if is_json(response) else None
    except ValueError:
        body = None
    status = response.status_code
    if not isinstance(body, dict) or "detail" not in body:
        if status != 401 and status < 500:
            return HubIncompatible(describe_answer(response))
        body = {"error": "http_error", "detail": f"HTTP {status} ({content_type(response)})"}
    error_class = ERRORS_BY_STATUS.get(status, ServerError if status >= 500 else HubError)
    error = error_class(
        strip_control(str(body["detail"])),
        code=str(body.get("error", "http_error")),
        state=body.get("state"),
    )
    error.status = response.status_code
    if isinstance(error, RateLimited):
        error.retry_after_s = _retry_after_s(response.headers.get("Retry-After"))
    return error


def _retry_after_s(value: str | None) -> float:
    """Retry-After in seconds (the hub sends seconds; a date or garbage counts as 1 s)."""
    try:
        return min(60.0, max(0.0, float(value or "1")))
    except ValueError:
        return 1.0


def all_down(errors: list[DeskAlertError]) -> DeskAlertError:
    """The first hub's error; with several hubs all unreachable, one that names each."""
    first = errors[0]
    if len(errors) > 1 and all(type(e) in (HubUnreachable, HubTimeout) for e in errors):
        return type(first)(f"no hub answered: {'; '.join(str(e) for e in errors)}")
    return first


def unreachable(base_url: str, exc: httpx.HTTPError) -> HubUnreachable:
    """A transport failure, named: a timeout is not a refused connection."""
    if isinstance(exc, httpx.TimeoutException):
        return HubTimeout(f"hub {base_url}: no answer in time ({_transport_reason(exc)})")
    return HubUnreachable(f"hub {base_url} unreachable: {_transport_reason(exc)}")


TRANSPORT_WORDS = {
    "ConnectError": "no connection (refused, or no route to the host)",
    "ConnectTimeout": "no connection within the timeout",
    "ReadTimeout": "connected, but no answer within the timeout",
    "WriteTimeout": "the request could not be sent within the timeout",
    "PoolTimeout": "too many requests waiting",
    "ReadError": "the connection broke while reading the answer",
    "WriteError": "the connection broke while sending",
    "RemoteProtocolError": "the connection closed before a complete answer",
}


def _transport_reason(exc: httpx.HTTPError) -> str:
    """What happened in words, and the system's own reason when there is one (errno text)."""
    words = TRANSPORT_WORDS.get(exc.__class__.__name__, exc.__class__.__name__)
    detail = " ".join(str(exc).split())
    return f"{words}: {detail}" if detail and detail not in words else words


def describe_answer(response: httpx.Response) -> str:
    """One line on what answered: the request, the status, the content type, an HTML title."""
    request = response.request
    status = f"HTTP {response.status_code} {content_type(response)}"
    line = f"{request.method} {request.url.path}: {status}"
    if "html" in content_type(response):
        title = re.search(r"<title[^>]*>(.*?)</title>", response.text, re.S | re.I)
        if title and (words := " ".join(strip_control(title.group(1)).split())):
            line += f" « {words[:60]} »"
    return line


def content_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "no content type")
    return value.split(";")[0].strip()


def is_json(response: httpx.Response) -> bool:
    return "json" in content_type(response)
