"""One connection must not slow every alert (issue 27): an endless request head is cut at
`MAX_HEAD_BYTES` with a 431, and a client pipelining thousands of requests without reading
holds at most `MAX_PIPELINED` of them, while desks' alerts go through."""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from typing import Any

import pytest

from deskalert.hub.guard import MAX_HEAD_BYTES, MAX_PIPELINED
from support.requests import new_alert

# Connection handling is the same whatever the store: SQLite only, to spare the machine.
pytestmark = pytest.mark.stores("sqlite")


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def send_endless_header(url: str, limit: int) -> tuple[int, bytes]:
    """Sends one header that never ends, 8 KiB at a time, until the hub cuts the connection or
    `limit` bytes went; returns (bytes sent, what the hub answered)."""
    sent = 0
    with socket.create_connection(address(url), timeout=10) as sock:
        sock.sendall(b"POST /v1/heartbeat HTTP/1.1\r\nHost: hub\r\nX-Endless: ")
        try:
            while sent < limit:
                sock.sendall(b"a" * 8192)
                sent += 8192
                time.sleep(0.001)  # lets the hub's answer come back between sends
            answer = sock.recv(200)
        except OSError:  # reset: the hub closed with our bytes unread
            try:
                answer = sock.recv(200)
            except OSError:
                answer = b""
    return sent, answer


def test_an_endless_header_is_cut_and_alerts_go_through_meanwhile(hub_factory: Any) -> None:
    """Before: the head grew until the request deadline (here 60 s), re-concatenated on every
    chunk; 1 to 3 such connections delayed alerts by seconds."""
    hub = hub_factory(request_timeout_s=60)
    results: list[tuple[int, bytes]] = []
    attackers = [
        threading.Thread(
            target=lambda: results.append(send_endless_header(hub.url, 8 * 1024 * 1024))
        )
        for _ in range(3)
    ]
    for attacker in attackers:
        attacker.start()
    with hub.client("g1") as desk:
        statuses = [desk.post("/v1/alerts", json=new_alert()).status_code for _ in range(5)]
    for attacker in attackers:
        attacker.join(timeout=30)
    assert statuses == [201] * 5
    assert len(results) == 3
    for sent, answer in results:
        assert sent < 8 * 1024 * 1024, "cut long before the request deadline"
        assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")


def test_a_head_over_the_cap_gets_431_and_one_under_it_is_served(hub_factory: Any) -> None:
    hub = hub_factory(request_timeout_s=60)
    for size, expected in (
        (MAX_HEAD_BYTES - 1024, b"HTTP/1.1 200 "),
        (MAX_HEAD_BYTES + 1024, b"HTTP/1.1 431 "),
    ):
        with socket.create_connection(address(hub.url), timeout=10) as sock:
            sock.sendall(
                b"GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Big: " + b"a" * size + b"\r\n\r\n"
            )
            assert sock.recv(200).startswith(expected)


def test_thousands_of_pipelined_requests_never_read_are_not_queued(hub_factory: Any) -> None:
    """Before: 20,000 `GET /healthz` sent without reading were all queued (~40 MB)."""
    hub = hub_factory(request_timeout_s=60)
    connections = hub.server.server.server_state.connections
    deepest = 0
    stop = threading.Event()

    def watch() -> None:
        nonlocal deepest
        while not stop.is_set():
            for connection in list(connections):
                deepest = max(deepest, len(getattr(connection, "pipeline", ())))
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    answers = b""
    with socket.create_connection(address(hub.url), timeout=10) as sock:
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n" * 20_000)
            time.sleep(0.5)
            while chunk := sock.recv(65536):
                answers += chunk
        except OSError:
            pass  # reset: dropped with our requests unread
    stop.set()
    watcher.join()
    assert answers.count(b"HTTP/1.1 200 ") <= MAX_PIPELINED + 1, "the connection was dropped"
    assert deepest <= MAX_PIPELINED
    with hub.client("g1") as desk:
        assert desk.post("/v1/alerts", json=new_alert()).status_code == 201


def test_a_dropped_connection_leaves_no_traceback_in_the_log(
    hub_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: the request being answered when the guard dropped its connection wrote into the
    aborted transport before uvloop told the connection it was lost: "unexpected error on GET
    /healthz" and a traceback (twice: ours and uvicorn's) for every such connection, a log one
    client could flood. A limit that bites is one line per 10 s, never one per socket."""
    hub = hub_factory(request_timeout_s=60)
    caplog.set_level(logging.WARNING)
    for _ in range(5):
        with socket.create_connection(address(hub.url), timeout=10) as sock:
            try:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n" * 5000)
                time.sleep(0.3)
                while sock.recv(65536):
                    pass
            except OSError:
                pass  # reset: dropped with our requests unread
    with hub.client("g1") as desk:
        assert desk.post("/v1/alerts", json=new_alert()).status_code == 201
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]
    dropped = [r.getMessage() for r in caplog.records if "limit max_pipelined" in r.getMessage()]
    assert len(dropped) == 1, "one line for the five, within 10 s"


def test_a_client_that_pipelines_and_resets_leaves_no_traceback(
    hub_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: a client that sent a few requests at once (under the cap) and reset its
    connection left a 500 and a traceback per connection in the log: uvicorn tells only the
    newest request parsed that its connection is lost, and the one being answered wrote into
    the closed transport. No token needed (`/healthz`)."""
    hub = hub_factory()
    caplog.set_level(logging.WARNING)
    for _ in range(30):
        with socket.create_connection(address(hub.url), timeout=10) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n" * 12)
            time.sleep(0.002)
    with hub.client("g1") as desk:
        assert desk.post("/v1/alerts", json=new_alert()).status_code == 201
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]


def test_the_socket_listens_from_the_banner_on() -> None:
    """The banner says "listening on" once the socket is bound, before uvicorn has started the
    app: a desk (or a test) connecting in between was refused (ECONNREFUSED, seen in CI under
    load). Now it waits in the backlog until the hub accepts."""
    from deskalert.hub.server import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    try:
        with socket.create_connection(sock.getsockname()[:2], timeout=5):
            pass  # accepted into the backlog, not refused
    finally:
        sock.close()
