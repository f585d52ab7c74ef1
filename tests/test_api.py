"""The hub's API over HTTP against a real uvicorn: lifecycle, permissions, bad input.

Tests that act on alerts of their own (fresh ids) or change nothing share one hub per module
and store (`shared_hub`); the ones that count what the hub holds, or change the on-call shift or
a desk's presence, start their own (`hub`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from deskalert.hub.clock import ManualClock
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import make_config


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`shared_hub` on the stores `hub` runs on (tests/conftest.py's, the `stores` marker)."""
    if "shared_hub" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("stores")
        kinds = marker.args if marker else ("sqlite", "postgresql")
        if tuple(kinds) != ("sqlite",):
            params = [pytest.param(kind, marks=getattr(pytest.mark, kind)) for kind in kinds]
            metafunc.parametrize("shared_hub", params, indirect=True, scope="module")


@pytest.fixture(scope="module")
def shared_hub(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningHub]:
    """One hub for the module's tests that need no empty one; its desks may raise as many
    alerts as the module's tests do (the alert rate is tested in test_rate_limit.py)."""
    config = make_config(alert_burst=1000)
    if getattr(request, "param", "sqlite") == "postgresql":
        config.hub.database = request.getfixturevalue("pg_server").database(migrated=True)
    hub = start_threaded_hub(config, tmp_path_factory.mktemp("shared") / "hub")
    yield hub
    hub.stop()


# One hub's HTTP API (routes, validation, permissions, answers): the same whatever the store,
# so SQLite only. The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py;
# hubs sharing PostgreSQL in test_replicas.py, test_failover.py (docs/test-ids-issue-22.md).
pytestmark = pytest.mark.stores("sqlite")


def events_count(hub: RunningHub) -> int:
    return int(httpx.get(f"{hub.url}/healthz").json()["last_event_id"])


def raise_alert(hub: RunningHub, desk: str = "g1", **body: object) -> dict[str, object]:
    with hub.client(desk) as client:
        response = client.post("/v1/alerts", json=new_alert(**body))  # type: ignore[arg-type]
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


# -- raising, idempotency -------------------------------------------------------------------


def test_raise_stores_the_alert_with_desk_site_and_chain(shared_hub: RunningHub) -> None:
    hub = shared_hub
    alert = raise_alert(hub, code="malaise", message="au guichet")
    assert alert["state"] == "open"
    assert alert["desk"] == "g1" and alert["site"] == "accueil" and alert["location"] == "near g1"
    assert alert["code_label"] == "Urgence médicale" and alert["priority"] == 1
    assert alert["chain"] == ["s.a", "s.b"] and alert["escalated_to"] == "s.a"
    assert alert["created_at"] == "2026-11-21T10:00:00+01:00"  # the desk's clock, kept as given
    with hub.client("s.a") as client:
        assert client.get(f"/v1/alerts/{alert['id']}").json() == alert


def test_same_id_twice_is_stored_once(hub: RunningHub) -> None:
    body = new_alert()
    with hub.client("g1") as client:
        first = client.post("/v1/alerts", json=body)
        count = events_count(hub)
        second = client.post("/v1/alerts", json=body)
        assert (first.status_code, second.status_code) == (201, 200)
        assert second.json() == first.json()
        assert events_count(hub) == count, "a retry must not emit a second alert.raised"
        assert len(client.get("/v1/alerts", params={"state": "all"}).json()) == 1


def test_same_id_from_another_desk_is_refused(shared_hub: RunningHub) -> None:
    hub = shared_hub
    body = new_alert()
    with hub.client("g1") as g1, hub.client("g2") as g2:
        assert g1.post("/v1/alerts", json=body).status_code == 201
        response = g2.post("/v1/alerts", json=body)
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"


def test_unknown_code_is_422_and_stores_nothing(hub: RunningHub) -> None:
    with hub.client("g1") as client:
        response = client.post("/v1/alerts", json=new_alert(code="hulk"))
        assert response.status_code == 422
        assert response.json()["error"] == "unknown_code"
        assert "renfort" in response.json()["detail"]
        assert client.get("/v1/alerts", params={"state": "all"}).json() == []


def test_a_drill_is_marked_test(shared_hub: RunningHub) -> None:
    hub = shared_hub
    assert raise_alert(hub, test=True)["test"] is True


# -- lifecycle ------------------------------------------------------------------------------


def test_ack_lists_each_responder_once_in_order(shared_hub: RunningHub) -> None:
    hub = shared_hub
    alert_id = raise_alert(hub)["id"]
    with hub.client("s.a") as sup, hub.client("g2") as colleague:
        first = sup.post(f"/v1/alerts/{alert_id}/ack").json()
        again = sup.post(f"/v1/alerts/{alert_id}/ack").json()
        both = colleague.post(f"/v1/alerts/{alert_id}/ack").json()
    assert first["state"] == "acknowledged"
    assert [r["name"] for r in again["responders"]] == ["Ana Sup"]
    assert [(r["id"], r["kind"]) for r in both["responders"]] == [
        ("s.a", "supervisor"),
        ("g2", "desk"),
    ]
    assert both["responders"][0]["at"] <= both["responders"][1]["at"]


def test_resolve_then_every_transition_is_409_with_state(shared_hub: RunningHub) -> None:
    hub = shared_hub
    alert_id = raise_alert(hub)["id"]
    with hub.client("g1") as desk, hub.client("s.a") as sup:
        resolved = desk.post(f"/v1/alerts/{alert_id}/resolve", json={"summary": "calmé"})
        assert resolved.status_code == 200
        assert resolved.json()["state"] == "resolved" and resolved.json()["summary"] == "calmé"
        assert resolved.json()["closed_by"] == "g1"
        for path in ("ack", "resolve", "cancel"):
            response = sup.post(f"/v1/alerts/{alert_id}/{path}")
            assert response.status_code == 409, path
            assert response.json()["state"] == "resolved"
            assert response.json()["error"] == "invalid_transition"


def test_desk_cancels_within_window_as_false_alarm(shared_hub: RunningHub) -> None:
    hub = shared_hub
    alert_id = raise_alert(hub)["id"]
    with hub.client("g1") as desk:
        response = desk.post(f"/v1/alerts/{alert_id}/cancel", json={"reason": "touche appuyée"})
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled" and response.json()["false_alarm"] is True


def test_after_the_cancel_window_only_a_supervisor_cancels(hub_factory) -> None:  # type: ignore[no-untyped-def]
    hub = hub_factory(clock=ManualClock(), cancel_window_s=0.2)
    alert_id = raise_alert(hub)["id"]
    with hub.client("g1") as desk:  # within the window, to the microsecond
        hub.advance(0.2)
        assert desk.post(f"/v1/alerts/{alert_id}/cancel").json()["state"] == "cancelled"
    alert_id = raise_alert(hub)["id"]
    hub.advance(0.4)
    with hub.client("g1") as desk, hub.client("s.b") as sup:
        refused = desk.post(f"/v1/alerts/{alert_id}/cancel")
        assert refused.status_code == 403
        assert refused.json()["error"] == "cancel_window_over"
        assert sup.post(f"/v1/alerts/{alert_id}/cancel").json()["state"] == "cancelled"


def test_list_open_leaves_out_closed_alerts(hub: RunningHub) -> None:
    open_id = raise_alert(hub)["id"]
    closed_id = raise_alert(hub)["id"]
    with hub.client("s.a") as sup:
        sup.post(f"/v1/alerts/{closed_id}/resolve")
        open_ids = [a["id"] for a in sup.get("/v1/alerts").json()]
        all_ids = [a["id"] for a in sup.get("/v1/alerts", params={"state": "all"}).json()]
    assert open_ids == [open_id]
    assert all_ids == [closed_id, open_id]  # newest first


# -- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "method", "path", "status"),
    [
        ("s.a", "post", "/v1/alerts", 403),  # a supervisor does not raise
        ("g2", "post", "/{id}/resolve", 403),  # a colleague cannot close it
        ("g2", "post", "/{id}/cancel", 403),
        ("g1", "post", "/{id}/ack", 403),  # the raising desk cannot answer itself
        ("e1", "get", "/{id}", 403),  # a desk of another site
        ("e1", "post", "/{id}/ack", 403),
        ("e1", "get", "/v1/alerts?site=accueil", 403),
        ("g1", "post", "/v1/oncall/override", 403),  # only supervisors take a shift
        ("g2", "post", "/{id}/ack", 200),  # a colleague of the site responds
        ("s.c", "post", "/{id}/ack", 200),  # any supervisor responds
        ("s.c", "post", "/{id}/resolve", 200),
        ("g1", "post", "/{id}/resolve", 200),
    ],
)
def test_permission_matrix(
    shared_hub: RunningHub, who: str, method: str, path: str, status: int
) -> None:
    hub = shared_hub
    alert_id = raise_alert(hub)["id"]
    url = path.replace("/{id}", f"/v1/alerts/{alert_id}")
    body = None
    if url == "/v1/alerts":
        body = new_alert()
    elif "override" in url:
        body = {"site": "accueil", "until": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    with hub.client(who) as client:
        response = client.request(method.upper(), url, json=body)
    assert response.status_code == status, response.text
    if status >= 400:
        assert set(response.json()) >= {"error", "detail"}


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic Zm9vOmJhcg=="}]
)
def test_missing_or_wrong_token_is_401(shared_hub: RunningHub, headers: dict[str, str]) -> None:
    hub = shared_hub
    response = httpx.get(f"{hub.url}/v1/alerts", headers=headers)
    assert response.status_code in (401, 403)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthorized"


def test_healthz_needs_no_token(shared_hub: RunningHub) -> None:
    hub = shared_hub
    health = httpx.get(f"{hub.url}/healthz").json()
    assert health["status"] == "ok" and health["store"] == "ok"


# -- bad input ------------------------------------------------------------------------------


# Ids no test stores, the same at every collection (pytest-xdist workers must collect the
# same test ids, so no uuid4() in a parameter).
UNSEEN_IDS = [f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 7)]
UNSEEN = [i.encode() for i in UNSEEN_IDS]


@pytest.mark.parametrize(
    ("content", "status", "error"),
    [
        (b'{"id": "', 400, "malformed_json"),
        (b'{"id": "not-a-uuid", "code": "renfort"}', 422, "invalid_request"),
        (b'{"code": "renfort"}', 422, "invalid_request"),
        (b'{"id": "%s", "code": "renfort", "desk": "g2"}' % UNSEEN[0], 422, "invalid_request"),
        (
            b'{"id": "%s", "code": "renfort", "created_at": "2026-11-21T10:00:00"}' % UNSEEN[1],
            422,
            "invalid_request",
        ),
        (
            b'{"id": "%s", "code": "renfort", "message": "%s"}' % (UNSEEN[2], b"x" * 281),
            422,
            "invalid_request",
        ),
        (b"[]", 422, "invalid_request"),
        (
            b'{"id": "%s", "code": "renfort", "pad": "%s"}' % (UNSEEN[3], b"x" * 17000),
            413,
            "body_too_large",
        ),
    ],
)
def test_bad_bodies_are_4xx_and_store_nothing(
    hub: RunningHub, content: bytes, status: int, error: str
) -> None:
    with hub.client("g1") as client:
        response = client.post(
            "/v1/alerts", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == status, response.text
        assert response.json()["error"] == error
        assert response.json()["detail"]
        assert client.get("/v1/alerts", params={"state": "all"}).json() == []


def test_unknown_field_error_names_the_field(shared_hub: RunningHub) -> None:
    hub = shared_hub
    with hub.client("g1") as client:
        response = client.post("/v1/alerts", json={**new_alert(), "desk": "g2"})
    assert response.json()["detail"].startswith("body.desk: unknown key")


def test_streamed_body_over_16_kib_is_413(shared_hub: RunningHub) -> None:
    hub = shared_hub

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * 1024

    with hub.client("g1") as client:
        response = client.post("/v1/alerts", content=chunks())
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/v1/alerts/not-a-uuid", 422),
        ("get", f"/v1/alerts/{UNSEEN_IDS[4]}", 404),
        ("post", f"/v1/alerts/{UNSEEN_IDS[5]}/ack", 404),
        ("get", "/v1/alerts?state=closed", 422),
        ("get", "/v1/alerts?limit=0", 422),
        ("get", "/v1/alerts?site=nowhere", 404),
        ("get", "/v1/nothing", 404),
        ("delete", "/v1/alerts", 405),
        ("get", "/v1/events?since=-1", 422),
    ],
)
def test_bad_requests_are_4xx_with_error_shape(
    shared_hub: RunningHub, method: str, path: str, status: int
) -> None:
    hub = shared_hub
    with hub.client("s.a") as client:
        response = client.request(method.upper(), path)
    assert response.status_code == status, response.text
    assert set(response.json()) >= {"error", "detail"}


def test_bad_last_event_id_is_400_before_the_stream(shared_hub: RunningHub) -> None:
    hub = shared_hub
    response = httpx.get(
        f"{hub.url}/v1/events", headers={**auth("s.a"), "Last-Event-ID": "abc"}, timeout=5
    )
    assert response.status_code == 400
    assert "Last-Event-ID" in response.json()["detail"]


# -- codes, on-call, presence, docs ---------------------------------------------------------


def test_codes_are_the_repertoire(shared_hub: RunningHub) -> None:
    hub = shared_hub
    with hub.client("g1") as client:
        codes = client.get("/v1/codes").json()
    assert [(c["code"], c["key"], c["discreet"]) for c in codes] == [
        ("renfort", "f2", True),
        ("malaise", "f4", False),
    ]


def test_oncall_for_a_desk_is_its_site_with_the_chain(shared_hub: RunningHub) -> None:
    hub = shared_hub
    with hub.client("g1") as client:
        cards = client.get("/v1/oncall").json()
    assert len(cards) == 1
    card = cards[0]
    assert card["site"] == "accueil" and card["source"] == "schedule"
    assert card["supervisor"]["name"] == "Ana Sup" and card["supervisor"]["phone"] == "01 00"
    assert [p["id"] for p in card["chain"]] == ["s.b"]


def test_site_without_slot_has_nobody_and_alerts_go_to_everyone(hub: RunningHub) -> None:
    with hub.client("s.a") as client:
        card = client.get("/v1/oncall", params={"site": "etage"}).json()[0]
    assert card["supervisor"] is None and card["source"] == "none"
    alert = raise_alert(hub, desk="e1")
    assert alert["chain"] == [] and alert["escalated_to"] == "everyone"


def test_override_takes_the_shift_and_hands_it_back(hub: RunningHub) -> None:
    until = datetime.now(UTC) + timedelta(hours=2)
    with hub.client("s.c") as sup:
        card = sup.post("/v1/oncall/override", json={"site": "accueil", "until": until.isoformat()})
        assert card.status_code == 200, card.text
        assert card.json()["supervisor"]["id"] == "s.c" and card.json()["source"] == "override"
        assert [p["id"] for p in card.json()["chain"]] == ["s.a", "s.b"]
        assert raise_alert(hub)["chain"] == ["s.c", "s.a", "s.b"]
        back = sup.delete("/v1/oncall/override", params={"site": "accueil"}).json()
        assert back["supervisor"]["id"] == "s.a" and back["source"] == "schedule"


@pytest.mark.parametrize("hours", [-1, 24 * 8])
def test_override_until_must_be_within_a_week(shared_hub: RunningHub, hours: int) -> None:
    hub = shared_hub
    until = datetime.now(UTC) + timedelta(hours=hours)
    with hub.client("s.c") as sup:
        response = sup.post(
            "/v1/oncall/override", json={"site": "accueil", "until": until.isoformat()}
        )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_until"


def test_heartbeat_puts_a_desk_online(hub: RunningHub) -> None:
    with hub.client("g2") as desk, hub.client("s.a") as sup:
        before = {d["id"]: d for d in sup.get("/v1/desks").json()}
        assert before["g2"]["online"] is False and before["g2"]["last_seen"] is None
        assert desk.post("/v1/heartbeat").json()["heartbeat_s"] == 5
        after = {d["id"]: d for d in sup.get("/v1/desks").json()}
    assert after["g2"]["online"] is True and after["g2"]["last_seen"] is not None
    assert after["e1"]["online"] is False


def test_openapi_documents_every_route_and_the_error_shape(shared_hub: RunningHub) -> None:
    hub = shared_hub
    spec = httpx.get(f"{hub.url}/openapi.json").json()
    assert {
        "/v1/alerts",
        "/v1/alerts/{alert_id}",
        "/v1/alerts/{alert_id}/ack",
        "/v1/alerts/{alert_id}/resolve",
        "/v1/alerts/{alert_id}/cancel",
        "/v1/events",
        "/v1/desks",
        "/v1/heartbeat",
        "/v1/oncall",
        "/v1/oncall/override",
        "/v1/codes",
        "/healthz",
    } <= set(spec["paths"])
    assert "ErrorOut" in spec["components"]["schemas"]
    assert "text/event-stream" in spec["paths"]["/v1/events"]["get"]["responses"]["200"]["content"]
