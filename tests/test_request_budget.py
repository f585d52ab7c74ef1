"""A budget per identity for every request kind (issue 27): one desk token sending heartbeats
as fast as it can (~5,800/s, a core at 98 %) is answered 429 with Retry-After past its burst,
on the hot path and on FastAPI's; its alerts still go through, and other desks are untouched."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from conftest import new_alert


def flood(client: httpx.Client, method: str, path: str, count: int) -> list[httpx.Response]:
    return [client.request(method, path) for _ in range(count)]


def test_a_heartbeat_flood_gets_429_and_its_alerts_still_go_through(hub_factory: Any) -> None:
    """Before: every one of the flood's heartbeats was answered 200."""
    hub = hub_factory(request_burst=20, requests_per_second=2)
    with hub.client("g1") as desk, hub.client("g2") as other:
        answers = flood(desk, "POST", "/v1/heartbeat", 40)
        statuses = [a.status_code for a in answers]
        assert statuses[:20] == [200] * 20
        assert statuses[-1] == 429
        refused = answers[-1]
        assert refused.json()["error"] == "too_many_requests"
        assert 1 <= int(refused.headers["Retry-After"]) <= 2
        assert desk.post("/v1/alerts", json=new_alert()).status_code == 201, "never held back"
        assert other.post("/v1/heartbeat").status_code == 200, "another desk's own budget"


def test_every_request_kind_takes_from_the_budget(hub_factory: Any) -> None:
    """Lists, reads and streams opened (FastAPI's routes) count as well as heartbeats."""
    hub = hub_factory(request_burst=10, requests_per_second=1)
    with hub.client("s.a") as supervisor:
        statuses = [a.status_code for a in flood(supervisor, "GET", "/v1/alerts", 10)]
        assert statuses == [200] * 10
        assert supervisor.get(f"/v1/alerts/{uuid.uuid4()}").status_code == 429
        assert supervisor.get("/v1/events").status_code == 429


def test_the_default_budget_refuses_a_flood_and_not_a_day_of_normal_use(hub_factory: Any) -> None:
    hub = hub_factory()
    with hub.client("g1") as desk:
        normal = [desk.post("/v1/heartbeat").status_code for _ in range(50)]
        assert normal == [200] * 50, "a page load, a reconnect, a few lists: well inside"
        statuses = [a.status_code for a in flood(desk, "POST", "/v1/heartbeat", 400)]
        assert 429 in statuses
