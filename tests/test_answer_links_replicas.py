"""Answer links with several hubs (issue 23): each hub has its own public address
(DESKALERT_PUBLIC_URL beside a shared hub.toml), and a notification's link names the hub that
SENDS it, not the one that planned it. With the hub named in hub.toml killed, the links that
followed still pointed at it.

Real parts: two hub processes on a real PostgreSQL (tests/pg.py), one killed with SIGKILL; a
real HTTP receiver (Apprise's json://) catching what the supervisor's phone would get; the link
opened and logged in with, on the hub it names."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import tomli_w

from notify_helpers import HttpReceiver, free_port, take
from support.cli import run_cli
from support.hubs import HubProcess
from support.requests import auth, new_alert
from support.roster import roster_toml

pytestmark = pytest.mark.stores("postgresql")


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def hubs(
    tmp_path: Path, hub_database: Callable[[], str | None], http: HttpReceiver
) -> Iterator[Callable[[], HubProcess]]:
    """Hubs on one PostgreSQL and one hub.toml (public_url there names the first hub, as a
    site with one hub would have it), each started with its own DESKALERT_PUBLIC_URL."""
    database = hub_database()
    assert database is not None
    config = tmp_path / "hub.toml"
    started: list[HubProcess] = []

    def start() -> HubProcess:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        if not started:
            data = tomllib.loads(roster_toml())
            data["hub"]["public_url"] = url
            for supervisor in data["supervisors"]:
                supervisor["notify"] = [http.url(supervisor["id"])]
            config.write_text(tomli_w.dumps(data), encoding="utf-8")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "deskalert",
                "hub",
                "--config",
                str(config),
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / f"data{len(started)}"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "DESKALERT_DATABASE": database, "DESKALERT_PUBLIC_URL": url},
        )
        _healthy(url)
        running = HubProcess(process, url, database)
        started.append(running)
        return running

    yield start
    for running in started:
        if running.process.poll() is None:
            running.process.terminate()
            running.process.wait(timeout=10)


def _healthy(url: str, timeout: float = 40) -> None:
    """A hub on PostgreSQL on a loaded machine may take more than support.hubs' 10 s to start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"hub at {url} did not become healthy within {timeout} s")


def link_in(body: str) -> str:
    [link] = [word for word in body.split() if "/page/a/" in word]
    return link


def log_in_with(link: str) -> httpx.Response:
    """What the page does with an answer link: GET it, then POST its fields for a session."""
    parts = urlsplit(link)
    base = f"{parts.scheme}://{parts.netloc}"
    assert httpx.get(link, timeout=5).status_code == 200
    fields = {k: v[0] for k, v in parse_qs(parts.query).items()}
    alert_id = parts.path.rsplit("/", 1)[1]
    return httpx.post(
        f"{base}/page/api/session",
        timeout=5,
        headers={"Origin": base},
        json={"link": {"alert": alert_id, **fields}},
    )


@pytest.mark.system
def test_a_hub_killed_the_links_that_follow_name_a_live_hub_and_work(
    hubs: Callable[[], HubProcess], http: HttpReceiver
) -> None:
    first = hubs()  # the leader: it sends the notifications
    second = hubs()
    raised = new_alert("malaise")
    assert httpx.post(f"{first.url}/v1/alerts", json=raised, headers=auth("g1")).status_code == 201
    before = take(http.messages)
    assert link_in(before.body).startswith(f"{first.url}/page/a/{raised['id']}?")

    http.down = True  # the next notification is planned on the first hub, not delivered...
    waiting = new_alert("renfort")
    assert httpx.post(f"{first.url}/v1/alerts", json=waiting, headers=auth("g2")).status_code == 201
    first.kill9()  # ...before the first hub dies: the second sends it
    http.down = False
    # The first alert's reminder may come first (the lead moves in about 5 s: a lease).
    deadline = time.monotonic() + 40
    while f"/page/a/{waiting['id']}?" not in (after := take(http.messages, timeout=40)).body:
        assert time.monotonic() < deadline, f"no message for the waiting alert: {after.body}"
    assert link_in(after.body).startswith(f"{second.url}/page/a/"), after.body
    answer = log_in_with(link_in(after.body))
    assert answer.status_code == 200 and answer.json()["alert"] == waiting["id"], answer.text

    later = new_alert("malaise")
    assert httpx.post(f"{second.url}/v1/alerts", json=later, headers=auth("e1")).status_code == 201
    while f"/page/a/{later['id']}?" not in (message := take(http.messages)).body:
        pass
    assert link_in(message.body).startswith(f"{second.url}/page/a/")
    assert log_in_with(link_in(message.body)).status_code == 200


@pytest.mark.stores("sqlite")
def test_a_bad_own_public_url_is_a_one_line_error(tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(roster_toml(), encoding="utf-8")
    result = run_cli(
        "hub",
        "--config",
        config,
        "--check",
        env={**os.environ, "DESKALERT_PUBLIC_URL": "hub2.example"},
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "DESKALERT_PUBLIC_URL" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.stores("sqlite")
def test_a_sending_hub_without_public_url_leaves_the_link_out() -> None:
    from deskalert.hub.links import SENDER_ADDRESS, with_sender_address

    planned = f"Desk g1\nRépondre : {SENDER_ADDRESS}/page/a/x?s=s.a"
    assert (
        with_sender_address(planned, "https://hub2.example")
        == "Desk g1\nRépondre : https://hub2.example/page/a/x?s=s.a"
    )
    assert with_sender_address(planned, None) == "Desk g1"
