"""Following a hub's /v1/events stream from a test."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import connect_sse

from support.requests import auth


@dataclass
class EventReader:
    """Follows /v1/events in a background thread; events and comments land in a queue."""

    url: str
    who: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    items: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)

    def start(self) -> EventReader:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        headers = {**auth(self.who), **self.headers}
        self._client = httpx.Client(base_url=self.url, timeout=httpx.Timeout(5, read=30))
        try:
            with connect_sse(
                self._client, "GET", "/v1/events", params=self.params, headers=headers
            ) as source:
                self._socket = source.response.extensions["network_stream"].get_extra_info("socket")
                self.items.put(("status", source.response.status_code))
                for sse in source.iter_sse():
                    if not sse.data:  # a retry/comment-only block: not an event (WHATWG SSE)
                        continue
                    self.items.put(("event", (int(sse.id), sse.event, json.loads(sse.data))))
        except (httpx.HTTPError, RuntimeError) as exc:  # closed by stop() or by the hub
            self.items.put(("closed", exc))

    def next_event(self, timeout: float = 5) -> tuple[int, str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            kind, value = self.items.get(timeout=max(0.01, deadline - time.monotonic()))
            if kind == "event":
                return value  # type: ignore[no-any-return]

    def events_until(
        self, event_type: str, timeout: float = 5
    ) -> list[tuple[int, str, dict[str, Any]]]:
        seen = []
        while True:
            event = self.next_event(timeout)
            seen.append(event)
            if event[1] == event_type:
                return seen

    def stop(self) -> None:
        """Closes the connection, as a desk that quits or loses its link would.

        Shutting the socket down is what wakes a read blocked in another thread.
        """
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        assert not self._thread.is_alive(), "event reader did not stop"
        self._client.close()
