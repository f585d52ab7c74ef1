"""A desk's alert rate is one count across the hubs of a database (issue 27): before, each hub
counted only the alerts raised through it, so a desk spreading its alerts over its `[hub] urls`
got a burst per hub (N hubs, N x `alert_burst`).

Real parts: two hubs (uvicorn threads, one `ManualClock` each, so no bucket refills during the
test) on one real PostgreSQL (tests/pg.py); the desk and the supervisor over HTTP. Each
decisive request waits until both hubs' event tails have handed on the last event: the
remaining bound is that delay (hub/alert_rate.py), not what these tests check.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

import pg
from deskalert.hub.alert_rate import AlertRate
from deskalert.hub.clock import ManualClock
from deskalert.models import Event, EventType
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import make_config

pytestmark = [pytest.mark.stores("postgresql"), pytest.mark.postgresql]
BURST = 4


@pytest.fixture
def two_hubs(pg_server: pg.PgServer, tmp_path: Path) -> Iterator[tuple[RunningHub, RunningHub]]:
    url = pg_server.database(migrated=True)
    started = []
    for name in ("a", "b"):
        config = make_config(alert_burst=BURST, alerts_per_minute=1)
        config.hub.database = url
        started.append(start_threaded_hub(config, tmp_path / name, clock=ManualClock()))
    yield started[0], started[1]
    for running in started:
        running.stop()


def tailed(*hubs: RunningHub) -> None:
    """Wait until every hub's event tail has handed on the database's last event."""
    database = hubs[0].config.hub.database
    assert database is not None
    with psycopg.connect(database) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
    last = row[0] if row else 0
    deadline = time.monotonic() + 5
    while any(_tail_of(hub) < last for hub in hubs):
        assert time.monotonic() < deadline, "an event tail did not catch up"
        time.sleep(0.01)


def _tail_of(running: RunningHub) -> int:
    cluster: Any = running.hub.cluster
    return int(cluster.tail.last_id)


def raise_at(running: RunningHub, body: dict[str, Any] | None = None) -> httpx.Response:
    with httpx.Client(base_url=running.url, headers=auth("g1"), timeout=10) as desk:
        return desk.post("/v1/alerts", json=body or new_alert())


def test_a_desk_alternating_between_two_hubs_gets_one_burst_not_two(
    two_hubs: tuple[RunningHub, RunningHub],
) -> None:
    """Before: 2 x BURST new alerts were stored, BURST through each hub."""
    first, second = two_hubs
    statuses = []
    for turn in range(BURST):
        statuses.append(raise_at(two_hubs[turn % 2], new_alert(test=turn == 0)).status_code)
        tailed(first, second)
    assert statuses == [201] * BURST, "a drill counts as any alert, and the burst is whole"
    refused = [raise_at(first), raise_at(second)]
    assert [r.status_code for r in refused] == [429, 429]
    assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)


def test_a_replay_through_the_other_hub_and_an_interview_alert_take_no_token(
    two_hubs: tuple[RunningHub, RunningHub],
) -> None:
    """An id stored through one hub and resent to the other counts once; the alert a check
    answered "venez" raises on behalf of the desk counts not at all, on either hub (it never
    took a token on the hub that raised it)."""
    first, second = two_hubs
    stored = new_alert()
    assert raise_at(first, stored).status_code == 201
    tailed(first, second)
    assert raise_at(second, stored).status_code == 200, "the outbox's replay, on the other hub"
    with first.client("s.a") as sup:
        check = sup.post("/v1/checks", json={"desk": "g1"}).json()
    with first.client("g1") as desk:
        answer = desk.post(f"/v1/checks/{check['id']}/answer", json={"answer": "venez"})
    assert answer.json()["alert_id"] is not None
    tailed(first, second)
    statuses = []
    for turn in range(BURST):  # BURST - 1 tokens left: the stored alert's only
        statuses.append(raise_at(two_hubs[(turn + 1) % 2]).status_code)
        tailed(first, second)
    assert statuses == [201] * (BURST - 1) + [429]
    assert raise_at(first, stored).status_code == 200, "a replay is never refused"


def _raised(alert_id: uuid.UUID) -> Event:
    return _event(EventType.ALERT_RAISED, {"id": str(alert_id), "desk": "g1"})


def _event(kind: EventType, data: dict[str, Any]) -> Event:
    return Event.model_validate(
        {"id": 1, "type": kind, "at": "2026-12-01T10:00:00Z", "site": "accueil", "data": data}
    )


@pytest.mark.parametrize("tail_first", [False, True])
@pytest.mark.parametrize("created", [False, True])
def test_an_alert_in_flight_when_the_tail_passes_it_counts_once(
    tail_first: bool, created: bool
) -> None:
    """The tail may hand on this hub's commit before the request has its answer, and another
    hub may store the same id meanwhile (created False here): one token either way.
    A plain test of `AlertRate`: the order of two threads' arrivals, set by hand."""
    rate = AlertRate(3, 1, ManualClock(), shared=True)
    alert_id = uuid.uuid4()
    assert rate.begin("g1", alert_id) is None
    if tail_first:
        rate.follow(_raised(alert_id))
        rate.end("g1", alert_id, created)
    else:
        rate.end("g1", alert_id, created)
        rate.follow(_raised(alert_id))
    assert rate.begin("g1", uuid.uuid4()) is None and rate.begin("g1", uuid.uuid4()) is None
    assert rate.begin("g1", uuid.uuid4()) is not None, "3 tokens: this alert took one, once"


def test_an_interview_alert_gives_back_only_what_it_took() -> None:
    """A desk whose bucket is empty gets no token from its interview's alert: the check event
    gives back what the alert took (nothing), not a whole token."""
    rate = AlertRate(2, 1, ManualClock(), shared=True)
    for _ in range(2):
        rate.follow(_raised(uuid.uuid4()))  # two alerts through another hub: empty
    interview_alert = uuid.uuid4()
    rate.follow(_raised(interview_alert))
    rate.follow(_event(EventType.CHECK_UNANSWERED, {"alert_id": str(interview_alert)}))
    assert rate.begin("g1", uuid.uuid4()) is not None
