"""What a desk or anyone on the network sends: reused ids, extreme dates and event ids, control
characters, dates in other offsets, refused tokens. Each against a real hub over HTTP."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskalert.client.api import HubClient
from deskalert.client.outbox import Outbox
from deskalert.hub.settings import token_hash
from deskalert.journal.store import Delivery, Journal
from deskalert.models import Alert
from deskalert.text import find_control, strip_control
from support.hubs import RunningHub
from support.requests import auth, new_alert

# One hub's HTTP API (routes, validation, permissions, answers): the same whatever the store,
# so SQLite only. The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py;
# hubs sharing PostgreSQL in test_replicas.py, test_failover.py (docs/test-ids-issue-22.md).
pytestmark = pytest.mark.stores("sqlite")

NOTE: dict[str, Any] = {"what_happened": "Le ton monte.\nPuis se calme.", "type": "verbal"}
EXTREME_DATES = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00"]


def raised(hub: RunningHub, desk: str = "g1", **extra: Any) -> dict[str, Any]:
    alert = new_alert(**extra)
    with hub.client(desk) as client:
        assert client.post("/v1/alerts", json=alert).status_code == 201
    return alert


def assert_error(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) >= {"error", "detail"}
    for word in words:
        assert word in body["detail"], body
    return body


# -- the same alert id, another body ------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"code": "malaise"},
        {"message": "autre chose"},
        {"message": None},
        {"test": True},
        {"created_at": "2026-11-21T10:05:00+01:00"},
    ],
)
def test_a_reused_alert_id_with_another_body_is_a_409_with_the_stored_alert(
    hub: RunningHub, change: dict[str, Any]
) -> None:
    # It was a 200 "already stored": the desk believed what it sent now was stored.
    alert = raised(hub, message="bruit au guichet")
    with hub.client("g1") as g1:
        answer = g1.post("/v1/alerts", json={**alert, **change})
        body = assert_error(answer, 409, next(iter(change)), "new id")
        assert body["error"] == "alert_id_reused" and body["state"] == "open"
        assert body["alert"]["id"] == alert["id"]
        assert body["alert"]["code"] == "renfort"
        assert body["alert"]["message"] == "bruit au guichet"
        assert set(body["alert"]) == set(Alert.model_fields)  # the whole alert, nulls too
        stored = g1.get(f"/v1/alerts/{alert['id']}").json()
    assert (stored["code"], stored["message"], stored["test"]) == (
        "renfort",
        "bruit au guichet",
        False,
    )


def test_an_identical_resend_stays_a_200_even_with_the_same_instant_in_another_offset(
    hub: RunningHub,
) -> None:
    alert = raised(hub, message="bruit")
    with hub.client("g1") as g1:
        assert g1.post("/v1/alerts", json=alert).status_code == 200
        same_instant = {**alert, "created_at": "2026-11-21T09:00:00+00:00"}
        assert g1.post("/v1/alerts", json=same_instant).status_code == 200


async def test_the_outbox_marks_a_reused_id_refused_and_does_not_retry_it(
    hub: RunningHub, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    entry = journal.enqueue("renfort", message="bruit")
    with hub.client("g1") as g1:  # someone else already used this id with another code
        taken = {**new_alert("malaise"), "id": str(entry.id)}
        assert g1.post("/v1/alerts", json=taken).status_code == 201
    async with HubClient(hub.url, "tok-g1") as client:
        assert (await Outbox(journal, client).deliver(entry, timeout=5)).status is Delivery.REFUSED
    refused = journal.get(entry.id)
    assert refused is not None and refused.status is Delivery.REFUSED
    assert refused.attempts == 1 and "alert_id_reused" in (refused.last_error or "")
    journal.close()


async def test_the_outbox_resending_the_same_alert_is_transmitted(
    hub: RunningHub, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    entry = journal.enqueue("renfort", message="bruit")
    async with HubClient(hub.url, "tok-g1") as client:
        outbox = Outbox(journal, client)
        assert (await outbox.deliver(entry, timeout=5)).status is Delivery.TRANSMITTED
        assert (await outbox.deliver(entry, timeout=5)).status is Delivery.TRANSMITTED  # a retry
    journal.close()


async def test_the_outbox_sends_a_queued_message_stripped_of_control_characters(
    hub: RunningHub, tmp_path: Path
) -> None:
    # The hub refuses them now: a stray tab in `send --message` must not keep the alert back.
    journal = Journal(tmp_path / "journal.sqlite3")
    entry = journal.enqueue("renfort", message="bruit\tfort\x1b[2J")
    never = journal.enqueue("not a code!")
    async with HubClient(hub.url, "tok-g1") as client:
        delivered = await Outbox(journal, client).flush(timeout=5)
    assert {k: v.status for k, v in delivered.items()} == {
        str(entry.id): Delivery.TRANSMITTED,
        str(never.id): Delivery.REFUSED,
    }
    assert "invalid_request" in (delivered[str(never.id)].reason or "")
    with hub.client("g1") as g1:
        assert g1.get(f"/v1/alerts/{entry.id}").json()["message"] == "bruit fort"
    refused = journal.get(never.id)
    assert refused is not None and "code" in (refused.last_error or "")
    journal.close()


# -- no input produces a 500 ----------------------------------------------------------------


@pytest.mark.parametrize("date", EXTREME_DATES)
def test_dates_without_a_utc_equivalent_in_queries_are_a_400(hub: RunningHub, date: str) -> None:
    # They were an OverflowError, a 500, on /v1/alerts.
    with hub.client("s.a") as sup:
        assert_error(sup.get("/v1/alerts", params={"state": "all", "since": date}), 400, "since")
        assert_error(sup.get("/v1/notes", params={"since": date}), 400, "since")
        assert_error(sup.get("/v1/notes", params={"until": date}), 400, "until")


@pytest.mark.parametrize("date", EXTREME_DATES)
def test_dates_without_a_utc_equivalent_in_bodies_are_a_422_naming_the_field(
    hub: RunningHub, date: str
) -> None:
    alert = raised(hub)
    with hub.client("g1") as g1, hub.client("s.a") as sup:
        assert_error(g1.post("/v1/alerts", json=new_alert(created_at=date)), 422, "created_at")
        note = {**NOTE, "started_at": date}
        assert_error(g1.post(f"/v1/alerts/{alert['id']}/notes", json=note), 422, "started_at")
        override = {"site": "accueil", "until": date}
        assert_error(sup.post("/v1/oncall/override", json=override), 422, "until")
        assert sup.get("/v1/notes").json() == []


@pytest.mark.parametrize(
    "last_event_id",
    [
        "²³".encode("latin-1"),
        "²³".encode(),
        b"9" * 5000,
        str(2**63).encode(),
        b"-1",
        b"1e3",
    ],
    ids=["superscripts-latin1", "superscripts-utf8", "5000-digits", "2^63", "negative", "float"],
)
def test_a_last_event_id_that_is_not_a_storable_event_id_is_a_400(
    hub: RunningHub, last_event_id: bytes
) -> None:
    # "²³" passed str.isdigit(); 2^63 passed it and then broke the stream mid-way (SQLite).
    headers = [(b"Authorization", b"Bearer tok-s.a"), (b"Last-Event-ID", last_event_id)]
    with (
        httpx.Client(base_url=hub.url, timeout=5) as client,
        client.stream("GET", "/v1/events", headers=headers) as response,
    ):
        response.read()
    assert_error(response, 400, "Last-Event-ID")
    assert len(response.json()["detail"]) < 200


def test_the_largest_event_id_opens_the_stream(hub: RunningHub) -> None:
    headers = {**auth("s.a"), "Last-Event-ID": str(2**63 - 1)}
    with (
        httpx.Client(base_url=hub.url, timeout=5) as client,
        client.stream("GET", "/v1/events", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert next(response.iter_raw()).startswith(b": deskalert hub: stream open")


# -- dates are compared as instants ---------------------------------------------------------


def test_notes_are_filtered_by_instant_whatever_the_offset_of_since_and_until(
    hub: RunningHub,
) -> None:
    # /v1/notes compared the texts: a note 30 min after `since=...+01:00` was left out.
    alert = raised(hub)
    with hub.client("g1") as g1, hub.client("s.a") as sup:
        shared = g1.post(f"/v1/alerts/{alert['id']}/notes", json=NOTE).json()
        at = datetime.fromisoformat(shared["shared_at"])
        paris, new_york = timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))
        window = {
            "since": (at - timedelta(minutes=30)).astimezone(paris).isoformat(),
            "until": (at + timedelta(minutes=30)).astimezone(new_york).isoformat(),
        }
        assert [n["alert_id"] for n in sup.get("/v1/notes", params=window).json()] == [alert["id"]]
        after = {"since": (at + timedelta(minutes=30)).astimezone(new_york).isoformat()}
        assert sup.get("/v1/notes", params=after).json() == []
        before = {"until": (at - timedelta(minutes=30)).astimezone(paris).isoformat()}
        assert sup.get("/v1/notes", params=before).json() == []


def test_alerts_are_filtered_by_instant_whatever_the_offset_of_since(hub: RunningHub) -> None:
    alert = raised(hub)
    with hub.client("s.a") as sup:
        received = datetime.fromisoformat(
            sup.get(f"/v1/alerts/{alert['id']}").json()["received_at"]
        )
        for offset in (timedelta(hours=1), timedelta(hours=-5)):
            for delta, expected in ((-30, [alert["id"]]), (30, [])):
                since = (received + timedelta(minutes=delta)).astimezone(timezone(offset))
                found = sup.get("/v1/alerts", params={"state": "all", "since": since.isoformat()})
                assert [a["id"] for a in found.json()] == expected, (offset, delta)


# -- text from a desk is text ---------------------------------------------------------------

# A lone surrogate ("\ud800" in JSON) was a 500: accepted by the model, then no UTF-8 could
# encode the answer.
ESCAPES = [
    "\x1b]52;c;ZWNobyBoaQ==\x07",
    "\x1b[2J",
    "\x9b2J",
    "\x00",
    "\x7f",
    "\u202egnp.exe",
    "\ud800",
    "x\udfff",
]


def send(client: httpx.Client, url: str, body: Any) -> httpx.Response:
    """POST `body` as ASCII JSON: escapes such as "\\ud800" stay escapes on the wire (httpx's
    `json=` encodes to UTF-8, which cannot carry a lone surrogate)."""
    return client.post(
        url, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )


@pytest.mark.parametrize("bad", ESCAPES)
def test_control_characters_in_every_text_field_are_a_422_naming_the_field(
    hub: RunningHub, bad: str
) -> None:
    alert = raised(hub)
    url = f"/v1/alerts/{alert['id']}"
    with hub.client("g1") as g1, hub.client("s.a") as sup:
        assert_error(send(g1, "/v1/alerts", new_alert(message=f"a{bad}b")), 422, "message")
        assert_error(send(sup, f"{url}/resolve", {"summary": bad}), 422, "summary")
        assert_error(send(sup, f"{url}/cancel", {"reason": bad}), 422, "reason")
        note = {**NOTE, "what_happened": f"ligne\n{bad}"}
        assert_error(send(g1, f"{url}/notes", note), 422, "what_happened")
        note = {**NOTE, "intervened": ["Ana", f"Bob{bad}"]}
        assert_error(send(g1, f"{url}/notes", note), 422, "intervened[1]")
        assert g1.get(url).json()["state"] == "open"
        assert sup.get("/v1/notes").json() == []
        assert len(sup.get("/v1/alerts", params={"state": "all"}).json()) == 1


def test_a_line_break_is_text_in_a_note_but_not_in_a_one_line_field(hub: RunningHub) -> None:
    alert = raised(hub)
    with hub.client("g1") as g1:
        assert g1.post(f"/v1/alerts/{alert['id']}/notes", json=NOTE).status_code == 201
        assert_error(g1.post("/v1/alerts", json=new_alert(message="a\nb")), 422, "message")
        accents = new_alert(message="Çà et là : « ça monte », 日本 🙂")
        assert g1.post("/v1/alerts", json=accents).status_code == 201


def test_strip_control_leaves_text_safe_to_draw() -> None:
    assert strip_control("a\x1b]52;c;ZWNobyBoaQ==\x07b\x1b[2Jc\x9b31md") == "abcd"
    assert strip_control("x\u202eyz\x00\x7f\x85") == "xyz"
    assert strip_control("une\nligne\tici") == "une ligne ici"
    assert strip_control("une\nligne", keep_newlines=True) == "une\nligne"
    assert strip_control("Çà, 日本 🙂") == "Çà, 日本 🙂"
    assert strip_control("caf\udce9") == "caf"  # a byte undecodable as UTF-8, surrogate-escaped
    assert find_control(strip_control("\x1b[1;31m\x1bP+q\x1b\\ok\x1b")) is None


@given(st.text())
def test_strip_control_leaves_no_control_character_in_any_text(text: str) -> None:
    assert find_control(strip_control(text)) is None
    kept = strip_control(text, keep_newlines=True)
    assert find_control(kept, allow_newline=True) is None
    assert kept.count("\n") <= text.count("\n")


# -- refused tokens -------------------------------------------------------------------------


def test_a_refused_token_is_logged_once_a_minute_and_listed_for_supervisors(
    hub: RunningHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="deskalert.hub")
    prefix = token_hash("tok-revoked")[:12]
    with hub.client("g1") as g1, hub.client("revoked") as revoked, hub.client("s.a") as sup:
        assert g1.post("/v1/heartbeat").status_code == 200  # g1 was fine from this address
        for _ in range(5):
            assert revoked.post("/v1/alerts", json=new_alert()).status_code == 401
        assert revoked.get("/v1/events").status_code == 401
        listed = sup.get("/v1/presence").json()
        assert_error(g1.get("/v1/presence"), 403, "supervisors")
    lines = [r.getMessage() for r in caplog.records if "refused token" in r.getMessage()]
    assert len(lines) == 1 and prefix in lines[0] and "127.0.0.1" in lines[0], lines
    assert "g1" in lines[0]
    refused = listed["refused_tokens"]
    assert [
        (r["token_sha256_prefix"], r["address"], r["count"], r["known_as"]) for r in refused
    ] == [(prefix, "127.0.0.1", 6, "g1")]
    assert {d["id"] for d in listed["desks"]} == {"g1", "g2", "e1"}
    assert token_hash("tok-revoked") not in str(listed)  # a prefix, never the whole hash


async def test_the_client_reads_presence_with_refused_tokens(hub: RunningHub) -> None:
    with hub.client("mistyped") as mistyped:
        assert mistyped.get("/v1/codes").status_code == 401
    async with HubClient(hub.url, "tok-s.b") as client:
        presence = await client.presence()
    assert [r.token_sha256_prefix for r in presence.refused_tokens] == [
        token_hash("tok-mistyped")[:12]
    ]
