"""Reading a hub's /v1/events stream from a test: `open_stream` (one connection, its blocks as
they come), `read_events` (the next events after an id, as a reconnecting client reads them)
and `EventReader` (a stream followed in a background thread while the test acts)."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import connect_sse

from support.requests import auth

# (id, event type, data): the id is None for a live-only frame (site.availability has none).
Event = tuple[Any, str, dict[str, Any]]


@dataclass(frozen=True)
class Block:
    """One block of the stream as sent: `data` None for a block without data (a retry or a
    comment-only block is not an event, WHATWG SSE; stream.open may come without data)."""

    id: int | None
    event: str
    data: dict[str, Any] | None


@dataclass
class Stream:
    response: httpx.Response
    blocks: Iterator[Block]

    @property
    def socket(self) -> socket.socket:
        return self.response.extensions["network_stream"].get_extra_info("socket")  # type: ignore[no-any-return]


@contextlib.contextmanager
def open_stream(
    url: str,
    who: str = "s.a",
    *,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    read_s: float = 10,
    connect_s: float = 5,
) -> Iterator[Stream]:
    """GET /v1/events on the hub at `url` as `who`; the connection closes on leaving."""
    with (
        httpx.Client(base_url=url, timeout=httpx.Timeout(connect_s, read=read_s)) as client,
        connect_sse(
            client, "GET", "/v1/events", params=params, headers={**auth(who), **(headers or {})}
        ) as source,
    ):
        blocks = (
            Block(
                int(sse.id) if sse.id else None,
                sse.event,
                json.loads(sse.data) if sse.data else None,
            )
            for sse in source.iter_sse()
        )
        yield Stream(source.response, blocks)


def read_events(url: str, last_id: int, count: int, who: str = "s.a") -> list[Event]:
    """Reads `count` events after `last_id` from a fresh stream, as a reconnecting client does."""
    events: list[Event] = []
    with open_stream(url, who, headers={"Last-Event-ID": str(last_id)}) as stream:
        for block in stream.blocks:
            if block.data is None:
                continue
            events.append((block.id, block.event, block.data))
            if len(events) == count:
                return events
    raise AssertionError("stream ended early")


@dataclass
class EventReader:
    """Follows /v1/events in a background thread; events land in a queue as ("event", (id,
    type, data)), after ("status", the response's status) and before ("closed", why)."""

    url: str
    who: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    items: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)

    def start(self) -> EventReader:
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            with open_stream(
                self.url, self.who, params=self.params, headers=self.headers, read_s=30
            ) as stream:
                self._socket = stream.socket
                self.items.put(("status", stream.response.status_code))
                self._opened.set()
                for block in stream.blocks:
                    if block.data is not None:
                        self.items.put(("event", (block.id, block.event, block.data)))
        except (httpx.HTTPError, RuntimeError) as exc:  # closed by stop() or by the hub
            self.items.put(("closed", exc))
        finally:
            self._opened.set()

    def wait_open(self, timeout: float = 5) -> EventReader:
        """Returns once the hub has answered (or the connection failed)."""
        assert self._opened.wait(timeout), "stream did not open"
        return self

    def next_event(self, timeout: float = 5) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            kind, value = self.items.get(timeout=max(0.01, deadline - time.monotonic()))
            if kind == "event":
                return value  # type: ignore[no-any-return]

    def events_until(self, event_type: str, timeout: float = 5) -> list[Event]:
        seen = []
        while True:
            event = self.next_event(timeout)
            seen.append(event)
            if event[1] == event_type:
                return seen

    def next_data(self, event_type: str, timeout: float = 5) -> dict[str, Any]:
        """The data of the next event of `event_type` within `timeout` (others are passed)."""
        deadline = time.monotonic() + timeout
        while True:
            _, kind, data = self.next_event(max(0.01, deadline - time.monotonic()))
            if kind == event_type:
                return data

    def events_for(self, seconds: float) -> list[Event]:
        """Waits `seconds`, then returns every event that came (none is left in the queue)."""
        time.sleep(seconds)
        seen = []
        while not self.items.empty():
            kind, value = self.items.get_nowait()
            if kind == "event":
                seen.append(value)
        return seen

    def counts_until(self, wanted: dict[str, int], timeout: float = 20) -> dict[str, int]:
        """Reads the stream until it has shown at least `wanted` events of each type."""
        seen: dict[str, int] = {}
        deadline = time.monotonic() + timeout
        while any(seen.get(kind, 0) < n for kind, n in wanted.items()):
            try:
                _, kind, _ = self.next_event(max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"the stream showed {seen}, not {wanted}") from None
            seen[kind] = seen.get(kind, 0) + 1
        return seen

    def stop(self) -> None:
        """Closes the connection, as a desk that quits or loses its link would.

        Shutting the socket down is what wakes a read blocked in another thread (closing the
        response from here does not: each stop waited out its join)."""
        with contextlib.suppress(OSError, AttributeError):  # AttributeError: never opened
            self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        assert not self._thread.is_alive(), "event reader did not stop"
