"""Snapshots of the supervisor pane's main states, against a real hub.

Clock times on screen are masked (hh:mm:ss) and elapsed times come from a fixed clock, so the
pictures do not change from run to run; `pytest --snapshot-update` rewrites them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from conftest import RunningHub, auth, make_config, new_alert, start_threaded_hub
from desk_helpers import FakeClock, free_port, make_pane, table_rows, wait_until

SIZE = (130, 34)
Snap = Callable[..., bool]


@pytest.fixture(autouse=True)
def masked_times(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("deskalert.tui.supervise.clock_time", lambda moment: "hh:mm:ss")


def pane(hub_url: str, who: str = "s.a") -> Any:
    return make_pane(hub_url, who, clock=FakeClock(datetime(2026, 11, 21, 10, 0).astimezone()))


def raise_alert(url: str, desk: str = "g1", code: str = "renfort", **extra: Any) -> str:
    alert = new_alert(code, **extra)
    httpx.post(f"{url}/v1/alerts", json=alert, headers=auth(desk)).raise_for_status()
    return str(alert["id"])


async def live(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.state.live is True and bool(app.state.oncall))


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
            httpx.post(f"{hub.url}/v1/alerts/{alert_id}/ack", headers=auth(who)).raise_for_status()
        await wait_until(pilot, lambda: bool(table_rows(app)) and "Desk g1" in table_rows(app)[0])

    assert snap_compare(app, terminal_size=SIZE, run_before=two)


def test_stream_broken(tmp_path: Path, snap_compare: Snap) -> None:
    port = free_port()
    hub = start_threaded_hub(make_config(), tmp_path / "hub", port)
    app = pane(hub.url)

    async def broken(pilot: Pilot[Any]) -> None:
        await live(pilot)
        raise_alert(hub.url)
        await wait_until(pilot, lambda: len(table_rows(app)) == 1)
        hub.stop()
        await wait_until(pilot, lambda: app.state.live is False)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=broken)
    finally:
        hub.stop()
