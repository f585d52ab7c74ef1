"""Two hubs started at the same moment on one PostgreSQL database with two rosters: one starts,
the other is refused in one line naming the difference, every time (a real PostgreSQL, both
hubs started by two threads released together, many rounds).

Regression: the check read the database's roster and the running hubs, then wrote its own,
without a lock, and a starting hub counted as running only from its first tick: two hubs
started within a few seconds of each other both passed, and served two rosters."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest

import pg
from deskalert.errors import ConfigError
from deskalert.hub.one_roster import roster_fingerprint
from deskalert.hub.settings import HubConfig
from support.hubs import RunningHub, start_threaded_hub
from support.roster import make_config

# A real PostgreSQL without the `hub_database` fixture: marked by hand (make test, not check).
pytestmark = [pytest.mark.stores("postgresql"), pytest.mark.postgresql]
ROUNDS = 12


def rosters(round_no: int) -> tuple[HubConfig, HubConfig, str]:
    """Two rosters that differ by a desk, or by their `[broadcasts]` only; the difference."""
    first, second = make_config(), make_config(extra_desks=1)
    if round_no % 2:
        second = make_config()
        second.broadcasts.unread_after_s = 90
        return first, second, "broadcasts"
    return first, second, "d00"


def start_both(
    first: HubConfig, second: HubConfig, data: Path, stagger_s: float
) -> tuple[list[RunningHub], list[str]]:
    """Both hubs started by two threads released together (the second `stagger_s` later)."""
    gate = threading.Barrier(2)
    started: list[RunningHub] = []
    refused: list[str] = []

    def start(index: int, config: HubConfig) -> None:
        gate.wait()
        time.sleep(stagger_s * index)
        try:
            started.append(start_threaded_hub(config, data / f"hub{index}"))
        except ConfigError as exc:
            refused.append(str(exc))

    threads = [threading.Thread(target=start, args=pair) for pair in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return started, refused


def test_two_hubs_started_at_once_with_two_rosters_one_is_refused(
    pg_server: pg.PgServer, tmp_path: Path
) -> None:
    for round_no in range(ROUNDS):
        url = pg_server.database(migrated=True)
        first, second, differing = rosters(round_no)
        for config in (first, second):
            config.hub.database = url
        started, refused = start_both(first, second, tmp_path / str(round_no), 0.1 * (round_no % 4))
        try:
            assert (len(started), len(refused)) == (1, 1), f"round {round_no}: {refused}"
            line = refused[0]
            assert len(line.splitlines()) == 1 and differing in line, line
            assert "not the roster the running hubs of this database serve" in line
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT value FROM meta WHERE key='roster'").fetchone()
            assert row is not None and row[0] == roster_fingerprint(started[0].config)
        finally:
            for hub in started:
                hub.stop()


def test_a_hub_that_failed_to_start_does_not_hold_the_roster(
    pg_server: pg.PgServer, tmp_path: Path
) -> None:
    """Counted as running from its check, a hub that then cannot bind its port is not."""
    import socket

    url = pg_server.database(migrated=True)
    first, second, _ = rosters(0)
    first.hub.database = second.hub.database = url
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        with pytest.raises(ConfigError, match="impossible d'écouter"):
            start_threaded_hub(first, tmp_path / "a", port=taken.getsockname()[1])
    finally:
        taken.close()
    start_threaded_hub(second, tmp_path / "b").stop()  # at once: nothing is running


def test_a_rolling_upgrade_starts_beside_hubs_that_wrote_the_older_fingerprint(
    pg_server: pg.PgServer, tmp_path: Path
) -> None:
    """Hubs from before `[broadcasts]` joined the fingerprint wrote it without: an upgraded hub
    with the same roster starts beside them and stays in step (the database's value is kept
    while one may run); once none runs, its start writes the whole fingerprint."""
    import json
    from datetime import UTC, datetime, timedelta

    import httpx

    from deskalert.hub.one_roster import legacy_fingerprint, summary

    url = pg_server.database(migrated=True)
    config = make_config()
    config.hub.database = url
    older = {k: v for k, v in summary(config).items() if k != "broadcasts"}
    running_until = datetime.now(UTC) + timedelta(seconds=60)
    with psycopg.connect(url) as conn:  # what an older hub running on the database left
        for key, value in (("roster", legacy_fingerprint(config)), ("roster_summary", older)):
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (%s, %s)",
                (key, value if isinstance(value, str) else json.dumps(value)),
            )
        conn.execute(
            "INSERT INTO hub_streams (hub, streams, at) VALUES ('older', '{}', %s)",
            (running_until.isoformat(),),
        )

    upgraded = start_threaded_hub(config, tmp_path / "new")
    try:
        time.sleep(6)  # past the hub's check of the database's roster (every 5 s)
        assert httpx.get(f"{upgraded.url}/healthz", timeout=5).status_code == 200
        with upgraded.client("g1") as client:
            assert client.get("/v1/codes").status_code == 200
    finally:
        upgraded.stop()
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM hub_streams WHERE hub='older'")  # the older hubs gone
    start_threaded_hub(config, tmp_path / "again").stop()
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key='roster'").fetchone()
    assert row is not None and row[0] == roster_fingerprint(config)
