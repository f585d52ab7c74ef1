"""Issue 27's last small holes of the page, against real hubs on both stores.

- An answer link to an alert already resolved or cancelled opened a session and the page as if
  something were left to answer; now the link's page says the alert is closed (409), and the
  login it would make is refused with 409 `alert_closed`, who closed it and when.
- A page cookie worked after its logout (sessions were only a signed cookie): now a logout
  revokes the session in the store, refused on every cookie route, on every hub (PostgreSQL:
  within `REVOKED_TTL_S`), after a restart too; revocations past the cookie's expiry are
  deleted.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from deskalert.hub.links import answer_url
from deskalert.hub.page_sessions import REVOKED_TTL_S
from deskalert.hub.settings import HubConfig
from deskalert.hub.store import open_store
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import roster_toml
from test_page import link_body, log_in, session_of

Start = Callable[..., RunningHub]


@pytest.fixture
def page_hubs(tmp_path: Path, hub_database: Callable[[], str | None]) -> Iterator[Start]:
    """Hubs with answer links on, all on one database (SQLite: one hub at a time); a hub
    started again with `again=` reuses that one's data directory."""
    database = hub_database()
    started: list[RunningHub] = []

    def start(again: RunningHub | None = None) -> RunningHub:
        config = HubConfig.model_validate(tomllib.loads(roster_toml()))
        config.hub.database = database
        data_dir = again.data_dir if again else tmp_path / f"hub{len(started)}"
        hub = start_threaded_hub(config, data_dir)
        hub.config.hub.public_url = hub.url  # the address phones would use: this hub
        started.append(hub)
        return hub

    yield start
    for hub in started:
        if hub.thread.is_alive():
            hub.stop()


def raise_alert(hub: RunningHub, desk: str = "g1") -> dict[str, Any]:
    response = httpx.post(f"{hub.url}/v1/alerts", json=new_alert(), headers=auth(desk))
    response.raise_for_status()
    return dict(response.json())


def link_of(hub: RunningHub, alert: dict[str, Any], supervisor: str = "s.a") -> str:
    url = answer_url(hub.config, supervisor, alert["id"], datetime.now(UTC))
    assert url is not None
    return url


def test_a_link_to_a_closed_alert_says_so_and_opens_nothing(page_hubs: Start) -> None:
    hub = page_hubs()
    resolved, cancelled, still_open = raise_alert(hub), raise_alert(hub, "g2"), raise_alert(hub)
    links = {a["id"]: link_of(hub, a) for a in (resolved, cancelled, still_open)}
    scoped = session_of(log_in(hub, link_body(links[resolved["id"]])))  # opened while open
    assert (
        httpx.post(
            f"{hub.url}/v1/alerts/{resolved['id']}/resolve", json={}, headers=auth("s.b")
        ).status_code
        == 200
    )
    assert (
        httpx.post(
            f"{hub.url}/v1/alerts/{cancelled['id']}/cancel", json={}, headers=auth("g2")
        ).status_code
        == 200
    )

    for alert, state, by, name in (
        (resolved, "resolved", "s.b", "Bob Sup"),
        (cancelled, "cancelled", "g2", "Desk g2"),
    ):
        page = httpx.get(links[alert["id"]])
        assert page.status_code == 409 and 'data-link="closed"' in page.text
        assert "set-cookie" not in page.headers
        refused = log_in(hub, link_body(links[alert["id"]]))
        assert refused.status_code == 409 and "set-cookie" not in refused.headers
        body = refused.json()
        assert body["error"] == "alert_closed" and body["state"] == state
        assert body["closed_by"] == by and body["closed_by_name"] == name
        closed_at = datetime.fromisoformat(body["closed_at"])
        assert abs(datetime.now(UTC) - closed_at) < timedelta(minutes=1)
        assert f"already {state}" in body["detail"] and name in body["detail"]
    # A session opened by the link before the alert closed answers nothing either.
    late = httpx.post(
        f"{hub.url}/v1/alerts/{resolved['id']}/ack", headers={**scoped, "Origin": hub.url}
    )
    assert late.status_code == 409 and late.json()["state"] == "resolved"
    # A link to an alert still open works as before.
    page = httpx.get(links[still_open["id"]])
    assert page.status_code == 200 and 'data-link="ok"' in page.text
    opened = log_in(hub, link_body(links[still_open["id"]]))
    assert opened.status_code == 200 and opened.json()["alert"] == still_open["id"]
    acked = httpx.post(
        f"{hub.url}/v1/alerts/{still_open['id']}/ack",
        headers={**session_of(opened), "Origin": hub.url},
    )
    assert acked.status_code == 200 and acked.json()["responders"][0]["id"] == "s.a"


def cookie_routes(hub: RunningHub, alert_id: str) -> list[tuple[str, str]]:
    return [
        ("GET", "/page/api/me"),
        ("GET", "/v1/alerts"),
        ("GET", f"/v1/alerts/{alert_id}"),
        ("GET", f"/v1/alerts/{alert_id}/events"),
        ("GET", "/v1/events"),
        ("GET", "/v1/oncall"),
        ("GET", "/v1/desks"),
        ("POST", f"/v1/alerts/{alert_id}/ack"),
        ("POST", f"/v1/alerts/{alert_id}/cancel"),
    ]


def refused_everywhere(hub: RunningHub, cookie: dict[str, str], alert_id: str) -> list[str]:
    """The cookie routes that do NOT answer 401 `session_refused` to `cookie`."""
    admitted = []
    for method, path in cookie_routes(hub, alert_id):
        # Streamed: an admitted /v1/events would never end.
        with httpx.stream(
            method,
            f"{hub.url}{path}",
            json={} if method == "POST" else None,
            headers={**cookie, "Origin": hub.url},
            timeout=5,
        ) as answer:
            refused = answer.status_code == 401 and (
                answer.read() and answer.json()["error"] == "session_refused"
            )
            if not refused:
                admitted.append(f"{method} {path}: {answer.status_code}")
    return admitted


def log_out(hub: RunningHub, cookie: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{hub.url}/page/api/logout", headers={**cookie, "Origin": hub.url})


def test_a_cookie_replayed_after_its_logout_is_refused_on_every_cookie_route(
    page_hubs: Start,
) -> None:
    hub = page_hubs()
    alert = raise_alert(hub)
    phone = session_of(log_in(hub, {"token": "tok-s.a"}))
    other_phone = session_of(log_in(hub, {"token": "tok-s.a"}))
    linked = session_of(log_in(hub, link_body(link_of(hub, alert))))
    assert httpx.get(f"{hub.url}/v1/alerts", headers=phone).status_code == 200
    out = log_out(hub, phone)
    assert out.status_code == 204 and "deskalert_session=" in out.headers["set-cookie"]
    assert refused_everywhere(hub, phone, alert["id"]) == []
    assert log_out(hub, phone).status_code == 204  # twice: nothing more to end
    assert log_out(hub, linked).status_code == 204  # a link's session ends the same way
    assert httpx.get(f"{hub.url}/v1/alerts/{alert['id']}", headers=linked).status_code == 401
    stored = httpx.get(f"{hub.url}/v1/alerts/{alert['id']}", headers=auth("s.b")).json()
    assert stored["state"] == "open" and stored["responders"] == []
    # The same supervisor's other session (another phone) is not ended by this one's logout.
    assert httpx.get(f"{hub.url}/page/api/me", headers=other_phone).status_code == 200
    # The revocation is stored: a restarted hub refuses the cookie too.
    hub.stop()
    again = page_hubs(again=hub)
    assert refused_everywhere(again, phone, alert["id"]) == []
    assert httpx.get(f"{again.url}/page/api/me", headers=other_phone).status_code == 200


@pytest.mark.stores("postgresql")
def test_a_logout_on_one_hub_is_refused_on_the_others_within_the_bound(page_hubs: Start) -> None:
    first, second = page_hubs(), page_hubs()
    alert = raise_alert(first)
    phone = session_of(log_in(first, {"token": "tok-s.b"}))
    assert httpx.get(f"{second.url}/page/api/me", headers=phone).status_code == 200  # cached
    assert log_out(first, phone).status_code == 204
    logged_out = time.monotonic()
    assert httpx.get(f"{first.url}/page/api/me", headers=phone).status_code == 401  # at once
    while httpx.get(f"{second.url}/page/api/me", headers=phone).status_code == 200:
        assert time.monotonic() - logged_out < REVOKED_TTL_S + 1, (
            f"the other hub still admits the cookie {REVOKED_TTL_S} s after the logout"
        )
        time.sleep(0.05)
    assert refused_everywhere(second, phone, alert["id"]) == []


def test_revocations_past_the_cookies_expiry_are_deleted(
    tmp_path: Path, hub_database: Callable[[], str | None]
) -> None:
    store = open_store(hub_database(), tmp_path / "hub.sqlite3")
    try:
        now = datetime.now(UTC)
        store.revoke_session("early", now + timedelta(hours=1), now)
        store.revoke_session("late", now + timedelta(hours=3), now)
        assert set(store.revoked_sessions(now)) == {"early", "late"}
        later = now + timedelta(hours=2)
        assert set(store.revoked_sessions(later)) == {"late"}
        store.revoke_session("new", later + timedelta(hours=1), later)
        rows = store._db.execute("SELECT id FROM revoked_sessions ORDER BY id").fetchall()
        assert [r[0] for r in rows] == ["late", "new"]
    finally:
        store.close()
