"""Lists are paged (`limit`, `Link: <?...&cursor=...>; rel="next"`) and every caller follows the
pages: an export with more than 1000 alerts was complete only by accident (one page of 1000)."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from deskalert.client import api
from deskalert.client.api import HubClient
from deskalert.hub.store import instant
from deskalert.models import Alert, AlertState
from support.cli import run_cli
from support.hubs import RunningHub, on_store
from support.requests import new_alert

# One hub's HTTP API (routes, validation, permissions, answers): the same whatever the store,
# so SQLite only. The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py;
# hubs sharing PostgreSQL in test_replicas.py, test_failover.py (docs/test-ids-issue-22.md).
pytestmark = pytest.mark.stores("sqlite")


def all_pages(client: httpx.Client, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    """Each page's items, following `Link: rel="next"` as a client would."""
    pages = []
    url = httpx.URL(path, params=params)
    while True:
        response = client.get(url)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        link = response.links.get("next")
        if link is None:
            return pages
        url = response.url.join(link["url"])


def insert_alerts(hub: RunningHub, count: int, received_at: datetime) -> list[str]:
    """`count` alerts of desk g1 straight into the hub's store, all received at the same
    instant: a page boundary must fall between equal times without losing or doubling any."""
    template = Alert(
        id=uuid.uuid4(),
        code="renfort",
        code_label="Renfort",
        discreet=True,
        priority=2,
        desk="g1",
        desk_label="Desk g1",
        site="accueil",
        location="near g1",
        created_at=None,
        received_at=received_at,
        state=AlertState.RESOLVED,
        test=False,
        updated_at=received_at,
    )
    alerts = [template.model_copy(update={"id": uuid.uuid4()}) for _ in range(count)]
    rows = [
        (str(a.id), a.desk, a.site, a.state.value, instant(a.received_at), a.model_dump_json())
        for a in alerts
    ]

    def write(db: Any) -> None:
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO alerts (id, desk, site, state, received_at, body) VALUES (?,?,?,?,?,?)",
            rows,
        )
        db.execute("COMMIT")

    on_store(hub, write)
    return [str(a.id) for a in alerts]


def test_alerts_come_in_pages_newest_first_each_once(hub: RunningHub) -> None:
    with hub.client("g1") as g1:
        ids = [g1.post("/v1/alerts", json=new_alert()).json()["id"] for _ in range(7)]
    with hub.client("s.a") as sup:
        pages = all_pages(sup, "/v1/alerts", state="all", site="accueil", limit=3)
        assert [len(page) for page in pages] == [3, 3, 1]
        assert [a["id"] for page in pages for a in page] == ids[::-1]
        first = sup.get("/v1/alerts", params={"state": "all", "limit": 3})
        assert first.headers["Link"].startswith("<?state=all&limit=3&cursor=")
        assert first.headers["Link"].endswith('>; rel="next"')
        last = sup.get("/v1/alerts", params={"state": "all", "limit": 7})
        assert "Link" not in last.headers and len(last.json()) == 7


@pytest.mark.parametrize("cursor", ["nope", "W10", "WyJhIl0", "é", "=" * 5])
def test_a_cursor_not_made_by_the_hub_is_a_400(hub: RunningHub, cursor: str) -> None:
    with hub.client("s.a") as sup:
        for path in ("/v1/alerts", "/v1/notes"):
            answer = sup.get(path, params={"cursor": cursor})
            assert answer.status_code == 400, answer.text
            assert answer.json()["error"] == "bad_cursor" and "cursor" in answer.json()["detail"]
            # what to do, in the API's own words: the cursor comes from the Link header
            assert 'Link: rel="next"' in answer.json()["detail"], answer.text


def test_1200_alerts_received_at_the_same_instant_all_come_through_the_pages(
    hub: RunningHub,
) -> None:
    ids = insert_alerts(hub, 1200, datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    with hub.client("s.a") as sup:
        pages = all_pages(sup, "/v1/alerts", state="all", limit=1000)
    assert [len(page) for page in pages] == [1000, 200]
    assert sorted(a["id"] for page in pages for a in page) == sorted(ids)


async def test_the_client_follows_every_page(
    hub: RunningHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "PAGE_SIZE", 2)
    ids = insert_alerts(hub, 5, datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    note = {"type": "verbal", "what_happened": "x"}
    with hub.client("g1") as g1:
        for alert_id in ids:
            assert g1.post(f"/v1/alerts/{alert_id}/notes", json=note).status_code == 201
        live = g1.post("/v1/alerts", json=new_alert()).json()["id"]
    async with HubClient(hub.url, "tok-s.a") as client:
        since = await client.alerts_since(datetime(2026, 1, 1, tzinfo=UTC))
        open_now = await client.alerts(state="open")
        every = await client.alerts(state="all")
        notes = await client.notes()
    assert sorted(str(a.id) for a in since) == sorted([*ids, live])
    assert [str(a.id) for a in open_now] == [live]
    assert len(every) == 6
    assert sorted(str(n.alert_id) for n in notes) == sorted(ids)


def test_notes_come_in_pages_oldest_first_each_once(hub: RunningHub) -> None:
    note = {"type": "verbal", "what_happened": "x"}
    with hub.client("g1") as g1, hub.client("s.a") as sup:
        ids = []
        for _ in range(5):
            alert = new_alert()
            g1.post("/v1/alerts", json=alert).raise_for_status()
            g1.post(f"/v1/alerts/{alert['id']}/notes", json=note).raise_for_status()
            sup.post(f"/v1/alerts/{alert['id']}/notes", json=note).raise_for_status()
            ids += [(alert["id"], "g1"), (alert["id"], "s.a")]
        pages = all_pages(sup, "/v1/notes", limit=3)
        mine = all_pages(g1, "/v1/notes", limit=2)
    assert [len(page) for page in pages] == [3, 3, 3, 1]
    assert [(n["alert_id"], n["author"]) for page in pages for n in page] == ids
    assert [len(page) for page in mine] == [2, 2, 1]


def test_a_supervisor_exports_more_than_1000_alerts(hub: RunningHub, tmp_path: Path) -> None:
    # `deskalert export` asked for 1000 alerts once: the 1001st and after were left out.
    ids = insert_alerts(hub, 1200, datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    config = tmp_path / "config.toml"
    config.write_text(f'[hub]\nurl = "{hub.url}"\n[supervisor]\nid = "s.a"\n')
    env = {**os.environ, "DESKALERT_CONFIG": str(config), "DESKALERT_TOKEN": "tok-s.a"}
    result = run_cli("export", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert sorted(i["alert"]["id"] for i in json.loads(result.stdout)) == sorted(ids)
