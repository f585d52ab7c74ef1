"""A reload seen on the supervisors' page in a real headless Chromium: on `roster.changed` the
page reads the roster's words again (a code's protocol, a site's label, the broadcast
templates) while its stream stays open, without the page being reloaded.

Regression: the page's script ignored `roster.changed`; it showed the old protocol, site and
templates until someone reloaded the page by hand."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from support.hubs import RunningHub
from support.roster import roster_toml
from test_broadcast_reload import PARCEL
from test_page_browser import CHROMIUM, alert_from_desk, chromium, log_in
from test_reload_screens import reload_now

pytestmark = [
    pytest.mark.stores("sqlite"),
    pytest.mark.system,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium package (apt-get install chromium)"
    ),
]
OLD_PROTOCOL = "Le secouriste vient avec la trousse."
NEW_PROTOCOL = "Le secouriste vient avec le défibrillateur."


def changed() -> str:
    """Another protocol for "malaise", another label for accueil, only the "colis" template."""
    text = roster_toml().replace(OLD_PROTOCOL, NEW_PROTOCOL)
    return text.replace('label = "Accueil RDC"', 'label = "Hall d\'accueil"') + "\n" + PARCEL


async def test_the_page_shows_the_reloaded_roster_without_a_reload(
    reloadable: tuple[RunningHub, Path], tmp_path: Path
) -> None:
    hub, path = reloadable
    alert = alert_from_desk(hub.url, "g1", "malaise")
    card = f"document.querySelector(\".card[data-id='{alert['id']}']\")"
    templates = "[...document.querySelectorAll('#broadcast-template option')].map(o => o.value)"
    async with chromium(tmp_path) as browser:
        await log_in(browser, hub.url, "tok-s.a")
        text = await browser.wait_for(f"{card}?.innerText")
        assert OLD_PROTOCOL in text and "Accueil RDC" in text
        assert "agite" in await browser.wait_for(f"{templates}.length > 1 && {templates}")

        path.write_text(changed(), encoding="utf-8")
        ok, line = await asyncio.to_thread(reload_now, hub)
        assert ok, line

        await browser.wait_for(f"{card}.innerText.includes({NEW_PROTOCOL!r})")
        assert "Hall d'accueil" in await browser.js(f"{card}.innerText")
        await browser.wait_for(f"{templates}.join() === 'colis,'")  # and "Autre texte…"
        sites = await browser.js("document.getElementById('broadcast-site-list').textContent")
        assert "Hall d'accueil" in sites
        assert await browser.js("window.__sameDocument === true"), "the page reloaded"
        assert await browser.js("document.getElementById('live').classList.contains('on')")
