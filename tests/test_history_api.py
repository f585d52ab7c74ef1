"""GET /v1/alerts/{id}/events: one alert's history, with the same visibility as the alert."""

from __future__ import annotations

import pytest

from support.hubs import RunningHub
from support.requests import new_alert

# One hub's HTTP API (routes, validation, permissions, answers): the same whatever the store,
# so SQLite only. The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py;
# hubs sharing PostgreSQL in test_replicas.py, test_failover.py (docs/test-ids-issue-22.md).
pytestmark = pytest.mark.stores("sqlite")


def test_history_lists_every_event_of_the_alert_in_order(hub: RunningHub) -> None:
    raised, other = new_alert(), new_alert("malaise")
    with hub.client("g1") as g1, hub.client("s.a") as sup, hub.client("e1") as e1:
        g1.post("/v1/alerts", json=raised).raise_for_status()
        g1.post("/v1/alerts", json=other).raise_for_status()
        sup.post(f"/v1/alerts/{raised['id']}/ack").raise_for_status()
        sup.post(f"/v1/alerts/{raised['id']}/resolve", json={"summary": "ok"}).raise_for_status()
        history = sup.get(f"/v1/alerts/{raised['id']}/events")
        assert history.status_code == 200
        events = history.json()
        assert [e["type"] for e in events] == [
            "alert.raised",
            "alert.acknowledged",
            "alert.resolved",
        ]
        assert all(e["data"]["id"] == raised["id"] for e in events)
        assert [e["id"] for e in events] == sorted(e["id"] for e in events)
        assert g1.get(f"/v1/alerts/{raised['id']}/events").status_code == 200
        assert e1.get(f"/v1/alerts/{raised['id']}/events").status_code == 403
        missing = sup.get("/v1/alerts/00000000-0000-4000-8000-000000000000/events")
        assert missing.status_code == 404 and missing.json()["error"]
        assert sup.get("/v1/alerts/not-a-uuid/events").status_code == 422
