"""The heartbeat and the alert answered below FastAPI (`hub/routes/hot.py`, issue 16) answer
exactly what FastAPI's routes answer: the same requests sent to a hub and to the same hub with the
hot routes taken out give the same statuses, headers and bodies, whatever the case (stored,
resent, refused, limited, malformed, unknown token, wrong site network). And the plain requests
really are answered there: FastAPI's router never sees them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from deskalert.hub.clock import ManualClock
from deskalert.hub.routes.hot import HotRoutes
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth
from support.roster import make_config

INSTANT = re.compile(rb'"\d{4}-\d\d-\d\dT[0-9:.]+Z"')
WAIT = re.compile(rb"again in \d+ s")  # the same as Retry-After, compared apart


def started(tmp_path: Path, database: str | None, *, hot: bool) -> RunningHub:
    """A real hub (uvicorn on a port of its own); `hot=False`: the same hub with the
    `HotRoutes` middleware taken out (the stack built again without it), so FastAPI answers
    every request."""
    config = make_config(
        alert_burst=3, alerts_per_minute=6, request_burst=8, requests_per_second=0.05
    )
    config.hub.database = database
    # Both hubs on a clock that stands still at the same instant: the rate limit's and the
    # request budget's Retry-After are then the same on both, whatever the machine's load.
    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    hub = start_threaded_hub(config, tmp_path / ("hot" if hot else "plain"), clock=clock)
    app = hub.server.server.config.app
    if not hot:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not HotRoutes]
        app.middleware_stack = app.build_middleware_stack()
    return hub


@pytest.fixture
def pair(
    tmp_path: Path, hub_database: Callable[[], str | None]
) -> Iterator[tuple[RunningHub, RunningHub]]:
    hot = started(tmp_path, hub_database(), hot=True)
    plain = started(tmp_path, hub_database(), hot=False)
    yield hot, plain
    hot.stop()
    plain.stop()


def answer(hub: RunningHub, method: str, path: str, **request: Any) -> tuple[Any, ...]:
    """What a client sees, instants replaced (the two hubs' clocks differ by a few ms)."""
    with httpx.Client(base_url=hub.url, timeout=10) as client:
        response = client.request(method, path, **request)
    headers = {
        k: v.replace(hub.url, "<hub>")
        for k, v in response.headers.items()
        if k not in ("date", "content-length")
    }
    body = WAIT.sub(b"again in <n> s", INSTANT.sub(b'"<instant>"', response.content))
    return response.status_code, headers, body


def requests_of_a_day() -> list[tuple[str, str, dict[str, Any]]]:
    """Plain and awkward requests to the two hot paths, in an order that matters (ids reused,
    a burst over the desk's limit of 3)."""
    first, other = str(uuid.uuid4()), str(uuid.uuid4())
    json_type = {"Content-Type": "application/json"}

    def alert(who: str, body: bytes | str, **headers: str) -> tuple[str, str, dict[str, Any]]:
        raw = body.encode() if isinstance(body, str) else body
        return (
            "POST",
            "/v1/alerts",
            {"content": raw, "headers": {**auth(who), **json_type, **headers}},
        )

    return [
        alert("g1", f'{{"id":"{first}","code":"renfort","message":"  à l\'accueil "}}'),
        alert("g1", f'{{"id":"{first}","code":"renfort","message":"  à l\'accueil "}}'),  # 200
        alert("g1", f'{{"id":"{first}","code":"malaise"}}'),  # 409, the stored alert
        alert("g2", f'{{"id":"{first}","code":"renfort","message":"  à l\'accueil "}}'),
        alert("g1", f'{{"id":"{other}","code":"inconnu"}}'),  # 422 unknown code
        alert("g1", f'{{"id":"{other}","code":"renfort","test":true}}'),
        alert("g1", f'{{"id":"{uuid.uuid4()}","code":"malaise"}}'),
        alert("g1", f'{{"id":"{uuid.uuid4()}","code":"renfort"}}'),  # 429: 4th of a burst of 3
        alert("g1", f'{{"id":"{other}","code":"renfort","test":true}}'),  # a replay: 200
        alert("s.a", f'{{"id":"{uuid.uuid4()}","code":"renfort"}}'),  # a supervisor: 403
        alert("e1", '{"id": "not-a-uuid", "code": "renfort"}'),  # 422
        alert("e1", '{"id": '),  # 400
        alert("e1", b"\xff\xfe"),  # 400, not UTF-8
        alert("e1", f'{{"id":"{uuid.uuid4()}","code":"renfort","extra":1}}'),  # 422
        alert(
            "e1", f'{{"id":"{uuid.uuid4()}","code":"renfort"}}', **{"Content-Type": "text/plain"}
        ),
        alert(
            "e1",
            f'{{"id":"{uuid.uuid4()}","code":"renfort"}}',
            **{"Content-Type": "application/json; charset=utf-8"},
        ),  # 201
        alert("revoked", f'{{"id":"{uuid.uuid4()}","code":"renfort"}}'),  # 401
        (
            "POST",
            "/v1/alerts",
            {"content": b"{}", "headers": {**json_type, "Authorization": "Basic eA=="}},
        ),
        ("POST", "/v1/alerts", {"json": {"id": str(uuid.uuid4()), "code": "renfort"}}),  # 401
        ("POST", "/v1/heartbeat", {"headers": auth("g2")}),
        ("POST", "/v1/heartbeat", {"headers": {"Authorization": "bearer   tok-s.b"}}),
        ("POST", "/v1/heartbeat", {"headers": auth("g2"), "content": b"whatever"}),
        ("POST", "/v1/heartbeat", {"headers": auth("nobody")}),  # 401
        ("POST", "/v1/heartbeat", {}),  # 401
        ("POST", "/v1/heartbeat", {"headers": {"Authorization": "Bearer"}}),  # 401
        ("GET", "/v1/heartbeat", {"headers": auth("g2")}),  # 405
        ("POST", "/v1/alerts/", {"headers": auth("g1")}),  # 307 to /v1/alerts
        alert("e1", "[" * 1100 + "]" * 1100),  # 400, nested deeper than the stack
        alert("e1", '{"id": ' + "[" * 5000),  # 400, deep and unfinished
        alert("nobody", "[" * 1100 + "]" * 1100),  # 400: FastAPI reads the body first
        alert("g2", '{"a":' * 1100 + "1" + "}" * 1100),  # 400
        *[("POST", "/v1/heartbeat", {"headers": auth("e1")})] * 8,  # e1's request burst of 8
        ("POST", "/v1/heartbeat", {"headers": auth("e1")}),  # 429, Retry-After 20
        alert("e1", f'{{"id":"{uuid.uuid4()}","code":"malaise"}}'),  # 201: alerts apart
    ]


# The same on either store (no store in hot.py): SQLite only; the 503 below runs on both.
@pytest.mark.stores("sqlite")
def test_the_hot_routes_answer_what_fastapi_answers(pair: tuple[RunningHub, RunningHub]) -> None:
    hot, plain = pair
    statuses = []
    for method, path, request in requests_of_a_day():
        ours, theirs = answer(hot, method, path, **request), answer(plain, method, path, **request)
        assert ours == theirs, (method, path, request)
        statuses.append(ours[0])
    assert statuses == [
        201,
        200,
        409,
        409,
        422,
        201,
        201,
        429,
        200,
        403,
        422,
        400,
        400,
        422,
        422,
        201,
        401,
        401,
        401,
        200,
        200,
        200,
        401,
        401,
        401,
        405,
        307,
        400,
        400,
        400,
        400,
        *[200] * 8,
        429,
        201,
    ]
    for hub in pair:  # and the hubs' records of refusals are the same: each counted once
        with hub.client("s.a") as supervisor:
            refused = supervisor.get("/v1/presence").json()["refused_tokens"]
        assert [r["count"] for r in refused] == [1, 1], "revoked: 1 alert; nobody: 1 beat"


# The same on either store (no store in hot.py): SQLite only; the 503 below runs on both.
@pytest.mark.stores("sqlite")
def test_the_plain_requests_never_reach_fastapi_and_the_others_do(
    tmp_path: Path, hub_database: Callable[[], str | None]
) -> None:
    hub = started(tmp_path, hub_database(), hot=True)
    reached: list[str] = []
    try:
        with hub.client("g1") as desk:
            assert desk.post("/v1/heartbeat").status_code == 200  # builds the stack
            middleware: Any = hub.server.server.config.app.middleware_stack
            while not isinstance(middleware, HotRoutes):
                middleware = middleware.app
            inner = middleware.app

            async def counting(scope: Any, receive: Any, send: Any) -> None:
                reached.append(f"{scope['method']} {scope['path']}")
                await inner(scope, receive, send)

            middleware.app = counting
            assert desk.post("/v1/heartbeat").status_code == 200
            assert (
                desk.post(
                    "/v1/alerts", json={"id": str(uuid.uuid4()), "code": "renfort"}
                ).status_code
                == 201
            )
            assert reached == [], "the plain heartbeat and alert are answered below FastAPI"
            assert desk.post("/v1/alerts", json={"id": "x", "code": "renfort"}).status_code == 422
            assert desk.get("/v1/alerts").status_code == 200
        assert reached == ["POST /v1/alerts", "GET /v1/alerts"]
    finally:
        hub.stop()


def test_a_store_that_cannot_write_is_a_503_on_the_hot_path_too(
    tmp_path: Path, hub_database: Callable[[], str | None]
) -> None:
    from support.hubs import on_store, read_only, writable

    hub = started(tmp_path, hub_database(), hot=True)
    try:
        on_store(hub, read_only)
        body = {"id": str(uuid.uuid4()), "code": "renfort"}
        with hub.client("g1") as desk:
            refused = desk.post("/v1/alerts", json=body)
            assert refused.status_code == 503
            assert refused.json()["error"] == "store_unavailable"
            on_store(hub, writable)
            assert desk.post("/v1/alerts", json=body).status_code == 201, "nothing half-stored"
    finally:
        hub.stop()
