"""A budget per client address for requests with no token or a refused one (issue 27): before,
such a client was held only by the connection cap per address, and one Python client sent
460-770 requests a second, all 401, costing the hub 14-20 % of a core. Now, past
`refused_burst`, a 429 held a second, on the hot path and on FastAPI's routes; requests with a
valid token from the same address are never counted; a misconfigured desk retrying every few
seconds keeps its 401. (The hub's CPU under such a flood: bench/one_connection.py badtoken.)"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from deskalert.hub.budget import MAX_ADDRESSES, REFUSAL_HOLD_S, TokenBuckets
from deskalert.hub.clock import ManualClock
from support.hubs import RunningHub
from support.requests import new_alert

# One hub's HTTP answers, the same whatever the store: SQLite only (as test_request_budget.py).
pytestmark = pytest.mark.stores("sqlite")
BAD = {"Authorization": "Bearer not-a-token"}


def refused_hub(hub_factory: Any, burst: int) -> RunningHub:
    """A hub whose clock moves only by hand: no refill unless the test says so."""
    hub: RunningHub = hub_factory(clock=ManualClock(), refused_burst=burst, refused_per_second=5)
    return hub


def test_a_bad_token_flood_gets_429_while_a_good_desk_at_that_address_goes_on(
    hub_factory: Any,
) -> None:
    """Before: all 40 were answered 401 at once, and the flood never ended."""
    hub = refused_hub(hub_factory, burst=10)
    with httpx.Client(base_url=hub.url, headers=BAD, timeout=10) as bad:
        answers = [bad.post("/v1/heartbeat") for _ in range(10)]  # the hot path's route
        assert [a.status_code for a in answers] == [401] * 10
        assert answers[0].json()["error"] == "unauthorized"
        started = time.monotonic()
        refused = bad.post("/v1/heartbeat")
        assert time.monotonic() - started >= REFUSAL_HOLD_S, "the 429 is held"
        assert refused.status_code == 429 and refused.json()["error"] == "too_many_requests"
        assert int(refused.headers["Retry-After"]) >= 1
        assert bad.post("/v1/alerts", json=new_alert()).status_code == 429, "hot path"
        assert bad.get("/v1/alerts").status_code == 429, "a FastAPI route"
    assert httpx.get(f"{hub.url}/v1/alerts", timeout=10).status_code == 429, "no token at all"
    with hub.client("g1") as desk:  # the same address, 127.0.0.1, with its own token
        assert desk.post("/v1/alerts", json=new_alert()).status_code == 201
        assert desk.post("/v1/heartbeat").status_code == 200
        assert desk.get("/v1/alerts").status_code == 200


def test_the_hot_path_and_the_routes_take_one_token_per_refusal(hub_factory: Any) -> None:
    """An unknown token on the hot path is charged there and answered 401 by the route: one
    token, not two."""
    hub = refused_hub(hub_factory, burst=6)
    with httpx.Client(base_url=hub.url, headers=BAD, timeout=10) as bad:
        statuses = []
        for _ in range(3):
            statuses.append(bad.post("/v1/heartbeat").status_code)
            statuses.append(bad.get("/v1/alerts").status_code)
        assert statuses == [401] * 6
        assert bad.post("/v1/heartbeat").status_code == 429


def test_a_misconfigured_desk_retrying_keeps_its_401_with_the_defaults(hub_factory: Any) -> None:
    """Ten minutes of a desk whose token is refused, retrying twice a second (more than the
    desk does: a heartbeat every 5 s, its stream with a backoff): never a 429."""
    hub: RunningHub = hub_factory(clock=ManualClock())
    statuses = set()
    with httpx.Client(base_url=hub.url, headers=BAD, timeout=10) as desk:
        for turn in range(1200):
            statuses.add(desk.post("/v1/heartbeat" if turn % 2 else "/v1/alerts").status_code)
            hub.advance(0.5)
    assert statuses == {401}


def test_the_address_is_the_one_x_forwarded_for_gives_behind_a_trusted_proxy(
    hub_factory: Any,
) -> None:
    """The test client is 127.0.0.1, a trusted proxy by default: each forwarded address has
    its own budget, and an IPv6 host its /64."""
    hub = refused_hub(hub_factory, burst=2)

    def status(forwarded: str) -> int:
        headers = {**BAD, "X-Forwarded-For": forwarded}
        return httpx.post(f"{hub.url}/v1/heartbeat", headers=headers, timeout=10).status_code

    assert [status("203.0.113.7") for _ in range(3)] == [401, 401, 429]
    assert status("203.0.113.8") == 401, "another address"
    assert [status("2001:db8::1"), status("2001:db8::2"), status("2001:db8::3")] == [401, 401, 429]
    assert status("2001:db8:0:1::1") == 401, "another /64"


def test_the_addresses_remembered_are_bounded() -> None:
    """The least recently refused address goes first; it comes back with a full budget."""
    buckets = TokenBuckets(1, 0.001, ManualClock(), max_keys=3)
    assert [buckets.take(key) for key in "abcd"] == [None] * 4
    assert buckets.take("a") is None, "forgotten: a full bucket again"
    assert buckets.take("d") is not None, "remembered: still empty"
    assert MAX_ADDRESSES == 10_000
