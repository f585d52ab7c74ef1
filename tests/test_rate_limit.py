"""A desk token raising alerts in a burst is limited per desk (issue 10): 429 with Retry-After and
a JSON detail, but never a desk's first alert after a quiet spell, never a replay of a stored id,
and the desk's outbox (and `deskalert send`) waits and sends again instead of giving up."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from deskalert.client.api import HubClient
from deskalert.client.outbox import Outbox, quiet_retries
from deskalert.hub.clock import ManualClock
from deskalert.journal.store import Delivery, Journal
from support.cli import run_cli
from support.requests import auth, new_alert


def burst(client: httpx.Client, count: int) -> list[httpx.Response]:
    return [client.post("/v1/alerts", json=new_alert()) for _ in range(count)]


def test_a_burst_from_one_desk_gets_429_with_retry_after(hub_factory: Any) -> None:
    """Before: 300 alerts in a burst from one desk token were all stored and fanned out."""
    hub = hub_factory(alert_burst=5, alerts_per_minute=6)
    with httpx.Client(base_url=hub.url, headers=auth("g1"), timeout=10) as desk:
        answers = burst(desk, 300)
    statuses = [a.status_code for a in answers]
    assert statuses[:5] == [201] * 5 and statuses.count(201) <= 6
    refused = answers[-1]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 10
    assert refused.json()["error"] == "rate_limited" and "Retry-After" in refused.json()["detail"]


def test_a_first_alert_and_a_replay_are_never_refused(hub_factory: Any) -> None:
    hub = hub_factory(clock=ManualClock(), alert_burst=2, alerts_per_minute=60)
    with (
        httpx.Client(base_url=hub.url, headers=auth("g1"), timeout=10) as g1,
        httpx.Client(base_url=hub.url, headers=auth("g2"), timeout=10) as g2,
    ):
        stored = new_alert()
        assert g1.post("/v1/alerts", json=stored).status_code == 201
        assert burst(g1, 5)[-1].status_code == 429
        assert g1.post("/v1/alerts", json=stored).status_code == 200, "a replay is never refused"
        assert g2.post("/v1/alerts", json=new_alert()).status_code == 201, "another desk's first"
        hub.advance(1.2)  # a quiet second at 60 a minute (the hub's clock, moved by hand)
        assert g1.post("/v1/alerts", json=new_alert()).status_code == 201, "first after quiet"


async def test_the_outbox_waits_for_retry_after_and_delivers(
    hub_factory: Any, tmp_path: Path
) -> None:
    """Before: the outbox retried a 429 on its own backoff (0.2 s, 0.4 s...), hammering a hub
    that asked for 2 s. Now each alert waits the hub's Retry-After and is delivered, once."""
    hub = hub_factory(alert_burst=1, alerts_per_minute=30)
    quiet_retries()
    journal = Journal(tmp_path / "journal.sqlite3")
    entries = [journal.enqueue("renfort") for _ in range(3)]
    async with HubClient(hub.url, "tok-g1") as client:
        deliveries = await Outbox(journal, client).flush(timeout=30)
    assert {result.status for result in deliveries.values()} == {Delivery.TRANSMITTED}
    attempts = [journal.get(entry.id).attempts for entry in entries]  # type: ignore[union-attr]
    assert attempts[0] == 1 and max(attempts) <= 3, attempts
    journal.close()


def test_send_under_the_rate_limit_waits_and_exits_0(hub_factory: Any, tmp_path: Path) -> None:
    hub = hub_factory(alert_burst=1, alerts_per_minute=30)
    with httpx.Client(base_url=hub.url, headers=auth("g1"), timeout=10) as desk:
        assert burst(desk, 2)[-1].status_code == 429
    config = tmp_path / "config.toml"
    config.write_text(f'[hub]\nurl = "{hub.url}"\n[desk]\nid = "g1"\n', encoding="utf-8")
    env = {
        **os.environ,
        "DESKALERT_CONFIG": str(config),
        "DESKALERT_TOKEN": "tok-g1",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
    }
    result = run_cli("send", "renfort", env=env)
    assert result.returncode == 0, result.stderr
    assert "transmise au hub" in result.stdout
