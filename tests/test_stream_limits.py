"""Event streams nobody can hold forever (issue 10): a reader that stopped reading is dropped by
the hub and catches up after its reconnect; one token holds a bounded number of streams."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from deskalert.client.follower import EventFollower, LinkDown, LinkUp
from deskalert.models import AlertEvent, EventType
from support.requests import auth
from support.waiting import wait_until_async

LONG_MESSAGE = "x" * 280  # a bigger frame fills the socket buffers with fewer alerts


def post_alerts(url: str, count: int) -> list[str]:
    ids = []
    with httpx.Client(base_url=url, headers=auth("g1"), timeout=10) as desk:
        for _ in range(count):
            alert_id = str(uuid.uuid4())
            body = {
                "id": alert_id,
                "code": "renfort",
                "created_at": "2026-11-21T10:00:00+01:00",
                "message": LONG_MESSAGE,
            }
            assert desk.post("/v1/alerts", json=body).status_code == 201
            ids.append(alert_id)
    return ids


async def test_a_reader_that_stops_reading_is_dropped_then_catches_up(hub_factory: Any) -> None:
    """Before: its write blocked forever and the stream hung, holding a socket and a task; the
    queue's overflow ended it only if the reader read again. Now the hub aborts a response it
    cannot write for 3 heartbeats; the follower reconnects with Last-Event-ID and gets every
    event once, in order."""
    hub = hub_factory(heartbeat_s=1, alert_burst=100_000, alerts_per_minute=60_000)
    server = hub.server.server
    follower = EventFollower(hub.url, "tok-s.a", heartbeat_s=1)
    items = follower.follow()
    assert isinstance(await anext(items), LinkUp)
    # The follower is not iterated from here: nobody reads its socket.
    sent = await asyncio.to_thread(post_alerts, hub.url, 1200)
    await wait_until_async(
        lambda: not server.server_state.tasks, 30, "the stalled stream to be closed by the hub"
    )
    raised: list[str] = []
    breaks = 0
    async with asyncio.timeout(60):
        while len(raised) < len(sent):
            item = await anext(items)
            if isinstance(item, LinkDown):
                breaks += 1
            elif isinstance(item, AlertEvent) and item.type is EventType.ALERT_RAISED:
                raised.append(str(item.data.id))
    await items.aclose()
    assert breaks >= 1
    assert raised == sent, "every event once, in order"


def test_one_token_holds_a_bounded_number_of_streams(hub_factory: Any, follow: Any) -> None:
    """Before: one token could open streams without end. Now a third stream with a cap of 2
    closes the oldest (a desk reconnecting over a dead link gets its new stream)."""
    hub = hub_factory(max_streams_per_identity=2)
    oldest = follow(hub.url, "g1")
    follow(hub.url, "g1")
    newest = follow(hub.url, "g1")
    kinds = []
    while not kinds or kinds[-1] == "event":  # the replay may come before the end
        kinds.append(oldest.items.get(timeout=5)[0])
    assert kinds[-1] == "closed"
    with httpx.Client(base_url=hub.url, headers=auth("g2"), timeout=5) as desk:
        body = {
            "id": str(uuid.uuid4()),
            "code": "renfort",
            "created_at": "2026-11-21T10:00:00+01:00",
        }
        assert desk.post("/v1/alerts", json=body).status_code == 201
    assert newest.events_until("alert.raised")[-1][1] == "alert.raised"
