"""The lead among hubs on one PostgreSQL: a leader whose link is cut stops leading before another
hub can take over, and a leader's write under a lease that is over is refused (fencing).

Real parts: two threaded hubs on the session's PostgreSQL, the first through a fault-injecting
TCP proxy (tests/faultproxy.py), both without their ticker: each tick is the test's
(`RunningHub.advance`), so the window between "the second hub took the lead" and "the first
noticed its cut" is held open as long as the test likes, where the ticker would leave it to
the machine's load. The lease's time is real time (hub/lease.py: the database's clock and the
hub's monotonic one), not the hubs' manual clocks.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

import pg
from deskalert.hub.clock import ManualClock
from deskalert.hub.cluster import Leadership
from deskalert.hub.health import PROBE_EVERY_S
from deskalert.hub.lease import LEASE_S, MARGIN_S, LeadLost
from deskalert.hub.store.postgres import PostgresStore
from faultproxy import FaultProxy
from support.hubs import RunningHub, start_threaded_hub
from support.roster import make_config
from support.waiting import wait_until

pytestmark = pytest.mark.postgresql


def _hub(database: str, data_dir: Path) -> RunningHub:
    config = make_config()
    config.hub.database = database
    return start_threaded_hub(config, data_dir, clock=ManualClock())


def _role(hub: RunningHub) -> tuple[int, str]:
    """(status, role) of the hub's /healthz: its role is said even in a 503."""
    answer = httpx.get(f"{hub.url}/healthz", timeout=10)
    return answer.status_code, str(answer.json()["role"])


def test_a_leader_cut_off_stops_leading_before_another_hub_takes_the_lead(
    pg_server: pg.PgServer, tmp_path: Path
) -> None:
    database = pg_server.database(migrated=True)
    proxy = FaultProxy(("127.0.0.1", pg_server.port))
    first = _hub(proxy.url(database), tmp_path / "first")
    second = _hub(database, tmp_path / "second")
    try:
        first.advance(0)
        second.advance(0)
        assert (_role(first), _role(second)) == ((200, "leader"), (200, "follower"))

        proxy.cut()  # PostgreSQL sees the first hub's sessions end at once
        cut_at = time.monotonic()
        while True:  # only the second hub ticks: the first has not noticed anything
            second.advance(0.5)
            roles = [_role(first)[1], _role(second)[1]]
            assert roles != ["leader", "leader"], (
                f"two hubs leading at once, {time.monotonic() - cut_at:.1f} s into the cut"
            )
            if roles[1] == "leader":
                break
            assert time.monotonic() - cut_at < LEASE_S + 10, "the second hub never took the lead"
            time.sleep(0.1)
        took = time.monotonic() - cut_at
        assert took >= MARGIN_S, f"the lead moved {took:.1f} s into the cut"

        proxy.pass_()  # the first hub's store comes back before it ticks again
        assert first.clock is not None  # its /healthz probes a write again after PROBE_EVERY_S
        first.clock.advance(PROBE_EVERY_S + 1)  # of its clock: moved, not ticked
        wait_until(lambda: _role(first)[0] == 200, 15, "the first hub's store back")
        assert _role(first) == (200, "follower"), "the first hub still says it leads"
        assert _role(second) == (200, "leader")
        first.advance(0.5)  # its tick: the lease is the second's, it stays a follower
        assert (_role(first), _role(second)) == ((200, "follower"), (200, "leader"))
    finally:
        first.stop()
        second.stop()
        proxy.close()


def test_a_leaders_write_under_a_lease_taken_over_is_refused_in_the_database(
    pg_server: pg.PgServer, tmp_path: Path
) -> None:
    """The lease still valid on the old leader's clock (a paused process, a clock that ran
    slow): its write is refused all the same, by the check inside its own transaction."""
    database = pg_server.database(migrated=True)
    store = PostgresStore(database, data_dir=tmp_path)
    old, new = Leadership(database, "old"), Leadership(database, "new")
    try:
        assert asyncio.run(old.check()) is True
        lease = old.lease()
        assert lease is not None
        store.as_leader(lease, store.probe_write)  # its write while it holds the lease

        store._pg.execute("UPDATE leader_lease SET expires_at = 0")  # over for the others
        assert asyncio.run(new.check()) is True, "the other hub takes the lease over"
        assert lease.valid(), "still valid on the old leader's own clock"
        with pytest.raises(LeadLost):
            store.as_leader(lease, store.probe_write)
        renewed = new.lease()
        assert renewed is not None and renewed.term == lease.term + 1
        store.as_leader(renewed, store.probe_write)
    finally:
        for leadership in (old, new):
            asyncio.run(leadership.stop())
        store.close()
