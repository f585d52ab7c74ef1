"""Time passing, driven by hand: a real hub on a real SQLite store, started without its ticker,
its `ManualClock` moved past each deadline and ticked once; no sleeping, no HTTP (the routes
are the other tests' business: here only the hub's timers, at the exact second they fall due).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deskalert.hub.clock import ManualClock
from deskalert.hub.service import Hub
from deskalert.hub.settings import Principal
from deskalert.hub.store import SqliteStore
from deskalert.models import AlertIn, SessionIn
from support.requests import new_alert
from support.roster import make_config

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Paris


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    config = make_config(ack_timeout_s=30, heartbeat_s=5, check_answer_s=60)
    started = Hub(config, SqliteStore(tmp_path / "hub.sqlite3"), ManualClock(START))
    await started.start(ticker=False)
    try:
        yield started
    finally:
        await started.stop()


def who(hub: Hub, name: str) -> Principal:
    principal = hub.roster.principal_for(hashlib.sha256(f"tok-{name}".encode()).hexdigest())
    assert principal is not None
    return principal


def advance(hub: Hub, seconds: float) -> None:
    assert isinstance(hub.clock, ManualClock)
    hub.clock.advance(seconds)


async def test_an_unanswered_alert_climbs_its_chain_at_each_ack_timeout(hub: Hub) -> None:
    desk = who(hub, "g1")
    alert, created = await hub.alerts.raise_alert(desk, AlertIn.model_validate(new_alert()))
    assert created and alert.chain == ["s.a", "s.b"] and alert.escalated_to == "s.a"
    advance(hub, 29.9)
    await hub.tick()
    assert (await hub.alerts.get_alert(desk, alert.id)).escalation_level == 0
    advance(hub, 0.1)
    await hub.tick()
    first = await hub.alerts.get_alert(desk, alert.id)
    assert (first.escalation_level, first.escalated_to) == (1, "s.b")
    assert first.escalated_at == START.replace(second=30)
    advance(hub, 30)
    await hub.tick()
    last = await hub.alerts.get_alert(desk, alert.id)
    assert (last.escalation_level, last.escalated_to) == (2, "everyone")


async def test_a_silent_desk_goes_offline_after_its_heartbeats_and_not_before(hub: Hub) -> None:
    await hub.presence.seen(who(hub, "g1"))
    assert hub.presence.desk_presence("g1").online
    advance(hub, 1.7 * 5)  # OFFLINE_AFTER_HEARTBEATS x heartbeat_s: not silent for longer yet
    await hub.tick()
    assert hub.presence.desk_presence("g1").online
    advance(hub, 0.1)
    await hub.tick()
    assert not hub.presence.desk_presence("g1").online
    history = await hub.runtime.db(hub.store.events_about, "g1")
    assert [e.type.value for e in history] == ["desk.online", "desk.offline"]


async def test_an_interview_past_its_time_asks_then_raises_the_no_answer_alert(hub: Hub) -> None:
    desk, supervisor = who(hub, "g1"), who(hub, "s.a")
    await hub.interview.start(desk, SessionIn(room="B12", minutes=10))
    advance(hub, 10 * 60)
    await hub.tick()
    [check] = await hub.interview.pending_checks(desk)
    assert check.deadline == START.replace(minute=11)
    advance(hub, 59)
    await hub.tick()
    assert await hub.interview.pending_checks(desk) == [check]
    advance(hub, 1)
    await hub.tick()
    assert await hub.interview.pending_checks(desk) == []
    alerts, _ = await hub.alerts.list_alerts(
        supervisor, open_only=True, site=None, since=None, limit=10
    )
    assert [(a.code, a.desk) for a in alerts] == [("sans-reponse", "g1")]
