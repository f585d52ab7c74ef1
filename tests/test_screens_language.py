"""Every text on screen goes through the catalogue (issue 23): the desk and the pane, run in
English and in French under Pilot through their main states, show no word of the other language.

The roster here holds no French or English words of its own (codes "Backup" / "Medic" → "Bk" /
"Md", desks "G1", protocols "P1"), since hub text is never translated: whatever reads as French
on an English screen (or the reverse) came from a literal that bypassed the catalogue, from
Textual's own English, or from French punctuation ("a : b", "« »") in an English sentence.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from desk_helpers import in_thread, make_desk, screen_text, text_of, wait_until
from deskalert.hub.settings import HubConfig
from pane_helpers import live, pane
from support.hubs import RunningHub, start_threaded_hub
from support.requests import new_alert
from support.roster import roster_toml

pytestmark = pytest.mark.stores("sqlite")

SIZE = (120, 36)
FRENCH = {
    "le",
    "la",
    "les",
    "de",
    "du",
    "des",
    "et",
    "un",
    "une",
    "pour",
    "par",
    "pas",
    "vous",
    "est",
    "à",
    "au",
    "sur",
    "en",
    "alerte",
    "alertes",
    "poste",
    "postes",
    "appelle",
    "encadrant",
    "liaison",
    "depuis",
    "aucune",
    "personne",
    "ouverte",
    "jamais",
    "entretien",
    "exercice",
    "permanence",
    "fiche",
    "chiffres",
    "quitter",
    "résoudre",
}
ENGLISH = {
    "the",
    "and",
    "of",
    "to",
    "you",
    "your",
    "is",
    "press",
    "quit",
    "dismiss",
    "menu",
    "open",
    "desk",
    "desks",
    "online",
    "alert",
    "alerts",
    "call",
    "calls",
    "on-call",
    "cancel",
    "drill",
    "note",
    "history",
    "figures",
    "nobody",
    "never",
    "coming",
}
FRENCH_PUNCTUATION = re.compile(r"\w : |« | »| \?|\w ;")
COVERED = re.compile(r"[\w'-]*[█▌▐▀▄▁▂▃▅▆▇]+[\w'-]*")  # a word cut by a modal's edge
NEUTRAL = {
    "Renfort": "Bk",
    "Urgence médicale": "Md",
    "Accueil RDC": "Site A",
    "Étage": "Site B",
    "L'encadrant vient au guichet.": "P1",
    "Le secouriste vient avec la trousse.": "P2",
}


@pytest.fixture
def neutral_hub(tmp_path: Path) -> Iterator[RunningHub]:
    toml = roster_toml()
    for words, neutral in NEUTRAL.items():
        toml = toml.replace(words, neutral)
    toml = re.sub(r'label = "Desk (\w+)"', lambda m: f'label = "{m[1].upper()}"', toml)
    toml = re.sub(r'location = "(near|office) ([\w.]+)"', r'location = "\2"', toml)
    hub = start_threaded_hub(HubConfig.model_validate(tomllib.loads(toml)), tmp_path / "hub")
    yield hub
    hub.stop()


def strays(shown: str, language: str) -> list[str]:
    """Words (and punctuation) of the other language in `shown`."""
    other = ENGLISH if language == "fr" else FRENCH
    shown = COVERED.sub(" ", shown)
    words = {w.lower() for w in re.findall(r"[\w'-]+", shown)}
    found = sorted(words & other)
    if language == "en":
        found += FRENCH_PUNCTUATION.findall(shown)
    return found


def lines_with(shown: str, language: str) -> list[str]:
    return [line.strip() for line in shown.splitlines() if strays(line, language)]


async def seen(pilot: Pilot[Any], screens: list[str]) -> None:
    await pilot.pause(0.3)
    screens.append(screen_text(pilot.app))


async def desk_screens(app: Any, pilot: Pilot[Any], hub: RunningHub) -> list[str]:
    screens: list[str] = []
    await wait_until(
        pilot, lambda: app.state.link_up is True and app.state.codes_known, what="link up"
    )
    await seen(pilot, screens)
    with hub.client("g2") as g2:
        await in_thread(
            lambda: g2.post("/v1/alerts", json=new_alert("malaise", message="x")).raise_for_status()
        )
    await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="banner")
    await pilot.press("f4")
    await wait_until(pilot, lambda: bool(text_of(app, "#status")), what="own alert")
    await seen(pilot, screens)
    await pilot.press("ctrl+c")
    await seen(pilot, screens)
    await pilot.press("ctrl+q")
    await seen(pilot, screens)
    await pilot.press("i")
    await seen(pilot, screens)
    await pilot.press("escape", "j")
    await seen(pilot, screens)
    await pilot.click("#type")
    await seen(pilot, screens)
    return screens


async def pane_screens(app: Any, pilot: Pilot[Any], hub: RunningHub) -> list[str]:
    screens: list[str] = []
    await live(pilot)
    with hub.client("g2") as g2:
        await in_thread(
            lambda: g2.post("/v1/alerts", json=new_alert("malaise", message="x")).raise_for_status()
        )
    await wait_until(pilot, lambda: bool(app.state.open_alerts()), what="alert")
    await seen(pilot, screens)
    await pilot.press("a")
    await wait_until(
        pilot, lambda: any(a.responders for a in app.state.open_alerts()), what="answered"
    )
    await seen(pilot, screens)
    await pilot.press("r")
    await seen(pilot, screens)
    await pilot.press("escape", "h")
    await seen(pilot, screens)
    await pilot.press("h", "enter")
    await seen(pilot, screens)
    return screens


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_the_desk_speaks_one_language(
    neutral_hub: RunningHub, tmp_path: Path, language: str
) -> None:
    app = make_desk(neutral_hub.url, tmp_path / "journal.sqlite3", language=language)
    async with app.run_test(size=SIZE) as pilot:
        screens = await desk_screens(app, pilot, neutral_hub)
    for shown in screens:
        assert not strays(shown, language), (strays(shown, language), lines_with(shown, language))


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_the_pane_speaks_one_language(neutral_hub: RunningHub, language: str) -> None:
    app = pane(neutral_hub.url, language=language)
    async with app.run_test(size=SIZE) as pilot:
        screens = await pane_screens(app, pilot, neutral_hub)
    for shown in screens:
        assert not strays(shown, language), (strays(shown, language), lines_with(shown, language))
