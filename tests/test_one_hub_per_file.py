"""One serving hub per SQLite file: a second hub, a restore or a migration under a running hub is
refused in one line and changes nothing; a hub killed with SIGKILL leaves no stale hold.

Before: a second `deskalert hub` on the same data dir (another port, a systemd unit plus a hand
start, two demos) served happily. Each ran the escalation timers, so the on-call supervisor got
every notification twice, and each fanned out only the alerts raised on it: a pane on one never
saw an alert raised on the other. `deskalert backup --restore` and `hub migrate` wrote under a
running hub's feet."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from support.cli import run_cli
from support.hubs import HubProcess, listening_url
from support.requests import auth, new_alert

# The hold is on the SQLite file; hubs on PostgreSQL share their database by design
# (tests/test_replicas.py).
pytestmark = pytest.mark.stores("sqlite")


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`deskalert hub` or `demo` in a process of its own: one not refused would serve on, and
    its process ends at the timeout (in this process it would never return). `backup` runs in
    this process (run_cli): the hubs that hold the file are processes of their own."""
    return subprocess.run(
        [sys.executable, "-m", "deskalert", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def second_hub(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`deskalert hub` on the data dir of the `hub_process` fixture, on a port of its own."""
    return cli(
        "hub", "--config", tmp_path / "hub.toml", "--port", "0", "--data-dir", tmp_path / "data"
    )


def stored(url: str) -> list[str]:
    answer = httpx.get(f"{url}/v1/alerts", headers=auth("s.a"), timeout=10)
    return [a["id"] for a in answer.json()]


def test_a_second_hub_on_the_same_file_is_refused_and_the_first_serves_on(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    first = hub_process()
    refused = second_hub(tmp_path)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert f"un hub (processus {first.process.pid}) sert" in lines[0]
    assert "hub.sqlite3" in lines[0] and "--data-dir" in lines[0], lines[0]
    alert = new_alert()
    posted = httpx.post(f"{first.url}/v1/alerts", json=alert, headers=auth("g1"), timeout=10)
    assert posted.status_code == 201, "the first hub is untouched"


def test_a_hub_killed_with_sigkill_leaves_no_stale_hold(
    hub_process: Callable[..., HubProcess],
) -> None:
    first = hub_process()
    alert = new_alert()
    httpx.post(
        f"{first.url}/v1/alerts", json=alert, headers=auth("g1"), timeout=10
    ).raise_for_status()
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    again = hub_process()
    assert stored(again.url) == [alert["id"]]


def test_a_restore_under_a_running_hub_is_refused_and_changes_nothing(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    hub = hub_process()
    made = run_cli(
        "backup",
        "--config",
        tmp_path / "hub.toml",
        "--data-dir",
        tmp_path / "data",
        "--out",
        tmp_path / "copies",
    )
    assert made.returncode == 0, made.stderr
    copy = next((tmp_path / "copies").glob("hub-*.sqlite3"))
    after = new_alert()
    httpx.post(
        f"{hub.url}/v1/alerts", json=after, headers=auth("g1"), timeout=10
    ).raise_for_status()
    refused = run_cli(
        "backup",
        "--config",
        tmp_path / "hub.toml",
        "--data-dir",
        tmp_path / "data",
        "--restore",
        copy,
    )
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert f"processus {hub.process.pid}" in refused.stderr
    assert "arrêtez-le avant d'y restaurer une copie" in refused.stderr
    assert stored(hub.url) == [after["id"]], "the alert raised after the copy is still there"
    hub.process.terminate()
    hub.process.wait(timeout=10)
    restored = run_cli(
        "backup",
        "--config",
        tmp_path / "hub.toml",
        "--data-dir",
        tmp_path / "data",
        "--restore",
        copy,
    )
    assert restored.returncode == 0, restored.stderr
    assert stored(hub_process().url) == [], "with the hub stopped, the copy is put back"


def test_two_demos_on_one_data_dir(tmp_path: Path) -> None:
    """`deskalert demo --hub-only` twice on the same --data-dir (another --port): the second
    says so and stops, instead of a second hub beside the first."""
    data = tmp_path / "demo"
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deskalert",
            "demo",
            "--hub-only",
            "--port",
            "0",
            "--data-dir",
            str(data),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert first.stdout is not None
        for line in first.stdout:
            if listening_url(line):
                break
        second = cli("demo", "--hub-only", "--port", "0", "--data-dir", data)
        assert second.returncode == 2, second.stdout + second.stderr
        assert "une démo tourne déjà : rejoignez-la avec `" in second.stderr  # issue 23
    finally:
        first.terminate()
        first.wait(timeout=10)


def test_a_symlink_to_the_file_is_the_same_file(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    """Before: `--data-dir` holding a symlink to a served hub.sqlite3 started a second hub and
    restored a copy under the running one."""
    first = hub_process()
    other = tmp_path / "other"
    other.mkdir()
    (other / "hub.sqlite3").symlink_to(tmp_path / "data" / "hub.sqlite3")
    refused = cli("hub", "--config", tmp_path / "hub.toml", "--port", "0", "--data-dir", other)
    assert refused.returncode == 2
    assert f"un hub (processus {first.process.pid}) sert" in refused.stderr
    made = run_cli(
        "backup",
        "--config",
        tmp_path / "hub.toml",
        "--data-dir",
        tmp_path / "data",
        "--out",
        tmp_path / "copies",
    )
    assert made.returncode == 0, made.stderr
    copy = next((tmp_path / "copies").glob("hub-*.sqlite3"))
    restored = run_cli(
        "backup", "--config", tmp_path / "hub.toml", "--data-dir", other, "--restore", copy
    )
    assert restored.returncode == 2 and "arrêtez-le avant d'y restaurer" in restored.stderr


def test_a_restore_refuses_what_is_not_a_hub_database_and_keeps_what_it_replaces(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    """Before: an empty file or a desk's journal given to --restore replaced the site's history,
    exit 0, and nothing of the replaced database was kept."""
    import sqlite3

    hub = hub_process()
    first = new_alert()
    httpx.post(
        f"{hub.url}/v1/alerts", json=first, headers=auth("g1"), timeout=10
    ).raise_for_status()
    made = run_cli(
        "backup",
        "--config",
        tmp_path / "hub.toml",
        "--data-dir",
        tmp_path / "data",
        "--out",
        tmp_path / "copies",
    )
    assert made.returncode == 0, made.stderr
    copy = next((tmp_path / "copies").glob("hub-*.sqlite3"))
    later = new_alert()
    httpx.post(
        f"{hub.url}/v1/alerts", json=later, headers=auth("g1"), timeout=10
    ).raise_for_status()
    hub.process.terminate()
    hub.process.wait(timeout=10)

    empty, journal = tmp_path / "empty.sqlite3", tmp_path / "journal.sqlite3"
    empty.touch()
    with sqlite3.connect(journal) as db:
        db.execute("CREATE TABLE outbox (id TEXT)")
    for wrong in (empty, journal, tmp_path / "missing.sqlite3"):
        refused = run_cli(
            "backup",
            "--config",
            tmp_path / "hub.toml",
            "--data-dir",
            tmp_path / "data",
            "--restore",
            wrong,
        )
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and "base de hub" in refused.stderr
    assert not list((tmp_path / "data").glob("hub-before-restore-*")), "nothing written"

    restored = run_cli(
        "backup",
        "--config",
        tmp_path / "hub.toml",
        "--data-dir",
        tmp_path / "data",
        "--restore",
        copy,
    )
    assert restored.returncode == 0, restored.stderr
    aside = next((tmp_path / "data").glob("hub-before-restore-*.sqlite3"))
    assert str(aside) in restored.stdout
    assert oct(aside.stat().st_mode & 0o777) == "0o600"
    assert stored(hub_process().url) == [first["id"]], "the copy is back"
    with sqlite3.connect(aside) as db:
        kept = {row[0] for row in db.execute("SELECT id FROM alerts")}
    assert kept == {first["id"], later["id"]}, "what it replaced is kept, whole"


def test_a_hard_link_to_the_file_is_the_same_file(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    """Before: `--data-dir` holding a hard link of a served hub.sqlite3 (another directory, so
    another `.lock`) started a second hub on the same file, and restored a copy under the
    running one. A hub stopped, the link serves again: the hold is the live process's only."""
    first = hub_process()
    other = tmp_path / "other"
    other.mkdir()
    (other / "hub.sqlite3").hardlink_to(tmp_path / "data" / "hub.sqlite3")
    refused = cli("hub", "--config", tmp_path / "hub.toml", "--port", "0", "--data-dir", other)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert f"un hub (processus {first.process.pid}) sert" in lines[0]
    made = run_cli(
        "backup",
        "--config",
        tmp_path / "hub.toml",
        "--data-dir",
        tmp_path / "data",
        "--out",
        tmp_path / "copies",
    )
    assert made.returncode == 0, made.stderr
    copy = next((tmp_path / "copies").glob("hub-*.sqlite3"))
    restored = run_cli(
        "backup", "--config", tmp_path / "hub.toml", "--data-dir", other, "--restore", copy
    )
    assert restored.returncode == 2 and "arrêtez-le avant d'y restaurer" in restored.stderr
    alert = new_alert()
    httpx.post(
        f"{first.url}/v1/alerts", json=alert, headers=auth("g1"), timeout=10
    ).raise_for_status()

    first.process.send_signal(signal.SIGKILL)  # no clean stop: the kernel drops the hold
    first.process.wait(timeout=10)
    # ... but its last writes are in data/hub.sqlite3-wal, which the other name does not see.
    wal_left = cli("hub", "--config", tmp_path / "hub.toml", "--port", "0", "--data-dir", other)
    assert wal_left.returncode == 2, wal_left.stdout + wal_left.stderr
    assert len(wal_left.stderr.strip().splitlines()) == 1, wal_left.stderr
    assert str(tmp_path / "data" / "hub.sqlite3-wal") in wal_left.stderr
    replayed = hub_process()  # once on its own name, stopped cleanly: its WAL is replayed
    replayed.process.terminate()
    replayed.process.wait(timeout=10)
    on_link = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deskalert",
            "hub",
            "--config",
            str(tmp_path / "hub.toml"),
            "--port",
            "0",
            "--data-dir",
            str(other),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert on_link.stdout is not None
        url = next(filter(None, map(listening_url, on_link.stdout)))
        assert alert["id"] in stored(url)
        again = second_hub(tmp_path)  # and now the first name is the one refused
        assert again.returncode == 2
        assert f"un hub (processus {on_link.pid}) sert" in again.stderr
    finally:
        on_link.terminate()
        on_link.wait(timeout=10)


def test_a_copy_of_a_served_file_is_another_file(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    """A copy of the file names the live hub's `.lock` in its meta too: it is not held for
    that, it is another file (a second site started from a copy of the first's data)."""
    import shutil

    hub_process()
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(tmp_path / "data" / "hub.sqlite3", other / "hub.sqlite3")
    started = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deskalert",
            "hub",
            "--config",
            str(tmp_path / "hub.toml"),
            "--port",
            "0",
            "--data-dir",
            str(other),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert started.stdout is not None
        assert any(map(listening_url, started.stdout)), started.stderr
    finally:
        started.terminate()
        started.wait(timeout=10)
