"""The page sends a broadcast, shows who has read it (live, with the time), names the unread
after the roster's delay, and ends it: a real headless Chromium against a real hub."""

from __future__ import annotations

import asyncio
import os
import shutil
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from broadcast_helpers import current, post, send
from desk_helpers import in_thread
from deskalert.hub.clock import ManualClock
from support.hubs import RunningHub
from test_page_browser import CHROMIUM, chromium, log_in

pytestmark = [
    pytest.mark.stores("sqlite"),
    pytest.mark.system,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium package (apt-get install chromium)"
    ),
]

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def test_send_see_reads_and_the_unread_then_end_from_the_page(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    hub = bc_hub()
    async with chromium(tmp_path) as browser:
        await log_in(browser, hub.url, "tok-s.a")
        await browser.wait_for("document.querySelectorAll('#broadcast-template option').length")
        await browser.tap("#broadcast-new")
        await browser.tap("#broadcast-send")  # the first template, every site ticked
        card = ".broadcast"
        text = await browser.wait_for(f"document.querySelector('{card}')?.innerText")
        assert "Vigilance" in text and "agitée" in text and "Lu 0/4" in text
        sent = current(hub, "g1")[0]
        post(hub, "g1", f"/v1/broadcasts/{sent['id']}/read")
        await browser.wait_for(
            f"document.querySelector('{card} .reads').innerText.includes('Lu 1/4 : Desk g1')"
        )
        named = await browser.wait_for(f"document.querySelector('{card} .unread.named')?.innerText")
        assert "PAS LU après 1 s" in named and "Desk g2" in named and "Desk e1" in named
        shot = tmp_path / "broadcast.png"
        await browser.screenshot(shot)
        if os.environ.get("DESKALERT_BROADCAST_SCREENSHOT"):
            shutil.copy(shot, os.environ["DESKALERT_BROADCAST_SCREENSHOT"])
        await browser.tap(f"{card} button.end")
        await browser.wait_for(
            f"document.querySelector('{card} button.end').classList.contains('confirm')"
        )
        assert current(hub, "g1") != []  # one tap asks, the second ends
        await browser.tap(f"{card} button.end")
        await browser.wait_for(f"!document.querySelector('{card}')")
    assert current(hub, "g1") == []


async def test_the_page_names_the_unread_at_the_delay_not_before_and_shows_the_end(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    """Time passes by hand (ManualClock): at 0.9 s of the roster's 1 s nobody is named on the
    page, at 1 s the desks that have not read it are, an offline one said so (it gets it when
    back); ended by another supervisor, it goes."""
    hub = bc_hub(clock=ManualClock(T0))
    card = ".broadcast"
    async with chromium(tmp_path) as browser:
        await log_in(browser, hub.url, "tok-s.a")
        await browser.wait_for("document.querySelectorAll('#broadcast-template option').length")
        post(hub, "g2", "/v1/heartbeat")  # g2 online, d00 not
        sent = send(hub).json()
        await browser.wait_for(f"document.querySelector('{card} .reads')?.innerText")
        await in_thread(lambda: hub.advance(0.9))
        post(hub, "g1", f"/v1/broadcasts/{sent['id']}/read")
        site = zoneinfo.ZoneInfo("Europe/Paris")  # the test roster's [hub] timezone
        read = f"Lu 1/3 : Desk g1 {T0.astimezone(site):%H:%M}"  # the page shows the site's time
        await browser.wait_for(
            f"document.querySelector('{card} .reads').innerText.includes({read!r})"
        )
        await asyncio.sleep(0.3)
        unread = await browser.js(f"document.querySelector('{card} .unread').innerText")
        assert unread == "Pas encore lu : Desk g2, Desk d00 (hors ligne)"
        await in_thread(lambda: hub.advance(0.1))
        named = await browser.wait_for(f"document.querySelector('{card} .unread.named')?.innerText")
        assert named == "PAS LU après 1 s : Desk g2, Desk d00 (hors ligne)"
        post(hub, "s.b", f"/v1/broadcasts/{sent['id']}/end")
        await browser.wait_for(f"!document.querySelector('{card}')")
        said = await browser.js("document.getElementById('toast').innerText")
        assert (
            said == "Message terminé par Bob Sup : Une personne agitée se dirige vers les guichets."
        )


async def test_a_broadcast_sent_while_the_page_loads_the_list_is_not_lost(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    """Why: the list read with each snapshot replaced what the events had brought meanwhile.
    The page's own api() is wrapped in the browser to hold the list's answer back until the
    broadcast's event has come (the one way to make the crossing certain)."""
    hub = bc_hub()
    async with chromium(tmp_path) as browser:
        await log_in(browser, hub.url, "tok-s.a")
        await browser.wait_for("document.querySelectorAll('#broadcast-template option').length")
        await browser.js(
            "(() => { const real = api; window.held = new Promise((r) => { window.release = r; });"
            " api = async (method, path, body) => { const answer = await real(method, path, body);"
            " if (method === 'GET' && path === '/v1/broadcasts') { window.fetched = true;"
            " await window.held; } return answer; };"
            " broadcasts.load().then(() => { window.loaded = true; }); })()"
        )
        await browser.wait_for("window.fetched")
        send(hub)
        await browser.wait_for("!!document.querySelector('.broadcast')")
        await browser.js("window.release()")
        await browser.wait_for("window.loaded")
        assert await browser.js("document.querySelectorAll('.broadcast').length") == 1


async def test_the_form_says_the_kind_and_whole_text_of_the_chosen_template(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    """Why: at 360 px the select cut the template's text and never said its kind, so a
    supervisor sent a message they could not read whole before sending."""
    hub = bc_hub()
    async with chromium(tmp_path) as browser:
        await browser.call(
            "Emulation.setDeviceMetricsOverride",
            width=360,
            height=640,
            deviceScaleFactor=1,
            mobile=True,
        )
        await log_in(browser, hub.url, "tok-s.a")
        await browser.wait_for("document.querySelectorAll('#broadcast-template option').length")
        await browser.tap("#broadcast-new")
        preview = "document.getElementById('broadcast-preview')"
        said = await browser.wait_for(f"{preview}.innerText")
        assert said == "Vigilance · Une personne agitée se dirige vers les guichets."
        await browser.js(
            "(() => { const s = document.getElementById('broadcast-template');"
            " s.value = 'evacuation'; s.dispatchEvent(new Event('change')); })()"
        )
        await browser.wait_for(f"{preview}.innerText.startsWith('Évacuation · Évacuation du')")
        assert await browser.js(f"{preview}.className") == "broadcast-preview look-danger"
        await browser.js(
            "(() => { const s = document.getElementById('broadcast-template');"
            " s.value = ''; s.dispatchEvent(new Event('change')); })()"
        )
        assert await browser.js(f"{preview}.hidden") is True
