"""A desk calling from outside its site's networks: refused by the hub, in red, not an outage.

Against a real hub whose roster fences the site accueil (`fenced_roster`: 127.0.0.2 and
10.1.2.0/24 only), so the desk on 127.0.0.1 is answered 403 `outside_site_network` to
everything. It used to show "liaison perdue ... Les alertes partiront dès le retour de la
liaison" (untrue: they never leave by themselves), and the raw English code in a top bar that
overflowed at 80 columns.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from desk_helpers import in_thread, make_desk, text_of, wait_until
from deskalert.errors import Forbidden, HubUnreachable, Unauthorized
from deskalert.tui.base import local_now
from deskalert.tui.desk.state import Step
from deskalert.tui.link import LinkKind, LinkState
from deskalert.tui.messages import LinkChanged
from support.cli import Result, run_cli
from support.hubs import RunningHub
from test_availability import fenced_roster, start_hub
from test_desk_failures import seed_cache

# What is tested here is a screen and a command, not the store: on SQLite only.
pytestmark = pytest.mark.stores("sqlite")


@pytest.fixture
def fenced_hub(tmp_path: Path) -> Iterator[RunningHub]:
    hub = start_hub(tmp_path, fenced_roster())
    yield hub
    hub.stop()


def refused_desks(hub: RunningHub) -> list[tuple[str, str, int]]:
    with hub.client("s.a") as supervisor:
        listed = supervisor.get("/v1/presence").json()["refused_desks"]
    return [(r["desk"], r["address"], r["alerts"]) for r in listed]


async def test_a_desk_outside_its_sites_networks_is_refused_in_red_not_a_lost_link(
    fenced_hub: RunningHub, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    seed_cache(journal)
    app = make_desk(fenced_hub.url, journal)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot, lambda: app.link.kind is LinkKind.OUTSIDE_NETWORK, what="refused for its address"
        )
        assert text_of(app, "#link") == "● poste refusé : hors du réseau du site"
        advice = text_of(app, "#link-advice")
        assert (
            "poste refusé par le hub, hors du réseau du site : les alertes ne partent pas "
            "d'ici, appelez Ana Sup (01 00)"
        ) in advice
        assert (
            "Le hub : « desk g1 calls from 127.0.0.1, outside the networks of site accueil"
            in advice
        ), "the hub's whole detail, in the body"
        assert "service informatique" in advice and "adresse du poste" in advice
        assert "liaison perdue" not in advice and "retour de la liaison" not in advice
        assert app.query_one("#link-advice").has_class("-refused")

        await pilot.press("f2")
        await wait_until(
            pilot,
            lambda: any(o.step is Step.REFUSED for o in app.state.own.values()),
            what="refused",
        )
        await pilot.pause(0.2)
        warning = text_of(app, "#warning")
        assert "ALERTE REFUSÉE PAR LE HUB" in warning
        assert "« Renfort » : poste hors du réseau du site" in warning
        assert "outside_site_network" not in warning
        assert "Appelez maintenant Ana Sup : 01 00" in warning
        assert app.query_one("#link-advice").display, "the reason and what to do stay in view"
        assert text_of(app, "#corner") == "! refusée"
        for part in ("#desk-name", "#link", "#corner"):  # the top bar fits in 80 columns
            widget = app.screen.query_one(part)
            assert widget.region.width >= len(text_of(app, part)), part

        await pilot.pause(3)  # several reconnection attempts: still refused, never "lost"
        assert app.link.kind is LinkKind.OUTSIDE_NETWORK
        assert "liaison perdue" not in text_of(app, "#link")
    assert await in_thread(lambda: refused_desks(fenced_hub)) == [("g1", "127.0.0.1", 1)]


async def test_in_english_the_top_bar_says_desk_refused(
    fenced_hub: RunningHub, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    seed_cache(journal)
    app = make_desk(fenced_hub.url, journal, language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot, lambda: app.link.kind is LinkKind.OUTSIDE_NETWORK, what="refused for its address"
        )
        assert text_of(app, "#link") == "● desk refused: outside the site's network"
        advice = text_of(app, "#link-advice")
        assert "alerts do not leave from here, call Ana Sup (01 00)" in advice
        assert "For the IT team" in advice
        await pilot.press("f2")
        await wait_until(pilot, lambda: app.query_one("#warning").display, what="warning")
        assert "“Renfort”: desk outside the site's network" in text_of(app, "#warning")
        assert text_of(app, "#corner") == "! refused"


def test_snapshot_at_80_columns_after_a_press(
    fenced_hub: RunningHub, tmp_path: Path, snap_compare: Callable[..., bool]
) -> None:
    """The top bar whole at 80 columns (the desk's name, the red state, the corner), the hub's
    detail and what to do, the refused alert's warning."""
    journal = tmp_path / "journal.sqlite3"
    seed_cache(journal)
    app = make_desk(fenced_hub.url, journal)

    async def pressed(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: app.link.kind is LinkKind.OUTSIDE_NETWORK)
        await pilot.press("f2")
        await wait_until(pilot, lambda: app.query_one("#warning").display)

    assert snap_compare(app, terminal_size=(80, 24), run_before=pressed)


def test_the_refusal_stays_until_the_hub_accepts_the_desk_or_refuses_its_token() -> None:
    """An outage meanwhile (the hub restarting to take a new hub.toml) does not turn it into
    "liaison perdue": the address is still unproven."""
    now = local_now()
    fenced = Forbidden("desk g1 calls from 127.0.0.1, outside", code="outside_site_network")
    refused = LinkState().after(LinkChanged(up=False, reason=str(fenced), error=fenced), now)
    assert refused.kind is LinkKind.OUTSIDE_NETWORK and refused.detail.startswith("desk g1")
    down = HubUnreachable("hub unreachable")
    assert refused.after(LinkChanged(up=False, reason="x", error=down), now) is refused
    token = refused.after(LinkChanged(up=False, reason="x", error=Unauthorized("x")), now)
    assert token.kind is LinkKind.TOKEN_REFUSED
    assert refused.after(LinkChanged(up=True), now).kind is LinkKind.UP
    other = Forbidden("another refusal")
    assert LinkState.kind_of(other) is LinkKind.REFUSED, "only this code is the fence"


def send(tmp_path: Path, url: str, language: str) -> Result:
    config = tmp_path / f"config-{language}.toml"
    config.write_text(
        f'language = "{language}"\n[hub]\nurl = "{url}"\n[desk]\nid = "g1"\n', encoding="utf-8"
    )
    env = {
        **os.environ,
        "DESKALERT_CONFIG": str(config),
        "DESKALERT_TOKEN": "tok-g1",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    return run_cli("send", "renfort", env=env)


def test_send_from_outside_the_sites_networks_says_so_in_one_line(
    fenced_hub: RunningHub, tmp_path: Path
) -> None:
    french = send(tmp_path, fenced_hub.url, "fr")
    assert french.returncode == 1 and french.stdout == ""
    assert french.stderr.count("\n") == 1, french.stderr
    line = french.stderr
    assert line.startswith(
        "ALERTE REFUSÉE : ce poste est hors du réseau du site, l'alerte ne "
        "partira pas (desk g1 calls from 127.0.0.1, outside the networks"
    )
    assert "Appelez un encadrant par téléphone." in line
    assert line.endswith(
        "Le service informatique doit corriger les réseaux du site ou l'adresse du poste.\n"
    )

    english = send(tmp_path, fenced_hub.url, "en")
    assert english.returncode == 1 and english.stderr.count("\n") == 1
    assert english.stderr.startswith("ALERT REFUSED: this desk is outside the site's network")
    assert "The IT team must fix" in english.stderr
