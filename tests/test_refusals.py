"""No input produces a 500, and what is refused says why (issue 27): a non-ASCII signature in
an answer link or in a session cookie is refused like any other wrong one."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

import httpx
import pytest

from deskalert.hub.links import SESSION_VERSION, answer_url
from deskalert.hub.settings import HubConfig
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import roster_toml

# One hub's HTTP API (routes, validation, permissions, answers): the same whatever the store,
# so SQLite only. The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py;
# hubs sharing PostgreSQL in test_replicas.py, test_failover.py (docs/test-ids-issue-22.md).
pytestmark = pytest.mark.stores("sqlite")

PUBLIC = "https://hub.example.org"


@pytest.fixture
def linked(tmp_path: Path) -> Iterator[RunningHub]:
    data = tomllib.loads(roster_toml())
    data["hub"]["public_url"] = PUBLIC
    hub = start_threaded_hub(HubConfig.model_validate(data), tmp_path / "hub")
    yield hub
    hub.stop()


def test_a_non_ascii_signature_is_refused_not_a_500(linked: RunningHub) -> None:
    """Before: `hmac.compare_digest` raised TypeError on non-ASCII text: a 500 on every
    cookie route, no token needed."""
    hub = linked
    alert = httpx.post(f"{hub.url}/v1/alerts", json=new_alert(), headers=auth("g1")).json()
    url = answer_url(hub.config, "s.a", alert["id"], datetime.now(UTC))
    assert url is not None
    expires = url.split("e=")[1].split("&")[0]
    link = f"{hub.url}/page/a/{alert['id']}?s=s.a&e={expires}&k={quote('é' * 43)}"
    assert httpx.get(link).status_code == 403
    login = httpx.post(
        f"{hub.url}/page/api/session",
        headers={"Origin": hub.url},
        json={"link": {"alert": alert["id"], "s": "s.a", "e": expires, "k": "é" * 43}},
    )
    assert login.status_code == 401 and login.json()["error"] == "link_refused"
    cookie = f"deskalert_session={SESSION_VERSION}:s.a:-:{expires}:sid:{'é' * 43}".encode()
    for path in ("/v1/alerts", "/page/api/me", f"/v1/alerts/{uuid4()}"):
        answer = httpx.get(f"{hub.url}{path}", headers={"Cookie": cookie})
        assert answer.status_code == 401, path
        assert answer.json()["error"] == "session_refused"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/alerts?state=all&since=",
        "/v1/notes?since=",
        "/v1/notes?until=",
        "/v1/sessions/figures?since=",
        "/v1/broadcasts?state=all&since=",
        "/v1/broadcasts?state=all&until=",
    ],
)
def test_a_query_date_without_offset_is_a_422_as_in_bodies(hub: RunningHub, path: str) -> None:
    """Before: read in the hub's zone (a 200), while a body with such a date is refused."""
    with hub.client("s.a") as supervisor:
        naive = supervisor.get(path + "2026-11-21T10:00:00")
        assert naive.status_code == 422, naive.text
        assert naive.json()["error"] == "invalid_request"
        assert "has no UTC offset" in naive.json()["detail"]
        assert supervisor.get(path + quote("2026-11-21T10:00:00+01:00")).status_code == 200


def test_a_note_that_ends_before_it_starts_is_a_422(hub: RunningHub) -> None:
    """Before: stored as sent, though the desk's own form refuses it."""
    with hub.client("g1") as desk:
        alert = desk.post("/v1/alerts", json=new_alert()).json()
        note = {
            "type": "other",
            "started_at": "2026-11-21T10:30:00+01:00",
            "ended_at": "2026-11-21T10:00:00+01:00",
        }
        refused = desk.post(f"/v1/alerts/{alert['id']}/notes", json=note)
        assert refused.status_code == 422 and "ended_at" in refused.json()["detail"]
        note["ended_at"] = "2026-11-21T10:45:00+01:00"
        assert desk.post(f"/v1/alerts/{alert['id']}/notes", json=note).status_code == 201
