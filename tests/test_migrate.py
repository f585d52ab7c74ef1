"""`deskalert hub migrate`: a site's SQLite history into PostgreSQL, ids and epoch kept."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

import pg
from deskalert.errors import ConfigError
from support.cli import Result, run_cli
from support.events import read_events
from support.hubs import start_threaded_hub
from support.requests import auth, new_alert
from support.roster import make_config
from test_notes_api import NOTE


def _cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return run_cli("hub", "migrate", *args, env=env)


def test_history_moves_with_its_ids_and_epoch_and_a_follower_resumes_on_postgresql(
    tmp_path: Path,
    pg_server: pg.PgServer,
) -> None:
    old = start_threaded_hub(make_config(), tmp_path / "site")
    raised = [new_alert(), new_alert()]
    for body in raised:
        httpx.post(f"{old.url}/v1/alerts", json=body, headers=auth("g1")).raise_for_status()
    httpx.post(f"{old.url}/v1/alerts/{raised[0]['id']}/ack", headers=auth("s.b")).raise_for_status()
    httpx.post(
        f"{old.url}/v1/alerts/{raised[0]['id']}/notes", json=NOTE, headers=auth("g1")
    ).raise_for_status()
    broadcast = {"id": str(uuid.uuid4()), "template": "agite", "sites": ["accueil"]}
    httpx.post(f"{old.url}/v1/broadcasts", json=broadcast, headers=auth("s.a")).raise_for_status()
    before = httpx.get(f"{old.url}/healthz").json()
    seen = read_events(old.url, 0, 3)
    old.stop()
    from datetime import UTC, datetime

    from deskalert.hub.settings import token_hash
    from deskalert.hub.store import open_store

    store = open_store(None, tmp_path / "site" / "hub.sqlite3")  # e1's token revoked there
    store.set_token("e1", token_hash("tok-e1"), None, datetime.now(UTC))
    store.close()

    url = pg_server.database()
    done = _cli("--from", str(tmp_path / "site" / "hub.sqlite3"), "--to", url)
    assert done.returncode == 0, done.stderr
    assert "2 alerts" in done.stdout and before["epoch"] in done.stdout

    config = make_config()
    config.hub.database = url
    new = start_threaded_hub(config, tmp_path / "pg-hub")
    try:
        after = httpx.get(f"{new.url}/healthz").json()
        assert (after["epoch"], after["last_event_id"]) == (
            before["epoch"],
            before["last_event_id"],
        )
        stored = httpx.get(f"{new.url}/v1/alerts?state=all", headers=auth("s.a")).json()
        assert sorted(a["id"] for a in stored) == sorted(b["id"] for b in raised)
        third = new_alert()
        httpx.post(f"{new.url}/v1/alerts", json=third, headers=auth("g2")).raise_for_status()
        # The Last-Event-ID from the old hub: the broadcast's event, moved, then the new alert.
        moved, *resumed = read_events(new.url, seen[-1][0], 2)
        assert moved[1] == "broadcast.sent" and moved[2]["id"] == broadcast["id"]
        assert resumed[0][1] == "alert.raised" and resumed[0][2]["id"] == third["id"]
        assert resumed[0][0] > seen[-1][0]
        notes = httpx.get(f"{new.url}/v1/alerts/{raised[0]['id']}/notes", headers=auth("s.a"))
        assert len(notes.json()) == 1
        current = httpx.get(f"{new.url}/v1/broadcasts", headers=auth("g1")).json()
        assert [b["id"] for b in current] == [broadcast["id"]], "the current broadcast moved"
        retry = httpx.post(f"{new.url}/v1/alerts", json=raised[1], headers=auth("g1"))
        assert retry.status_code == 200, "a desk's resend after the move is not a new alert"
        revoked = httpx.get(f"{new.url}/v1/codes", headers=auth("e1"))
        assert revoked.status_code == 401, "a revoked token stays revoked after the move"
    finally:
        new.stop()

    again = _cli("--from", str(tmp_path / "site" / "hub.sqlite3"), "--to", url)
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "a été déplacé vers PostgreSQL" in again.stderr
    with pytest.raises(ConfigError, match="a été déplacé vers PostgreSQL"):  # a hub on the old file
        start_threaded_hub(make_config(), tmp_path / "site")

    other = start_threaded_hub(make_config(), tmp_path / "other-site")
    other.stop()
    into_full = _cli("--from", str(tmp_path / "other-site" / "hub.sqlite3"), "--to", url)
    assert into_full.returncode == 2 and "migrate into an empty database" in into_full.stderr


def test_not_a_hub_file_is_refused_untouched_and_the_url_can_come_from_the_environment(
    pg_server: pg.PgServer,
    tmp_path: Path,
) -> None:
    import os
    import sqlite3

    journal = tmp_path / "journal.sqlite3"
    with sqlite3.connect(journal) as db:
        db.execute("CREATE TABLE outbox (id TEXT)")
    before = journal.read_bytes()
    refused = _cli("--from", str(journal), "--to", pg_server.database())
    assert refused.returncode == 2 and "pas une base de hub" in refused.stderr
    assert journal.read_bytes() == before, "the wrong file is left as it was"

    site = tmp_path / "site"
    start_threaded_hub(make_config(), site).stop()
    url = pg_server.database()
    moved = _cli("--from", str(site / "hub.sqlite3"), env={**os.environ, "DESKALERT_DATABASE": url})
    assert moved.returncode == 0, moved.stderr
    unset = _cli("--to", "env:NOPE_NOT_SET", "--new-epoch")
    assert (
        unset.returncode == 2
        and "la variable d'environnement NOPE_NOT_SET n'est pas définie" in unset.stderr
    )


def test_a_file_a_hub_still_serves_is_not_moved(pg_server: pg.PgServer, tmp_path: Path) -> None:
    """Before: the README said to stop the SQLite hub first, and nothing checked it; the alerts
    raised while `migrate` copied were left behind in a file marked as moved."""
    import os

    site = start_threaded_hub(make_config(), tmp_path / "site")
    try:
        httpx.post(f"{site.url}/v1/alerts", json=new_alert(), headers=auth("g1")).raise_for_status()
        url = pg_server.database()
        refused = _cli("--from", str(tmp_path / "site" / "hub.sqlite3"), "--to", url)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
        assert f"un hub (processus {os.getpid()}) sert" in refused.stderr
        assert "arrêtez-le avant de déplacer son historique" in refused.stderr
        after = httpx.post(f"{site.url}/v1/alerts", json=new_alert(), headers=auth("g1"))
        assert after.status_code == 201, "the file is not marked as moved: the hub serves on"
    finally:
        site.stop()
    moved = _cli("--from", str(tmp_path / "site" / "hub.sqlite3"), "--to", url)
    assert moved.returncode == 0 and "2 alerts" in moved.stdout, moved.stderr


def test_new_epoch_is_refused_while_hubs_run_on_the_database(
    pg_server: pg.PgServer,
    tmp_path: Path,
) -> None:
    config = make_config()
    config.hub.database = url = pg_server.database()
    running = start_threaded_hub(config, tmp_path / "hub")
    try:
        deadline = time.monotonic() + 10
        while "hub(s) run on" not in (refused := _cli("--new-epoch", "--to", url)).stderr:
            assert time.monotonic() < deadline, refused.stderr  # its first tick writes its line
            time.sleep(0.2)
        assert refused.returncode == 2
    finally:
        running.stop()


def test_new_epoch_makes_clients_reload_and_bad_arguments_are_one_line(
    pg_server: pg.PgServer,
    tmp_path: Path,
) -> None:
    url = pg_server.database()
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    first = _cli("--new-epoch", "--to", url)
    second = _cli("--new-epoch", "--to", url)
    assert first.returncode == second.returncode == 0, first.stderr
    assert first.stdout.split()[2] != second.stdout.split()[2]
    for args, words in (
        (["--to", "mysql://x"], "postgresql://"),
        (["--to", url], "--from"),
        (["--from", str(tmp_path / "nope.sqlite3"), "--to", url], "pas de base de hub"),
        (["--from", str(empty), "--to", url], "pas une base de hub"),
        (["--new-epoch", "--to", "postgresql://127.0.0.1:1/none"], "cannot reach PostgreSQL"),
    ):
        result = _cli(*args)
        assert result.returncode != 0
        assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://hub:s3cret@127.0.0.1:1/none",
        "postgresql://hub:s3/cr#et@127.0.0.1:1/none",  # not percent-encoded: still never shown
        "postgresql://127.0.0.1:1/none?user=hub&password=s3cret",
    ],
)
def test_the_database_password_is_never_printed(url: str) -> None:
    result = _cli("--new-epoch", "--to", url)
    assert result.returncode == 2 and "127.0.0.1:1/none" in result.stderr, result.stderr
    assert "s3" not in result.stderr + result.stdout


def test_hub_check_reaches_the_database_and_names_what_is_wrong(
    pg_server: pg.PgServer,
    tmp_path: Path,
) -> None:
    import os

    from support.roster import roster_toml

    config = tmp_path / "hub.toml"
    config.write_text(roster_toml(), encoding="utf-8")

    def check(database: str) -> Result:
        return run_cli(
            "hub", "--check", "--config", config, env={**os.environ, "DESKALERT_DATABASE": database}
        )

    fresh = check(pg_server.database())
    assert fresh.returncode == 0, fresh.stderr
    assert "joignable, vide" in fresh.stdout
    down = check("postgresql://hub:pw@127.0.0.1:1/none")
    assert down.returncode != 0 and down.stderr.count("\n") == 1
    assert "cannot reach PostgreSQL at postgresql://hub:***@127.0.0.1:1/none" in down.stderr
    wrong = check("mysql://x")
    assert wrong.returncode == 2 and "une URL postgresql://" in wrong.stderr
