"""Who can come now, on the desk (next to the on-call card) and on the pane (per site), against a
real hub on 127.0.0.1, through Textual's Pilot."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from desk_helpers import in_thread, make_desk, text_of, wait_until
from pane_helpers import pane
from pane_helpers import text_of as pane_text
from support.hubs import RunningHub
from support.requests import auth, new_alert
from support.roster import roster_toml
from test_availability import from_address, start_hub

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")

SIZE = (100, 40)


def beat(hub: RunningHub, who: str) -> None:
    assert httpx.post(f"{hub.url}/v1/heartbeat", headers=auth(who)).status_code == 200


async def test_the_desk_shows_colleagues_online_and_a_supervisor_who_can_answer(
    hub: RunningHub, tmp_path: Path
) -> None:
    await in_thread(lambda: beat(hub, "g2"))
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: text_of(app, "#availability") == "1 collègue en ligne · encadrant joignable",
            what="g2 online",
        )
        assert not app.query_one("#availability").has_class("-alone")


async def test_the_desk_alone_says_so_with_the_on_call_number(
    hub: RunningHub, tmp_path: Path
) -> None:
    """No colleague online, no supervisor at a screen: only Ana's phone would ring."""
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: "Personne" in text_of(app, "#availability"), what="the warning"
        )
        assert text_of(app, "#availability") == (
            "⚠ Personne d'autre n'est en ligne.\nEn cas de besoin, appelez Ana Sup : 01 00"
        )
        assert app.query_one("#availability").has_class("-alone")
        await in_thread(lambda: beat(hub, "g2"))
        await wait_until(
            pilot,
            lambda: text_of(app, "#availability") == "1 collègue en ligne · encadrant joignable",
            what="g2 online",
        )
        assert not app.query_one("#availability").has_class("-alone")


async def test_the_desk_with_nobody_on_call_says_nobody_can_answer_until_a_pane_opens(
    hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3", desk="e1")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: "Personne" in text_of(app, "#availability"), what="the warning"
        )
        assert text_of(app, "#availability") == (
            "⚠ Personne d'autre n'est en ligne et aucun encadrant n'est joignable.\n"
            "En cas de besoin, appelez à l'aide par téléphone (personne n'est de permanence)."
        )
        watching = httpx.Client(base_url=hub.url, headers=auth("s.c"), timeout=5)
        with watching.stream("GET", "/v1/events") as stream:
            assert stream.status_code == 200
            await wait_until(
                pilot,
                lambda: (
                    text_of(app, "#availability") == "aucun collègue en ligne · encadrant joignable"
                ),
                what="a pane opened",
            )
        watching.close()
        await wait_until(
            pilot, lambda: "Personne" in text_of(app, "#availability"), what="the pane closed"
        )


async def test_the_desk_speaks_english_with_plurals(hub: RunningHub, tmp_path: Path) -> None:
    await in_thread(lambda: beat(hub, "g2"))
    app = make_desk(hub.url, tmp_path / "journal.sqlite3", language="en")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: text_of(app, "#availability") == "1 colleague online · a supervisor can answer",
            what="english",
        )


async def test_the_pane_shows_each_site_and_the_desks_refused_from_outside(tmp_path: Path) -> None:
    toml = roster_toml().replace(
        'label = "Accueil RDC"', 'label = "Accueil RDC"\nnetworks = ["127.0.0.2/32"]'
    )
    hub = start_hub(tmp_path, toml)
    try:
        with from_address(hub, "g1", "127.0.0.2") as desk:
            assert desk.post("/v1/heartbeat").status_code == 200
        with from_address(hub, "g2", "127.0.0.7") as home:
            assert home.post("/v1/alerts", json=new_alert()).status_code == 403
        app = pane(hub.url, "s.b")
        async with app.run_test(size=(120, 50)) as pilot:
            await wait_until(
                pilot,
                lambda: "Bob Sup" in pane_text(app, "#presence"),
                what="its own stream counted",
            )
            panel = pane_text(app, "#presence")
            assert "1 poste en ligne sur 2 · joignables : Ana Sup (téléphone), Bob Sup" in panel
            assert "0 poste en ligne sur 1 · joignables : Bob Sup" in panel
            assert "hors réseau du site : Desk g2 depuis 127.0.0.7" in panel
            assert "1 fois · dont 1 alerte refusée · POST /v1/alerts" in panel
    finally:
        hub.stop()
