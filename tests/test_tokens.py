"""`deskalert hub token revoke` and `rotate` while a hub runs: written to its database, in
force within a second on every hub of it, no restart, no reload; the desk's open stream ends
and its reconnection is refused (401).

The `deskalert hub token` and `hub reload` commands run in the test's process (support.cli:
what is tested is what they do to the store and to the running hub, not their process); the hub
runs in a process of its own where `hub reload` signals it, in a thread of the test elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from support.cli import Result, run_cli
from support.events import EventReader
from support.hubs import HubProcess, RunningHub
from support.roster import roster_toml
from test_reload import changed_roster


def token_command(
    hub: HubProcess | RunningHub | None,
    tmp_path: Path,
    *words: str,
    database: str | None = None,
) -> Result:
    """`deskalert hub token WORDS` on the store of `hub` (or `database`, no hub running), with
    tmp_path/hub.toml (the hub's roster) and the hub's data directory."""
    data_dir = tmp_path / "data"
    if isinstance(hub, RunningHub):
        database, data_dir = hub.config.hub.database, hub.data_dir
    elif hub is not None:
        database = hub.database
    return run_cli(
        "hub",
        "token",
        *words,
        "--config",
        tmp_path / "hub.toml",
        "--data-dir",
        data_dir,
        env={**os.environ, **({"DESKALERT_DATABASE": database} if database else {})},
    )


@pytest.fixture
def running(hub: RunningHub, tmp_path: Path) -> RunningHub:
    """A hub in a thread of the test, its roster written to tmp_path/hub.toml for the command
    (where a process of its own is not needed: no reload, no signal)."""
    (tmp_path / "hub.toml").write_text(roster_toml(), encoding="utf-8")
    return hub


def reload_hub(data_dir: Path) -> Result:
    """`deskalert hub reload`: the running hub (its own process) is told to read hub.toml."""
    return run_cli("hub", "reload", "--data-dir", data_dir, "--timeout", "20")


def status(hub: HubProcess | RunningHub, token: str) -> int:
    return httpx.get(
        f"{hub.url}/v1/codes", headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).status_code


def until(condition: Callable[[], bool], what: str, timeout: float = 5) -> float:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"timed out waiting for {what}"
        time.sleep(0.02)
    return time.monotonic() - start


def test_a_revoked_token_is_refused_at_once_and_its_stream_ends(
    hub_process: Callable[..., HubProcess], follow: Callable[..., EventReader], tmp_path: Path
) -> None:
    hub = hub_process()
    stream = follow(hub.url, "g2")
    assert status(hub, "tok-g2") == 200

    done = token_command(hub, tmp_path, "revoke", "g2")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("jeton de g2 révoqué")
    until(lambda: status(hub, "tok-g2") == 401, "g2 refused", timeout=3)
    stream._thread.join(timeout=5)
    assert not stream._thread.is_alive(), "the revoked desk's stream is still open"
    assert status(hub, "tok-g1") == 200  # only that one
    # A reload of the same hub.toml keeps it revoked (the row is over the file's line).
    (tmp_path / "hub.toml").write_text(
        changed_roster().replace('[[codes]]\ncode = "incendie"', '[[codes]]\ncode = "feu"'),
        encoding="utf-8",
    )
    assert reload_hub(tmp_path / "data").returncode == 0
    assert status(hub, "tok-g1") == 200


def test_a_rotated_token_replaces_the_old_one(running: RunningHub, tmp_path: Path) -> None:
    hub = running
    done = token_command(hub, tmp_path, "rotate", "s.a")
    assert done.returncode == 0, done.stderr
    new = done.stdout.splitlines()[-1]  # the token alone on its line
    until(lambda: status(hub, "tok-s.a") == 401, "the old token refused", timeout=3)
    assert status(hub, new) == 200
    me = httpx.post(
        f"{hub.url}/v1/heartbeat", headers={"Authorization": f"Bearer {new}"}, timeout=5
    )
    assert me.status_code == 200, me.text


def test_an_unknown_id_is_one_line(running: RunningHub, tmp_path: Path) -> None:
    hub = running
    done = token_command(hub, tmp_path, "revoke", "nobody")
    assert done.returncode == 2
    assert (
        len(done.stderr.splitlines()) == 1
        and "« nobody » n'est ni un poste ni un encadrant" in done.stderr
    )
    assert status(hub, "tok-g1") == 200


def page_login(hub: HubProcess | RunningHub, token: str) -> httpx.Response:
    return httpx.post(
        f"{hub.url}/page/api/session", json={"token": token}, headers={"Origin": hub.url}
    )


def with_cookie(hub: HubProcess | RunningHub, cookie: str, path: str) -> httpx.Response:
    return httpx.get(f"{hub.url}{path}", headers={"Cookie": f"deskalert_session={cookie}"})


def test_a_rotated_supervisor_uses_the_page_until_the_token_is_revoked(
    running: RunningHub, tmp_path: Path
) -> None:
    """The page session used to be checked against hub.toml's hash: a rotated (or enrolled)
    supervisor logged in (200) and was refused every request after (401)."""
    hub = running
    before = page_login(hub, "tok-s.a").cookies["deskalert_session"]
    done = token_command(hub, tmp_path, "rotate", "s.a")
    assert done.returncode == 0, done.stderr
    new = done.stdout.splitlines()[-1]  # the token alone on its line
    until(lambda: status(hub, new) == 200, "the new token accepted", timeout=3)
    assert with_cookie(hub, before, "/page/api/me").status_code == 401  # rotation ends it

    login = page_login(hub, new)
    assert login.status_code == 200, login.text
    cookie = login.cookies["deskalert_session"]
    me = with_cookie(hub, cookie, "/page/api/me")
    assert me.status_code == 200 and me.json()["supervisor"] == "s.a", me.text
    assert with_cookie(hub, cookie, "/v1/oncall").status_code == 200

    assert token_command(hub, tmp_path, "revoke", "s.a").returncode == 0
    until(lambda: status(hub, new) == 401, "the token revoked", timeout=3)
    refused = with_cookie(hub, cookie, "/page/api/me")
    assert refused.status_code == 401 and refused.json()["error"] == "session_refused"


def banner_of(tmp_path: Path, database: str | None) -> str:
    """The start-up banner of a real hub on tmp_path/hub.toml (stopped once it is printed)."""
    where = ["--config", str(tmp_path / "hub.toml"), "--data-dir", str(tmp_path / "data")]
    process = subprocess.Popen(
        [sys.executable, "-m", "deskalert", "hub", *where, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **({"DESKALERT_DATABASE": database} if database else {})},
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # the banner is printed at once, before serving
    process.terminate()
    rest = process.stdout.read()  # not communicate(): it would skip what readline buffered
    process.wait(timeout=30)
    return first + rest


def test_the_demo_token_warning_counts_the_tokens_in_force(
    hub_database: Callable[[], str | None], tmp_path: Path
) -> None:
    """The start-up warning counted hub.toml's demo hashes: a desk enrolled (or rotated) since,
    whose demo token is refused (401), was still counted."""
    from deskalert.hub.settings import token_hash
    from support.roster import roster_toml

    roster = roster_toml()
    for desk in ("g1", "g2"):
        roster = roster.replace(token_hash(f"tok-{desk}"), token_hash(f"demo-{desk}"))
    (tmp_path / "hub.toml").write_text(roster, encoding="utf-8")
    database = hub_database()
    assert "2 des postes/encadrants" in banner_of(tmp_path, database)

    done = token_command(None, tmp_path, "rotate", "g1", database=database)
    assert done.returncode == 0, done.stderr
    assert "1 des postes/encadrants" in banner_of(tmp_path, database)
    assert token_command(None, tmp_path, "rotate", "g2", database=database).returncode == 0
    assert "jeton de démonstration" not in banner_of(tmp_path, database)
