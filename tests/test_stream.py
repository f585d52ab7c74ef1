"""The live stream against a real uvicorn: fan-out, filters, replay, keep-alive, escalation,
presence. The endless stream cannot go through httpx.ASGITransport (encode/httpx#2186)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from deskalert.errors import StoreUnavailable
from deskalert.hub.clock import ManualClock
from support.events import EventReader
from support.hubs import RunningHub
from support.requests import auth, new_alert


def post(hub: RunningHub, who: str, path: str, body: object = None) -> dict[str, object]:
    with hub.client(who) as client:
        response = client.post(path, json=body)
    assert response.is_success, response.text
    return response.json()  # type: ignore[no-any-return]


def test_every_change_is_one_event_with_increasing_ids(
    hub: RunningHub, follow: Callable[..., EventReader]
) -> None:
    supervisor = follow(hub.url, "s.a")
    alert = post(hub, "g1", "/v1/alerts", new_alert())
    post(hub, "s.a", f"/v1/alerts/{alert['id']}/ack")
    post(hub, "g2", f"/v1/alerts/{alert['id']}/ack")
    post(hub, "s.a", f"/v1/alerts/{alert['id']}/resolve", {"summary": "ok"})
    events = supervisor.events_until("alert.resolved")
    alert_events = [e for e in events if e[1].startswith("alert.")]
    assert [e[1] for e in alert_events] == [
        "alert.raised",
        "alert.acknowledged",
        "alert.acknowledged",
        "alert.resolved",
    ]
    ids = [e[0] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    resolved = alert_events[-1][2]
    assert resolved["id"] == alert["id"] and resolved["state"] == "resolved"
    assert [r["id"] for r in resolved["responders"]] == ["s.a", "g2"]


def test_a_desk_sees_its_site_only(hub: RunningHub, follow: Callable[..., EventReader]) -> None:
    other_site = follow(hub.url, "e1")
    same_site = follow(hub.url, "g2")
    post(hub, "g1", "/v1/alerts", new_alert())
    etage = post(hub, "e1", "/v1/alerts", new_alert())
    assert same_site.events_until("alert.raised")[-1][2]["desk"] == "g1"
    seen = other_site.events_until("alert.raised")
    assert [e[2]["id"] for e in seen if e[1] == "alert.raised"] == [etage["id"]]
    assert all(e[2].get("site", "etage") == "etage" for e in seen)


def test_supervisor_site_filter(hub: RunningHub, follow: Callable[..., EventReader]) -> None:
    etage_only = follow(hub.url, "s.b", params={"site": "etage"})
    post(hub, "g1", "/v1/alerts", new_alert())
    etage = post(hub, "e1", "/v1/alerts", new_alert())
    raised = [e for e in etage_only.events_until("alert.raised") if e[1] == "alert.raised"]
    assert [e[2]["id"] for e in raised] == [etage["id"]]


def test_last_event_id_replays_what_was_missed_then_goes_live(
    hub: RunningHub, follow: Callable[..., EventReader]
) -> None:
    first = post(hub, "g1", "/v1/alerts", new_alert())
    second = post(hub, "g1", "/v1/alerts", new_alert())
    post(hub, "s.a", f"/v1/alerts/{second['id']}/ack")
    with hub.client("s.a") as client:
        everything = [a["id"] for a in client.get("/v1/alerts").json()]
    assert set(everything) == {first["id"], second["id"]}
    reader = follow(hub.url, "s.c", headers={"Last-Event-ID": "1"})
    replayed = reader.events_until("alert.acknowledged")
    assert [(e[0], e[1]) for e in replayed] == [(2, "alert.raised"), (3, "alert.acknowledged")]
    third = post(hub, "g2", "/v1/alerts", new_alert())
    live = reader.events_until("alert.raised")
    assert live[-1][2]["id"] == third["id"] and live[-1][0] > 3


def test_since_parameter_is_the_same_as_last_event_id(
    hub: RunningHub, follow: Callable[..., EventReader]
) -> None:
    post(hub, "g1", "/v1/alerts", new_alert())
    second = post(hub, "g1", "/v1/alerts", new_alert())
    reader = follow(hub.url, "s.a", params={"since": "1"})
    assert reader.next_event()[2]["id"] == second["id"]


def test_keep_alive_comment_within_heartbeat(hub_factory: Callable[..., RunningHub]) -> None:
    hub = hub_factory(heartbeat_s=0.3)
    started = time.monotonic()
    lines = []
    with httpx.stream("GET", f"{hub.url}/v1/events", headers=auth("s.a"), timeout=5) as response:
        for line in response.iter_lines():
            lines.append(line)
            if line == ": keep-alive":
                break
    assert time.monotonic() - started < 2
    assert lines[0] == ": deskalert hub: stream open"


# Kept real-time on purpose: this test and test_desk_that_stopped_heartbeating_goes_offline
# check the hub's own ticker (its pace, within loose bounds) end to end; the rules themselves
# are checked on a ManualClock (tests/test_hub_clock.py, test_an_answer_stops_escalation,
# test_desk_goes_offline_when_heartbeats_stop_even_with_its_stream_open, tests/test_sessions.py).
def test_unanswered_alert_escalates_along_the_chain_then_to_everyone(
    hub_factory: Callable[..., RunningHub], follow: Callable[..., EventReader]
) -> None:
    hub = hub_factory(ack_timeout_s=0.6)
    reader = follow(hub.url, "s.c")
    raised_at = time.monotonic()
    post(hub, "g1", "/v1/alerts", new_alert())
    first = reader.events_until("alert.escalated")[-1]
    first_delay = time.monotonic() - raised_at
    second = reader.events_until("alert.escalated")[-1]
    second_delay = time.monotonic() - raised_at
    assert (first[2]["escalation_level"], first[2]["escalated_to"]) == (1, "s.b")
    assert (second[2]["escalation_level"], second[2]["escalated_to"]) == (2, "everyone")
    # Loose bounds: the ticker runs every ack_timeout/4; the machine is shared and noisy.
    assert 0.55 <= first_delay < 3 and 1.15 <= second_delay < 4
    time.sleep(1.5)
    with hub.client("s.a") as client:
        alert = client.get("/v1/alerts").json()[0]
    assert alert["escalation_level"] == 2, "the chain is exhausted: no further escalation"


def test_an_answer_stops_escalation(
    hub_factory: Callable[..., RunningHub], follow: Callable[..., EventReader]
) -> None:
    hub = hub_factory(clock=ManualClock(), ack_timeout_s=0.5)
    alert = post(hub, "g1", "/v1/alerts", new_alert())
    post(hub, "g2", f"/v1/alerts/{alert['id']}/ack")
    for _ in range(5):  # past two ack timeouts, ticked on the way
        hub.advance(0.3)
    with hub.client("s.a") as client:
        stored = client.get(f"/v1/alerts/{alert['id']}").json()
    assert stored["escalation_level"] == 0 and stored["escalated_at"] is None


def drain(reader: EventReader) -> list[tuple[int, str, dict[str, Any]]]:
    """The events already received, without waiting for more."""
    events = []
    while not reader.items.empty():
        kind, value = reader.items.get_nowait()
        if kind == "event":
            events.append(value)
    return events


def test_desk_goes_offline_when_heartbeats_stop_even_with_its_stream_open(
    hub_factory: Callable[..., RunningHub], follow: Callable[..., EventReader]
) -> None:
    """An open stream is not proof of life (half-open TCP): only heartbeats keep a desk online.

    On a `ManualClock`: a beat every 0.3 s keeps it online; silent with its stream open, it goes
    offline once 1.7 heartbeats of 1 s have passed, not before (the ticker's own pace is
    tests/test_stream.py::test_desk_that_stopped_heartbeating_goes_offline, in real time)."""
    hub = hub_factory(clock=ManualClock(), heartbeat_s=1.0)
    supervisor = follow(hub.url, "s.a")
    desk = follow(hub.url, "g2")
    online = supervisor.events_until("desk.online")[-1]
    assert online[2]["id"] == "g2" and online[2]["online"] is True
    for _ in range(4):  # heartbeating: stays online
        post(hub, "g2", "/v1/heartbeat")
        hub.advance(0.3)
    with hub.client("s.a") as client:
        assert {d["id"]: d["online"] for d in client.get("/v1/desks").json()}["g2"] is True
    post(hub, "g2", "/v1/heartbeat")  # the last beat; the stream stays open, the beats stop
    hub.advance(1.6)
    hub.advance(0.09)
    with hub.client("s.a") as client:
        assert {d["id"]: d["online"] for d in client.get("/v1/desks").json()}["g2"] is True
    assert [e for e in drain(supervisor) if e[1] == "desk.offline"] == []
    hub.advance(0.02)  # 1.71 s: more than 1.7 heartbeats
    offline = supervisor.events_until("desk.offline")[-1]
    assert offline[2]["id"] == "g2" and offline[2]["online"] is False
    desk.stop()


def test_desk_that_stopped_heartbeating_goes_offline(
    hub_factory: Callable[..., RunningHub], follow: Callable[..., EventReader]
) -> None:
    hub = hub_factory(heartbeat_s=0.4)
    supervisor = follow(hub.url, "s.a")
    before_beat = time.monotonic()
    post(hub, "e1", "/v1/heartbeat")
    after_beat = time.monotonic()
    assert supervisor.events_until("desk.online")[-1][2]["id"] == "e1"
    offline = supervisor.events_until("desk.offline")[-1]
    assert offline[2]["id"] == "e1"
    offline_at = time.monotonic()
    # 1.7 heartbeats after the beat at the earliest; the checker runs about once a heartbeat
    assert offline_at - before_beat >= 0.68
    assert offline_at - after_beat < 0.68 + 1.5


def test_oncall_override_emits_oncall_changed(
    hub: RunningHub, follow: Callable[..., EventReader]
) -> None:
    from datetime import UTC, datetime, timedelta

    desk = follow(hub.url, "g1")
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    post(hub, "s.c", "/v1/oncall/override", {"site": "accueil", "until": until})
    changed = desk.events_until("oncall.changed")[-1]
    assert changed[2]["supervisor"]["name"] == "Cleo Sup" and changed[2]["source"] == "override"


def test_a_timer_whose_write_is_refused_does_not_hold_back_escalation(
    hub_factory: Callable[..., RunningHub],
) -> None:
    """Was: the leader's timers ran in turn and the first refusal ended the tick, so an
    interview check the store refused (a stuck row, a full disk for that write) stopped every
    escalation and on-call change after it. Now each timer is tried; the refusal is still
    raised once all have run, for the ticker to log."""
    hub = hub_factory(clock=ManualClock(), ack_timeout_s=0.5)
    alert = post(hub, "g1", "/v1/alerts", new_alert())

    async def refused(now: datetime) -> None:
        raise StoreUnavailable("refused for this test")

    hub.hub.interview.tick = refused  # type: ignore[method-assign]
    hub.hub.presence.mark_silent_offline = refused  # type: ignore[method-assign]
    hub.advance(0.6)
    with hub.client("s.a") as client:
        stored = client.get(f"/v1/alerts/{alert['id']}").json()
    assert stored["escalation_level"] == 1
