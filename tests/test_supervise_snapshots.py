"""Snapshots of the supervisor pane's main states, against a real hub.

Clock times on screen are masked (hh:mm:ss) and elapsed times come from a fixed clock, so the
pictures do not change from run to run; `pytest --snapshot-update` rewrites them (look at them
first). The delayed alert's picture also freezes the hub's clock, so that "received 1 min 15 s
after the key" is exact.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from desk_helpers import FakeClock, free_port, table_rows, wait_until
from deskalert.tui.base import LinkKind
from pane_helpers import not_a_hub
from pane_helpers import pane as pane_with
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import make_config

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")

NOW = datetime(2026, 11, 21, 10, 0).astimezone()

SIZE = (130, 34)
Snap = Callable[..., bool]


@pytest.fixture(autouse=True)
def masked_times(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("deskalert.tui.pane.words.clock_time", lambda moment: "hh:mm:ss")


def pane(hub_url: str, who: str = "s.a", token: str | None = None, language: str = "fr") -> Any:
    return pane_with(hub_url, who, token=token, clock=FakeClock(NOW), language=language)


def raise_alert(url: str, desk: str = "g1", code: str = "renfort", **extra: Any) -> str:
    """Pressed just now (by default): the picture says "reçu aussitôt", whatever the day."""
    alert = new_alert(code, **{"created_at": datetime.now(UTC).isoformat(), **extra})
    httpx.post(f"{url}/v1/alerts", json=alert, headers=auth(desk)).raise_for_status()
    return str(alert["id"])


def answer(url: str, alert_id: str, who: str) -> None:
    httpx.post(f"{url}/v1/alerts/{alert_id}/ack", headers=auth(who)).raise_for_status()


async def live(pilot: Pilot[Any]) -> None:
    app: Any = pilot.app
    await wait_until(pilot, lambda: app.link.up is True and bool(app.state.oncall))
    await wait_until(
        pilot,
        lambda: any(  # its own stream counted among who can answer
            p.id == app.state.me and p.connected
            for site in app.state.availability.values()
            for p in site.supervisors
        ),
    )
    await pilot.pause(0.2)


def test_empty(hub: RunningHub, snap_compare: Snap) -> None:
    assert snap_compare(pane(hub.url), terminal_size=SIZE, run_before=live)


def test_one_new_alert(hub: RunningHub, snap_compare: Snap) -> None:
    app = pane(hub.url)

    async def one(pilot: Pilot[Any]) -> None:
        await live(pilot)
        raise_alert(hub.url, "g1", "malaise")
        await wait_until(pilot, lambda: len(table_rows(app)) == 1)

    assert snap_compare(app, terminal_size=SIZE, run_before=one)


def test_escalated(hub_factory: Callable[..., RunningHub], snap_compare: Snap) -> None:
    hub = hub_factory(ack_timeout_s=0.3)
    app = pane(hub.url, "s.b")

    async def escalated(pilot: Pilot[Any]) -> None:
        await live(pilot)
        raise_alert(hub.url)
        await wait_until(pilot, lambda: bool(table_rows(app)) and "niv. 2" in table_rows(app)[0])
        await pilot.press("down")  # looked at: it stands out as escalated, no longer as new

    assert snap_compare(app, terminal_size=SIZE, run_before=escalated)


def test_acknowledged_by_two(hub: RunningHub, snap_compare: Snap) -> None:
    app = pane(hub.url)

    async def two(pilot: Pilot[Any]) -> None:
        await live(pilot)
        alert_id = raise_alert(hub.url, "g2", "renfort", test=True)
        for who in ("s.b", "g1"):
            answer(hub.url, alert_id, who)
        await wait_until(pilot, lambda: bool(table_rows(app)) and "Desk g1" in table_rows(app)[0])

    assert snap_compare(app, terminal_size=SIZE, run_before=two)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_80_columns(hub: RunningHub, snap_compare: Snap, language: str) -> None:
    """A supervisor's laptop: an answered alert and a new one, every column in view (the
    location and the code label cut short, the responders without their times)."""
    app = pane(hub.url, language=language)

    async def two(pilot: Pilot[Any]) -> None:
        await live(pilot)
        alert_id = raise_alert(hub.url, "g2", "renfort")
        for who in ("s.b", "s.c"):
            answer(hub.url, alert_id, who)
        raise_alert(hub.url, "g1", "malaise")
        await wait_until(
            pilot, lambda: len(table_rows(app)) == 2 and "Cleo Sup" in table_rows(app)[1]
        )

    assert snap_compare(app, terminal_size=(80, 24), run_before=two)


def test_stream_broken(tmp_path: Path, snap_compare: Snap) -> None:
    port = free_port()
    hub = start_threaded_hub(make_config(), tmp_path / "hub", port)
    app = pane(hub.url)

    async def broken(pilot: Pilot[Any]) -> None:
        await live(pilot)
        raise_alert(hub.url)
        await wait_until(pilot, lambda: len(table_rows(app)) == 1)
        hub.stop()
        await wait_until(pilot, lambda: app.link.up is False)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=broken)
    finally:
        hub.stop()


def test_delayed_alert(
    hub: RunningHub, snap_compare: Snap, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pressed 1 min 15 s before the hub heard of it; the fixed clock is 1 min 15 s later."""
    received = (NOW - timedelta(seconds=75)).astimezone(UTC)
    monkeypatch.setattr("deskalert.hub.clock.SystemClock.now", lambda self: received)  # frozen
    app = pane(hub.url)

    async def delayed(pilot: Pilot[Any]) -> None:
        await live(pilot)
        raise_alert(
            hub.url, "g2", "renfort", created_at=(received - timedelta(seconds=75)).isoformat()
        )
        await wait_until(
            pilot, lambda: bool(table_rows(app)) and "appuyé à" in app.query_one("#detail").text
        )

    assert snap_compare(app, terminal_size=SIZE, run_before=delayed)


def test_token_refused(hub: RunningHub, snap_compare: Snap) -> None:
    app = pane(hub.url, token="tok-revoked")

    async def refused(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: app.link.kind is LinkKind.TOKEN_REFUSED)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=refused)


def test_behind_a_proxy_login_page(snap_compare: Snap) -> None:
    with not_a_hub("html") as url:
        app = pane(url)

        async def proxy(pilot: Pilot[Any]) -> None:
            await wait_until(pilot, lambda: app.link.kind is LinkKind.INCOMPATIBLE)
            await pilot.pause(0.2)

        assert snap_compare(app, terminal_size=SIZE, run_before=proxy)
