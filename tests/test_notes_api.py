"""Incident notes on the hub: who writes, who reads, validation, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from deskalert.hub.store import SqliteStore
from deskalert.models import Note
from support.hubs import RunningHub, start_threaded_hub
from support.requests import new_alert
from support.roster import make_config

# One hub's HTTP API (routes, validation, permissions, answers): the same whatever the store,
# so SQLite only. The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py;
# hubs sharing PostgreSQL in test_replicas.py, test_failover.py (docs/test-ids-issue-22.md).
pytestmark = pytest.mark.stores("sqlite")

NOTE = {
    "what_happened": "Ton monte sur un refus de prestation.",
    "type": "verbal",
    "separate_office": True,
    "levers": ["rules"],
    "intervened": ["Ana Sup"],
    "support": ["debrief"],
    "reports": ["internal"],
    "follow_up": True,
}


def raised(hub: RunningHub, desk: str = "g1") -> str:
    alert = new_alert()
    with hub.client(desk) as client:
        client.post("/v1/alerts", json=alert).raise_for_status()
    return str(alert["id"])


def test_the_raising_desk_and_supervisors_share_notes_and_only_supervisors_read_others(
    hub: RunningHub,
) -> None:
    alert_id = raised(hub)
    with (
        hub.client("g1") as g1,
        hub.client("g2") as g2,
        hub.client("s.a") as sup,
        hub.client("e1") as e1,
    ):
        first = g1.post(f"/v1/alerts/{alert_id}/notes", json=NOTE)
        assert first.status_code == 201
        note = Note.model_validate(first.json())
        assert note.author == "g1" and note.desk == "g1" and note.levers == ["rules"]
        again = g1.post(f"/v1/alerts/{alert_id}/notes", json={**NOTE, "follow_up": False})
        assert again.status_code == 200 and again.json()["follow_up"] is False
        assert g2.post(f"/v1/alerts/{alert_id}/notes", json=NOTE).status_code == 403
        assert e1.post(f"/v1/alerts/{alert_id}/notes", json=NOTE).status_code == 403
        assert (
            sup.post(f"/v1/alerts/{alert_id}/notes", json={**NOTE, "type": "other"}).status_code
            == 201
        )

        assert sorted(n["author"] for n in sup.get(f"/v1/alerts/{alert_id}/notes").json()) == [
            "g1",
            "s.a",
        ]
        assert [n["author"] for n in g1.get(f"/v1/alerts/{alert_id}/notes").json()] == ["g1"]
        assert g2.get(f"/v1/alerts/{alert_id}/notes").json() == []
        assert len(sup.get("/v1/notes").json()) == 2
        assert [n["author"] for n in g1.get("/v1/notes").json()] == ["g1"]
        assert g2.get("/v1/notes").json() == []
        assert e1.get(f"/v1/alerts/{alert_id}/notes").status_code == 403


def test_bad_notes_are_refused_and_nothing_is_stored(hub: RunningHub) -> None:
    alert_id = raised(hub)
    bad: list[dict[str, Any]] = [
        {**NOTE, "type": "shouting"},
        {**NOTE, "name_of_visitor": "X"},
        {**NOTE, "what_happened": "x" * 4001},
        {**NOTE, "started_at": "2026-11-21T10:00:00"},
        {**NOTE, "levers": ["magic"]},
        {k: v for k, v in NOTE.items() if k != "type"},
    ]
    with hub.client("g1") as g1:
        for body in bad:
            response = g1.post(f"/v1/alerts/{alert_id}/notes", json=body)
            assert response.status_code == 422, body
            assert set(response.json()) >= {"error", "detail"}
        assert (
            g1.post("/v1/alerts/00000000-0000-4000-8000-000000000000/notes", json=NOTE).status_code
            == 404
        )
        assert g1.get("/v1/notes").json() == []


def test_purge_removes_closed_alerts_their_notes_and_events_past_retention(tmp_path: Path) -> None:
    hub = start_threaded_hub(make_config(), tmp_path / "hub")
    try:
        alert_id = raised(hub)
        open_id = raised(hub, "g2")
        with hub.client("s.a") as sup:
            sup.post(f"/v1/alerts/{alert_id}/notes", json=NOTE).raise_for_status()
            sup.post(f"/v1/alerts/{alert_id}/resolve", json={}).raise_for_status()
    finally:
        hub.stop()
    store = SqliteStore(tmp_path / "hub" / "hub.sqlite3")
    try:
        assert store.purge(datetime.now(UTC) - timedelta(days=1)) == (0, 0, 0)
        alerts, notes, events = store.purge(datetime.now(UTC) + timedelta(seconds=1))
        assert (alerts, notes) == (1, 1) and events >= 2
        assert store.get_alert(UUID(alert_id)) is None
        assert store.get_alert(UUID(open_id)) is not None, "open alerts stay"
        assert store.last_event_id() > 0, "the newest event stays, so ids keep increasing"
    finally:
        store.close()
