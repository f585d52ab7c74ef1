"""A code's words in the person's language: hub.toml's optional `label_en` and `protocol_en`
reach the desk, the pane, the page and the notifications; a code without them reads in French
everywhere. Pilot apps and a real Chromium against a real hub on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from desk_helpers import in_thread, make_desk, table_rows, text_of, wait_until
from deskalert.hub import notify
from deskalert.hub.one_roster import _hash, describe_change, roster_fingerprint, summary
from deskalert.models import Alert
from pane_helpers import pane
from pane_helpers import text_of as pane_text
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import make_config

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")

SIZE = (100, 40)
EN_LABEL, EN_PROTOCOL = "Medical emergency", "The first-aider comes with the kit."
FR_LABEL, FR_PROTOCOL = "Urgence médicale", "Le secouriste vient avec la trousse."


def english_roster() -> Any:
    """The test roster with English words on `malaise` only (`renfort` has none)."""
    config = make_config()
    malaise = next(c for c in config.codes if c.code == "malaise")
    malaise.label_en, malaise.protocol_en = EN_LABEL, EN_PROTOCOL
    return config


@pytest.fixture
def en_hub(tmp_path: Path) -> Iterator[RunningHub]:
    hub = start_threaded_hub(english_roster(), tmp_path / "hub")
    yield hub
    hub.stop()


def raise_from(hub: RunningHub, desk: str, code: str) -> dict[str, Any]:
    response = httpx.post(f"{hub.url}/v1/alerts", json=new_alert(code), headers=auth(desk))
    response.raise_for_status()
    return dict(response.json())


@pytest.mark.parametrize(
    ("language", "label", "protocol", "status_title"),
    [
        ("en", EN_LABEL, EN_PROTOCOL, "Your alert: Medical emergency"),
        ("fr", FR_LABEL, FR_PROTOCOL, "Votre alerte : Urgence médicale"),
    ],
)
async def test_the_desk_shows_a_codes_words_in_its_language(
    en_hub: RunningHub, tmp_path: Path, language: str, label: str, protocol: str, status_title: str
) -> None:
    app = make_desk(en_hub.url, tmp_path / "journal.sqlite3", language=language)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: app.state.link_up is True and app.state.codes_known, what="link up"
        )
        codes = text_of(app, "#codes")
        assert label in codes and "Renfort" in codes, "no label_en: the French, in English too"
        await in_thread(lambda: raise_from(en_hub, "g2", "malaise"))
        await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="banner")
        banner = text_of(app, "#colleagues")
        assert label in banner and protocol in banner
        await pilot.press("f4")
        await wait_until(pilot, lambda: status_title in text_of(app, "#status"), what="status")
        assert protocol in text_of(app, "#status")


async def test_a_code_without_english_reads_in_french_on_an_english_desk(
    en_hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(en_hub.url, tmp_path / "journal.sqlite3", language="en")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await in_thread(lambda: raise_from(en_hub, "g2", "renfort"))
        await wait_until(pilot, lambda: app.query_one("#colleagues").display, what="banner")
        banner = text_of(app, "#colleagues")
        assert "Renfort" in banner and "L'encadrant vient au guichet." in banner


@pytest.mark.parametrize(
    ("language", "label", "protocol"),
    [("en", EN_LABEL, EN_PROTOCOL), ("fr", FR_LABEL, FR_PROTOCOL)],
)
async def test_the_pane_shows_a_codes_words_in_its_language(
    en_hub: RunningHub, language: str, label: str, protocol: str
) -> None:
    app = pane(en_hub.url, language=language)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.link.up is True, what="live")
        await in_thread(lambda: raise_from(en_hub, "g1", "malaise"))
        await wait_until(pilot, lambda: len(table_rows(app)) == 1, what="row")
        assert label in table_rows(app)[0]
        await wait_until(pilot, lambda: protocol in pane_text(app, "#detail"), what="detail")
        assert label in pane_text(app, "#detail")


def test_the_alert_carries_the_english_label_and_a_notification_in_english_says_it(
    en_hub: RunningHub,
) -> None:
    raised = Alert.model_validate(raise_from(en_hub, "g1", "malaise"))
    assert raised.code_label == FR_LABEL and raised.code_label_en == EN_LABEL
    title, _ = notify.render("raised", raised, "en")
    assert title == "Alert Medical emergency — Desk g1"
    title, _ = notify.render("raised", raised, "fr")
    assert title == "Alerte Urgence médicale — Desk g1"
    plain = Alert.model_validate(raise_from(en_hub, "g2", "renfort"))
    assert plain.code_label_en == ""
    assert notify.render("raised", plain, "en")[0] == "Alert Renfort — Desk g2"


def test_the_codes_api_and_the_page_carry_the_english_words(en_hub: RunningHub) -> None:
    codes = httpx.get(f"{en_hub.url}/v1/codes", headers=auth("g1")).json()
    malaise = next(c for c in codes if c["code"] == "malaise")
    assert (malaise["label_en"], malaise["protocol_en"]) == (EN_LABEL, EN_PROTOCOL)
    me = httpx.get(f"{en_hub.url}/page/api/me", headers=auth("s.a")).json()
    page = {c["code"]: c for c in me["codes"]}
    assert page["malaise"]["label_en"] == EN_LABEL
    assert page["malaise"]["protocol_en"] == EN_PROTOCOL
    assert page["renfort"]["label_en"] == page["renfort"]["protocol_en"] == ""


def test_the_roster_fingerprint_tells_english_words_apart_and_keeps_it_without_them() -> None:
    plain, english = make_config(), english_roster()
    assert roster_fingerprint(plain) != roster_fingerprint(english)
    assert describe_change(plain, english) == "codes ~malaise"
    # Without English, a code hashes as before the fields existed (a rolling upgrade goes on).
    before = {
        c.code: c.model_dump(mode="json", exclude={"label_en", "protocol_en"}) for c in plain.codes
    }
    assert summary(plain)["codes"] == {k: _hash(v)[:12] for k, v in before.items()}
