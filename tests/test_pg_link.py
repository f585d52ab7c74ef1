"""The PostgreSQL store over a link that stalls: each call ends within its deadline, the next
ones answer at once while the link stays bad, and the store is back by itself after.

A real PostgreSQL (tests/pg.py) behind the fault-injecting proxy of tests/faultproxy.py; the
whole-hub version of these faults is tests/test_pg_faults.py (slow, marked `system`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import pg
from deskalert.errors import StoreUnavailable
from deskalert.hub.pgwatch import CALL_DEADLINE_S
from deskalert.hub.store.postgres import RETRY_AFTER_S, PostgresStore
from faultproxy import FaultProxy


def _timed(call: Callable[[], Any], limit: float) -> tuple[BaseException | None, float]:
    """Run `call` in a thread; (what it raised, seconds taken); fails if it takes over `limit`
    (rather than hanging the test, as a call on a stalled link did before the deadline)."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    start = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    assert outcome, f"the call still hangs after {limit} s"
    return outcome[0], time.monotonic() - start


def test_a_stalled_link_is_a_503_within_the_deadline_then_at_once_then_back_by_itself(
    pg_server: pg.PgServer,
    tmp_path: Path,
) -> None:
    proxy = FaultProxy(("127.0.0.1", pg_server.port))
    store = PostgresStore(proxy.url(pg_server.database()), data_dir=tmp_path)
    try:
        assert _timed(store.last_event_id, 5)[0] is None
        proxy.stall()
        error, took = _timed(store.last_event_id, CALL_DEADLINE_S + 10)
        assert isinstance(error, StoreUnavailable), error
        assert "no answer from PostgreSQL within 5 s" in error.detail
        assert CALL_DEADLINE_S - 0.2 <= took < CALL_DEADLINE_S + 1.5
        # Behind it, a request does not wait for a connection attempt of its own.
        error, took = _timed(store.last_event_id, CALL_DEADLINE_S + 10)
        assert isinstance(error, StoreUnavailable) and took < 0.5, (error, took)
        proxy.pass_()
        deadline = time.monotonic() + RETRY_AFTER_S + 5
        while _timed(store.last_event_id, 10)[0] is not None:
            assert time.monotonic() < deadline, "the store did not come back"
            time.sleep(0.1)
    finally:
        store.close()
        proxy.close()


@pytest.mark.parametrize("fault", ["stall", "cut"])
def test_the_proxy_does_what_it_says(pg_server: pg.PgServer, fault: str) -> None:
    """The test's own tool, checked: a stalled link holds a query until resumed, a cut one
    fails it at once; both pass again after."""
    import psycopg

    proxy = FaultProxy(("127.0.0.1", pg_server.port))
    try:
        conn = psycopg.connect(proxy.url(pg_server.admin_url), autocommit=True)
        getattr(proxy, fault)()
        error, took = (
            _timed(lambda: conn.execute("SELECT 1"), 10) if fault == "cut" else (None, 0.0)
        )
        if fault == "cut":
            assert isinstance(error, psycopg.OperationalError) and took < 1
        else:
            held = threading.Thread(target=lambda: conn.execute("SELECT 1"), daemon=True)
            held.start()
            held.join(1)
            assert held.is_alive(), "a stalled link answers nothing"
            proxy.pass_()
            held.join(5)
            assert not held.is_alive(), "resumed, the query got its answer"
        proxy.pass_()
        with psycopg.connect(proxy.url(pg_server.admin_url), connect_timeout=3) as again:
            assert again.execute("SELECT 2").fetchone() == (2,)
        conn.close()
    finally:
        proxy.close()
