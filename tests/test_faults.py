"""Fault tests of the whole chain: a hub killed under load, a desk clock an hour off."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from conftest import HubProcess, auth, new_alert
from desk_helpers import free_port
from deskalert.client.api import HubClient
from deskalert.client.outbox import Outbox, quiet_retries
from deskalert.journal.store import Delivery, Journal

DESKS = 20
PER_DESK = 10  # 200 alerts in all


async def test_20_desks_200_alerts_through_a_sigkill_none_lost_none_twice(
    hub_process: Any, tmp_path: Path
) -> None:
    quiet_retries()
    port = free_port()
    hub: HubProcess = hub_process(port=port, extra_desks=DESKS)
    url = hub.url
    delivered: list[tuple[str, Delivery, datetime]] = []
    killed_at: list[datetime] = []

    async def desk(index: int) -> None:
        journal = Journal(tmp_path / f"desk{index}.sqlite3")
        async with HubClient(url, f"tok-d{index:02d}") as client:
            outbox = Outbox(journal, client)
            for _ in range(PER_DESK):
                entry = journal.enqueue("renfort")
                status = await outbox.deliver(entry, timeout=60)
                delivered.append((str(entry.id), status, datetime.now(UTC)))
                await asyncio.sleep(0.01)
        journal.close()

    async def kill_and_restart() -> None:
        while len(delivered) < 60:
            await asyncio.sleep(0.005)
        hub.kill9()  # mid-flight: some requests are stored and unanswered, some never arrive
        killed_at.append(datetime.now(UTC))
        await asyncio.sleep(0.5)
        await asyncio.to_thread(hub_process, port=port, extra_desks=DESKS)

    await asyncio.gather(kill_and_restart(), *(desk(i) for i in range(DESKS)))

    assert len(delivered) == DESKS * PER_DESK
    assert {status for _, status, _ in delivered} == {Delivery.TRANSMITTED}
    stored = httpx.get(f"{url}/v1/alerts", params={"state": "all", "limit": 1000},
                       headers=auth("s.a"), timeout=10).json()
    stored_ids = [a["id"] for a in stored]
    assert len(stored_ids) == len(set(stored_ids)) == DESKS * PER_DESK, "none lost, none twice"
    assert set(stored_ids) == {alert_id for alert_id, _, _ in delivered}
    before_kill = [i for i, _, at in delivered if at < killed_at[0]]
    assert len(before_kill) >= 60 and set(before_kill) <= set(stored_ids), \
        "every alert answered 2xx before the kill survived it"


def test_a_desk_clock_an_hour_off_keeps_hub_order_and_durations(hub: Any) -> None:
    """Hub time is the reference for order and durations; the desk's time is kept as given."""
    desk_clock = datetime.now(UTC) + timedelta(hours=1)
    first = new_alert(created_at=desk_clock.isoformat())
    second = new_alert(created_at=(desk_clock - timedelta(hours=2)).isoformat())
    with hub.client("g1") as g1, hub.client("s.a") as sup:
        g1.post("/v1/alerts", json=first).raise_for_status()
        g1.post("/v1/alerts", json=second).raise_for_status()
        sup.post(f"/v1/alerts/{first['id']}/ack").raise_for_status()
        listed = sup.get("/v1/alerts").json()
        acked = sup.get(f"/v1/alerts/{first['id']}").json()
    assert [a["id"] for a in listed] == [second["id"], first["id"]], "newest first by hub time"
    assert datetime.fromisoformat(acked["created_at"]) == desk_clock, "kept as given"
    received = datetime.fromisoformat(acked["received_at"])
    answered = datetime.fromisoformat(acked["responders"][0]["at"])
    assert abs((received - datetime.now(UTC)).total_seconds()) < 30
    assert timedelta(0) <= answered - received < timedelta(seconds=30)
