"""What the hub says is what it stored: nothing changes in memory unless its write committed.

The store is broken the way tests/test_faults.py does it (a read-only connection, a capped file),
on the hub's own store thread.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from deskalert.hub.clock import ManualClock
from deskalert.hub.health import PROBE_EVERY_S
from deskalert.journal.store import Journal
from deskalert.models import Alert, AlertState
from support.events import EventReader
from support.hubs import RunningHub, on_store, read_only, start_threaded_hub, writable
from support.requests import auth, new_alert
from support.roster import make_config


def in_an_hour() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


def oncall_of(hub: RunningHub, site: str = "accueil") -> str:
    with hub.client("s.a") as client:
        cards = client.get("/v1/oncall", params={"site": site}).json()
    return str(cards[0]["supervisor"]["id"])


def test_an_override_refused_503_is_not_applied(hub: RunningHub) -> None:
    """Was: answered 503, applied in memory; the next alert went to that person, no event
    stored, and a restart silently reverted it."""
    on_store(hub, read_only)
    with hub.client("s.c") as sup:
        taken = sup.post("/v1/oncall/override", json={"site": "accueil", "until": in_an_hour()})
    assert taken.status_code == 503
    assert oncall_of(hub) == "s.a", "the refused override is not in force"
    on_store(hub, writable)
    with hub.client("g1") as desk, hub.client("s.a") as sup:
        alert = desk.post("/v1/alerts", json=new_alert()).json()
        assert alert["chain"][0] == "s.a" and alert["escalated_to"] == "s.a"
        history = sup.get("/v1/alerts", params={"state": "all"}).json()
    assert [a["id"] for a in history] == [alert["id"]]
    assert oncall_of(hub) == "s.a"


def test_an_override_stored_with_its_event_in_one_commit(
    hub: RunningHub, follow: Callable[..., EventReader]
) -> None:
    reader = follow(hub.url, "s.a")
    with hub.client("s.c") as sup:
        taken = sup.post("/v1/oncall/override", json={"site": "accueil", "until": in_an_hour()})
    assert taken.status_code == 200 and taken.json()["supervisor"]["id"] == "s.c"
    event = reader.events_until("oncall.changed")[-1]
    assert event[2]["supervisor"]["id"] == "s.c" and event[2]["source"] == "override"
    assert on_store(hub, lambda db: db.execute("SELECT supervisor FROM overrides").fetchall()) == [
        ("s.c",)
    ]


def test_an_override_ending_while_the_store_fails_is_announced_once_it_can_write(
    hub_factory: Callable[..., RunningHub], follow: Callable[..., EventReader]
) -> None:
    """Was: the new card was taken in memory before its event failed, so once the store could
    write again the hub saw no change left to announce: panes kept showing the old person."""
    clock = ManualClock()
    hub = hub_factory(clock=clock, heartbeat_s=0.4)
    reader = follow(hub.url, "s.b", params={"site": "accueil"})  # live events from now on
    until = clock.now() + timedelta(seconds=1.5)
    with hub.client("s.c") as sup:
        sup.post(
            "/v1/oncall/override", json={"site": "accueil", "until": until.isoformat()}
        ).raise_for_status()
    assert reader.events_until("oncall.changed")[-1][2]["supervisor"]["id"] == "s.c"
    on_store(hub, read_only)
    for _ in range(7):  # 1 s past the override's end: the ticks fail meanwhile
        hub.advance(0.4)
    on_store(hub, writable)
    hub.advance(0.4)
    back = reader.events_until("oncall.changed", timeout=15)[-1]
    assert back[2]["supervisor"]["id"] == "s.a" and back[2]["source"] == "schedule"


def test_a_heartbeat_refused_503_does_not_show_the_desk_online(hub: RunningHub) -> None:
    """Was: online in memory and in GET /v1/desks, with no desk.online stored or sent."""
    on_store(hub, read_only)
    with hub.client("g2") as desk, hub.client("s.a") as sup:
        assert desk.post("/v1/heartbeat").status_code == 503
        desks = {d["id"]: d for d in sup.get("/v1/desks").json()}
        assert desks["g2"]["online"] is False
        on_store(hub, writable)
        assert desk.post("/v1/heartbeat").status_code == 200
        desks = {d["id"]: d for d in sup.get("/v1/desks").json()}
    assert desks["g2"]["online"] is True
    stored = on_store(
        hub,
        lambda db: db.execute("SELECT type FROM events WHERE subject='g2' ORDER BY id").fetchall(),
    )
    assert stored == [("desk.online",)], "online once it is stored, and once"


@pytest.mark.parametrize(
    "breaks,repairs",
    [
        (read_only, writable),
    ],
    ids=["read-only"],
)
def test_healthz_reports_a_store_that_cannot_write_and_recovers_by_itself(
    hub_factory: Callable[..., RunningHub],
    breaks: Callable[[Any], Any],
    repairs: Callable[[Any], Any],
) -> None:
    """Was: 200 as long as the file could be read, until some alert happened to fail.

    On a `ManualClock`: the probe's PROBE_EVERY_S passes by hand, not in 5 s of real time."""
    hub = hub_factory(clock=ManualClock())

    def status() -> int:
        return httpx.get(f"{hub.url}/healthz", timeout=5).status_code

    assert status() == 200
    hub.advance(0)  # the first tick's write (the purge) is done
    assert hub.hub._next_purge is not None
    on_store(hub, breaks)
    hub.advance(PROBE_EVERY_S)  # the probe runs at most every PROBE_EVERY_S
    assert status() == 503
    body = httpx.get(f"{hub.url}/healthz").json()
    assert body["status"] == "degraded" and body["store"].startswith("error:")
    assert body["epoch"]
    on_store(hub, repairs)
    assert status() == 503, "not probed again before PROBE_EVERY_S"
    hub.advance(PROBE_EVERY_S)
    assert status() == 200


def test_escalation_resumed_after_a_restart_goes_through_the_chain_in_order(
    tmp_path: Path, hub_database: Callable[[], str | None]
) -> None:
    """Was: a hub back after more than two ack timeouts jumped from level 0 to everyone.

    On a `ManualClock` that goes on while the hub is down (the hub stopped, not killed -9:
    the kill is tests/test_durability.py's business); the restarted hub's ticks are by hand."""
    config = make_config(ack_timeout_s=2)
    config.hub.database = hub_database()
    clock = ManualClock()
    hub = start_threaded_hub(config, tmp_path / "data", clock=clock)
    alert = new_alert()
    try:
        httpx.post(f"{hub.url}/v1/alerts", json=alert, headers=auth("g1")).raise_for_status()
    finally:
        hub.stop()
    clock.advance(3 * 2 + 0.1)  # the whole chain is overdue
    hub = start_threaded_hub(config, tmp_path / "data", clock=clock)
    reader = EventReader(hub.url, "s.c").start()
    try:
        assert reader.items.get(timeout=5) == ("status", 200)
        hub.advance(0)  # the first tick after the restart: one level, not two
        hub.advance(2)  # one ack timeout after that escalation: the next level
        escalations = [
            e
            for e in reader.events_until("alert.escalated", timeout=20)
            if e[1] == "alert.escalated"
        ]
        while escalations[-1][2]["escalated_to"] != "everyone":
            escalations.append(reader.events_until("alert.escalated", timeout=20)[-1])
    finally:
        reader.stop()
        hub.stop()
    steps = [(e[2]["escalation_level"], e[2]["escalated_to"]) for e in escalations]
    assert steps == [(1, "s.b"), (2, "everyone")]
    assert all(e[2]["id"] == alert["id"] for e in escalations)


def an_alert() -> Alert:
    at = datetime.now(UTC)
    return Alert(
        id=uuid4(),
        code="renfort",
        code_label="Renfort",
        discreet=True,
        priority=1,
        desk="g1",
        desk_label="Desk g1",
        site="accueil",
        location="near g1",
        created_at=at,
        received_at=at,
        state=AlertState.RESOLVED,
        test=False,
        updated_at=at,
    )


def test_a_failed_journal_purge_rolls_back_and_the_next_alert_is_committed(
    tmp_path: Path,
) -> None:
    """Was: BEGIN ... COMMIT without rollback: after a failed DELETE the connection stayed in
    the transaction, and the next enqueued alert was never committed."""
    journal = Journal(tmp_path / "journal.sqlite3")
    old = datetime.now(UTC) - timedelta(days=400)
    journal.record_alert(an_alert().model_copy(update={"received_at": old, "updated_at": old}))
    journal._db.execute(
        "CREATE TRIGGER no_delete BEFORE DELETE ON incidents"
        " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
    )
    with pytest.raises(sqlite3.Error):
        journal.purge(datetime.now(UTC) - timedelta(days=365))
    journal._db.execute("DROP TRIGGER no_delete")
    entry = journal.enqueue("renfort")
    with sqlite3.connect(tmp_path / "journal.sqlite3") as other:
        rows = other.execute("SELECT id FROM outbox").fetchall()
    journal.close()
    assert rows == [(str(entry.id),)], "the alert queued after the failed purge is committed"


def modes(directory: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir() if p.is_file()}


@pytest.mark.stores("sqlite")  # the SQLite file and its companions; PostgreSQL's are its own
def test_hub_and_journal_files_are_0600_whatever_the_umask(
    hub_factory: Callable[..., RunningHub], tmp_path: Path
) -> None:
    """Was: -wal and -shm 0644 at the hub's first start; an existing 0644 journal stayed so."""
    old_umask = os.umask(0o022)
    try:
        hub = hub_factory()
        with hub.client("g1") as desk:
            desk.post("/v1/alerts", json=new_alert()).raise_for_status()
        journal_path = tmp_path / "desk" / "journal.sqlite3"
        journal_path.parent.mkdir()
        sqlite3.connect(journal_path).close()
        journal_path.chmod(0o644)
        journal = Journal(journal_path)
        journal.enqueue("renfort")
    finally:
        os.umask(old_umask)
    hub_files, desk_files = modes(hub.data_dir), modes(journal_path.parent)
    journal.close()
    assert {"hub.sqlite3", "hub.sqlite3-wal", "hub.sqlite3-shm"} <= set(hub_files)
    assert set(hub_files.values()) == {0o600}, hub_files
    assert {"journal.sqlite3", "journal.sqlite3-wal"} <= set(desk_files)
    assert set(desk_files.values()) == {0o600}, desk_files
