"""What one client on the network may hold of the hub's connections.

uvicorn has no deadline for a request's head: a client that sends half a request, or one byte
every few seconds, keeps its socket forever, and about a thousand of them exhaust the file limit
systemd gives a service, after which no desk can raise an alert. `GuardedProtocol` is uvicorn's
httptools protocol (uvloop and httptools stay: the fan-out is benchmarked) with:

- a deadline for each request's head and body (`request_timeout_s`), counted from the opening
  of the connection, or from the first byte of the next request on a keep-alive connection;
- a cap of open connections per client address (`max_connections_per_address`), the
  `trusted_addresses` excepted; a connection over it is dropped at once;
- a budget of open connections taken from the file limit: past it, the oldest connection that
  is waiting for a request is closed to make room, so sockets alone never reach EMFILE; one
  that has not yet been answered goes before a client's keep-alive (a desk between beats);
- a response that cannot be written for `stall_timeout_s` (its reader stopped reading, the
  kernel's buffers and ours are full) is aborted;
- a request head (request line and headers) over `MAX_HEAD_BYTES` is answered 431 and the
  connection closed: httptools and uvicorn grow an unfinished head by concatenation, so one
  endless header otherwise kept the loop busy for every other client until the deadline;
- at most `MAX_PIPELINED` requests wait behind the one being answered on a connection (HTTP
  pipelining): one more drops the connection, instead of queueing thousands of requests of a
  client that never reads its answers (~2 KB each, never given back);
- `abort()` for the application, in the ASGI scope's extension `deskalert.connection`.

Each limit that bites is logged by `LimitLog`: one line at once, then at most one line per
interval and limit, with how many times it bit meanwhile; never one line per socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from deskalert.hub.settings import HubSection

log = logging.getLogger("deskalert.hub")
CONNECTION_EXTENSION = "deskalert.connection"
LOG_EVERY_S = 10.0
SHUTDOWN_GRACE_S = 0.5
SEND_BUFFER_BYTES = 256 * 1024
MAX_HEAD_BYTES = 32 * 1024  # nginx's default (4 x 8 KiB); a desk's head is ~300 bytes
MAX_PIPELINED = 16  # no client of the hub pipelines (httpx, browsers); 16 is generous
HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%b"
)
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class LimitLog:
    """One warning when a limit first bites, then at most one per `every_s` with a count."""

    def __init__(self, every_s: float = LOG_EVERY_S) -> None:
        self.every_s = every_s
        self._last: dict[str, float] = {}
        self._count: Counter[str] = Counter()

    def hit(self, limit: str, message: str, *args: Any) -> None:
        self._count[limit] += 1
        now = time.monotonic()
        last = self._last.get(limit)
        if last is not None and now - last < self.every_s:
            return
        self._last[limit] = now
        count = self._count.pop(limit)
        log.warning(
            "limit %s: " + message + " (%d time(s) since the last such line)", limit, *args, count
        )


@dataclass
class ConnectionLimits:
    request_timeout_s: float
    max_per_address: int
    trusted: list[IpNetwork]
    max_open: int
    stall_timeout_s: float

    @classmethod
    def from_config(cls, hub: HubSection, max_open: int) -> ConnectionLimits:
        return cls(
            request_timeout_s=hub.request_timeout_s,
            max_per_address=hub.max_connections_per_address,
            trusted=[ipaddress.ip_network(a, strict=False) for a in hub.trusted_addresses],
            max_open=max_open,
            stall_timeout_s=3 * hub.heartbeat_s,
        )

    def is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)


@dataclass(eq=False)
class ConnectionGuard:
    """Shared by every connection of one server: counts per address, and the connections
    waiting for a request (the ones to close first when the budget runs out), each with
    whether it was answered before (a keep-alive: closed only once no other is left)."""

    limits: ConnectionLimits
    limit_log: LimitLog = field(default_factory=LimitLog)
    per_address: Counter[str] = field(default_factory=Counter)
    waiting: dict[GuardedProtocol, bool] = field(default_factory=dict)
    open: set[GuardedProtocol] = field(default_factory=set)

    def admit(self, connection: GuardedProtocol, address: str) -> bool:
        limits = self.limits
        if self.per_address[address] >= limits.max_per_address and not limits.is_trusted(address):
            self.limit_log.hit(
                "max_connections_per_address",
                "refused a connection from %s, which already holds %d (trusted_addresses "
                "are exempt)",
                address,
                limits.max_per_address,
            )
            return False
        if len(self.open) >= limits.max_open and not self._make_room():
            self.limit_log.hit(
                "open_files",
                "refused a connection from %s: %d open, all busy (raise LimitNOFILE)",
                address,
                len(self.open),
            )
            return False
        self.per_address[address] += 1
        self.open.add(connection)
        self.waiting[connection] = False
        return True

    def _make_room(self) -> bool:
        """Close the oldest connection that waits for a request, one never answered first;
        False if there is none."""
        never_answered = (c for c, answered in self.waiting.items() if not answered)
        for oldest in itertools.chain(never_answered, self.waiting):
            self.limit_log.hit(
                "open_files",
                "%d connections open, near the file limit: closed "
                "the oldest one waiting for a request",
                len(self.open),
            )
            self.release(oldest)
            oldest.abort()
            return True
        return False

    def release(self, connection: GuardedProtocol) -> None:
        if connection not in self.open:
            return
        self.open.discard(connection)
        self.waiting.pop(connection, None)
        address = connection.address
        self.per_address[address] -= 1
        if self.per_address[address] <= 0:
            del self.per_address[address]

    def set_waiting(self, connection: GuardedProtocol, waiting: bool) -> None:
        self.waiting.pop(connection, None)
        if waiting and connection in self.open:
            self.waiting[connection] = True  # re-inserted last: the newest keep-alive


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the guard's deadlines and caps (see the module)."""

    guard: ClassVar[ConnectionGuard]
    address = ""
    _deadline: asyncio.TimerHandle | None = None
    _stall: asyncio.TimerHandle | None = None
    _in_head = False  # a request began and its head is not complete yet
    _head_bytes = 0  # bytes received since it began (at most one chunk more than its head)
    _refused = False  # the guard closes this connection: what is still parsed is ignored
    _answering: RequestResponseCycle | None = None  # the request whose answer is under way

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.address = self.client[0] if self.client else ""
        if not self.guard.admit(self, self.address):
            transport.abort()
            return
        _limit_send_buffer(transport)
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        self._tell_lost()
        self.guard.release(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._in_head and not self._refused:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._head_too_large()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0
        self.scope["extensions"] = {CONNECTION_EXTENSION: {"abort": self.abort}}
        if self._deadline is None:
            self._arm_deadline()

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self._refused:
            return
        if len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers) > MAX_HEAD_BYTES:
            self._head_too_large()  # a whole head that came in one chunk
            return
        if len(self.pipeline) >= MAX_PIPELINED:
            self._pipeline_too_deep()
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        super().on_message_complete()
        self._cancel_deadline()
        self.guard.set_waiting(self, False)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self.guard.set_waiting(self, True)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stall is None:
            self._stall = self.loop.call_later(self.guard.limits.stall_timeout_s, self._stalled)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def abort(self) -> None:
        """Drop the connection now, whatever is still buffered (the reader may never read it).

        The request being answered (and those queued behind it) are told at once: uvloop calls
        `connection_lost` only on the loop's next turn, and a write in between raised
        RuntimeError (a 500 and a traceback in the log for every connection dropped)."""
        self._tell_lost()
        self.transport.abort()

    def _tell_lost(self) -> None:
        """Every request of this connection not yet answered stops writing (uvicorn's own
        `connection_lost` tells only `self.cycle`, the newest request parsed)."""
        queued = [cycle for cycle, _ in self.pipeline]
        for cycle in (self._answering, self.cycle, *queued):
            if cycle is not None and not cycle.response_complete:
                cycle.disconnected = True
                cycle.message_event.set()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        self._answering = cycle  # self.cycle is the newest request parsed, maybe a queued one
        super()._start_asgi_task(cycle, app)

    def shutdown(self) -> None:
        """The server stops: an idle connection closes now, a request in flight (an event
        stream never ends by itself) gets `SHUTDOWN_GRACE_S` before it is dropped."""
        super().shutdown()
        if not self.transport.is_closing():
            self.loop.call_later(SHUTDOWN_GRACE_S, self.abort)

    def _arm_deadline(self) -> None:
        self._deadline = self.loop.call_later(self.guard.limits.request_timeout_s, self._too_slow)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _cancel_timers(self) -> None:
        self._cancel_deadline()
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def _too_slow(self) -> None:
        self._deadline = None
        self.guard.limit_log.hit(
            "request_timeout_s",
            "closed a connection from %s that sent no whole request within %g s",
            self.address,
            self.guard.limits.request_timeout_s,
        )
        self.abort()

    def _head_too_large(self) -> None:
        """431 and close, or only close if an answer to an earlier request is under way."""
        self._refused = True
        self.guard.limit_log.hit(
            "max_head_bytes",
            "closed a connection from %s whose request head passed %d bytes",
            self.address,
            MAX_HEAD_BYTES,
        )
        if self.cycle is not None and not self.cycle.response_complete:
            self.abort()
            return
        text = f"request head over {MAX_HEAD_BYTES // 1024} KiB".encode()
        self.transport.write(HEAD_TOO_LARGE % (len(text), text))
        self.transport.close()

    def _pipeline_too_deep(self) -> None:
        self._refused = True
        self.guard.limit_log.hit(
            "max_pipelined",
            "dropped a connection from %s that sent more than %d requests ahead of their answers",
            self.address,
            MAX_PIPELINED,
        )
        self.abort()

    def _stalled(self) -> None:
        self._stall = None
        self.guard.limit_log.hit(
            "stalled_reader",
            "aborted a response to %s that could not be written for %g s (the "
            "reader stopped reading; an event stream reconnects and catches up)",
            self.address,
            self.guard.limits.stall_timeout_s,
        )
        self.abort()


def _limit_send_buffer(transport: asyncio.Transport) -> None:
    """Cap the kernel's send buffer, which Linux otherwise grows to 4 MiB per socket: a reader
    that stopped reading is then noticed after a few hundred KiB, not megabytes."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)


def connection_abort(scope: Mapping[str, Any]) -> Callable[[], None] | None:
    """The guard's abort() for the connection of this ASGI scope (None on another server)."""
    extension = scope.get("extensions", {}).get(CONNECTION_EXTENSION)
    return extension.get("abort") if isinstance(extension, dict) else None


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedProtocol]:
    """A protocol class bound to `guard`, for uvicorn's `Config(http=...)`."""
    return type("GuardedProtocol", (GuardedProtocol,), {"guard": guard})
