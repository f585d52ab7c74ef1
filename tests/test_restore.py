"""Restoring the hub from a backup blinds nobody: the event log's epoch, stream.reset, the follower.

Before the epoch, a restored hub gave out event ids again from the backup's maximum; every open
desk and pane resent a Last-Event-ID above it and silently skipped the new events, link shown OK.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from desk_helpers import free_port
from deskalert.client.api import HubClient
from deskalert.client.follower import LinkDown, LinkUp, snapshot_then_events
from deskalert.hub import backup
from deskalert.models import Alert, AlertEvent
from support.cli import run_cli
from support.events import open_stream
from support.hubs import HubProcess, RunningHub
from support.requests import auth, new_alert
from support.waiting import wait_until_async

# `deskalert backup` copies the SQLite file; on PostgreSQL a restore is the database's own
# tool, then `deskalert hub migrate --new-epoch` (tests/test_migrate.py).
pytestmark = pytest.mark.stores("sqlite")


@dataclass
class Picture:
    """What a screen loads before following (the Snapshot protocol of the follower)."""

    alerts: list[Alert]
    heartbeat_s: float
    last_event_id: int


@dataclass
class Screen:
    """A desk or a pane: its feed of snapshots, events and link changes, as the app gets it."""

    url: str
    token: str
    items: list[Any] = field(default_factory=list)

    async def load(self) -> Picture:
        async with HubClient(self.url, self.token) as client:
            health = await client.health()
            return Picture(await client.alerts(state="open"), 1.0, health.last_event_id)

    async def run(self) -> None:
        async for item in snapshot_then_events(self.load, self.url, self.token):
            self.items.append(item)

    def raised(self) -> list[str]:
        return [
            str(i.data.id)
            for i in self.items
            if isinstance(i, AlertEvent) and i.type.value == "alert.raised"
        ]

    def link_up(self) -> bool:
        links = [i for i in self.items if isinstance(i, LinkUp | LinkDown)]
        return bool(links) and isinstance(links[-1], LinkUp)


def raise_alert(url: str, desk: str = "g1") -> str:
    body = new_alert()
    httpx.post(f"{url}/v1/alerts", json=body, headers=auth(desk), timeout=10).raise_for_status()
    return str(body["id"])


async def test_restore_under_open_followers_new_alerts_reach_every_one(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    """Desk and pane follow through stop, restore of an older backup, restart: each reloads its
    picture and gets the new alerts; the link shows up only once it follows the new log."""
    port = free_port()
    hub = hub_process(port=port, heartbeat_s=1)
    screens = [Screen(hub.url, "tok-g1"), Screen(hub.url, "tok-s.a")]
    tasks = [asyncio.create_task(screen.run()) for screen in screens]
    try:
        await wait_until_async(lambda: all(s.link_up() for s in screens), 30)
        kept = await asyncio.to_thread(raise_alert, hub.url)
        copied = await asyncio.to_thread(
            run_cli, "backup", "--config", tmp_path / "hub.toml", "--data-dir", tmp_path / "data"
        )
        assert copied.returncode == 0, copied.stderr
        lost = [await asyncio.to_thread(raise_alert, hub.url) for _ in range(3)]
        await wait_until_async(lambda: all(s.raised() == [kept, *lost] for s in screens), 30)

        hub.process.terminate()
        await asyncio.to_thread(hub.process.wait, 10)
        await wait_until_async(lambda: not any(s.link_up() for s in screens), 30)
        [copy] = (tmp_path / "data" / "backups").iterdir()
        restored = await asyncio.to_thread(
            run_cli, "backup", "--data-dir", tmp_path / "data", "--restore", copy
        )
        assert restored.returncode == 0, restored.stderr
        marks = [len(s.items) for s in screens]
        hub = await asyncio.to_thread(hub_process, port=port, heartbeat_s=1)
        await wait_until_async(lambda: all(s.link_up() for s in screens), 30)
        fresh = [await asyncio.to_thread(raise_alert, hub.url) for _ in range(2)]
        await wait_until_async(lambda: all(s.raised()[-2:] == fresh for s in screens), 30)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for screen, mark in zip(screens, marks, strict=True):
        after = screen.items[mark:]
        pictures = [i for i in after if isinstance(i, Picture)]
        assert pictures, "the screen reloaded its picture from the restored hub"
        assert {str(a.id) for a in pictures[-1].alerts} == {kept}, (
            "the reloaded picture is the restored hub's: the lost alerts are gone from it"
        )
        first_up = next(i for i, item in enumerate(after) if isinstance(item, LinkUp))
        assert first_up > after.index(pictures[-1]), "link up only once it follows the new log"
        assert screen.link_up()


def stream_head(url: str, last_event_id: str, who: str = "s.a") -> tuple[str, dict[str, Any]]:
    """The first named block of a stream opened with this Last-Event-ID: (event, data)."""
    with open_stream(url, who, headers={"Last-Event-ID": last_event_id}) as stream:
        assert stream.response.status_code == 200
        for block in stream.blocks:
            if block.event != "message":
                return block.event, block.data or {}
    raise AssertionError("stream ended before any named block")


def test_a_last_event_id_of_another_epoch_or_above_the_last_id_gets_stream_reset(
    hub: RunningHub,
) -> None:
    raise_alert(hub.url)
    health = httpx.get(f"{hub.url}/healthz").json()
    epoch, last = health["epoch"], health["last_event_id"]
    assert len(epoch) >= 8 and last >= 1
    for stale in (f"0123456789abcdef:{last}", str(last + 5), f"{epoch}:{last + 5}"):
        event, data = stream_head(hub.url, stale)
        assert event == "stream.reset", stale
        assert (data["epoch"], data["last_event_id"]) == (epoch, last)
    for current in (f"{epoch}:{last}", f"{epoch}:0", str(last), "0"):
        assert stream_head(hub.url, current)[0] == "stream.open", current


def test_the_epoch_can_come_as_a_query_parameter_for_browsers(hub: RunningHub) -> None:
    """A browser's EventSource cannot set Last-Event-ID: the supervisors' page says its epoch
    with `?since=<id>&epoch=<epoch>`. Before, `epoch` was ignored: after a restore the page
    replayed from its old id on the new log, shown live, and missed the alerts below it."""
    raise_alert(hub.url)
    health = httpx.get(f"{hub.url}/healthz").json()

    def head(params: dict[str, str]) -> str:
        with open_stream(hub.url, "s.a", params=params) as stream:
            assert stream.response.status_code == 200
            return next(block.event for block in stream.blocks if block.event != "message")

    since = str(health["last_event_id"])
    assert head({"since": since, "epoch": "0123456789abcdef"}) == "stream.reset"
    assert head({"since": since, "epoch": health["epoch"]}) == "stream.open"
    assert head({"since": since}) == "stream.open"
    too_long = httpx.get(
        f"{hub.url}/v1/events", params={"since": since, "epoch": "e" * 65}, headers=auth("s.a")
    )
    assert too_long.status_code == 422, too_long.text


def test_a_restore_by_plain_copy_still_resets_followers_above_its_last_id(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    """Restored without `deskalert backup` (a file copy): the epoch is the old one, but the
    followers' ids are above the copy's last id, and that alone means start over."""
    hub = hub_process()
    raise_alert(hub.url)
    hub.process.terminate()
    hub.process.wait(10)
    db = tmp_path / "data" / "hub.sqlite3"
    saved = db.read_bytes()
    hub = hub_process()
    for _ in range(3):
        raise_alert(hub.url)
    seen = httpx.get(f"{hub.url}/healthz").json()
    hub.process.terminate()
    hub.process.wait(10)
    db.write_bytes(saved)
    hub = hub_process()
    assert stream_head(hub.url, f"{seen['epoch']}:{seen['last_event_id']}")[0] == "stream.reset"


def test_backup_copies_are_0600_get_a_new_epoch_and_old_ones_are_pruned(
    hub: RunningHub, tmp_path: Path
) -> None:
    old_umask = os.umask(0o022)
    try:
        out = tmp_path / "backups"
        out.mkdir()
        stale = out / (datetime.now(UTC) - timedelta(days=400)).strftime(backup.NAME_FORMAT)
        recent = out / (datetime.now(UTC) - timedelta(days=2)).strftime(backup.NAME_FORMAT)
        other = out / "notes.txt"
        for path in (stale, recent, other):
            path.write_text("x")
        copy, pruned = backup.backup(hub.data_dir / "hub.sqlite3", out, retention_days=365)
    finally:
        os.umask(old_umask)
    assert pruned == [stale] and not stale.exists() and recent.exists() and other.exists()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert sorted(p.name for p in out.iterdir()) == sorted([copy.name, recent.name, other.name])
    import sqlite3

    with sqlite3.connect(copy) as db:
        copy_epoch = db.execute("SELECT value FROM meta WHERE key='epoch'").fetchone()[0]
    assert copy_epoch != httpx.get(f"{hub.url}/healthz").json()["epoch"]


@pytest.mark.parametrize("args", [["--config", "missing.toml"], ["--restore", "missing.sqlite3"]])
def test_backup_command_errors_are_one_line(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "hub.sqlite3").touch()
    done = run_cli(
        "backup",
        "--data-dir",
        tmp_path / "data",
        *(tmp_path / a if "missing" in a else a for a in args),
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr


async def test_a_desk_sends_again_its_open_alert_that_a_restored_hub_no_longer_has(
    tmp_path: Path,
) -> None:
    """Before: after a restore from a copy older than the desk's alert, the desk went on showing
    "transmise" (and who was coming) for an alert the hub, and so every supervisor, no longer
    had. Now the desk's fresh picture lacks it, so it sends it again under its id."""
    from desk_helpers import in_thread, make_desk, text_of, wait_until
    from deskalert.tui.desk.state import Step
    from support.hubs import start_threaded_hub
    from support.roster import make_config

    port, data = free_port(), tmp_path / "hub"
    hub = start_threaded_hub(make_config(heartbeat_s=1), data, port)
    copy, _ = backup.backup(data / "hub.sqlite3", tmp_path / "copies", 30)  # before the alert
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.press("f2")
        await wait_until(
            pilot,
            lambda: any(o.step is Step.TRANSMITTED for o in app.state.own.values()),
            what="stored",
        )
        [own] = list(app.state.own.values())
        await in_thread(hub.stop)
        backup.restore(copy, data / "hub.sqlite3")
        hub = await in_thread(lambda: start_threaded_hub(make_config(heartbeat_s=1), data, port))
        try:

            def stored_again() -> bool:
                answer = httpx.get(f"{hub.url}/v1/alerts/{own.id}", headers=auth("s.a"))
                return answer.status_code == 200

            first_received = own.alert.received_at if own.alert else None
            for _ in range(100):
                if await in_thread(stored_again):
                    break
                await pilot.pause(0.2)
            else:
                raise AssertionError("the restored hub never got the alert again")
            await wait_until(
                pilot,
                lambda: own.alert is not None and own.alert.received_at != first_received,
                what="its new copy",
            )
            assert own.step is Step.TRANSMITTED
            await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="shown")
        finally:
            await in_thread(hub.stop)
