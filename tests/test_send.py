"""`deskalert send` and the outbox, run as a user would: a real hub, its own dirs.

The command runs in the test's process (tests/support/cli.py) except where the process is the
point: keyring's backend chosen from the environment at start (no token, no keyring; `login`
without a keyring) and a --message in bytes that are not UTF-8 (how Python decodes argv)."""

from __future__ import annotations

import io
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from support.cli import Result, run_cli
from support.hubs import RunningHub, start_threaded_hub
from support.ports import free_port
from support.requests import auth
from support.roster import make_config

# What is tested is the `deskalert send` client and its outbox, not the store: SQLite only.
# The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py.
pytestmark = pytest.mark.stores("sqlite")


@pytest.fixture
def desk_env(tmp_path: Path) -> Callable[..., dict[str, str]]:
    def make(url: str, desk: str = "g1", language: str = "fr") -> dict[str, str]:
        config = tmp_path / "config.toml"
        config.write_text(
            f'language = "{language}"\n[hub]\nurl = "{url}"\n[desk]\nid = "{desk}"\n',
            encoding="utf-8",
        )
        return {
            **os.environ,
            "DESKALERT_CONFIG": str(config),
            "DESKALERT_TOKEN": f"tok-{desk}",
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
        }

    return make


def send(env: dict[str, str], *args: str) -> Result:
    return run_cli("send", *args, env=env)


def send_in_a_process(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`deskalert send` in a process of its own: where the process's start is what is tested
    (keyring chooses its backend once per process, from PYTHON_KEYRING_BACKEND)."""
    return subprocess.run(
        [sys.executable, "-m", "deskalert", "send", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def hub_alerts(hub: RunningHub) -> list[dict[str, object]]:
    with hub.client("s.a") as client:
        return client.get("/v1/alerts", params={"state": "all"}).json()  # type: ignore[no-any-return]


def test_send_reaches_the_hub_and_exits_0(
    hub: RunningHub, desk_env: Callable[..., dict[str, str]]
) -> None:
    result = send(desk_env(hub.url), "renfort", "--message", "guichet bruyant")
    assert result.returncode == 0, result.stderr
    assert "transmise au hub" in result.stdout
    alerts = hub_alerts(hub)
    assert (
        len(alerts) == 1 and alerts[0]["desk"] == "g1" and alerts[0]["message"] == "guichet bruyant"
    )
    assert alerts[0]["id"] in result.stdout


def test_drill_is_sent_as_test(hub: RunningHub, desk_env: Callable[..., dict[str, str]]) -> None:
    result = send(desk_env(hub.url, language="en"), "renfort", "--test")
    assert result.returncode == 0 and "[DRILL]" in result.stdout
    assert hub_alerts(hub)[0]["test"] is True


def test_hub_down_exits_1_keeps_it_queued_and_the_next_send_delivers_both_once(
    tmp_path: Path, hub: RunningHub, desk_env: Callable[..., dict[str, str]]
) -> None:
    # First a success, so the desk has cached the on-call card it must show when the hub fails.
    env = desk_env(hub.url)
    assert send(env, "renfort").returncode == 0
    port = free_port()
    down_env = desk_env(f"http://127.0.0.1:{port}")
    failed = send(down_env, "malaise", "--timeout", "1")
    assert failed.returncode == 1
    assert "ALERTE NON TRANSMISE" in failed.stderr and "Traceback" not in failed.stderr
    assert "Ana Sup, 01 00" in failed.stderr, "the agent is told whom to call instead"

    journal = tmp_path / "data" / "deskalert" / "journal.sqlite3"
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    with sqlite3.connect(journal) as db:
        queued = db.execute("SELECT id, attempts FROM outbox WHERE status='queued'").fetchall()
    assert len(queued) == 1 and queued[0][1] >= 1

    # The hub comes back on that address; the next send delivers the queued one, then its own.
    late_hub = start_threaded_hub(make_config(), tmp_path / "late-hub", port)
    try:
        again = send(down_env, "renfort")
        assert again.returncode == 0, again.stderr
        assert f"alerte en attente {queued[0][0]} (malaise) : transmise" in again.stderr
        ids = [a["id"] for a in hub_alerts(late_hub)]
        assert len(ids) == 2 and len(set(ids)) == 2 and queued[0][0] in ids
        assert send(down_env, "renfort").returncode == 0
        assert len(hub_alerts(late_hub)) == 3, "a delivered alert is never sent again"
    finally:
        late_hub.stop()


def test_unknown_code_is_refused_with_the_reason_and_not_retried(
    hub: RunningHub, desk_env: Callable[..., dict[str, str]]
) -> None:
    env = desk_env(hub.url)
    result = send(env, "hulk")
    assert result.returncode == 1
    said, detail = result.stderr.splitlines()
    assert said.startswith("ALERTE REFUSÉE par le hub : ce code d'alerte n'existe pas"), said
    assert detail.startswith("détail pour l'administrateur : unknown_code: "), detail
    assert send(env, "renfort").returncode == 0
    assert [a["code"] for a in hub_alerts(hub)] == ["renfort"], "a refused alert is not resent"


def test_no_token_and_no_keyring_says_what_to_do(
    hub: RunningHub, desk_env: Callable[..., dict[str, str]]
) -> None:
    env = desk_env(hub.url)
    del env["DESKALERT_TOKEN"]
    # keyring's own "fail" backend is what a headless Linux box without a keyring daemon gets.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    result = send_in_a_process(env, "renfort")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "DESKALERT_TOKEN" in result.stderr
    assert hub_alerts(hub) == []


def test_wrong_token_is_refused_not_silent(
    hub: RunningHub, desk_env: Callable[..., dict[str, str]]
) -> None:
    env = {**desk_env(hub.url), "DESKALERT_TOKEN": "wrong"}
    result = send(env, "renfort")
    assert result.returncode == 1 and "ne reconnaît pas le jeton de ce poste" in result.stderr
    assert "détail pour l'administrateur : unauthorized" in result.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[hub]\nurl = "http://x"\n', "indiquez [desk] id = ... ou [supervisor] id"),
        ('[hub]\nurl = "not a url"\n[desk]\nid = "g1"\n', "hub.url"),
        ('language = "de"\n[hub]\nurl = "http://x"\n[desk]\nid = "g1"\n', "language"),
        (
            '[hub]\nurl = "http://x"\n[desk]\nid = "g1"\n[dsk]\n',
            "dsk : clé inconnue ; vouliez-vous dire desk ?",
        ),
    ],
)
def test_broken_config_toml_is_one_line_exit_2(
    tmp_path: Path, desk_env: Callable[..., dict[str, str]], content: str, expected: str
) -> None:
    env = desk_env("http://127.0.0.1:1")
    Path(env["DESKALERT_CONFIG"]).write_text(content, encoding="utf-8")
    result = send(env, "renfort")
    assert result.returncode == 2 and expected in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_outbox_survives_a_hub_that_answers_after_a_while(hub: RunningHub, tmp_path: Path) -> None:
    """In-process: the alert is in the journal before any network call, and sent once."""
    import asyncio

    from deskalert.client.api import HubClient
    from deskalert.client.outbox import DeliveryResult, Outbox
    from deskalert.journal.store import Delivery, Journal

    journal = Journal(tmp_path / "journal.sqlite3")
    entry = journal.enqueue("renfort")
    assert journal.pending() == [entry]

    async def deliver_twice() -> list[DeliveryResult]:
        async with HubClient(hub.url, "tok-g2") as client:
            outbox = Outbox(journal, client)
            first = await outbox.deliver(entry, timeout=5)
            second = await outbox.deliver(entry, timeout=5)  # e.g. a lost answer: sent again
            return [first, second]

    first, second = asyncio.run(deliver_twice())
    assert first.status is second.status is Delivery.TRANSMITTED
    assert first.alert is not None and first.alert.id == entry.id and first.alert.desk == "g2"
    assert second.alert == first.alert, "the hub answers a resend with the stored copy"
    assert journal.pending() == []
    [incident] = journal.incidents()
    assert incident.alert == first.alert, "the hub's copy is the journal's incident"
    assert [a["id"] for a in hub_alerts(hub)] == [str(entry.id)]
    assert httpx.get(f"{hub.url}/v1/alerts/{entry.id}", headers=auth("g1")).json()["desk"] == "g2"


def test_delivery_result_says_refused_or_still_queued_with_the_reason(
    hub: RunningHub, tmp_path: Path
) -> None:
    import asyncio

    from deskalert.client.api import HubClient
    from deskalert.client.outbox import Outbox
    from deskalert.journal.store import Delivery, Journal

    journal = Journal(tmp_path / "journal.sqlite3")
    unknown, queued = journal.enqueue("hulk"), journal.enqueue("renfort")

    async def deliver() -> tuple[object, object]:
        async with HubClient(hub.url, "tok-g1") as client:
            refused = await Outbox(journal, client).deliver(unknown, timeout=5)
        async with HubClient(f"http://127.0.0.1:{free_port()}", "tok-g1") as client:
            waiting = await Outbox(journal, client).deliver(queued, timeout=0.5)
        return refused, waiting

    refused, waiting = asyncio.run(deliver())
    assert refused.status is Delivery.REFUSED and "unknown_code" in (refused.reason or "")  # type: ignore[attr-defined]
    assert refused.alert is None  # type: ignore[attr-defined]
    assert waiting.status is Delivery.QUEUED and waiting.reason  # type: ignore[attr-defined]
    assert journal.pending() == [journal.get(queued.id)], "still queued, same UUID"
    assert journal.incidents() == []


def test_a_journal_of_the_previous_version_keeps_its_sent_alerts(tmp_path: Path) -> None:
    """Journals written before the one incidents table kept the hub's copy in the outbox."""
    from datetime import UTC, datetime

    from deskalert.journal.store import Journal
    from deskalert.models import Alert, AlertState

    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    alert = Alert(
        id="0b5c8e0e-2f7e-4c55-9d0a-6a1f3e9b7c21",
        code="renfort",
        code_label="Renfort",
        discreet=True,
        priority=2,
        desk="g1",
        desk_label="Desk g1",
        site="accueil",
        location="near g1",
        created_at=at,
        received_at=at,
        state=AlertState.OPEN,
        test=False,
        updated_at=at,
    )
    path = tmp_path / "journal.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE outbox (id TEXT PRIMARY KEY, code TEXT NOT NULL, created_at TEXT"
            " NOT NULL, test INTEGER NOT NULL, message TEXT, status TEXT NOT NULL,"
            " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, transmitted_at TEXT,"
            " hub_alert TEXT)"
        )
        db.execute(
            "INSERT INTO outbox VALUES (?, 'renfort', ?, 0, NULL, 'transmitted', 1, NULL, ?, ?)",
            (str(alert.id), at.isoformat(), at.isoformat(), alert.model_dump_json()),
        )
    journal = Journal(path)
    assert [i.alert for i in journal.incidents()] == [alert]
    journal.close()
    assert [i.alert for i in Journal(path).incidents()] == [alert], "migrated once, kept"


def test_login_without_keyring_points_to_the_environment_variable(
    desk_env: Callable[..., dict[str, str]],
) -> None:
    env = {
        **desk_env("http://127.0.0.1:1"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    result = subprocess.run(
        [sys.executable, "-m", "deskalert", "login"],
        input="tok-g1\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and "DESKALERT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_token_stored_by_login_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    from deskalert.cli import main
    from deskalert.client.settings import find_token

    class MemoryKeyring(KeyringBackend):
        """In-memory: a system keyring cannot run on this headless machine."""

        priority = 1  # type: ignore[assignment]
        store: ClassVar[dict[tuple[str, str], str]] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.store.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        config = tmp_path / "config.toml"
        config.write_text(
            '[hub]\nurl = "http://127.0.0.1:1"\n[desk]\nid = "g1"\n', encoding="utf-8"
        )
        monkeypatch.delenv("DESKALERT_TOKEN", raising=False)
        monkeypatch.setattr("getpass.getpass", lambda prompt: "secret-token")
        # login refuses a stdin that is no terminal (tests/test_cli_login.py drives a real pty)
        monkeypatch.setattr("sys.stdin", io.StringIO())
        monkeypatch.setattr("sys.stdin.isatty", lambda: True)
        assert main(["login", "--config", str(config)]) == 0
        assert find_token("g1") == "secret-token"
    finally:
        keyring.set_keyring(previous)


def test_hub_down_output_is_the_persons_line_and_the_administrators_without_retry_noise(
    desk_env: Callable[..., dict[str, str]],
) -> None:
    """Before: httpx's English inside the French line ("ALERTE NON TRANSMISE (hub ...
    unreachable: no connection ...: All connection attempts failed) : ...")."""
    result = send(desk_env(f"http://127.0.0.1:{free_port()}"), "renfort", "--timeout", "1")
    assert result.returncode == 1
    said, detail = result.stderr.splitlines()
    assert said.startswith("ALERTE NON TRANSMISE (hub injoignable) : elle reste en file"), said
    assert "unreachable" not in said and "connection" not in said, said
    assert detail.startswith("détail pour l'administrateur : hub http://127.0.0.1:"), detail


def test_a_message_with_a_file_number_is_refused_before_anything_is_queued(
    tmp_path: Path, hub: RunningHub, desk_env: Callable[..., dict[str, str]]
) -> None:
    result = send(desk_env(hub.url), "renfort", "--message", "allocataire 1234567")
    assert result.returncode == 2 and "numéro de dossier" in result.stderr
    assert result.stderr.count("\n") == 1
    assert hub_alerts(hub) == []
    assert not (tmp_path / "data" / "deskalert" / "journal.sqlite3").exists()


def test_a_message_in_latin_1_from_a_shortcut_script_still_raises_the_alert(
    hub: RunningHub, desk_env: Callable[..., dict[str, str]]
) -> None:
    """Before: a byte that is not UTF-8 in --message ("caf\\xe9" from a Latin-1 script) was a
    traceback and exit 1, documented as "still queued", with nothing queued at all."""
    env = desk_env(hub.url)
    result = subprocess.run(
        [sys.executable, "-m", "deskalert", "send", "renfort", "--message", b"caf\xe9 au guichet"],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"Traceback" not in result.stderr
    assert [a["message"] for a in hub_alerts(hub)] == ["café au guichet"]
