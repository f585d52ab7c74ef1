"""The client's event follower against a real hub: resume after a restart, a silent hub, a bad
token."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import httpx

from desk_helpers import free_port
from deskalert.client.follower import EventFollower, LinkDown, LinkUp
from deskalert.models import AlertEvent as Event
from support.hubs import start_threaded_hub
from support.requests import auth, new_alert
from support.roster import make_config
from support.waiting import wait_until_async


async def test_resumes_with_last_event_id_across_a_hub_restart_with_no_gap_and_no_duplicate(
    tmp_path: Path,
) -> None:
    port = free_port()
    config = make_config(heartbeat_s=0.5)
    hub = start_threaded_hub(config, tmp_path / "hub", port)
    items: list[Event | LinkUp | LinkDown] = []

    async def consume() -> None:
        async for item in EventFollower(hub.url, "tok-s.a", heartbeat_s=0.5).follow():
            items.append(item)

    def raise_one() -> str:
        alert = new_alert()
        httpx.post(f"{hub.url}/v1/alerts", json=alert, headers=auth("g1")).raise_for_status()
        return str(alert["id"])

    task = asyncio.create_task(consume())
    try:
        await wait_until_async(lambda: any(isinstance(i, LinkUp) for i in items))
        first = await asyncio.to_thread(raise_one)
        await wait_until_async(lambda: any(isinstance(i, Event) for i in items))
        await asyncio.to_thread(hub.stop)
        await wait_until_async(lambda: any(isinstance(i, LinkDown) for i in items))
        hub = await asyncio.to_thread(lambda: start_threaded_hub(config, tmp_path / "hub", port))
        second = await asyncio.to_thread(raise_one)
        await wait_until_async(
            lambda: sum(isinstance(i, Event) and i.type.value == "alert.raised" for i in items) == 2
        )
        await asyncio.sleep(0.3)
    finally:
        task.cancel()
        await asyncio.to_thread(hub.stop)
    events = [i for i in items if isinstance(i, Event)]
    ids = [e.id for e in events]
    assert ids == sorted(set(ids)), "in order, none twice"
    raised = [str(e.data.id) for e in events if e.type.value == "alert.raised"]
    assert raised == [first, second]
    kinds = [type(i).__name__ for i in items if not isinstance(i, Event)]
    assert kinds[:3] == ["LinkUp", "LinkDown", "LinkUp"]


def silent_server() -> tuple[int, threading.Event]:
    """Opens a stream (headers and the hub's `stream.open`), then never sends another byte: a
    hung hub or a dead path."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        conns = []
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.recv(4096)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
                b"14\r\nevent: stream.open\n\n\r\n"
            )
            conns.append(conn)
        for conn in conns:
            conn.close()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return int(listener.getsockname()[1]), stop


async def test_a_hub_that_goes_silent_is_reported_within_two_heartbeats() -> None:
    port, stop = silent_server()
    follower = EventFollower(f"http://127.0.0.1:{port}", "tok", heartbeat_s=0.4)
    stream = follower.follow()
    try:
        assert isinstance(await anext(stream), LinkUp)
        started = time.monotonic()
        async with asyncio.timeout(5):
            down = await anext(stream)
        took = time.monotonic() - started
    finally:
        await stream.aclose()
        stop.set()
    assert isinstance(down, LinkDown) and "silent" in down.reason
    assert 0.4 < took < 2 * 0.4, f"silence noticed after {took:.2f} s"


async def test_a_refused_token_is_a_link_down_with_the_hubs_reason(tmp_path: Path) -> None:
    hub = start_threaded_hub(make_config(), tmp_path / "hub")
    stream = EventFollower(hub.url, "not-a-token").follow()
    try:
        async with asyncio.timeout(5):
            down = await anext(stream)
    finally:
        await stream.aclose()
        await asyncio.to_thread(hub.stop)
    assert isinstance(down, LinkDown) and "token" in down.reason.lower()
