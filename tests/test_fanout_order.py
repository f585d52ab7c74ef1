"""The broker's fast path (issue 16): an idle stream's events are written by the broker straight
to its connection; once that connection is paused (its reader is behind), they go through the
stream's queue and uvicorn's send, and keep going there until the queue is drained. Either way,
every event arrives once and in id order."""

from __future__ import annotations

import asyncio
import re
import socket
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from deskalert.hub.broker import Broker
from deskalert.models import Event, EventType
from support.requests import auth
from support.waiting import wait_until

DESKS = 10
PER_DESK = 90  # 900 frames of about 1 KB: more than the socket buffers hold
NO_RATE_LIMIT = {"alert_burst": 100000, "alerts_per_minute": 60000}
RAISED = re.compile(rb'id: (\d+)\nevent: alert\.raised\ndata: \{"id":"([0-9a-f-]{36})"')


def open_stream(url: str, after: int) -> socket.socket:
    """A supervisor's /v1/events on a bare socket with a small receive buffer, read up to the
    `stream.open` line."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(
        f"GET /v1/events HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer tok-s.a\r\n"
        f"Last-Event-ID: {after}\r\n\r\n".encode()
    )
    seen = b""
    while b"event: stream.open" not in seen:
        seen += sock.recv(65536)
    return sock


def read_raised(sock: socket.socket, count: int, timeout: float) -> list[tuple[int, str]]:
    """(event id, alert id) of the first `count` alert.raised frames read from `sock`."""
    sock.settimeout(timeout)
    data = b""
    found: list[tuple[int, str]] = []
    while len(found) < count:
        data += sock.recv(1 << 20)
        found = [(int(m[1]), m[2].decode()) for m in RAISED.finditer(data)]
    return found


async def test_events_written_directly_or_queued_arrive_once_in_order(hub_factory: Any) -> None:
    hub = hub_factory(extra_desks=DESKS, **NO_RATE_LIMIT)
    broker = hub.server.server.config.app.state.hub.broker
    after = httpx.get(f"{hub.url}/healthz").json()["last_event_id"]
    sock = await asyncio.to_thread(open_stream, hub.url, after)
    wait_until(lambda: any(not s.busy for s in list(broker._subscriptions)), every=0.01)  # idle
    subscription = next(iter(broker._subscriptions))
    assert subscription.write is not None, "the hub's streams take the fast path"
    written: list[bool] = []
    direct = subscription.write

    def counted(frame: bytes, chunk: bytes) -> bool:
        written.append(direct(frame, chunk))
        return written[-1]

    subscription.write = counted
    posted: list[str] = []

    async def desk(index: int) -> None:  # nobody reads the stream meanwhile
        async with httpx.AsyncClient(
            base_url=hub.url, headers=auth(f"d{index:02d}"), timeout=30
        ) as http:
            for _ in range(PER_DESK):
                body = {"id": str(uuid.uuid4()), "code": "renfort", "message": "x" * 280}
                assert (await http.post("/v1/alerts", json=body)).status_code == 201
                posted.append(body["id"])

    await asyncio.gather(*(desk(i) for i in range(DESKS)))
    # Read again while more events come: the connection resumes with events still queued,
    # and the new ones must go behind them, not straight to the connection.
    reading = asyncio.create_task(asyncio.to_thread(read_raised, sock, 2 * len(posted), 30))
    await asyncio.gather(*(desk(i) for i in range(DESKS)))
    received = await reading
    sock.close()

    assert True in written, "events written by the broker itself"
    assert False in written, "and, once the connection was paused, through the queue"
    ids = [event_id for event_id, _ in received]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), "in id order, none twice"
    assert sorted(alert for _, alert in received) == sorted(posted), "none lost"


def raised(event_id: int) -> Event:
    return Event(
        id=event_id,
        type=EventType.ALERT_RAISED,
        at=datetime.now(UTC),
        site="accueil",
        data={"id": str(uuid.uuid4())},
    )


async def test_the_broker_writes_directly_only_behind_nothing() -> None:
    """The rule itself, step by step: a direct write only when the stream is idle and its
    queue empty; behind a paused connection, a queued event, or the stream's own write,
    events wait in the queue, in order."""
    broker = Broker()
    paused, wire = [False], []

    def write(frame: bytes, chunk: bytes) -> bool:
        if paused[0]:
            return False
        wire.append(frame)
        return True

    stream = broker.subscribe(None, write=write)
    broker.publish(raised(1))
    assert wire == [] and stream.queue.qsize() == 1, "replaying (busy): queued"
    stream.queue.get_nowait()
    wire.append(broker.frame(raised(1)))  # the stream's task writes it, then waits: idle
    stream.busy = False
    broker.publish(raised(2))
    assert len(wire) == 2 and stream.queue.empty(), "idle: written by the broker"
    paused[0] = True
    broker.publish(raised(3))
    paused[0] = False
    broker.publish(raised(4))
    assert len(wire) == 2, "the connection takes writes again, but event 3 waits: 4 queues"
    assert [stream.queue.get_nowait().id for _ in range(2)] == [3, 4]
    stream.busy = True  # the task writes 3 and 4 through uvicorn's send
    broker.publish(raised(5))
    assert len(wire) == 2 and stream.queue.get_nowait().id == 5, "busy: queued"
