"""The page's HTTP side against a real hub: CSP, login, session cookie, Origin, answer links.

The browser itself is in test_page_browser.py; here each rule is checked on the wire.
"""

from __future__ import annotations

import stat
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import httpx
import pytest

from deskalert.config import load_toml
from deskalert.errors import ConfigError
from deskalert.hub.links import SECRET_NAME, answer_url
from deskalert.hub.routes.page import page_language
from deskalert.hub.settings import HubConfig, token_hash
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import roster_toml

# One hub's HTTP API (routes, validation, permissions, answers): the same whatever the store,
# so SQLite only. The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py;
# hubs sharing PostgreSQL in test_replicas.py, test_failover.py (docs/test-ids-issue-22.md).
pytestmark = pytest.mark.stores("sqlite")

PUBLIC = "https://hub.example.org"


def roster(**hub: Any) -> dict[str, Any]:
    data = tomllib.loads(roster_toml())
    data["hub"].update(hub)
    return data


@pytest.fixture
def linked_hub(tmp_path: Path) -> Any:
    """A hub with a public_url (answer links on), and a way to restart it with other tokens."""
    started: list[RunningHub] = []

    def start(data: dict[str, Any]) -> RunningHub:
        if started:
            started[-1].stop()
        started.append(start_threaded_hub(HubConfig.model_validate(data), tmp_path / "hub"))
        return started[-1]

    yield start
    started[-1].stop()


def raise_alert(hub: RunningHub, desk: str = "g1") -> dict[str, Any]:
    response = httpx.post(f"{hub.url}/v1/alerts", json=new_alert(), headers=auth(desk))
    response.raise_for_status()
    return dict(response.json())


def log_in(hub: RunningHub, body: dict[str, Any], origin: str | None = None) -> httpx.Response:
    headers = {"Origin": origin or hub.url}
    return httpx.post(f"{hub.url}/page/api/session", json=body, headers=headers)


def session_of(response: httpx.Response) -> dict[str, str]:
    """The session cookie as a header (httpx keeps a Secure cookie off plain http)."""
    value = response.headers["set-cookie"].split(";")[0]
    return {"Cookie": value}


def link_body(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return {"link": {"alert": parts.path.rsplit("/", 1)[1], **query}}


def local(url: str, hub: RunningHub) -> str:
    """An answer link as this test reaches the hub (public_url names the phones' address)."""
    return hub.url + url.removeprefix(PUBLIC)


def test_the_page_is_served_with_a_strict_csp_in_french_by_default(hub: RunningHub) -> None:
    page = httpx.get(f"{hub.url}/page/")
    assert page.status_code == 200 and '<html lang="fr"' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    english = httpx.get(f"{hub.url}/page/", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert '<html lang="en"' in english.text
    for path in (
        "static/app.js",
        "static/app.css",
        "sw.js",
        "manifest.webmanifest",
        "static/icon-192.png",
    ):
        assert httpx.get(f"{hub.url}/page/{path}").status_code == 200, path


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "fr"),
        ("", "fr"),
        ("en", "en"),
        ("de-DE,en;q=0.8,fr;q=0.9", "fr"),
        ("fr;q=0.1,en;q=0.2", "en"),
        ("en;q=zzz,fr", "fr"),
        ("*", "fr"),
    ],
)
def test_the_page_language_follows_accept_language(header: str | None, language: str) -> None:
    assert page_language(header) == language


def test_log_in_with_the_token_gives_a_strict_httponly_cookie(hub: RunningHub) -> None:
    answer = log_in(hub, {"token": "tok-s.a"})
    assert answer.status_code == 200 and answer.json()["name"] == "Ana Sup"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain http and no https public_url: it would not stick
    me = httpx.get(f"{hub.url}/page/api/me", headers=session_of(answer)).json()
    assert me["supervisor"] == "s.a" and me["alert"] is None
    assert {c["code"]: c["protocol"] for c in me["codes"]}["malaise"].startswith("Le secouriste")


def test_log_in_is_refused_to_a_wrong_token_a_desk_and_a_foreign_origin(hub: RunningHub) -> None:
    assert log_in(hub, {"token": "nope"}).status_code == 401
    assert log_in(hub, {"token": "tok-g1"}).json()["error"] == "not_supervisor"
    foreign = log_in(hub, {"token": "tok-s.a"}, origin="http://evil.example")
    assert foreign.status_code == 403 and foreign.json()["error"] == "foreign_origin"
    assert "set-cookie" not in foreign.headers


def test_a_state_change_with_the_cookie_needs_the_hubs_origin(hub: RunningHub) -> None:
    alert = raise_alert(hub)
    session = session_of(log_in(hub, {"token": "tok-s.a"}))
    url = f"{hub.url}/v1/alerts/{alert['id']}/cancel"
    for origin in ({"Origin": "http://evil.example"}, {}, {"Origin": "null"}):
        refused = httpx.post(url, headers={**session, **origin})
        assert refused.status_code == 403, origin
        assert refused.json()["error"] == "foreign_origin"
    stored = httpx.get(f"{hub.url}/v1/alerts/{alert['id']}", headers=session).json()
    assert stored["state"] == "open"
    acked = httpx.post(
        f"{hub.url}/v1/alerts/{alert['id']}/ack", headers={**session, "Origin": hub.url}
    )
    assert acked.status_code == 200 and acked.json()["responders"][0]["name"] == "Ana Sup"


def test_bearer_clients_work_as_before_without_origin(hub: RunningHub) -> None:
    alert = raise_alert(hub)
    acked = httpx.post(f"{hub.url}/v1/alerts/{alert['id']}/ack", headers=auth("s.b"))
    assert acked.status_code == 200
    missing = httpx.get(f"{hub.url}/v1/alerts")
    assert missing.status_code == 401 and missing.json()["error"] == "unauthorized"


def test_a_tampered_session_cookie_is_refused(hub: RunningHub) -> None:
    value = session_of(log_in(hub, {"token": "tok-s.a"}))["Cookie"]
    for forged in (
        value.replace(":s.a:", ":s.b:"),
        value[:-2] + "AA",
        "deskalert_session=v1:x",
        value.replace(":-:", f":{uuid4()}:"),
    ):
        answer = httpx.get(f"{hub.url}/v1/alerts", headers={"Cookie": forged})
        assert answer.status_code == 401 and answer.json()["error"] == "session_refused", forged


def test_no_answer_link_without_public_url(hub: RunningHub) -> None:
    assert answer_url(hub.config, "s.a", uuid4(), datetime.now(UTC)) is None


def test_an_answer_links_get_changes_nothing(linked_hub: Any) -> None:
    hub = linked_hub(roster(public_url=PUBLIC))
    alert = raise_alert(hub)
    url = answer_url(hub.config, "s.a", alert["id"], datetime.now(UTC))
    assert url is not None and url.startswith(f"{PUBLIC}/page/a/{alert['id']}?")
    history = httpx.get(f"{hub.url}/v1/alerts/{alert['id']}/events", headers=auth("s.b")).json()
    for _ in range(3):  # a messenger's preview, the phone's prefetch, the tap
        opened = httpx.get(local(url, hub))
        assert opened.status_code == 200 and 'data-link="ok"' in opened.text
        assert "set-cookie" not in opened.headers
    after = httpx.get(f"{hub.url}/v1/alerts/{alert['id']}", headers=auth("s.b")).json()
    assert after["state"] == "open" and after["responders"] == []
    assert (
        httpx.get(f"{hub.url}/v1/alerts/{alert['id']}/events", headers=auth("s.b")).json()
        == history
    )


def test_a_link_opens_a_session_for_that_alert_only(linked_hub: Any) -> None:
    hub = linked_hub(roster(public_url=PUBLIC))
    alert, other = raise_alert(hub), raise_alert(hub, "g2")
    url = answer_url(hub.config, "s.a", alert["id"], datetime.now(UTC))
    assert url is not None
    answer = log_in(hub, link_body(url), origin=PUBLIC)
    assert answer.status_code == 200 and answer.json()["alert"] == alert["id"]
    assert "secure" in answer.headers["set-cookie"].lower()  # public_url is https
    session = {**session_of(answer), "Origin": PUBLIC}
    assert httpx.get(f"{hub.url}/page/api/me", headers=session).json()["alert"] == alert["id"]
    assert httpx.get(f"{hub.url}/v1/alerts/{alert['id']}", headers=session).status_code == 200
    for path in (f"/v1/alerts/{other['id']}", "/v1/alerts", "/v1/events", "/v1/oncall"):
        refused = httpx.get(f"{hub.url}{path}", headers=session)
        assert refused.status_code == 403 and refused.json()["error"] == "link_scope", path
    other_ack = httpx.post(f"{hub.url}/v1/alerts/{other['id']}/ack", headers=session)
    assert other_ack.status_code == 403
    acked = httpx.post(f"{hub.url}/v1/alerts/{alert['id']}/ack", headers=session)
    assert acked.status_code == 200 and acked.json()["responders"][0]["id"] == "s.a"


def test_a_tampered_or_expired_link_is_refused(linked_hub: Any) -> None:
    hub = linked_hub(roster(public_url=PUBLIC, answer_link_h=1))
    alert, other = raise_alert(hub), raise_alert(hub, "g2")
    now = datetime.now(UTC)
    url = answer_url(hub.config, "s.a", alert["id"], now)
    expired = answer_url(hub.config, "s.a", alert["id"], now - timedelta(hours=1, seconds=1))
    assert url is not None and expired is not None
    query = urlsplit(url).query
    tampered = [
        url.replace(alert["id"], other["id"]),  # another alert
        url.replace("s=s.a", "s=s.b"),  # another supervisor
        url.replace(f"k={parse_qs(query)['k'][0]}", "k=" + "A" * 43),  # a guessed signature
        url.replace("e=", "e=9"),  # a later expiry
        expired,
    ]
    for bad in tampered:
        assert httpx.get(local(bad, hub)).status_code == 403, bad
        assert 'data-link="refused"' in httpx.get(local(bad, hub)).text
        refused = log_in(hub, link_body(bad), origin=PUBLIC)
        assert refused.status_code == 401 and refused.json()["error"] == "link_refused", bad
    assert httpx.get(local(url, hub)).status_code == 200


def test_rotating_the_token_revokes_links_and_sessions(linked_hub: Any) -> None:
    data = roster(public_url=PUBLIC)
    hub = linked_hub(data)
    alert = raise_alert(hub)
    url = answer_url(hub.config, "s.a", alert["id"], datetime.now(UTC))
    assert url is not None
    session = session_of(log_in(hub, {"token": "tok-s.a"}, origin=PUBLIC))
    bob_session = session_of(log_in(hub, {"token": "tok-s.b"}, origin=PUBLIC))
    hub = linked_hub(data)  # a restart alone revokes nothing: the secret is kept
    assert httpx.get(local(url, hub)).status_code == 200
    assert httpx.get(f"{hub.url}/v1/alerts", headers=session).status_code == 200
    for supervisor in data["supervisors"]:
        if supervisor["id"] == "s.a":
            supervisor["token_sha256"] = token_hash("new-token-s.a")
    hub = linked_hub(data)
    assert httpx.get(local(url, hub)).status_code == 403
    assert log_in(hub, link_body(url), origin=PUBLIC).status_code == 401
    assert httpx.get(f"{hub.url}/v1/alerts", headers=session).status_code == 401
    assert httpx.get(f"{hub.url}/v1/alerts", headers=bob_session).status_code == 200


def test_the_secret_is_private_and_kept(linked_hub: Any, tmp_path: Path) -> None:
    linked_hub(roster())
    secret = tmp_path / "hub" / SECRET_NAME
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_bytes()) == 32


@pytest.mark.parametrize(
    "key,value,words",
    [
        ("public_url", "hub.example.org", "n'est pas une adresse de base"),  # French by default
        ("public_url", "ftp://hub.example.org", "n'est pas une adresse de base"),
        ("public_url", "https://hub.example.org/?x=1", "n'est pas une adresse de base"),
        ("answer_link_h", 0, "doit être > 0"),  # French by default
        ("page_session_h", -1, "doit être > 0"),
    ],
)
def test_page_settings_fail_in_one_line(tmp_path: Path, key: str, value: Any, words: str) -> None:
    import tomli_w

    path = tmp_path / "hub.toml"
    path.write_text(tomli_w.dumps(roster(**{key: value})))
    with pytest.raises(ConfigError) as failure:
        load_toml(path, HubConfig)
    message = str(failure.value)
    assert "\n" not in message and key in message and words in message, message


def test_public_url_keeps_a_path_and_drops_the_slash() -> None:
    config = HubConfig.model_validate(roster(public_url="https://proxy.example.org/deskalert/"))
    assert config.hub.public_url == "https://proxy.example.org/deskalert"
