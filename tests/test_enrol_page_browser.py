"""A supervisor's one-time page link in a real headless Chromium: opened, the page shows the
alerts, live; opened again, one line says it was used (403), in the phone's language; the
cookie it set keeps the page open afterwards; an expired link says so. Skipped, with the
reason, without Debian's `chromium` (test_page_browser.py drives it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.hubs import RunningHub
from support.roster import roster_toml
from test_page_browser import CHROMIUM, Browser, alert_from_desk, chromium

pytestmark = [
    pytest.mark.stores("sqlite"),
    pytest.mark.system,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium package (apt-get install chromium)"
    ),
]
BANNER = "document.getElementById('banner-link')"


def page_link(hub: RunningHub, tmp_path: Path, who: str, *more: str) -> str:
    """`deskalert hub enrol WHO --page` as the administrator types it on the hub's machine."""
    config = tmp_path / "hub.toml"
    config.write_text(roster_toml(), encoding="utf-8")
    where = ["--config", str(config), "--data-dir", str(hub.data_dir), "--url", hub.url]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "deskalert",
            "hub",
            "enrol",
            who,
            "--page",
            "--no-qr",
            *where,
            *more,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[1]


async def banner(browser: Browser) -> str:
    await browser.wait_for(f"!{BANNER}.hidden")
    return str(await browser.js(f"{BANNER}.innerText"))


async def test_the_link_opens_the_page_once_then_the_cookie_keeps_it(
    hub: RunningHub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    alert = alert_from_desk(hub.url, "g1", "malaise")
    link = page_link(hub, tmp_path, "s.b")
    card = f".card[data-id='{alert['id']}']"
    async with chromium(tmp_path) as browser:
        await browser.call("Page.navigate", url=link)
        text = await browser.wait_for(f'document.querySelector("{card}")?.innerText')
        assert "Urgence médicale" in text and "Desk g1" in text
        await browser.wait_for("document.getElementById('live').classList.contains('on')")
        assert await browser.js("document.getElementById('who').textContent") == "Bob Sup"
        assert await browser.js("location.pathname") == "/page/"  # the link left the bar

        await browser.call("Page.navigate", url=link)  # the same link, again
        said = await banner(browser)
        assert "Ce lien d'accès a déjà servi" in said and len(said.splitlines()) == 1
        assert await browser.js("document.getElementById('main').hidden")
        assert await browser.js("document.getElementById('login').hidden")
        assert any(
            "page link refused" in r.getMessage() and "used link (for s.b)" in r.getMessage()
            for r in caplog.records
        )

        await browser.call("Page.navigate", url=f"{hub.url}/page/")  # the cookie still works
        await browser.wait_for(f'!!document.querySelector("{card}")')
        await browser.wait_for("document.getElementById('live').classList.contains('on')")


async def test_an_expired_link_says_so_in_the_phones_language(
    hub: RunningHub, tmp_path: Path
) -> None:
    import asyncio

    link = page_link(hub, tmp_path, "s.a", "--minutes", "0.01")  # under a second
    await asyncio.sleep(1.2)
    async with chromium(tmp_path) as browser:
        await browser.call(
            "Network.setUserAgentOverride", userAgent="deskalert-test", acceptLanguage="en"
        )
        await browser.call("Page.navigate", url=link)
        said = await banner(browser)
        assert said == "This access link has expired: ask the hub's administrator for a new one."
        assert await browser.js("document.getElementById('main').hidden")
