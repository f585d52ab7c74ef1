"""A SQLite file put back in time without `deskalert backup` blinds no follower.

Before: a copy made otherwise (a `cp`, the SQLite backup API, a file-level backup) kept the old
epoch. Put back, the hub gave out again the ids the copy lacked, to other events; a desk or pane
resuming from an id the hub had reached again (`<epoch>:<id>`, same epoch) replayed from there
and never saw the alerts raised meanwhile, link shown up. Now the hub notes beside the file the
last id it stored (hub/served.py) and gives a file that went back a new epoch.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from support.hubs import HubProcess
from test_restore import raise_alert, stream_head

pytestmark = pytest.mark.stores("sqlite")  # the SQLite file and its data dir


def health(url: str) -> dict[str, object]:
    return dict(httpx.get(f"{url}/healthz", timeout=10).json())


def stop(hub: HubProcess) -> None:
    hub.process.terminate()
    hub.process.wait(10)


@pytest.mark.parametrize("how", ["cp", "backup API"])
def test_a_copy_put_back_gets_a_new_epoch_and_followers_start_over(
    hub_process: Callable[..., HubProcess], tmp_path: Path, how: str
) -> None:
    db, copy = tmp_path / "data" / "hub.sqlite3", tmp_path / "copy.sqlite3"
    hub = hub_process()
    raise_alert(hub.url)
    if how == "backup API":  # live, while the hub serves
        with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        src.close()
        dst.close()
    else:  # the hub stopped, a plain file copy
        stop(hub)
        shutil.copy(db, copy)
        hub = hub_process()
    for _ in range(3):
        raise_alert(hub.url)
    seen = health(hub.url)  # where a desk or pane following this hub is
    stop(hub)
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    db.write_bytes(copy.read_bytes())  # put back in place, over the file (same inode)

    hub = hub_process()
    assert health(hub.url)["last_event_id"] == 1
    for _ in range(4):  # the hub gives ids 2..5 again, to other alerts
        raise_alert(hub.url, "g2")
    now = health(hub.url)
    assert now["last_event_id"] >= seen["last_event_id"]
    assert now["epoch"] != seen["epoch"], "a file put back in time is another event log"
    event, data = stream_head(hub.url, f"{seen['epoch']}:{seen['last_event_id']}")
    assert event == "stream.reset", "the follower would skip the alerts raised since"
    assert (data["epoch"], data["last_event_id"]) == (now["epoch"], now["last_event_id"])


def test_a_file_moved_in_place_gets_a_new_epoch(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    """Same content, another file (`mv` of a copy, a data dir copied elsewhere): it may hold a
    history the followers did not see under this epoch, so they reload once."""
    db = tmp_path / "data" / "hub.sqlite3"
    hub = hub_process()
    raise_alert(hub.url)
    seen = health(hub.url)
    stop(hub)
    shutil.copy(db, tmp_path / "moved.sqlite3")
    (tmp_path / "moved.sqlite3").replace(db)
    hub = hub_process()
    assert health(hub.url)["epoch"] != seen["epoch"]


def test_restarts_and_kill_9_keep_the_epoch(hub_process: Callable[..., HubProcess]) -> None:
    """No reload for nothing: a restart, a kill -9 (even right after alerts answered 201)
    keep the event log and its epoch."""
    hub = hub_process()
    epoch = health(hub.url)["epoch"]
    raise_alert(hub.url)
    time.sleep(1.5)  # a checkpoint has noted the last id
    for _ in range(3):
        raise_alert(hub.url)
    hub.kill9()
    hub = hub_process()
    assert health(hub.url)["epoch"] == epoch
    raise_alert(hub.url)
    stop(hub)
    hub = hub_process()
    assert health(hub.url)["epoch"] == epoch
    assert health(hub.url)["last_event_id"] == 5
