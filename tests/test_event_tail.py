"""The PostgreSQL event tail (hub/cluster.py) on a real server: stop() ends its thread at once,
not when its wait for a NOTIFY runs out (each hub stop on PostgreSQL paid that wait)."""

from __future__ import annotations

import asyncio
import time

import pytest

import pg
from deskalert.hub import cluster
from deskalert.hub.store.postgres import PostgresStore


def test_stop_wakes_the_tail_out_of_its_wait(
    pg_server: pg.PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_server.database()
    PostgresStore(url).close()  # the schema: the tail reads the events table
    monkeypatch.setattr(cluster, "POLL_S", 60.0)  # a wait that only a wake-up ends
    loop = asyncio.new_event_loop()
    try:
        tail = cluster.EventTail(url, lambda events, overrides: None, lambda: None)
        tail.start(0, loop)
        time.sleep(0.5)  # well inside its wait for a NOTIFY
        tail.stop()
        assert tail._thread is not None and not tail._thread.is_alive()
    finally:
        loop.close()
