"""The desk and the pane at the size of the real screen (issue 23): a corner of 60 x 16 or
80 x 24 beside the case-management software. Real hub, Pilot, the terminal's text as shown."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desk_helpers import in_thread, make_desk, screen_text, text_of, wait_until
from deskalert.hub.settings import HubConfig
from pane_helpers import live, pane
from support.hubs import RunningHub, start_threaded_hub
from support.requests import new_alert
from support.roster import roster_toml

pytestmark = pytest.mark.stores("sqlite")

PHONE = "04 72 00 00 03"


@pytest.fixture
def real_hub(tmp_path: Path) -> Iterator[RunningHub]:
    """The test roster with a real phone number and two more desks on the site accueil."""
    toml = roster_toml(extra_desks=2).replace('phone = "01 00"', f'phone = "{PHONE}"')
    hub = start_threaded_hub(HubConfig.model_validate(tomllib.loads(toml)), tmp_path / "hub")
    yield hub
    hub.stop()


def raise_from(hub: RunningHub, desk: str, code: str = "malaise", **extra: Any) -> None:
    with hub.client(desk) as client:
        client.post("/v1/alerts", json=new_alert(code, **extra)).raise_for_status()


@pytest.mark.parametrize("size", [(60, 16), (80, 24)])
async def test_the_desk_keeps_link_oncall_keys_and_a_colleagues_alert_in_view(
    real_hub: RunningHub, tmp_path: Path, size: tuple[int, int]
) -> None:
    """Before: at 80 x 24 a colleague's alert pushed the agent's own keys off screen."""
    app = make_desk(real_hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=size) as pilot:
        await wait_until(
            pilot, lambda: app.state.link_up is True and app.state.codes_known, what="link up"
        )
        await in_thread(lambda: raise_from(real_hub, "g2", message="Usager tombé au sol"))
        await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="banner")
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert "● liaison OK" in shown, shown
        assert f"Ana Sup ☎ {PHONE}" in shown, shown  # the name and the whole number, one line
        assert "F2 · ctrl+r Renfort" in shown and "F4 · ctrl+y Urgence" in shown, shown
        assert "Desk g2 appelle : Urgence médicale" in shown, shown
        assert "F8 J'arrive" in shown, shown


async def test_the_desk_at_60_columns_shows_the_own_alerts_step(
    real_hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(real_hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=(60, 16)) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await in_thread(lambda: raise_from(real_hub, "g2"))
        await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="banner")
        await pilot.press("f4")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="sent")
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert "● liaison OK" in shown and "transmise" in shown.splitlines()[0], shown
        assert f"☎ {PHONE}" in shown and "F2 · ctrl+r Renfort" in shown, shown


async def test_the_desk_at_120_columns_keeps_its_full_boxes(
    real_hub: RunningHub, tmp_path: Path
) -> None:
    """Wide enough: nothing gives way (the office, the chain, the protocol are there)."""
    app = make_desk(real_hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(
            pilot, lambda: app.state.codes_known and app.state.link_up is True, what="link up"
        )
        await in_thread(lambda: raise_from(real_hub, "g2"))
        await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="banner")
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert not app.compact
        assert "office s.a" in shown and "ensuite : Bob Sup" in shown, shown
        assert "Le secouriste vient avec la trousse." in shown, shown
        assert "F2 · ctrl+r   Renfort  (discrète)" in shown, shown


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_the_pane_at_80_by_24_shows_five_alerts_a_whole_number_and_every_key(
    real_hub: RunningHub, language: str
) -> None:
    """Before: three alerts before scrolling, the on-call number wrapped mid-number, and
    "Tout va bien ?" in the footer only from 140 columns."""
    app = pane(real_hub.url, language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        await live(pilot)
        for desk in ("g1", "g2", "e1", "d00", "d01"):
            await in_thread(lambda desk=desk: raise_from(real_hub, desk))
        await wait_until(pilot, lambda: len(app.state.open_alerts()) == 5, what="five alerts")
        await pilot.pause(0.3)
        shown = screen_text(app)
        for desk in ("g1", "g2", "e1", "d00", "d01"):
            assert f"Desk {desk}" in shown, shown
        assert f"☎ {PHONE}" in shown, shown
        check = "Tout va bien ?" if language == "fr" else "All well?"
        assert f"k {check}" in shown.splitlines()[-1], shown
