"""The interview timer and "tout va bien ?" checks, against a real hub over HTTP.

The hub runs on a `ManualClock` without its ticker: a test moves time past a session's end or a
check's deadline (`RunningHub.advance`, which ticks the hub once) instead of sleeping, so each
deadline is met at its second. The rules: the hub holds the session, so a desk that is gone
changes nothing, and an unanswered check raises exactly one alert, also across a hub restart
between the deadline and the next tick. The ticker itself, in real time, is tested in
tests/test_desk.py and tests/test_interview_desk.py (kept real-time on purpose).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from deskalert.hub.clock import ManualClock
from deskalert.models import Event
from support.events import EventReader
from support.hubs import RunningHub, on_store, start_threaded_hub
from support.roster import make_config

# One hub's HTTP API (routes, validation, permissions, answers): the same whatever the store,
# so SQLite only. The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py;
# hubs sharing PostgreSQL in test_replicas.py, test_failover.py (docs/test-ids-issue-22.md).
pytestmark = pytest.mark.stores("sqlite")

SHORT = 0.03  # minutes: 1.8 s
SHORT_S = SHORT * 60
ANSWER_S = 0.6


def start_session(
    desk: httpx.Client, minutes: float = SHORT, room: str = "Box A"
) -> dict[str, Any]:
    answer = desk.post("/v1/sessions", json={"room": room, "minutes": minutes})
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def alerts_of(hub: RunningHub, code: str) -> list[dict[str, Any]]:
    with hub.client("s.a") as sup:
        found = sup.get("/v1/alerts", params={"state": "all"}).json()
    return [a for a in found if a["code"] == code]


def test_unanswered_timer_raises_one_no_answer_alert_with_room_and_start(
    hub_factory: Callable[..., RunningHub],
) -> None:
    hub = hub_factory(clock=ManualClock(), check_answer_s=ANSWER_S)
    with hub.client("g1") as desk:
        session = start_session(desk)
    hub.advance(SHORT_S)  # the session ends: the check is asked
    assert alerts_of(hub, "sans-reponse") == []
    hub.advance(ANSWER_S)  # its deadline passes unanswered
    for _ in range(5):  # a few more ticks: still one
        hub.advance(0.3)
    alerts = alerts_of(hub, "sans-reponse")
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["desk"] == "g1" and alert["discreet"] is True
    assert alert["escalated_to"] == "s.a"  # the site's on-call chain
    assert "Box A" in alert["message"] and "pas répondu" in alert["message"]
    started = session["started_at"]
    assert started  # the message carries the start time in the hub's zone
    with hub.client("s.a") as sup:
        assert sup.get("/v1/sessions").json() == []  # over: the alert carries it on


def test_desk_gone_mid_session_still_raises_the_alert_once(
    hub_factory: Callable[..., RunningHub], follow: Callable[..., EventReader]
) -> None:
    """The desk opens its stream, starts a session and dies: the hub does not care."""
    hub = hub_factory(clock=ManualClock(), check_answer_s=ANSWER_S, heartbeat_s=0.5)
    desk_stream = EventReader(hub.url, "g1").start()
    assert desk_stream.items.get(timeout=5) == ("status", 200)
    with hub.client("g1") as desk:
        start_session(desk)
    desk_stream.stop()  # killed mid-interview
    watcher = follow(hub.url, "s.a")
    hub.advance(1)  # silent for longer than 1.7 heartbeats: offline
    hub.advance(SHORT_S)  # the session ends: the check is asked
    hub.advance(ANSWER_S)  # and nobody answers
    types = [e[1] for e in watcher.events_until("check.unanswered", timeout=10)]
    assert "desk.offline" in types and "check.asked" in types
    raised = watcher.events_until("alert.raised", timeout=5) if "alert.raised" not in types else []
    assert len(alerts_of(hub, "sans-reponse")) == 1, (types, raised)


def test_hub_restart_between_deadline_and_tick_raises_exactly_once(tmp_path: Path) -> None:
    config = make_config(check_answer_s=ANSWER_S)
    clock = ManualClock()  # the time of the place: it goes on while the hub is down
    hub = start_threaded_hub(config, tmp_path / "data", clock=clock)
    try:
        with hub.client("g1") as desk:
            start_session(desk, minutes=0.02)  # 1.2 s
    finally:
        hub.stop()  # down before the session is due
    clock.advance(1.2 + ANSWER_S + 0.5)  # the deadline of its check passes while the hub is down
    again = start_threaded_hub(config, tmp_path / "data", clock=clock)
    try:
        again.advance(0)  # the first tick after the restart
        assert len(alerts_of(again, "sans-reponse")) == 1
        for _ in range(3):
            again.advance(0.3)
        assert len(alerts_of(again, "sans-reponse")) == 1
    finally:
        again.stop()
    third = start_threaded_hub(config, tmp_path / "data", clock=clock)  # a second restart adds none
    try:
        for _ in range(3):
            third.advance(0.3)
        assert len(alerts_of(third, "sans-reponse")) == 1
    finally:
        third.stop()


def pending_check(hub: RunningHub, desk: httpx.Client) -> dict[str, Any]:
    """The check asked when the session ends (the clock moved past it)."""
    assert desk.get("/v1/checks").json() == []
    hub.advance(SHORT_S)
    return desk.get("/v1/checks").json()[0]  # type: ignore[no-any-return]


def test_oui_closes_the_session_and_raises_nothing(
    hub_factory: Callable[..., RunningHub], follow: Callable[..., EventReader]
) -> None:
    hub = hub_factory(clock=ManualClock(), check_answer_s=3)
    watcher = follow(hub.url, "s.a")
    with hub.client("g1") as desk:
        session = start_session(desk)
        check = pending_check(hub, desk)
        assert check["kind"] == "session" and check["session_id"] == session["id"]
        answered = desk.post(f"/v1/checks/{check['id']}/answer", json={"answer": "ok"})
        assert answered.status_code == 200 and answered.json()["state"] == "answered"
        again = desk.post(f"/v1/checks/{check['id']}/answer", json={"answer": "ok"})
        assert again.status_code == 409
    types = [e[1] for e in watcher.events_until("session.closed")]
    assert types == ["session.started", "check.asked", "check.answered", "session.closed"]
    hub.advance(3.5)
    assert alerts_of(hub, "sans-reponse") == []
    with hub.client("s.a") as sup:
        assert sup.get("/v1/sessions").json() == []


def test_oui_with_extension_keeps_the_session_running(
    hub_factory: Callable[..., RunningHub],
) -> None:
    hub = hub_factory(clock=ManualClock(), check_answer_s=3)
    with hub.client("g1") as desk:
        start_session(desk)
        check = pending_check(hub, desk)
        desk.post(f"/v1/checks/{check['id']}/answer", json={"answer": "ok", "extend_min": 10})
        sessions = desk.get("/v1/sessions").json()
    assert [s["state"] for s in sessions] == ["running"]


def test_duress_answer_raises_a_discreet_alert_and_closes_like_oui(
    hub_factory: Callable[..., RunningHub],
) -> None:
    hub = hub_factory(clock=ManualClock(), check_answer_s=3)
    with hub.client("g1") as desk:
        start_session(desk)
        check = pending_check(hub, desk)
        answered = desk.post(f"/v1/checks/{check['id']}/answer", json={"answer": "duress"})
        assert answered.status_code == 200
        assert desk.get("/v1/sessions").json() == []  # closed, as "oui" would
    [alert] = alerts_of(hub, "renfort")
    assert alert["discreet"] is True and alert["id"] == answered.json()["alert_id"]
    assert "contrainte" in alert["message"]
    hub.advance(3.5)
    assert alerts_of(hub, "sans-reponse") == []


def test_supervisor_check_answered_venez_raises_the_desks_discreet_alert(
    hub_factory: Callable[..., RunningHub], follow: Callable[..., EventReader]
) -> None:
    hub = hub_factory(check_answer_s=3)
    desk_stream = follow(hub.url, "g1")
    with hub.client("s.a") as sup:
        asked = sup.post("/v1/checks", json={"desk": "g1"})
    assert asked.status_code == 201
    _, _kind, data = desk_stream.events_until("check.asked")[-1]
    assert data["asked_by_name"] == "Ana Sup" and data["desk"] == "g1"
    with hub.client("g1") as desk:
        assert desk.post("/v1/checks", json={"desk": "g2"}).status_code == 403
        answer = desk.post(f"/v1/checks/{data['id']}/answer", json={"answer": "venez"})
    assert answer.json()["answer"] == "venez"
    [alert] = alerts_of(hub, "renfort")
    assert alert["discreet"] and "Ana Sup" in alert["message"] and "venez" in alert["message"]


def test_supervisor_check_unanswered_raises_the_no_answer_alert(
    hub_factory: Callable[..., RunningHub],
) -> None:
    hub = hub_factory(clock=ManualClock(), check_answer_s=ANSWER_S)
    with hub.client("s.a") as sup:
        sup.post("/v1/checks", json={"desk": "e1"})
    hub.advance(ANSWER_S - 0.1)
    assert alerts_of(hub, "sans-reponse") == []
    hub.advance(0.1)
    [alert] = alerts_of(hub, "sans-reponse")
    assert alert["desk"] == "e1" and "Ana Sup" in alert["message"]


def test_other_desk_cannot_answer_or_close(hub_factory: Callable[..., RunningHub]) -> None:
    hub = hub_factory(check_answer_s=3)
    with hub.client("g1") as desk, hub.client("g2") as other:
        session = start_session(desk, minutes=5)
        assert other.post(f"/v1/sessions/{session['id']}/close").status_code == 403
        assert desk.post(f"/v1/sessions/{session['id']}/close").status_code == 200
        assert desk.post(f"/v1/sessions/{session['id']}/close").status_code == 409


def test_session_and_check_events_are_typed_stream_events() -> None:
    """Clients dispatch with match: the stored event converts to the typed union."""
    from deskalert.models import CheckEvent, SessionEvent

    session = {
        "id": "6f1c0ad2-3b61-4cc8-a0a6-9f7e8de0f1aa",
        "desk": "g1",
        "desk_label": "G",
        "site": "accueil",
        "room": "Box A",
        "started_at": "2026-11-22T10:00:00+00:00",
        "expected_min": 30,
        "due_at": "2026-11-22T10:30:00+00:00",
        "state": "running",
        "updated_at": "2026-11-22T10:00:00+00:00",
    }
    event = Event(
        id=1, type="session.started", at="2026-11-22T10:00:00+00:00", site="accueil", data=session
    )
    assert isinstance(event.typed(), SessionEvent)
    check = {
        "id": "7f1c0ad2-3b61-4cc8-a0a6-9f7e8de0f1aa",
        "kind": "supervisor",
        "desk": "g1",
        "desk_label": "G",
        "site": "accueil",
        "asked_at": session["started_at"],
        "deadline": session["due_at"],
        "state": "pending",
        "updated_at": session["due_at"],
    }
    event = Event(id=2, type="check.asked", at=session["started_at"], site="accueil", data=check)
    assert isinstance(event.typed(), CheckEvent)


def test_the_figures_count_sessions_checks_and_unanswered_ones_for_supervisors_only(
    hub_factory: Callable[..., RunningHub],
) -> None:
    hub = hub_factory(clock=ManualClock(), check_answer_s=ANSWER_S)
    with hub.client("g1") as desk:
        start_session(desk)
        start_session(desk, minutes=30, room="Box B")  # still running: counted, not checked
    hub.advance(SHORT_S)
    hub.advance(ANSWER_S)
    assert alerts_of(hub, "sans-reponse")
    with hub.client("s.a") as sup:
        figures = sup.get("/v1/sessions/figures").json()
        later = sup.get("/v1/sessions/figures", params={"since": "2099-01-01T00:00:00+01:00"})
    assert figures == {"sessions": 2, "checks": 1, "answered": 0, "unanswered": 1}
    assert later.json() == {"sessions": 0, "checks": 0, "answered": 0, "unanswered": 0}
    with hub.client("g1") as desk:
        assert desk.get("/v1/sessions/figures").status_code == 403


def test_purge_forgets_closed_sessions_and_ended_checks_past_retention(
    hub_factory: Callable[..., RunningHub],
) -> None:
    from datetime import UTC, datetime, timedelta

    hub = hub_factory(clock=ManualClock(), check_answer_s=ANSWER_S)
    with hub.client("g1") as desk:
        start_session(desk)
        running = start_session(desk, minutes=30, room="Box B")
    hub.advance(SHORT_S)
    hub.advance(ANSWER_S)
    assert alerts_of(hub, "sans-reponse")
    store = hub.server.server.config.app.state.hub.store
    on_store(hub, lambda _db: store.purge(datetime.now(UTC) + timedelta(days=1)))  # a year on
    with hub.client("s.a") as sup:
        assert [s["id"] for s in sup.get("/v1/sessions").json()] == [running["id"]]
    counts = on_store(
        hub,
        lambda db: [
            db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("checks", "sessions")
        ],
    )
    assert counts == [0, 1], "the ended check and the closed session go, the running one stays"
