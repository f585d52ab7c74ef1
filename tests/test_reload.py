"""`deskalert hub reload` (SIGHUP) against a hub in its own process, while a desk and a
supervisor follow the stream: a good hub.toml is swapped at once and seen by the clients
without a stream dropping; a bad one changes nothing and says why in one line."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.events import EventReader
from support.hubs import HubProcess
from support.requests import auth, new_alert
from support.roster import roster_toml

NEW_CODE = (
    '[[codes]]\ncode = "incendie"\nlabel = "Incendie"\nkey = "f6"\npriority = 1\n'
    'protocol = "Evacuez par l\'escalier B."'
)


def changed_roster() -> str:
    """The test roster without desk g2, with a code "incendie", and s.c on call at accueil."""
    blocks = [b for b in roster_toml().split("\n\n") if 'id = "g2"' not in b]
    blocks.insert(next(i for i, b in enumerate(blocks) if b.startswith("[[sites]]")), NEW_CODE)
    text = "\n\n".join(blocks)
    return text.replace(
        'site = "accueil"\nsupervisor = "s.a"', 'site = "accueil"\nsupervisor = "s.c"'
    )


def reload_hub(data_dir: Path, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "deskalert",
            "hub",
            "reload",
            "--data-dir",
            str(data_dir),
            "--timeout",
            str(timeout),
        ],
        capture_output=True,
        text=True,
        timeout=timeout + 10,
    )


def get(hub: HubProcess, who: str, path: str) -> httpx.Response:
    return httpx.get(f"{hub.url}{path}", headers=auth(who), timeout=5)


def next_of(reader: EventReader, event_type: str, timeout: float = 10) -> dict[str, Any]:
    """The data of the next `event_type` on the stream; the stream must not close meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        kind, value = reader.items.get(timeout=max(0.01, deadline - time.monotonic()))
        assert kind != "closed", f"the stream dropped: {value}"
        if kind == "event" and value[1] == event_type:
            return value[2]  # type: ignore[no-any-return]


def assert_still_open(reader: EventReader) -> None:
    while True:
        try:
            kind, value = reader.items.get_nowait()
        except queue.Empty:
            return
        assert kind != "closed", f"the stream dropped: {value}"


def test_a_good_file_is_swapped_at_once_and_seen_without_a_stream_dropping(
    hub_process: Callable[..., HubProcess], follow: Callable[..., EventReader], tmp_path: Path
) -> None:
    hub = hub_process()
    desk, pane = follow(hub.url, "g1"), follow(hub.url, "s.b")
    removed = follow(hub.url, "g2")
    assert get(hub, "g2", "/v1/codes").status_code == 200
    (tmp_path / "hub.toml").write_text(changed_roster(), encoding="utf-8")

    done = reload_hub(tmp_path / "data")

    assert done.returncode == 0, done.stderr
    assert "reloaded" in done.stdout and len(done.stdout.splitlines()) == 1
    # A removed desk's token is refused from then on, as an unknown token is.
    refused = get(hub, "g2", "/v1/codes")
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    # Its open stream ends (its reconnection is the 401 above), and only its own.
    removed._thread.join(timeout=10)
    assert not removed._thread.is_alive(), "the removed desk's stream is still open"
    # Every desk and pane is told to read the roster again: the new code is on the hub's list.
    for reader in (desk, pane):
        next_of(reader, "roster.changed")
    codes = [c["code"] for c in get(hub, "g1", "/v1/codes").json()]
    assert codes == ["renfort", "malaise", "incendie"]
    # The changed on-call is on the cards, and said on the stream as today.
    card = next_of(pane, "oncall.changed")
    assert card["site"] == "accueil" and card["supervisor"]["id"] == "s.c"
    assert get(hub, "g1", "/v1/oncall").json()[0]["supervisor"]["id"] == "s.c"
    # The new code raises; the streams are the same ones, still up.
    raised = httpx.post(
        f"{hub.url}/v1/alerts", headers=auth("g1"), json=new_alert("incendie"), timeout=5
    )
    assert raised.status_code == 201, raised.text
    assert next_of(desk, "alert.raised")["code"] == "incendie"
    assert_still_open(pane)


def test_a_bad_file_changes_nothing_and_says_why_in_one_line(
    hub_process: Callable[..., HubProcess], follow: Callable[..., EventReader], tmp_path: Path
) -> None:
    hub = hub_process()
    desk = follow(hub.url, "g1")
    config = tmp_path / "hub.toml"
    config.write_text(
        changed_roster().replace('site = "etage"', 'site = "grenier"'), encoding="utf-8"
    )

    done = reload_hub(tmp_path / "data")

    assert done.returncode == 2, done.stdout
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1
    assert "nothing changed" in done.stderr and "'grenier'" in done.stderr
    assert get(hub, "g2", "/v1/codes").status_code == 200  # still in the roster
    assert [c["code"] for c in get(hub, "g1", "/v1/codes").json()] == ["renfort", "malaise"]
    assert get(hub, "g1", "/v1/oncall").json()[0]["supervisor"]["id"] == "s.a"
    assert_still_open(desk)

    # A file that changes what is read at start only is refused whole, naming the key.
    config.write_text(roster_toml(ack_timeout_s=45), encoding="utf-8")
    done = reload_hub(tmp_path / "data")
    assert done.returncode == 2 and "[hub] ack_timeout_s" in done.stderr
    # Then the good file goes through: the hub kept serving meanwhile.
    config.write_text(changed_roster(), encoding="utf-8")
    assert reload_hub(tmp_path / "data").returncode == 0
    assert get(hub, "g2", "/v1/codes").status_code == 401


def test_sighup_from_systemd_reloads_too(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    """ExecReload= may be `kill -HUP $MAINPID`: the hub reloads and does not die of SIGHUP."""
    hub = hub_process()
    (tmp_path / "hub.toml").write_text(changed_roster(), encoding="utf-8")
    os.kill(hub.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while get(hub, "g2", "/v1/codes").status_code != 401:
        assert time.monotonic() < deadline, "SIGHUP did not reload the roster"
        time.sleep(0.05)
    assert hub.process.poll() is None


def test_reload_without_a_running_hub_is_one_line(tmp_path: Path) -> None:
    done = reload_hub(tmp_path / "nothing-here", timeout=1)
    assert done.returncode == 1
    assert done.stderr.startswith("deskalert : aucun hub ne tourne avec le répertoire de données")
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.stores("sqlite")
def test_deploy_unit_reloads_with_the_command() -> None:
    unit = (Path(__file__).parents[1] / "deploy" / "deskalert-hub.service").read_text()
    assert (
        "ExecReload=/opt/deskalert/bin/deskalert hub reload --data-dir /var/lib/deskalert" in unit
    )
