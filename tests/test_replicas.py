"""Several hubs on one PostgreSQL: one event log, any hub answers, one leader runs the timers.

Real parts only: hub processes (`python -m deskalert hub`) on a real PostgreSQL 18 (tests/pg.py),
killed with SIGKILL; desks and followers over HTTP, failing over from one hub to the next as the
client does (same alert id resent; same Last-Event-ID).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest

import pg
from deskalert.hub.lease import LEASE_S
from deskalert.hub.store.postgres import PostgresStore
from support.events import open_stream
from support.hubs import HubProcess
from support.requests import auth, new_alert

pytestmark = pytest.mark.stores("postgresql")


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _health(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/healthz", timeout=2).json()  # type: ignore[no-any-return]


@dataclass
class FailoverFollower:
    """Follows /v1/events on the first hub of `urls` that answers; when its stream ends, goes
    on with the next with the same Last-Event-ID, as the desk's follower does."""

    urls: list[str]
    who: str = "s.a"
    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    switches: int = 0

    def start(self) -> FailoverFollower:
        self._stop = threading.Event()
        self._socket: socket.socket | None = None  # the stream's, for `stop` to end its read
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        turn = 0
        while not self._stop.is_set():
            url = self.urls[turn % len(self.urls)]
            last = self.events[-1][0] if self.events else 0
            headers = {"Last-Event-ID": str(last)}
            try:
                with open_stream(url, self.who, headers=headers, read_s=8, connect_s=3) as stream:
                    self._socket = stream.socket
                    if self._stop.is_set():
                        return
                    for block in stream.blocks:
                        if self._stop.is_set():
                            return
                        if block.data is not None and block.id is not None:
                            data = block.data if block.event.startswith("alert.") else {}
                            self.events.append((block.id, block.event, data))
            except (httpx.HTTPError, RuntimeError):
                pass
            turn += 1
            self.switches += 1
            self._stop.wait(0.1)

    def raised(self) -> list[str]:
        return [data["id"] for _, kind, data in self.events if kind == "alert.raised"]

    def stop(self) -> None:
        """At once: the stream's socket is shut down, so a read waiting for the next event
        (up to `read_s`, the hubs send none once the test is quiet) ends now."""
        self._stop.set()
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=15)


def _desk_burst(
    desk: str, urls: list[str], count: int, stored: list[str], lock: threading.Lock
) -> None:
    """A desk raising `count` alerts, each resent (same id) to the next hub until stored."""
    turn = 0
    with httpx.Client(timeout=3) as client:
        for _ in range(count):
            body = new_alert()
            while True:
                try:
                    response = client.post(
                        f"{urls[turn % len(urls)]}/v1/alerts", json=body, headers=auth(desk)
                    )
                    if response.status_code in (200, 201):
                        break
                except httpx.TransportError:
                    pass
                turn += 1
                time.sleep(0.05)
            with lock:
                stored.append(body["id"])


def _rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def test_two_hubs_one_log_every_alert_once_every_follower_in_order_through_a_kill(
    hub_process: Callable[..., HubProcess],
    pg_server: pg.PgServer,
) -> None:
    first, second = hub_process(extra_desks=20), hub_process(extra_desks=20)
    urls = [first.url, second.url]
    followers = [
        FailoverFollower(urls).start(),
        FailoverFollower(urls).start(),
        FailoverFollower(list(reversed(urls))).start(),
        FailoverFollower(list(reversed(urls))).start(),
    ]
    stored: list[str] = []
    lock = threading.Lock()
    desks = [
        threading.Thread(
            target=_desk_burst,
            args=(f"d{i:02d}", urls if i % 2 else list(reversed(urls)), 10, stored, lock),
        )
        for i in range(20)
    ]
    for desk in desks:
        desk.start()
    _wait(lambda: len(stored) >= 60, 60, "a third of the burst")
    first.kill9()  # mid-burst: its desks and followers go on with the second hub
    for desk in desks:
        desk.join(timeout=120)
    assert len(stored) == 200

    assert first.database is not None
    database = first.database
    ids = [r[0] for r in _rows(database, "SELECT id FROM alerts")]
    assert sorted(ids) == sorted(stored), "every alert answered 2xx is stored, once"
    raised = _rows(
        database,
        "SELECT subject, COUNT(*) FROM events WHERE type='alert.raised'"
        " GROUP BY subject HAVING COUNT(*) > 1",
    )
    assert raised == [], "no alert.raised event twice"

    for follower in followers:
        _wait(lambda f=follower: len(f.raised()) >= 200, 60, "every follower to see every alert")
    for follower in followers:
        follower.stop()
        event_ids = [e[0] for e in follower.events]
        assert event_ids == sorted(set(event_ids)), "each event once, in id order"
        assert sorted(follower.raised()) == sorted(stored)
    assert any(f.switches for f in followers[:2]), "the first hub's followers failed over"


def test_an_alert_raised_on_one_hub_is_answered_on_the_other_and_seen_live_on_both(
    hub_process: Callable[..., HubProcess],
) -> None:
    first, second = hub_process(), hub_process()
    on_first, on_second = (
        FailoverFollower([first.url]).start(),
        FailoverFollower([second.url]).start(),
    )
    time.sleep(0.3)  # both streams open before anything happens (they would replay anyway)
    body = new_alert()
    assert httpx.post(f"{first.url}/v1/alerts", json=body, headers=auth("g1")).status_code == 201
    ack = httpx.post(f"{second.url}/v1/alerts/{body['id']}/ack", headers=auth("s.b"))
    assert ack.status_code == 200
    again = httpx.post(f"{first.url}/v1/alerts/{body['id']}/ack", headers=auth("s.b"))
    assert again.json()["responders"] == ack.json()["responders"], "one answer, not two"
    for follower in (on_first, on_second):
        _wait(
            lambda f=follower: (
                [k for _, k, _ in f.events][-2:] == ["alert.raised", "alert.acknowledged"]
            ),
            10,
            "the raise and the answer",
        )
        follower.stop()
    assert [e[0] for e in on_first.events] == [e[0] for e in on_second.events]
    _wait(
        lambda: sorted(_health(h.url)["role"] for h in (first, second)) == ["follower", "leader"],
        5,
        "one leader, one follower",
    )
    assert _health(first.url)["epoch"] == _health(second.url)["epoch"]


def test_the_leader_killed_while_an_alert_waits_the_next_level_is_called_once(
    hub_process: Callable[..., HubProcess],
    pg_server: pg.PgServer,
) -> None:
    first = hub_process(ack_timeout_s=3, heartbeat_s=1)
    _wait(lambda: _health(first.url)["role"] == "leader", 10, "the first hub to lead")
    second = hub_process(ack_timeout_s=3, heartbeat_s=1)
    body = new_alert()
    httpx.post(f"{second.url}/v1/alerts", json=body, headers=auth("g1")).raise_for_status()
    first.kill9()
    # The killed leader's lease runs out in the database's time (hub/lease.py), then a tick.
    _wait(
        lambda: _health(second.url)["role"] == "leader",
        LEASE_S + 5,
        "the second hub to take the lead",
    )
    _wait(
        lambda: (
            httpx.get(f"{second.url}/v1/alerts/{body['id']}", headers=auth("s.a")).json()[
                "escalation_level"
            ]
            >= 1
        ),
        15,
        "the escalation to the backup",
    )
    time.sleep(1)  # a doubled step would land within a tick or two
    history = httpx.get(f"{second.url}/v1/alerts/{body['id']}/events", headers=auth("s.a")).json()
    levels = [e["data"]["escalation_level"] for e in history if e["type"] == "alert.escalated"]
    assert levels == [1], f"each level once, in order (got {levels})"
    escalated = next(e for e in history if e["type"] == "alert.escalated")
    assert escalated["data"]["escalated_to"] == "s.b"


def test_postgresql_restarted_under_the_hubs_503_then_everything_lands_once(
    hub_process: Callable[..., HubProcess],
    pg_server: pg.PgServer,
) -> None:
    first, second = hub_process(), hub_process()
    follower = FailoverFollower([first.url, second.url]).start()
    before = new_alert()
    httpx.post(f"{first.url}/v1/alerts", json=before, headers=auth("g1")).raise_for_status()
    pg_server.stop("fast")
    try:
        queued = [new_alert() for _ in range(3)]
        for hub in (first, second):
            refused = httpx.post(f"{hub.url}/v1/alerts", json=queued[0], headers=auth("g2"))
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"] == "store_unavailable"
            _wait(lambda h=hub: _health(h.url)["status"] == "degraded", 10, "/healthz to say so")
            health = _health(hub.url)  # no token on /healthz: no host, no user named
            assert "127.0.0.1" not in health["store"] and "postgres" not in health["store"]
            assert health["last_event_id"] is None
    finally:
        pg_server.start()
    for body in queued:  # the desk's outbox resends each with its id, to either hub
        _wait(
            lambda b=body: (
                httpx.post(f"{second.url}/v1/alerts", json=b, headers=auth("g2")).status_code
                in (200, 201)
            ),
            20,
            "the store back",
        )
    _wait(lambda: len(follower.raised()) >= 4, 20, "the follower to see every alert")
    follower.stop()
    assert sorted(follower.raised()) == sorted([before["id"], *(b["id"] for b in queued)])
    ids = [e[0] for e in follower.events]
    assert ids == sorted(set(ids))
    for hub in (first, second):
        _wait(lambda h=hub: _health(h.url)["status"] == "ok", 20, "/healthz ok again")


def test_event_ids_are_commit_ordered_a_late_commit_is_never_skipped(
    pg_server: pg.PgServer,
    tmp_path: Any,
) -> None:
    """Two writers: A takes its id and holds its commit; B writes and commits meanwhile; a
    reader following "after the last id" must still see A's. Without the event lock it does
    not (the control run), which is what the lock is for."""
    assert _late_commit_seen(pg_server, tmp_path, locked=True) is True
    assert _late_commit_seen(pg_server, tmp_path, locked=False) is False


def _late_commit_seen(pg_server: pg.PgServer, tmp_path: Any, *, locked: bool) -> bool:
    from datetime import UTC, datetime

    from deskalert.models import EventType

    url = pg_server.database()
    a, b = PostgresStore(url, data_dir=tmp_path), PostgresStore(url, data_dir=tmp_path)
    if not locked:
        a.before_event = b.before_event = lambda db: None  # type: ignore[method-assign]
    now = datetime.now(UTC)
    a_has_id, release_a = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with a._transaction() as db:
            a.append(db, EventType.ONCALL_CHANGED, now, None, {"id": "a"})
            a_has_id.set()
            release_a.wait(5)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    a_has_id.wait(5)
    fast = threading.Thread(
        target=lambda: b.append_event(EventType.ONCALL_CHANGED, now, None, {"id": "b"})
    )
    fast.start()
    reader = PostgresStore(url, data_dir=tmp_path)
    seen: list[str] = []
    last = 0
    # B's commit is visible within this if it was not held back; A stays idle in its
    # transaction meanwhile, well under the store sessions' 1 s idle limit (hub/store/postgres.py).
    deadline = time.monotonic() + 0.4
    while time.monotonic() < deadline:
        for event in reader.events_after(last, None, 100):
            last, seen = event.id, [*seen, str(event.data["id"])]
        time.sleep(0.02)
    release_a.set()
    writer.join()
    fast.join()
    time.sleep(0.1)
    for event in reader.events_after(last, None, 100):
        seen.append(str(event.data["id"]))
    for store in (a, b, reader):
        store.close()
    return sorted(seen) == ["a", "b"]


def test_a_lost_notification_delays_nothing_beyond_the_poll(
    hub_process: Callable[..., HubProcess],
    tmp_path: Any,
) -> None:
    """An event committed with no NOTIFY (as if the wake-up were lost) still reaches the
    streams of a hub: its tail polls."""
    from datetime import UTC, datetime

    from deskalert.hub.store.postgres import EVENT_LOCK
    from deskalert.models import EventType

    first = hub_process()
    follower = FailoverFollower([first.url]).start()
    time.sleep(0.3)
    assert first.database is not None
    silent = PostgresStore(first.database, data_dir=tmp_path)
    silent.before_event = lambda db: db.execute(  # type: ignore[method-assign]
        "SELECT pg_advisory_xact_lock(?)", (EVENT_LOCK,)
    )  # the lock, but no NOTIFY
    event = silent.append_event(
        EventType.ONCALL_CHANGED,
        datetime.now(UTC),
        "accueil",
        {"id": str(uuid.uuid4()), "source": "test"},
    )
    silent.close()
    _wait(lambda: any(i == event.id for i, _, _ in follower.events), 5, "the polled event")
    follower.stop()


def test_who_can_come_counts_supervisors_and_desks_on_every_hub(
    hub_process: Callable[..., HubProcess],
) -> None:
    """A supervisor whose pane follows the second hub is "joignable" for a desk on the first;
    a desk heard by one hub is online on both; the pane closing is seen by both too."""
    first, second = hub_process(), hub_process()

    def supervisor_connected(url: str) -> bool:
        sites = httpx.get(f"{url}/v1/availability", headers=auth("g1")).json()
        return any(p["id"] == "s.b" and p["connected"] for p in sites[0]["supervisors"])

    def desk_online(url: str) -> bool:
        desks = httpx.get(f"{url}/v1/desks", headers=auth("s.a")).json()
        return next(d for d in desks if d["id"] == "g2")["online"]  # type: ignore[no-any-return]

    assert not supervisor_connected(first.url)
    pane = FailoverFollower([second.url], who="s.b").start()
    _wait(lambda: supervisor_connected(first.url), 10, "the first hub to count the pane")
    httpx.post(f"{second.url}/v1/heartbeat", headers=auth("g2")).raise_for_status()
    _wait(lambda: desk_online(first.url), 10, "the first hub to show the desk online")
    pane.stop()
    _wait(lambda: not supervisor_connected(first.url), 10, "the pane's closing on the first hub")


def test_a_hub_frozen_inside_a_transaction_does_not_stop_the_others(
    hub_process: Callable[..., HubProcess],
    tmp_path: Any,
) -> None:
    """A hub frozen while it holds the event lock (a stopped VM): PostgreSQL ends its session
    after idle_in_transaction_session_timeout, the other hubs store alerts again, and the frozen
    one's transaction is gone, never half-stored. (The frozen hub is a store of this test's
    that opens a transaction, appends an event and then waits: what a SIGSTOP leaves.)"""
    from datetime import UTC, datetime

    from deskalert.errors import StoreUnavailable
    from deskalert.models import EventType

    hub = hub_process()
    assert hub.database is not None
    frozen = PostgresStore(hub.database, data_dir=tmp_path)
    holding, outcome = threading.Event(), []

    def freeze() -> None:
        try:
            with frozen._transaction() as db:
                frozen.append(db, EventType.ONCALL_CHANGED, datetime.now(UTC), None, {"id": "x"})
                holding.set()
                time.sleep(4)  # frozen, lock held
        except StoreUnavailable as exc:
            outcome.append(exc)

    thread = threading.Thread(target=freeze)
    thread.start()
    assert holding.wait(5)
    body = new_alert()
    answer = httpx.post(f"{hub.url}/v1/alerts", json=body, headers=auth("g1"), timeout=10)
    assert answer.status_code in (201, 503), answer.text
    if answer.status_code == 503:  # waited past lock_timeout: the desk resends
        answer = httpx.post(f"{hub.url}/v1/alerts", json=body, headers=auth("g1"), timeout=10)
    assert answer.status_code == 201
    thread.join()
    assert outcome, "the frozen transaction was ended by the server, not committed"
    frozen.close()
    events = httpx.get(f"{hub.url}/v1/alerts/{body['id']}/events", headers=auth("s.a")).json()
    assert [e["type"] for e in events] == ["alert.raised"]
