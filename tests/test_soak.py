"""The long fault run (`make soak`, not in `make test`): many desks, repeated hub crashes.

40 desks send 25 alerts each (1000) through their outboxes while the hub is killed with SIGKILL
three times and restarted; two supervisors follow the stream throughout with the client's
follower. Afterwards: every alert stored exactly once, and each supervisor has seen every event
the hub stored, in order, with no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from desk_helpers import free_port
from deskalert.client.api import HubClient
from deskalert.client.follower import EventFollower, LinkDown, LinkUp
from deskalert.client.outbox import Outbox, quiet_retries
from deskalert.journal.store import Delivery, Journal
from support.requests import auth

pytestmark = pytest.mark.soak

DESKS = int(os.environ.get("SOAK_DESKS", "40"))
PER_DESK = int(os.environ.get("SOAK_ALERTS", "25"))
KILLS = int(os.environ.get("SOAK_KILLS", "3"))
assert DESKS * PER_DESK <= 1000, "GET /v1/alerts returns at most 1000: keep the run within it"


async def test_many_desks_through_repeated_sigkills_none_lost_none_twice_no_gap(
    hub_process: Any, tmp_path: Path
) -> None:
    quiet_retries()
    port = free_port()
    hub = hub_process(port=port, extra_desks=DESKS)
    url = hub.url
    delivered: list[tuple[str, Delivery]] = []
    seen: dict[str, list[int]] = {"s.a": [], "s.b": []}

    async def desk(index: int) -> None:
        journal = Journal(tmp_path / f"desk{index}.sqlite3")
        async with HubClient(url, f"tok-d{index:02d}") as client:
            outbox = Outbox(journal, client)
            for _ in range(PER_DESK):
                entry = journal.enqueue("renfort")
                result = await outbox.deliver(entry, timeout=120)
                delivered.append((str(entry.id), result.status))
                await asyncio.sleep(0.02)
        journal.close()

    async def supervisor(who: str) -> None:
        async for item in EventFollower(url, f"tok-{who}", heartbeat_s=5).follow():
            if not isinstance(item, (LinkUp, LinkDown)):
                seen[who].append(item.id)

    async def crashes() -> None:
        nonlocal hub
        total = DESKS * PER_DESK
        for kill in range(1, KILLS + 1):
            while len(delivered) < total * kill // (KILLS + 1):
                await asyncio.sleep(0.01)
            hub.kill9()
            await asyncio.sleep(0.5)
            hub = await asyncio.to_thread(hub_process, port=port, extra_desks=DESKS)

    watchers = [asyncio.create_task(supervisor(who)) for who in seen]
    await asyncio.gather(crashes(), *(desk(i) for i in range(DESKS)))

    async with httpx.AsyncClient(base_url=url, headers=auth("s.a"), timeout=30) as http:
        stored = (await http.get("/v1/alerts", params={"state": "all", "limit": 1000})).json()
        last_id = (await http.get("/healthz")).json()["last_event_id"]
    for _ in range(300):  # the followers catch up with the last events
        if all(ids and ids[-1] == last_id for ids in seen.values()):
            break
        await asyncio.sleep(0.05)
    for task in watchers:
        task.cancel()

    assert {status for _, status in delivered} == {Delivery.TRANSMITTED}
    stored_ids = [a["id"] for a in stored]
    assert len(stored_ids) == len(set(stored_ids)) == DESKS * PER_DESK, "none lost, none twice"
    assert set(stored_ids) == {alert_id for alert_id, _ in delivered}
    for who, ids in seen.items():
        assert ids == list(range(1, last_id + 1)), f"{who}: every event once, in order"


@pytest.mark.stores("postgresql")
def test_three_hubs_on_postgresql_through_repeated_sigkills_none_lost_none_twice_in_order(
    hub_process: Any,
) -> None:
    """Three hubs on one PostgreSQL; desks and followers fail over from one to the next while
    the hubs are killed with SIGKILL in turn (and started again on their port): every alert
    stored once, every follower sees every alert once, events in id order."""
    import threading
    import time

    import psycopg

    from test_replicas import FailoverFollower, _desk_burst, _wait

    desks, per_desk = min(DESKS, 30), min(PER_DESK, 20)
    ports = [free_port() for _ in range(3)]
    hubs = [hub_process(port=port, extra_desks=desks, alert_burst=1000) for port in ports]
    urls = [hub.url for hub in hubs]
    followers = [FailoverFollower(urls[i:] + urls[:i]).start() for i in range(3)]
    stored: list[str] = []
    lock = threading.Lock()
    threads = [
        threading.Thread(
            target=_desk_burst,
            args=(f"d{i:02d}", urls[i % 3 :] + urls[: i % 3], per_desk, stored, lock),
        )
        for i in range(desks)
    ]
    for thread in threads:
        thread.start()
    total = desks * per_desk
    for kill in range(1, KILLS + 2):
        _wait(lambda k=kill: len(stored) >= total * k // (KILLS + 3), 300, "the burst to go on")
        victim = kill % 3
        hubs[victim].kill9()
        time.sleep(0.5)
        hubs[victim] = hub_process(port=ports[victim], extra_desks=desks, alert_burst=1000)
    for thread in threads:
        thread.join(timeout=300)
    assert len(stored) == total
    assert hubs[0].database is not None
    with psycopg.connect(hubs[0].database) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM alerts").fetchall()]
        doubled = conn.execute(
            "SELECT subject FROM events WHERE type='alert.raised'"
            " GROUP BY subject HAVING COUNT(*) > 1"
        ).fetchall()
    assert sorted(ids) == sorted(stored) and doubled == []
    for follower in followers:
        _wait(lambda f=follower: len(f.raised()) >= total, 120, "every follower to catch up")
        follower.stop()
        event_ids = [e[0] for e in follower.events]
        assert event_ids == sorted(set(event_ids)), "each event once, in id order"
        assert sorted(follower.raised()) == sorted(stored)
