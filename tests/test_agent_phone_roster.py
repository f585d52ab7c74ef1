"""The agents' page follows the roster and the site, in a real headless Chromium (360 x 640).

- A reload of hub.toml (`roster.changed`): the phone shows the new labels of its codes, its
  desk and the on-call card without being reloaded, on the same stream, its own alert kept.
- Its times are the site's (`[hub] timezone`, here Europe/Paris) on a phone set to Tokyo.
- The on-call card's number is on one line at 360 px.

Regressions: the page ignored `roster.changed` (old labels until reopened), drew its times in
the phone's zone, and broke "Appeler 04 72 00 00 03" across two lines.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
import zoneinfo
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from deskalert.hub.settings import HubConfig
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth
from support.roster import roster_toml
from test_agent_phone import open_phone, shoot, text
from test_page_browser import CHROMIUM, alert_from_desk, chromium
from test_reload_screens import reload_now

pytestmark = [
    pytest.mark.stores("sqlite"),
    pytest.mark.system,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium package (apt-get install chromium)"
    ),
]
SITE, PHONE = zoneinfo.ZoneInfo("Europe/Paris"), "Asia/Tokyo"
NUMBER = "04 72 00 00 03"


def reloaded() -> str:
    """Another label for "malaise", for desk g2, another name for the on-call supervisor."""
    text = roster_toml().replace('label = "Urgence médicale"', 'label = "Malaise grave"')
    text = text.replace('label = "Desk g2"', 'label = "Guichet 2"')
    return text.replace('name = "Ana Sup"', 'name = "Ana Martin"')


BUTTONS = "[...document.querySelectorAll('.code-button')].map(b => b.innerText)"


async def test_a_reload_of_the_roster_reaches_the_phone_without_a_reload(
    reloadable: tuple[RunningHub, Path], tmp_path: Path
) -> None:
    hub, path = reloadable
    async with chromium(tmp_path) as browser:
        await open_phone(browser, hub)
        assert await browser.wait_for(text("#oncall-name")) == "Ana Sup"
        assert await browser.js(BUTTONS) == ["Renfort", "Urgence médicale"]
        await browser.tap(".code-button.urgent")  # an own alert in course, across the reload
        await browser.wait_for(f"{text('#own-step')} === 'ALERTE TRANSMISE'")
        await browser.js("window.__sameDocument = true; window.__source = state.source")

        path.write_text(reloaded(), encoding="utf-8")
        ok, line = await asyncio.to_thread(reload_now, hub)
        assert ok, line

        await browser.wait_for(f"{BUTTONS}.includes('Malaise grave')")
        assert await browser.js(BUTTONS) == ["Renfort", "Malaise grave"]
        assert await browser.wait_for(f"{text('#who')} === 'Guichet 2'")
        assert await browser.wait_for(f"{text('#oncall-name')} === 'Ana Martin'")
        assert await browser.js("window.__sameDocument === true"), "the page reloaded"
        assert await browser.js("state.source === window.__source"), "the stream was dropped"
        assert await browser.js("document.getElementById('live').classList.contains('on')")
        assert await browser.js("!document.getElementById('own').hidden")
        assert await browser.js(text("#own-step")) == "ALERTE TRANSMISE"
    with hub.client("s.a") as client:
        alerts = client.get("/v1/alerts", params={"state": "open"}).json()
    assert [(a["desk"], a["code"]) for a in alerts] == [("g2", "malaise")]


async def test_a_phone_in_another_zone_shows_the_sites_times(
    hub: RunningHub, tmp_path: Path
) -> None:
    assert hub.config.hub.timezone == "Europe/Paris"
    alert = alert_from_desk(hub.url, "g2", "malaise")  # the phone's own desk
    acked = httpx.post(f"{hub.url}/v1/alerts/{alert['id']}/ack", headers=auth("s.b")).json()
    at = datetime.fromisoformat(acked["responders"][0]["at"])
    session = httpx.post(
        f"{hub.url}/v1/sessions", headers=auth("g2"), json={"room": "B12", "minutes": 30}
    ).json()
    due = datetime.fromisoformat(session["due_at"])
    site = [t.astimezone(SITE).strftime("%H:%M") for t in (at, due)]
    phone = [t.astimezone(zoneinfo.ZoneInfo(PHONE)).strftime("%H:%M") for t in (at, due)]
    async with chromium(tmp_path, zone=PHONE) as browser:
        assert await browser.js("new Date().getTimezoneOffset()") == -540  # Tokyo
        await open_phone(browser, hub)
        coming = await browser.wait_for(text("#own-coming"))
        assert coming == f"Arrive : Bob Sup ({site[0]})", coming
        line = await browser.wait_for(text("#interview-line"))
        assert f"jusqu'à {site[1]}" in line and phone[1] not in line, line


def long_number_hub(tmp_path: Path) -> RunningHub:
    roster = roster_toml().replace('phone = "01 00"', f'phone = "{NUMBER}"')
    config = HubConfig.model_validate(tomllib.loads(roster))
    return start_threaded_hub(config, tmp_path / "data")


# How many lines the number takes in the on-call button: the distinct tops of its characters'
# boxes (a Range over the number's characters, in one text node or several).
NUMBER_LINES = """((number) => {
  const walker = document.createTreeWalker(document.getElementById('oncall-call'), 4);
  const nodes = [];
  let all = '';
  while (walker.nextNode()) {
    nodes.push([walker.currentNode, all.length]);
    all += walker.currentNode.data;
  }
  const start = all.indexOf(number), end = start + number.length;
  const at = (i, last) => {
    const [node, from] = nodes.find(([n, o]) =>
      last ? i > o && i <= o + n.data.length : i >= o && i < o + n.data.length);
    return [node, i - from];
  };
  const range = document.createRange();
  range.setStart(...at(start, false));
  range.setEnd(...at(end, true));
  const boxes = [...range.getClientRects()].filter((r) => r.width > 0);
  return new Set(boxes.map((r) => Math.round(r.top))).size;
})(NUMBER)""".replace("NUMBER", json.dumps(NUMBER))


async def test_the_on_call_number_is_on_one_line_at_360_px(tmp_path: Path) -> None:
    hub = long_number_hub(tmp_path)
    try:
        async with chromium(tmp_path) as browser:
            await open_phone(browser, hub)
            call = await browser.wait_for(text("#oncall-call"))
            assert NUMBER in call.replace("\n", " "), call
            assert await browser.js("innerWidth") == 360
            assert await browser.js(NUMBER_LINES) == 1, call
            await shoot(browser, tmp_path, "agent-oncall-fr")
            await browser.tap("#lang")
            await browser.wait_for(f"{text('#oncall-call')}.startsWith('Call')")
            assert await browser.js(NUMBER_LINES) == 1
            await shoot(browser, tmp_path, "agent-oncall-en")
    finally:
        hub.stop()
