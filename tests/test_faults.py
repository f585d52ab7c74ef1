"""Fault tests of the whole chain: a hub killed under load, a desk clock an hour off."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from desk_helpers import free_port
from deskalert.client.api import HubClient
from deskalert.client.outbox import Outbox, quiet_retries
from deskalert.journal.store import Delivery, Journal
from support.hubs import HubProcess, on_store, read_only, writable
from support.requests import auth, new_alert

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
                status = (await outbox.deliver(entry, timeout=60)).status
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
    async with httpx.AsyncClient(base_url=url, headers=auth("s.a"), timeout=10) as http:
        stored = (await http.get("/v1/alerts", params={"state": "all", "limit": 1000})).json()
    stored_ids = [a["id"] for a in stored]
    assert len(stored_ids) == len(set(stored_ids)) == DESKS * PER_DESK, "none lost, none twice"
    assert set(stored_ids) == {alert_id for alert_id, _, _ in delivered}
    before_kill = [i for i, _, at in delivered if at < killed_at[0]]
    assert len(before_kill) >= 60 and set(before_kill) <= set(stored_ids), (
        "every alert answered 2xx before the kill survived it"
    )


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


# Neither a full disk nor a read-only file system can be made here without root: the same
# SQLite errors come from the hub's own connection, capped (SQLITE_FULL, "database or disk is
# full") or switched to query_only (a write refused as on a read-only database).
def fill_up(db: Any) -> None:
    """Caps the file at its current size, then fills what is left of it: SQLITE_FULL from now."""
    db.execute("CREATE TABLE IF NOT EXISTS filler (x BLOB)")
    db.execute(f"PRAGMA max_page_count={db.execute('PRAGMA page_count').fetchone()[0]}")
    with contextlib.suppress(sqlite3.OperationalError):
        for _ in range(10_000):
            db.execute("INSERT INTO filler VALUES (randomblob(512))")


def make_room(db: Any) -> None:
    db.execute("PRAGMA max_page_count=1000000")
    db.execute("DROP TABLE filler")


BREAKS = {
    "disk full": (fill_up, make_room),
    "read-only": (
        read_only,
        writable,
    ),
}


@pytest.mark.parametrize("fault", sorted(BREAKS))
async def test_a_hub_that_cannot_write_gives_503_desks_keep_queueing_nothing_lost(
    hub: Any, tmp_path: Path, fault: str
) -> None:
    if fault == "disk full" and hub.server.server.config.app.state.hub.store.shared:
        pytest.skip("a full disk is the SQLite file's; PostgreSQL down: test_replicas.py")
    quiet_retries()
    breaks, repairs = BREAKS[fault]
    on_store(hub, breaks)
    fillers = set()
    async with httpx.AsyncClient(base_url=hub.url, headers=auth("g1")) as http:
        for _ in range(200):  # what free room the tables' own pages still had, used up
            filler = new_alert(message="f" * 280)
            if (await http.post("/v1/alerts", json=filler)).status_code == 503:
                break
            fillers.add(filler["id"])
    desks = ["g1", "g2", "e1"]
    journals = {desk: Journal(tmp_path / f"{desk}.sqlite3") for desk in desks}
    queued: list[str] = []
    for desk, journal in journals.items():
        async with HubClient(hub.url, f"tok-{desk}") as client:
            outbox = Outbox(journal, client)
            for _ in range(2):
                entry = journal.enqueue("renfort", message="x" * 200)
                result = await outbox.deliver(entry, timeout=0.8)
                assert result.status is Delivery.QUEUED
                assert "the hub cannot write its database" in (result.reason or "")
                stored = journal.get(entry.id)
                assert stored is not None and stored.status is Delivery.QUEUED
                assert "the hub cannot write its database" in (stored.last_error or "")
                queued.append(str(entry.id))
    async with httpx.AsyncClient(base_url=hub.url) as http:
        health = await http.get("/healthz")
    assert health.status_code == 503 and health.json()["status"] == "degraded"

    on_store(hub, repairs)
    for desk, journal in journals.items():
        async with HubClient(hub.url, f"tok-{desk}") as client:
            results = await Outbox(journal, client).flush(timeout=10)
        assert {r.status for r in results.values()} == {Delivery.TRANSMITTED}
        assert journal.pending() == []
        journal.close()
    async with httpx.AsyncClient(base_url=hub.url, headers=auth("s.a")) as http:
        stored = (await http.get("/v1/alerts", params={"state": "all", "limit": 100})).json()
        assert (await http.get("/healthz")).json()["status"] == "ok"
    stored_ids = [a["id"] for a in stored if a["id"] not in fillers]
    assert sorted(stored_ids) == sorted(queued), "every queued alert stored, exactly once"
