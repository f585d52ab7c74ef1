"""Someone looking at the hub's SQLite file while it serves loses nothing.

Before: `open_db()` opened and closed the database file with `os.open`/`os.close` when the
checkpoint thread opened its connection. POSIX advisory locks belong to the process and the
file, and closing any descriptor of the file drops them all: the hub silently lost the locks
that tell other processes the database is in use. Then an administrator's `sqlite3 hub.sqlite3
'select count(*) from alerts'` (or a backup tool, a monitoring script), on closing, believed it
was the last user, checkpointed and deleted `hub.sqlite3-wal` under the running hub; alerts
committed afterwards went into the deleted file, and a kill -9 lost them (3 of 3 in the issue),
answered 201. The restarted hub then gave their event ids out again.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from support.events import open_stream
from support.hubs import HubProcess
from support.requests import auth, new_alert

# The file itself is what is looked at; PostgreSQL has no file shared with onlookers.
pytestmark = pytest.mark.stores("sqlite")

SQLITE3_CLI = shutil.which("sqlite3")


def look_with_python(db_path: Path) -> None:
    """Opens the file read-write, reads, closes: what a monitoring script does."""
    db = sqlite3.connect(db_path, timeout=10)
    try:
        db.execute("SELECT COUNT(*) FROM alerts").fetchone()
    finally:
        db.close()


def look_with_cli(db_path: Path) -> None:
    """An administrator's `sqlite3 hub.sqlite3 'select count(*) from alerts'`."""
    assert SQLITE3_CLI is not None
    subprocess.run(
        [SQLITE3_CLI, "-cmd", ".timeout 10000", str(db_path), "select count(*) from alerts"],
        check=True,
        capture_output=True,
        timeout=30,
    )


def event_ids(url: str, after: int) -> list[tuple[int, str]]:
    """(id, alert id) of every alert.raised event after `after`, from a stream that stops at
    the hub's last event."""
    last = httpx.get(f"{url}/healthz", timeout=10).json()["last_event_id"]
    found: list[tuple[int, str]] = []
    if last <= after:
        return found
    with open_stream(url, "s.a", params={"since": str(after)}, connect_s=10) as stream:
        for block in stream.blocks:
            if block.data is None or block.id is None:
                continue
            if block.event == "alert.raised":
                found.append((block.id, block.data["id"]))
            if block.id >= last:
                return found
    raise AssertionError("stream ended early")


LOOKERS = [look_with_python, *([look_with_cli] if SQLITE3_CLI else [])]


@pytest.mark.parametrize("look", LOOKERS, ids=lambda f: f.__name__)
def test_alerts_answered_201_survive_onlookers_and_kill_9(
    hub_process: Callable[..., HubProcess], tmp_path: Path, look: Callable[[Path], None]
) -> None:
    db_path = tmp_path / "data" / "hub.sqlite3"
    hub = hub_process()
    time.sleep(1.5)  # the hub's checkpoint thread has opened its connection (every 1 s)
    answered = []
    with httpx.Client(base_url=hub.url, headers=auth("g1"), timeout=10) as desk:
        for _ in range(3):
            look(db_path)  # opens the file read-write and closes it, as the hub serves
            for _ in range(3):
                body = new_alert()
                assert desk.post("/v1/alerts", json=body).status_code == 201
                answered.append(body["id"])
    before = event_ids(hub.url, 0)
    hub.kill9()  # within the second: the hub's own checkpoint has not run since

    restarted = hub_process()
    with httpx.Client(base_url=restarted.url, headers=auth("s.a"), timeout=10) as sup:
        lost = [a for a in answered if sup.get(f"/v1/alerts/{a}").status_code != 200]
    assert lost == [], f"{len(lost)} of {len(answered)} alerts answered 201 are gone"
    after = event_ids(restarted.url, 0)
    assert after == before, "the events followers saw are the ones the hub kept"
    newer = new_alert()
    httpx.post(
        f"{restarted.url}/v1/alerts", json=newer, headers=auth("g2"), timeout=10
    ).raise_for_status()
    [(new_id, alert_id)] = event_ids(restarted.url, before[-1][0])
    assert alert_id == newer["id"] and new_id > before[-1][0], "no event id given out twice"
