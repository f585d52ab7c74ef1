"""Part 8's flood (issue 27): one desk of site A raises alerts within its rate limit while every
channel takes 2.5 s a message; how long does site B's first notification take to arrive?

The channel is a real HTTP receiver on loopback (tests/notify_helpers.py, Apprise's json://)
that holds each answer `SEND_S`; every supervisor and A's team room are on it, as on one SMTP
relay or SMS gateway. Nobody answers A's alerts, so they escalate (`ack_timeout_s`) to the
backup, then to everyone (B's on-call too), and are recalled every `renotify_s`. B's desk raises
one alert at each `PROBE_AT_S`; the figure is the time from its `POST /v1/alerts` to B's on-call
receiving "Alerte ... Desk B". The issue measured 150 s of flood with the default timers; this
part runs FLOOD_S (60 s) with shorter timers (escalation 10 s, reminders every 15 s), which
builds the same backlog sooner.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from deskalert.hub.settings import token_hash

SEND_S = 2.5  # one channel send (the receiver holds each answer this long)
FLOOD_S = 60.0
PROBE_AT_S = (20.0, 40.0, 60.0)
PROBE_WAIT_S = 90.0  # after the last probe; a probe not received by then is shown as "> ..."
TARGET_S = 2.0 + SEND_S


class StartableHub(Protocol):
    url: str

    def start(self) -> float: ...

    def stop(self) -> None: ...


def roster(receiver_url: str) -> str:
    """Sites a and b, a desk on each, on-call sa (backup sx) for a and sb for b; default rate
    limit (10 back to back, then 30 a minute)."""

    def notify(path: str) -> str:
        return f'notify = ["{receiver_url}/{path}"]'

    parts = [
        "[hub]\nack_timeout_s = 10\nrenotify_s = 15\nheartbeat_s = 5",
        '[[codes]]\ncode = "renfort"\nlabel = "Renfort"\nkey = "f2"',
        f'[[sites]]\nid = "a"\nlabel = "Site A"\n{notify("room-a")}',
        '[[sites]]\nid = "b"\nlabel = "Site B"',
    ]
    for desk, site in (("da", "a"), ("db", "b")):
        parts.append(
            f'[[desks]]\nid = "{desk}"\nlabel = "Desk {site.upper()}"\nsite = "{site}"\n'
            f'token_sha256 = "{token_hash("tok-" + desk)}"'
        )
    for sup in ("sa", "sx", "sb"):
        parts.append(
            f'[[supervisors]]\nid = "{sup}"\nname = "Sup {sup}"\nphone = "01"\n'
            f'{notify(sup)}\ntoken_sha256 = "{token_hash("tok-" + sup)}"'
        )
    days = '["mon", "tue", "wed", "thu", "fri", "sat", "sun"]'
    for site, sup, backup in (("a", "sa", '["sx"]'), ("b", "sb", "[]")):
        parts.append(
            f'[[oncall]]\nsite = "{site}"\nsupervisor = "{sup}"\ndays = {days}\n'
            f'start = "00:00"\nend = "00:00"\nbackup = {backup}'
        )
    return "\n\n".join(parts) + "\n"


def raise_alert(client: httpx.Client) -> float:
    """POST one alert; returns when it was sent. A 429 waits its Retry-After and sends again."""
    body = {"id": str(uuid.uuid4()), "code": "renfort"}
    while True:
        sent = time.monotonic()
        response = client.post("/v1/alerts", json=body)
        if response.status_code != 429:
            assert response.status_code == 201, response.text
            return sent
        time.sleep(float(response.headers.get("Retry-After", "1")))


@dataclass
class Flood:
    alerts: int = 0
    delivered: int = 0  # messages the receiver answered during the flood (its FLOOD_S)


def flood(hub_url: str, stop: threading.Event, counts: Flood) -> None:
    """Desk A: its burst of 10, then one alert every 2 s (30 a minute), until `stop`."""
    with httpx.Client(
        base_url=hub_url, headers={"Authorization": "Bearer tok-da"}, timeout=30
    ) as desk:
        for _ in range(10):
            raise_alert(desk)
            counts.alerts += 1
        while not stop.wait(2.05):
            raise_alert(desk)
            counts.alerts += 1


def watch(
    messages: queue.Queue[Any],
    probes: dict[str, float],
    arrived: dict[str, float],
    counts: Flood,
    flood_end: float,
    until: float,
) -> None:
    """Reads the receiver until `until`: B's on-call's first message of each probe, and how
    many messages were delivered before `flood_end`."""
    while time.monotonic() < until and len(arrived) < len(PROBE_AT_S):
        try:
            message = messages.get(timeout=0.2)
        except queue.Empty:
            continue
        counts.delivered += message.at <= flood_end
        if (
            message.channel == "/sb"
            and "Desk B" in message.title
            and message.title.startswith("Alerte Renfort")
        ):
            # probes are raised one at a time, far apart: the oldest not yet arrived is this one
            waiting = [p for p in sorted(probes, key=probes.__getitem__) if p not in arrived]
            if waiting:
                arrived[waiting[0]] = message.at


def run(hub: StartableHub, receiver: Any) -> dict[str, str]:
    """The flood against `hub` (configured with `roster(receiver.url(...))`, not started)."""
    receiver.delay_s = SEND_S
    hub.start()
    stop, counts = threading.Event(), Flood()
    probes: dict[str, float] = {}
    arrived: dict[str, float] = {}
    started = time.monotonic()
    flooding = threading.Thread(target=flood, args=(hub.url, stop, counts), daemon=True)
    watching = threading.Thread(
        target=watch,
        args=(
            receiver.messages,
            probes,
            arrived,
            counts,
            started + FLOOD_S,
            started + max(PROBE_AT_S) + PROBE_WAIT_S,
        ),
        daemon=True,
    )
    flooding.start()
    watching.start()
    try:
        with httpx.Client(
            base_url=hub.url, headers={"Authorization": "Bearer tok-db"}, timeout=30
        ) as desk_b:
            for at in PROBE_AT_S:
                time.sleep(max(0.0, started + at - time.monotonic()))
                probes[f"{at:.0f}"] = raise_alert(desk_b)
        time.sleep(max(0.0, started + FLOOD_S - time.monotonic()))
        stop.set()
        flooding.join()
        watching.join()
    finally:
        stop.set()
        hub.stop()
    waits = {p: arrived[p] - probes[p] for p in arrived}
    shown = [
        f"{p} s: {waits[p]:.1f} s" if p in waits else f"{p} s: > {PROBE_WAIT_S:.0f} s"
        for p in probes
    ]
    worst = max(waits.values()) if len(waits) == len(probes) else float("inf")
    return {
        "name": f"8. notification under a flood: site B's first, while desk A raises "
        f"({counts.alerts} alerts in {FLOOD_S:.0f} s, {SEND_S} s a send)",
        "figure": "B's on-call received, raised at "
        + ", ".join(shown)
        + f" ({counts.delivered} messages delivered in the {FLOOD_S:.0f} s)",
        "target": f"< 2 s + one send = {TARGET_S:.1f} s",
        "verdict": "MET" if worst < TARGET_S else "MISSED",
    }
