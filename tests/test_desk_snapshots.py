"""Snapshots of the desk's main states (pytest-textual-snapshot), against a real hub.

Times on screen come from a fixed clock, so the pictures do not change from run to run;
`pytest --snapshot-update` rewrites them after a deliberate change of the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from desk_helpers import FakeClock, free_port, make_desk, text_of, wait_until
from deskalert.journal.store import Journal
from support.hubs import RunningHub
from support.requests import new_alert

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")

SIZE = (100, 32)
Snap = Callable[..., bool]


def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 21, 10, 0, 0).astimezone())


def test_main_screen(hub: RunningHub, tmp_path: Path, snap_compare: Snap) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3", clock=clock())

    async def ready(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: app.state.link_up is True and app.state.codes_known)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_discreet_alert_only_changes_the_corner(
    hub: RunningHub, tmp_path: Path, snap_compare: Snap
) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3", clock=clock())

    async def sent(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: app.state.link_up is True and app.state.codes_known)
        await pilot.press("f2")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"))

    assert snap_compare(app, terminal_size=SIZE, run_before=sent)


def test_not_transmitted_warning(tmp_path: Path, snap_compare: Snap) -> None:
    journal_path = tmp_path / "journal.sqlite3"
    seeded = Journal(journal_path)
    person = {"id": "s.a", "name": "Ana Sup", "phone": "01 00", "location": "office s.a"}
    backup = {"id": "s.b", "name": "Bob Sup", "phone": "01 00", "location": "office s.b"}
    seeded.save(
        "oncall",
        {
            "site": "accueil",
            "site_label": "Accueil RDC",
            "supervisor": person,
            "chain": [backup],
            "source": "schedule",
            "until": None,
        },
        at=datetime(2026, 11, 21, 9, 0).astimezone(),
    )
    seeded.save(
        "codes",
        [
            {"code": "renfort", "label": "Renfort", "key": "f2", "discreet": True},
            {"code": "malaise", "label": "Urgence médicale", "key": "f4"},
        ],
    )
    seeded.close()
    fake = clock()
    app = make_desk(f"http://127.0.0.1:{free_port()}", journal_path, clock=fake)

    async def stuck(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: app.state.link_up is False)
        await pilot.press("f2")
        fake.advance(3)
        app.tick()
        await wait_until(pilot, lambda: app.query_one("#warning").display)

    assert snap_compare(app, terminal_size=SIZE, run_before=stuck)


def test_colleague_banner(hub: RunningHub, tmp_path: Path, snap_compare: Snap) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3", clock=clock())

    async def colleague_calls(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: app.state.link_up is True and app.state.codes_known)
        with hub.client("g2") as g2:
            g2.post("/v1/alerts", json=new_alert("malaise")).raise_for_status()
        await wait_until(pilot, lambda: app.query_one("#colleagues").display)

    assert snap_compare(app, terminal_size=SIZE, run_before=colleague_calls)
