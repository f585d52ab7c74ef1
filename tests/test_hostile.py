"""The hub against clients that hold its sockets (issue 10, "Nobody on the network can stop
alerts"): a hub in its own process under systemd's default open-file limit (1024), 2000 sockets
with half a request held against it from other loopback addresses, and desks' alerts that must
still go through."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from hostile_helpers import HostileSockets, start_hub_process
from support.requests import auth, new_alert
from support.roster import roster_toml

SYSTEMD_DEFAULT_FILES = 1024


@pytest.fixture
def hub_under_limit(tmp_path: Path):  # type: ignore[no-untyped-def]
    processes = []

    def start(open_files: int = SYSTEMD_DEFAULT_FILES, extra_desks: int = 0, **hub: float):  # type: ignore[no-untyped-def]
        config = tmp_path / "hub.toml"
        config.write_text(roster_toml(extra_desks, **hub), encoding="utf-8")
        process, url = start_hub_process(config, tmp_path / "data", open_files=open_files)
        processes.append(process)
        return process, url

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def stop_and_read_log(process) -> str:  # type: ignore[no-untyped-def]
    process.terminate()
    _, stderr = process.communicate(timeout=10)
    return str(stderr)


@pytest.mark.parametrize(
    ("addresses", "limit"), [(8, "max_connections_per_address"), (250, "open_files")]
)
def test_alerts_go_through_while_2000_half_open_sockets_are_held(hub_under_limit, addresses, limit):  # type: ignore[no-untyped-def]
    """Before: 1100 sockets with half a request took every file the hub had; 14 of 14 alerts
    failed, and nothing was logged. Now each connection has a deadline for its request, each
    address a cap, and the oldest waiting connection makes room near the file limit."""
    process, url = hub_under_limit(request_timeout_s=2)
    port = int(url.rsplit(":", 1)[1])
    statuses = []
    with (
        HostileSockets(port, 2000, addresses=addresses),
        httpx.Client(base_url=url, headers=auth("g1"), timeout=10) as desk,
    ):
        for _ in range(12):  # over 6 s: the hostile sockets are dropped and reopened meanwhile
            statuses.append(desk.post("/v1/alerts", json=new_alert()).status_code)
            time.sleep(0.5)
    assert statuses == [201] * 12
    log = stop_and_read_log(process)
    limit_lines = [line for line in log.splitlines() if "limit " in line]
    assert any(f"limit {limit}:" in line for line in limit_lines), "a limit that bites is logged"
    assert len(limit_lines) < 40, "rate-limited: not one line per socket"
    assert "Traceback" not in log


def test_a_silent_connection_is_closed_after_the_request_deadline(hub_factory):  # type: ignore[no-untyped-def]
    """Before: a socket that sent half a request was kept forever."""
    hub = hub_factory(request_timeout_s=0.5)
    host, port = hub.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n")  # never finished
        started = time.monotonic()
        assert sock.recv(100) == b""  # closed by the hub (an exception on reset)
        assert time.monotonic() - started < 4


def test_one_byte_at_a_time_does_not_hold_a_connection(hub_factory):  # type: ignore[no-untyped-def]
    """A slowloris that keeps sending a byte is held to the same deadline as a silent one."""
    hub = hub_factory(request_timeout_s=1)
    host, port = hub.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        started = time.monotonic()
        with pytest.raises(OSError):
            for byte in b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 100:
                sock.sendall(bytes([byte]))
                time.sleep(0.2)
                if time.monotonic() - started > 8:
                    break
        assert time.monotonic() - started < 6


def test_an_idle_keep_alive_connection_is_closed(hub_factory):  # type: ignore[no-untyped-def]
    hub = hub_factory(keepalive_timeout_s=0.5)
    host, port = hub.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert sock.recv(100) == b""
        assert time.monotonic() - started < 4


def test_the_hub_warns_when_its_file_limit_is_below_what_the_roster_needs(hub_under_limit):  # type: ignore[no-untyped-def]
    """600 desks need 2 x 606 + 256 open files; under systemd's default 1024 the operator is
    told at start, in the banner and in the log."""
    process, _ = hub_under_limit(extra_desks=600)
    log = stop_and_read_log(process)
    assert "the open-file limit is 1024, below the 1468 this roster needs" in log


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["systemctl stop", "ctrl+c"])
def test_stopping_with_clients_connected_is_quick_and_one_line(hub_under_limit, sig):  # type: ignore[no-untyped-def]
    """Before: open streams held the stop for the 2 s graceful timeout, then each was cancelled
    with a 40-line traceback (uvicorn issue 451's cousin), 60 lines of log for three clients."""
    process, url = hub_under_limit()
    port = int(url.rsplit(":", 1)[1])
    streams = []
    for who in ("g1", "s.a", "s.b"):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(
            f"GET /v1/events HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer tok-{who}"
            "\r\n\r\n".encode()
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        streams.append(sock)
    idle = socket.create_connection(("127.0.0.1", port), timeout=5)
    idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n")  # a request still coming in
    time.sleep(0.3)
    started = time.monotonic()
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=15)
    elapsed = time.monotonic() - started
    for sock in (*streams, idle):
        sock.close()
    not_events = [line for line in stderr.splitlines() if " deskalert.hub: event " not in line]
    assert elapsed < 2.5, f"stopped in {elapsed:.1f} s"
    assert "Traceback" not in stderr
    assert len(not_events) == 1 and f"hub stopped ({sig.name})" in not_events[0], stderr


def beat_on(sock: socket.socket) -> bytes:
    """One heartbeat of desk g1 on `sock` (kept alive), and the status line of the answer."""
    token = auth("g1")["Authorization"]
    sock.sendall(
        f"POST /v1/heartbeat HTTP/1.1\r\nHost: hub\r\nAuthorization: {token}\r\n"
        "Content-Length: 0\r\n\r\n".encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:  # the head, then the whole body: the next beat's
        answer += sock.recv(65536) or b"\r\n\r\n"  # answer must not start with this one's
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length and (more := sock.recv(65536)):
        body += more
    return head.split(b"\r\n", 1)[0]


def test_a_desks_keep_alive_is_closed_after_every_connection_never_answered(hub_under_limit):  # type: ignore[no-untyped-def]
    """Near the file limit the hub closes a waiting connection to make room. Before: the
    oldest waiting one, which could be a desk's keep-alive between two beats (its next alert
    then met a reset: seen once in CI under load); now sockets never answered go first."""
    process, url = hub_under_limit(open_files=128, request_timeout_s=30)  # room for 64
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as desk:
        assert beat_on(desk) == b"HTTP/1.1 200 OK"  # answered: a keep-alive now
        with HostileSockets(port, 120, addresses=60, reopen_every_s=30) as hostile:
            time.sleep(0.5)  # the hub has closed waiting connections to let these in
            assert hostile.held() < 120, "the file limit was reached"
            assert beat_on(desk) == b"HTTP/1.1 200 OK", "the desk's keep-alive was closed"
    assert "Traceback" not in stop_and_read_log(process)
