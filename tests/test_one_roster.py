"""Several hubs on one PostgreSQL database serve one roster: a hub with another hub.toml does
not start beside running ones; a reload on one hub is followed by the others (the same file:
swapped; another file: that hub answers 503 and says why until it gets the same file)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import pg
from deskalert.errors import ConfigError
from support.events import EventReader
from support.hubs import HubProcess, start_threaded_hub
from support.requests import auth
from support.roster import make_config, roster_toml
from support.waiting import wait_until
from test_reload import changed_roster, next_of, reload_hub

pytestmark = pytest.mark.stores("postgresql")


def status(hub: HubProcess, who: str, path: str = "/v1/codes") -> int:
    return httpx.get(f"{hub.url}{path}", headers=auth(who), timeout=5).status_code


def test_a_hub_with_another_roster_does_not_start_beside_running_ones(
    pg_server: pg.PgServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = pg_server.database()
    running = []
    for index in range(2):
        config = make_config()
        config.hub.database = url
        running.append(start_threaded_hub(config, tmp_path / f"h{index}"))
    time.sleep(1)  # each hub writes its line in the database every tick: both are running
    other = make_config(extra_desks=3)
    other.hub.database = url
    with pytest.raises(ConfigError) as refused:
        start_threaded_hub(other, tmp_path / "h2")
    assert "not the roster the running hubs of this database serve" in str(refused.value)
    assert "desks +d00 +d01 +d02" in str(refused.value)
    for hub in running:
        hub.stop()
    time.sleep(3.5)  # no hub running any more: the next one to start brings its roster
    alone = start_threaded_hub(other, tmp_path / "h2")
    alone.stop()
    assert any(
        "replaces the database's (desks +d00 +d01 +d02)" in r.getMessage() for r in caplog.records
    )


def test_a_reload_on_one_hub_is_followed_by_another_with_the_same_file(
    hub_process: Callable[..., HubProcess], follow: Callable[..., EventReader], tmp_path: Path
) -> None:
    first, second = hub_process(), hub_process(name="2")
    desk = follow(second.url, "g1")
    for name in ("", "2"):  # the new roster copied to both machines first
        (tmp_path / f"hub{name}.toml").write_text(changed_roster(), encoding="utf-8")

    done = reload_hub(tmp_path / "data")

    assert done.returncode == 0, done.stderr
    wait_until(lambda: status(second, "g2") == 401, 15, "the second hub to drop g2")
    codes = httpx.get(f"{second.url}/v1/codes", headers=auth("g1"), timeout=5).json()
    assert [c["code"] for c in codes] == ["renfort", "malaise", "incendie"]
    next_of(desk, "roster.changed")  # on the second hub's stream, which stays open
    assert httpx.get(f"{second.url}/healthz", timeout=5).json()["roster"] is None
    assert status(first, "g1") == status(second, "g1") == 200


def test_a_hub_whose_file_was_not_copied_goes_503_until_it_is(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    first, second = hub_process(), hub_process(name="2")
    (tmp_path / "hub.toml").write_text(changed_roster(), encoding="utf-8")  # the first only

    assert reload_hub(tmp_path / "data").returncode == 0

    health = wait_until(
        lambda: (
            (r := httpx.get(f"{second.url}/healthz", timeout=5)).status_code == 503 and r.json()
        ),
        15,
        "the second hub to go out of step",
    )
    assert health["status"] == "degraded"
    assert "not the roster another hub reloaded" in health["roster"]
    assert "desks +g2" in health["roster"] and "codes -incendie" in health["roster"]
    refused = httpx.get(f"{second.url}/v1/codes", headers=auth("g1"), timeout=5)
    assert refused.status_code == 503 and refused.json()["error"] == "roster_out_of_step"
    assert status(first, "g1") == 200 and status(first, "g2") == 401
    # The file copied, the second hub reloaded: in step again.
    (tmp_path / "hub2.toml").write_text(changed_roster(), encoding="utf-8")
    done = reload_hub(tmp_path / "data2")
    assert done.returncode == 0, done.stderr
    assert httpx.get(f"{second.url}/healthz", timeout=5).status_code == 200
    assert status(second, "g1") == 200 and status(second, "g2") == 401


def test_a_second_hub_started_with_another_file_is_refused_in_one_line(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    import subprocess
    import sys

    first = hub_process()
    time.sleep(1)  # it has written its line: it is running
    (tmp_path / "hub3.toml").write_text(roster_toml(extra_desks=1), encoding="utf-8")
    started = subprocess.run(
        [
            sys.executable,
            "-m",
            "deskalert",
            "hub",
            "--config",
            str(tmp_path / "hub3.toml"),
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "data3"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env={**__import__("os").environ, "DESKALERT_DATABASE": first.database or ""},
    )
    assert started.returncode == 2
    assert len(started.stderr.splitlines()) == 1 and "desks +d00" in started.stderr


def test_a_fingerprint_left_by_an_older_hub_does_not_refuse_a_rolling_upgrade(
    pg_server: pg.PgServer, tmp_path: Path
) -> None:
    """Hubs from before this check wrote another hash and no summary: not comparable, so the
    first upgraded hub starts beside them and its roster becomes the database's."""
    import psycopg

    url = pg_server.database()
    config = make_config()
    config.hub.database = url
    running = start_threaded_hub(config, tmp_path / "h0")
    time.sleep(1)  # it has written its line: it is running
    with psycopg.connect(url, autocommit=True) as conn:  # as an older hub leaves the meta table
        conn.execute("UPDATE meta SET value='0123456789abcdef' WHERE key='roster'")
        conn.execute("DELETE FROM meta WHERE key='roster_summary'")
    upgraded = start_threaded_hub(config, tmp_path / "h1")
    upgraded.stop()
    running.stop()
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key='roster_summary'").fetchone()
    assert row is not None, "the upgraded hub wrote its summary"
