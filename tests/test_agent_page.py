"""The agents' page over HTTP, against a real hub on both stores: a phone enrols with a
one-time code (a link's fragment) and gets a session cookie that acts as its desk, nothing
more: every supervisor action is refused with it, as with the desk's token; the code works
once; a logout or a revoked token ends it."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path

import httpx
import pytest

from agent_helpers import enrol_phone, phone_code, phone_headers
from support.cli import Result, run_cli
from support.hubs import RunningHub
from support.requests import auth, new_alert
from support.roster import roster_toml


def run(hub: RunningHub, *words: str) -> Result:
    """`deskalert WORDS` on the store of the running `hub`, in the test's process: what is
    tested is the link the command writes and prints, not a process (support/cli.py)."""
    url = hub.config.hub.database
    return run_cli(*words, env={**os.environ, **({"DESKALERT_DATABASE": url} if url else {})})


# One hub's HTTP API (routes, validation, permissions, answers): the same whatever the store,
# so SQLite only. The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py;
# hubs sharing PostgreSQL in test_replicas.py, test_failover.py (docs/test-ids-issue-22.md).
pytestmark = pytest.mark.stores("sqlite")


def test_the_page_is_served_in_french_with_its_own_manifest(hub: RunningHub) -> None:
    page = httpx.get(f"{hub.url}/page/agent/")
    assert page.status_code == 200 and '<html lang="fr"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    english = httpx.get(f"{hub.url}/page/agent/", headers={"Accept-Language": "en-GB,en"})
    assert '<html lang="en"' in english.text
    manifest = httpx.get(f"{hub.url}/page/agent/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.json()["start_url"] == "./"
    for name in ("agent-words.js", "agent.js", "agent-view.js", "agent-timer.js", "agent.css"):
        assert httpx.get(f"{hub.url}/page/static/{name}").status_code == 200, name


def test_a_link_enrols_the_phone_as_its_desk_once_and_leaves_its_token(hub: RunningHub) -> None:
    code = phone_code(hub, "g2")
    first = enrol_phone(hub, code)
    assert first.status_code == 200, first.text
    assert first.json()["id"] == "g2" and first.json()["name"] == "Desk g2"
    cookie = first.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    again = enrol_phone(hub, code)
    assert again.status_code == 403 and again.json()["error"] == "phone_link_used"
    headers = {"Cookie": cookie.split(";")[0], "Origin": hub.url}
    me = httpx.get(f"{hub.url}/page/api/agent/me", headers=headers).json()
    assert (me["desk"], me["site"], me["site_label"]) == ("g2", "accueil", "Accueil RDC")
    assert [c["code"] for c in me["codes"]] == ["renfort", "malaise"]
    assert me["cancel_window_s"] == 10
    # The desk's workstation keeps its token; a second phone of the desk keeps the first one.
    assert httpx.get(f"{hub.url}/v1/oncall", headers=auth("g2")).status_code == 200
    assert httpx.get(f"{hub.url}/v1/oncall", headers=phone_headers(hub, "g2")).status_code == 200
    assert httpx.get(f"{hub.url}/v1/oncall", headers=headers).status_code == 200


def test_a_code_from_another_page_is_refused_and_not_spent(hub: RunningHub) -> None:
    code = phone_code(hub, "g2")
    foreign = httpx.post(
        f"{hub.url}/page/api/agent/session",
        json={"code": code},
        headers={"Origin": "http://evil.example"},
    )
    assert foreign.status_code == 403 and foreign.json()["error"] == "foreign_origin"
    assert enrol_phone(hub, code).status_code == 200


def test_the_phone_raises_cancels_and_answers_as_its_desk(hub: RunningHub) -> None:
    phone = phone_headers(hub, "g2")
    body = new_alert("malaise")
    raised = httpx.post(f"{hub.url}/v1/alerts", json=body, headers=phone)
    assert raised.status_code == 201 and raised.json()["desk"] == "g2"
    replay = httpx.post(f"{hub.url}/v1/alerts", json=body, headers=phone)
    assert replay.status_code == 200  # the same id: stored once
    cancel = httpx.post(f"{hub.url}/v1/alerts/{body['id']}/cancel", json={}, headers=phone)
    assert cancel.status_code == 200 and cancel.json()["state"] == "cancelled"
    colleague = httpx.post(f"{hub.url}/v1/alerts", json=new_alert(), headers=auth("g1")).json()
    ack = httpx.post(f"{hub.url}/v1/alerts/{colleague['id']}/ack", headers=phone)
    assert ack.status_code == 200 and ack.json()["responders"][0]["id"] == "g2"


def test_a_foreign_page_cannot_raise_an_alert_with_the_phones_cookie(hub: RunningHub) -> None:
    phone = phone_headers(hub, "g2")
    foreign = {**phone, "Origin": "http://evil.example"}
    refused = httpx.post(f"{hub.url}/v1/alerts", json=new_alert(), headers=foreign)
    assert refused.status_code == 403 and refused.json()["error"] == "foreign_origin"
    stored = httpx.get(f"{hub.url}/v1/alerts?state=all", headers=auth("s.a")).json()
    assert stored == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/page/api/me", None),
        ("POST", "/v1/checks", {"desk": "g1"}),
        ("GET", "/v1/sessions/figures", None),
        ("GET", "/v1/presence", None),
        (
            "POST",
            "/v1/broadcasts",
            {"id": str(uuid.uuid4()), "sites": ["accueil"], "kind": "vigilance", "text": "x"},
        ),
        ("POST", "/v1/oncall/override", {"site": "accueil", "until": "2099-01-01T00:00:00Z"}),
        ("POST", "/v1/alerts/{colleague}/resolve", {}),
        ("POST", "/v1/alerts/{colleague}/cancel", {}),
        ("GET", "/v1/oncall?site=etage", None),
    ],
)
def test_a_phone_cookie_is_refused_every_supervisor_action(
    hub: RunningHub, method: str, path: str, body: dict[str, object] | None
) -> None:
    colleague = httpx.post(f"{hub.url}/v1/alerts", json=new_alert(), headers=auth("g1")).json()
    phone = phone_headers(hub, "g2")
    url = f"{hub.url}{path.format(colleague=colleague['id'])}"
    refused = httpx.request(method, url, json=body, headers=phone)
    assert refused.status_code == 403, (path, refused.status_code, refused.text)
    stored = httpx.get(f"{hub.url}/v1/alerts/{colleague['id']}", headers=auth("s.a")).json()
    assert stored["state"] == "open"


def test_a_supervisors_page_cookie_is_not_an_agents(hub: RunningHub) -> None:
    login = httpx.post(
        f"{hub.url}/page/api/session", json={"token": "tok-s.a"}, headers={"Origin": hub.url}
    )
    supervisor = {"Cookie": login.headers["set-cookie"].split(";")[0], "Origin": hub.url}
    refused = httpx.get(f"{hub.url}/page/api/agent/me", headers=supervisor)
    assert refused.status_code == 403 and refused.json()["error"] == "not_desk"


def test_a_workstations_code_or_a_supervisors_link_is_no_phone_link(hub: RunningHub) -> None:
    for code in (phone_code(hub, "g2", purpose="enrol"), phone_code(hub, "s.b", purpose="page")):
        refused = enrol_phone(hub, code)
        assert refused.status_code == 403 and refused.json()["error"] == "phone_link_unknown"
    supervisor = enrol_phone(hub, phone_code(hub, "s.b"))  # made by hand: the CLI refuses it
    assert supervisor.status_code == 403 and supervisor.json()["error"] == "phone_link_gone"
    presence = httpx.get(f"{hub.url}/v1/presence", headers=auth("s.a")).json()
    assert sum(t["count"] for t in presence["refused_tokens"]) == 3  # counted as refused


def test_a_logout_ends_the_phone_and_a_copy_of_its_cookie(hub: RunningHub) -> None:
    phone = phone_headers(hub, "g2")
    assert httpx.get(f"{hub.url}/v1/oncall", headers=phone).status_code == 200
    out = httpx.post(f"{hub.url}/page/api/agent/logout", headers=phone)
    assert out.status_code == 204
    copied = httpx.post(f"{hub.url}/v1/alerts", json=new_alert(), headers=phone)
    assert copied.status_code == 401 and copied.json()["error"] == "session_refused"


def test_a_revoked_token_ends_the_phone(hub: RunningHub) -> None:
    phone = phone_headers(hub, "g2")
    running = hub.hub

    def revoke() -> None:
        desk = running.roster.desks["g2"]
        base = desk.token_sha256
        running.store.set_token("g2", base, None, running.clock.now())

    running.runtime.executor.submit(revoke).result()
    asyncio.run_coroutine_threadsafe(running.follow_tokens(), running.runtime.loop).result(10)
    refused = httpx.get(f"{hub.url}/v1/oncall", headers=phone)
    assert refused.status_code == 401 and refused.json()["error"] == "session_refused"


def test_a_tampered_or_expired_phone_cookie_is_refused(hub: RunningHub) -> None:
    phone = phone_headers(hub, "g2")
    name, value = phone["Cookie"].split("=", 1)
    version, desk, expires, session, mac = value.split(":")
    for forged in (
        f"{version}:g1:{expires}:{session}:{mac}",  # another desk
        f"{version}:{desk}:{int(expires) + 1}:{session}:{mac}",  # a later expiry
        f"{version}:{desk}:{expires}:{session}:{mac[:-1]}%C3%A9",  # not ASCII once decoded
        f"{version}:{desk}:{expires}:{session}x:{mac}",  # another session id
        f"{version}:{desk}:1:{session}:{mac}",  # expired
    ):
        answer = httpx.get(f"{hub.url}/v1/oncall", headers={"Cookie": f"{name}={forged}"})
        assert answer.status_code == 401, forged


def test_hub_enrol_phone_prints_a_link_that_enrols_the_phone(
    hub: RunningHub, tmp_path: Path
) -> None:
    (tmp_path / "hub.toml").write_text(roster_toml(), encoding="utf-8")  # the hub's roster
    where = ["--config", str(tmp_path / "hub.toml"), "--data-dir", str(hub.data_dir)]
    done = run(hub, "hub", "enrol", "g2", "--phone", "--no-qr", "--url", hub.url, *where)
    assert done.returncode == 0, done.stderr
    link = done.stdout.splitlines()[1]
    assert link.startswith(f"{hub.url}/page/agent/#code="), done.stdout
    code = link.rsplit("=", 1)[1]
    enrolled = httpx.post(
        f"{hub.url}/page/api/agent/session", json={"code": code}, headers={"Origin": hub.url}
    )
    assert enrolled.status_code == 200 and enrolled.json()["id"] == "g2"
    supervisor = run(hub, "hub", "enrol", "s.a", "--phone", "--url", hub.url, *where)
    assert supervisor.returncode != 0 and "--phone : s.a est un encadrant" in supervisor.stderr


def test_every_word_of_the_page_is_in_both_languages() -> None:
    """As the strict catalogue does for the screens: a key shown but missing would show as the
    key itself; one language without a key the other has would show French in English."""
    static = Path(__file__).parent.parent / "src/deskalert/hub/static"
    words = (static / "agent-words.js").read_text(encoding="utf-8")
    french, english = words.split("\n  en: {")
    keys = {
        name: set(re.findall(r'^\s+"([\w.]+)":', block, re.M))
        for name, block in (("fr", french), ("en", english))
    }
    assert keys["fr"] == keys["en"] and len(keys["fr"]) > 40
    scripts = "".join(
        (static / f).read_text() for f in ("agent.js", "agent-view.js", "agent-timer.js")
    )
    used = set(re.findall(r'\bt\("([\w.]+)"', scripts))
    used |= set(re.findall(r'data-t="([\w.]+)"', (static / "agent.html").read_text()))
    assert used and used <= keys["fr"], used - keys["fr"]
