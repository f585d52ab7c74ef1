"""What survives `kill -9` of the hub process: stored alerts, event ids, replay."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from support.events import read_events
from support.hubs import HubProcess, RunningHub, on_store
from support.requests import auth, new_alert


def test_alert_answered_2xx_survives_kill_9(hub_process: Callable[[], HubProcess]) -> None:
    hub = hub_process()
    body = new_alert()
    response = httpx.post(f"{hub.url}/v1/alerts", json=body, headers=auth("g1"))
    assert response.status_code == 201
    hub.kill9()
    restarted = hub_process()
    stored = httpx.get(f"{restarted.url}/v1/alerts/{body['id']}", headers=auth("s.a"))
    assert stored.status_code == 200
    assert stored.json()["state"] == "open"
    retry = httpx.post(f"{restarted.url}/v1/alerts", json=body, headers=auth("g1"))
    assert retry.status_code == 200, "the desk's retry after the crash must not store it twice"


def test_replay_across_restart_has_no_gap_and_no_duplicate(
    hub_process: Callable[[], HubProcess],
) -> None:
    hub = hub_process()
    first = httpx.post(f"{hub.url}/v1/alerts", json=new_alert(), headers=auth("g1")).json()
    httpx.post(f"{hub.url}/v1/alerts/{first['id']}/ack", headers=auth("s.b"))
    seen = read_events(hub.url, 0, 2)
    assert [e[1] for e in seen] == ["alert.raised", "alert.acknowledged"]
    last_seen = seen[-1][0]

    hub.kill9()
    # While the supervisor is disconnected, the hub comes back and more happens.
    restarted = hub_process()
    second = httpx.post(f"{restarted.url}/v1/alerts", json=new_alert(), headers=auth("g2")).json()
    httpx.post(f"{restarted.url}/v1/alerts/{first['id']}/resolve", headers=auth("s.a"))

    caught_up = read_events(restarted.url, last_seen, 2)
    assert [(e[1], e[2]["id"]) for e in caught_up] == [
        ("alert.raised", second["id"]),
        ("alert.resolved", first["id"]),
    ]
    ids = [e[0] for e in seen + caught_up]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert caught_up[0][0] == last_seen + 1, "ids continue after the restart, with no gap"


@pytest.mark.stores("sqlite")  # fills the SQLite file; PostgreSQL down: test_replicas.py
def test_full_disk_is_a_clear_503_and_the_retry_lands_once_it_recovers(hub: RunningHub) -> None:
    # A full disk cannot be made portably here: capping SQLite's page count on the hub's own
    # connection produces the same SQLITE_FULL error ("database or disk is full").
    def set_max_pages(pages: int) -> None:
        on_store(hub, lambda db: db.execute(f"PRAGMA max_page_count={pages}"))

    page_count = on_store(hub, lambda db: db.execute("PRAGMA page_count").fetchone()[0])
    set_max_pages(page_count)
    body = new_alert(message="x" * 280)
    with hub.client("g1") as desk:
        refused = [
            desk.post("/v1/alerts", json={**body, "id": str(uuid.uuid4())}) for _ in range(30)
        ]
        failed = [r for r in refused if r.status_code != 201]
        assert failed, "the capped store should have filled up"
        assert {r.status_code for r in failed} == {503}
        assert failed[0].json()["error"] == "store_unavailable"
        assert "database or disk is full" in failed[0].json()["detail"]
        health = httpx.get(f"{hub.url}/healthz")
        assert health.status_code == 503 and health.json()["status"] == "degraded"

        set_max_pages(1_000_000)
        assert desk.post("/v1/alerts", json=body).status_code == 201
        assert desk.post("/v1/alerts", json=body).status_code == 200
    assert httpx.get(f"{hub.url}/healthz").json()["status"] == "ok"


def test_desk_online_before_a_crash_and_gone_after_is_flagged_offline(
    hub_process: Callable[..., HubProcess],
) -> None:
    hub = hub_process(heartbeat_s=0.5)
    assert httpx.post(f"{hub.url}/v1/heartbeat", headers=auth("g1")).status_code == 200
    online = read_events(hub.url, 0, 1)[0]
    assert online[1:] == ("desk.online", online[2]) and online[2]["id"] == "g1"
    hub.kill9()
    restarted = hub_process(heartbeat_s=0.5)  # g1 never comes back
    offline = read_events(restarted.url, online[0], 1)[0]
    assert offline[1] == "desk.offline" and offline[2]["id"] == "g1"
    desks = httpx.get(f"{restarted.url}/v1/desks", headers=auth("s.a")).json()
    assert {d["id"]: d["online"] for d in desks}["g1"] is False
