"""One connection must not slow every alert (issue 27): figures for the guard's caps.

    .venv/bin/python bench/one_connection.py [header] [flood] [badtoken] [replay]

- header: a desk's alert latency (a new connection each, as `deskalert send`), with 0 then 3
  connections sending one endless header (8 KiB chunks, reopened when cut).
- flood: one desk token sending heartbeats as fast as 4 kept-alive connections go, for
  FLOOD_S; the hub's share of a core, and the answers (200 / 429), with the default request
  budget and with the budget lifted, alternated in the same run.
- badtoken: the same flood with a token the hub does not know (all 401, as a client
  misconfigured in a loop), with the default refusal budget per address and with it lifted.
- replay: REPLAY_EVENTS events stored, then REPLAY_STREAMS streams opened with since=0 (read
  and thrown away) while a desk raises an alert every 50 ms; latency from the POST to the 201
  and to a live stream's receipt; the same without the replays first.

Printed, not written to results.md: the machine is shared, read the ratios of one run.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

import run
from run import Hub, headers, ms, pct, process_usage, roster

ALERTS = 60
FLOOD_S = 5.0
REPLAY_EVENTS = 10_000
REPLAY_STREAMS = 24


def configured(workdir: Path, extra: str = "") -> Hub:
    hub = Hub(workdir)
    hub.config.write_text(roster(run.DESKS).replace("[hub]\n", f"[hub]\n{extra}", 1))
    hub.start()
    return hub


def alert_latencies(hub: Hub, count: int, pause_s: float = 0.05) -> list[float]:
    latencies = []
    no_reuse = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(
        base_url=hub.url, headers=headers("d000"), limits=no_reuse, timeout=30
    ) as desk:
        for _ in range(count):
            start = time.perf_counter()
            response = desk.post("/v1/alerts", json=run.alert_body())
            latencies.append(time.perf_counter() - start)
            assert response.status_code == 201, response.text
            time.sleep(pause_s)
    return latencies


def endless_header(port: int, stop: threading.Event, cut: list[int]) -> None:
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"POST /v1/heartbeat HTTP/1.1\r\nHost: hub\r\nX-Endless: ")
                while not stop.is_set():
                    sock.sendall(b"a" * 8192)
        except OSError:
            cut.append(1)


def bench_header(workdir: Path) -> None:
    hub = configured(workdir / "header", "request_timeout_s = 60\n")
    try:
        quiet = alert_latencies(hub, ALERTS)
        stop, cut = threading.Event(), []
        attackers = [
            threading.Thread(target=endless_header, args=(hub.port, stop, cut)) for _ in range(3)
        ]
        for attacker in attackers:
            attacker.start()
        time.sleep(0.5)
        loud = alert_latencies(hub, ALERTS)
        stop.set()
        for attacker in attackers:
            attacker.join()
    finally:
        hub.stop()
    print(
        f"header: alert p50/p99 alone {ms(pct(quiet, 0.5))}/{ms(pct(quiet, 0.99))}; with 3 "
        f"endless headers {ms(pct(loud, 0.5))}/{ms(pct(loud, 0.99))} (cut {len(cut)} times)"
    )


async def beat_lane(
    port: int, until: float, answers: dict[bytes, int], token: bytes = b"tok-d001"
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        b"POST /v1/heartbeat HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer " + token + b"\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    while time.monotonic() < until:
        status = await run.http_request(reader, writer, request)
        answers[status[9:12]] = answers.get(status[9:12], 0) + 1
    writer.close()


async def flood(hub: Hub, token: bytes = b"tok-d001") -> tuple[float, dict[bytes, int]]:
    assert hub.process is not None
    answers: dict[bytes, int] = {}
    cpu_before, _ = process_usage(hub.process.pid)
    started = time.monotonic()
    until = started + FLOOD_S
    await asyncio.gather(*(beat_lane(hub.port, until, answers, token) for _ in range(4)))
    cpu_after, _ = process_usage(hub.process.pid)
    return (cpu_after - cpu_before) / (time.monotonic() - started), answers


def bench_flood(workdir: Path) -> None:
    for label, extra in (
        ("default budget", ""),
        ("budget lifted", "request_burst = 1000000\nrequests_per_second = 100000\n"),
    ) * 2:
        hub = configured(workdir / f"flood-{uuid.uuid4().hex[:6]}", extra)
        try:
            core, answers = asyncio.run(flood(hub))
        finally:
            hub.stop()
        shown = ", ".join(f"{k.decode()}: {v}" for k, v in sorted(answers.items()))
        print(f"flood ({label}): hub {core:.0%} of a core; {shown} in {FLOOD_S:g} s")


def bench_badtoken(workdir: Path) -> None:
    for label, extra in (
        ("default refusal budget", ""),
        ("refusal budget lifted", "refused_burst = 1000000\nrefused_per_second = 100000\n"),
    ) * 2:
        hub = configured(workdir / f"badtoken-{uuid.uuid4().hex[:6]}", extra)
        try:
            core, answers = asyncio.run(flood(hub, b"not-a-token"))
        finally:
            hub.stop()
        shown = ", ".join(f"{k.decode()}: {v}" for k, v in sorted(answers.items()))
        print(f"bad-token flood ({label}): hub {core:.0%} of a core; {shown} in {FLOOD_S:g} s")


async def fill(hub: Hub, count: int) -> None:
    async def lane(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
        for _ in range(count // 10):
            status = await run.http_request(
                reader, writer, run.alert_request(f"d{10 + index:03d}", str(uuid.uuid4()))
            )
            assert status.startswith(b"HTTP/1.1 201"), status
        writer.close()

    await asyncio.gather(*(lane(i) for i in range(10)))


class Drain(asyncio.Protocol):
    def __init__(self, hello: bytes) -> None:
        self.hello, self.bytes = hello, 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(self.hello)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.bytes += len(data)


async def live_latencies(hub: Hub, replays: int) -> tuple[list[float], list[float]]:
    """(POST to 201, POST to a live stream's receipt) for ALERTS alerts, while `replays`
    streams replay from since=0 (reopened as each one ends its replay)."""
    loop = asyncio.get_running_loop()
    sent: dict[bytes, float] = {}
    received: dict[bytes, float] = {}

    def receipt(key: bytes) -> None:
        received.setdefault(key, time.perf_counter())

    async with httpx.AsyncClient() as http:
        after = (await http.get(f"{hub.url}/healthz")).json()["last_event_id"]
    live = run.sse_subscriber("d002", after, receipt)
    await run.subscribe(hub.port, live)
    await live.ready.wait()
    hello = b"GET /v1/events?since=0 HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer tok-sup\r\n\r\n"
    streams = [
        (await loop.create_connection(lambda: Drain(hello), "127.0.0.1", hub.port))[0]
        for _ in range(replays)
    ]
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
    answered = []
    for _ in range(ALERTS):
        key = str(uuid.uuid4())
        start = sent[key.encode()] = time.perf_counter()
        status = await run.http_request(reader, writer, run.alert_request("d000", key))
        answered.append(time.perf_counter() - start)
        assert status.startswith(b"HTTP/1.1 201"), status
        await asyncio.sleep(0.05)
    await asyncio.sleep(2)
    writer.close()
    for transport in streams:
        transport.close()
    live.transport.close()
    return answered, [received[k] - at for k, at in sent.items() if k in received]


def bench_replay(workdir: Path) -> None:
    hub = configured(workdir / "replay", "max_streams_per_identity = 100\n")
    try:
        asyncio.run(fill(hub, REPLAY_EVENTS))
        for replays in (0, REPLAY_STREAMS):
            answered, delivered = asyncio.run(live_latencies(hub, replays))
            print(
                f"replay: {replays} streams from since=0 over {REPLAY_EVENTS} events: alert "
                f"201 p50/p99 {ms(pct(answered, 0.5))}/{ms(pct(answered, 0.99))}, live receipt "
                f"p50/p99 {ms(pct(delivered, 0.5))}/{ms(pct(delivered, 0.99))} "
                f"({len(delivered)}/{ALERTS})"
            )
    finally:
        hub.stop()


BENCHES = {
    "header": bench_header,
    "flood": bench_flood,
    "badtoken": bench_badtoken,
    "replay": bench_replay,
}


def main() -> int:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="deskalert-bench-") as tmp:
        for name in sys.argv[1:] or list(BENCHES):
            BENCHES[name](Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
