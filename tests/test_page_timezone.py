"""The page shows times in the site's zone ([hub] timezone), not in the phone's.

The desks and the panes draw every time in the site's zone (deskalert.sitetime); the page drew
them in the phone's, so a phone set to another zone showed a responder at 18:42 where the desk
said 10:42. Here the hub's site is in Paris and the phone (Chromium's TZ) in Tokyo.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from support.hubs import RunningHub
from support.requests import auth
from test_page_browser import CHROMIUM, alert_from_desk, chromium, log_in

pytestmark = [
    pytest.mark.stores("sqlite"),
    pytest.mark.system,
    pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package"),
]
SITE, PHONE = zoneinfo.ZoneInfo("Europe/Paris"), "Asia/Tokyo"


async def test_a_phone_in_another_zone_shows_the_sites_times(
    hub: RunningHub, tmp_path: Path
) -> None:
    assert hub.config.hub.timezone == "Europe/Paris"  # the test roster's site
    alert = alert_from_desk(hub.url, "g1", "malaise")
    acked = httpx.post(f"{hub.url}/v1/alerts/{alert['id']}/ack", headers=auth("s.b")).json()
    at = datetime.fromisoformat(acked["responders"][0]["at"])
    site_time = at.astimezone(SITE).strftime("%H:%M")
    phone_time = at.astimezone(zoneinfo.ZoneInfo(PHONE)).strftime("%H:%M")
    assert site_time != phone_time
    async with chromium(tmp_path, zone=PHONE) as browser:
        # The phone really is in Tokyo: its own clock says so.
        offset = await browser.js("new Date().getTimezoneOffset()")
        assert offset == -540
        await log_in(browser, hub.url, "tok-s.a")
        coming = await browser.wait_for(
            f"document.querySelector(\".card[data-id='{alert['id']}'] .coming\")?.innerText"
        )
        assert f"({site_time})" in coming and phone_time not in coming, coming
