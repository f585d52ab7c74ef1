"""A budget per identity for every request kind (issue 27): one desk token sending heartbeats
as fast as it can (~5,800/s, a core at 98 %) is answered 429 with Retry-After past its burst,
held a second, on the hot path and on FastAPI's; its alerts still go through, and other desks
are untouched. (The hub's CPU under such a flood: bench/one_connection.py flood.)"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from deskalert.hub.budget import REFUSAL_HOLD_S
from support.requests import new_alert

# One hub's HTTP API (routes, validation, permissions, answers): the same whatever the store,
# so SQLite only. The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py;
# hubs sharing PostgreSQL in test_replicas.py, test_failover.py (docs/test-ids-issue-22.md).
pytestmark = pytest.mark.stores("sqlite")


def flood(client: httpx.Client, method: str, path: str, count: int) -> list[httpx.Response]:
    """Up to `count` requests, back to back, until the first 429 (held a second each)."""
    answers: list[httpx.Response] = []
    while len(answers) < count and (not answers or answers[-1].status_code != 429):
        answers.append(client.request(method, path))
    return answers


def test_a_heartbeat_flood_gets_429_and_its_alerts_still_go_through(hub_factory: Any) -> None:
    """Before: every one of the flood's heartbeats was answered 200."""
    hub = hub_factory(request_burst=20, requests_per_second=2)
    with hub.client("g1") as desk, hub.client("g2") as other:
        started = time.monotonic()
        answers = flood(desk, "POST", "/v1/heartbeat", 40)
        statuses = [a.status_code for a in answers]
        assert statuses[:20] == [200] * 20 and statuses[-1] == 429
        assert time.monotonic() - started >= REFUSAL_HOLD_S, "the 429 is held"
        refused = answers[-1]
        assert refused.json()["error"] == "too_many_requests"
        assert 1 <= int(refused.headers["Retry-After"]) <= 2
        assert desk.post("/v1/alerts", json=new_alert()).status_code == 201, "never held back"
        assert other.post("/v1/heartbeat").status_code == 200, "another desk's own budget"


def test_every_request_kind_takes_from_the_budget(hub_factory: Any) -> None:
    """Lists, reads and streams opened (FastAPI's routes) count as well as heartbeats."""
    hub = hub_factory(request_burst=10, requests_per_second=0.01)
    with hub.client("s.a") as supervisor:
        statuses = [supervisor.get("/v1/alerts").status_code for _ in range(10)]
        assert statuses == [200] * 10
        assert supervisor.get(f"/v1/alerts/{uuid.uuid4()}").status_code == 429
        with supervisor.stream("GET", "/v1/events") as stream:  # a 200 would never end
            assert stream.status_code == 429


def test_the_default_budget_refuses_a_flood_and_not_a_day_of_normal_use(hub_factory: Any) -> None:
    hub = hub_factory()
    with hub.client("g1") as desk:
        normal = [desk.post("/v1/heartbeat").status_code for _ in range(50)]
        assert normal == [200] * 50, "a page load, a reconnect, a few lists: well inside"
        statuses = [a.status_code for a in flood(desk, "POST", "/v1/heartbeat", 400)]
        assert statuses[-1] == 429 and len(statuses) < 400
