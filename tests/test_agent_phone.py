"""The agents' page on a phone (360 x 640), in a real headless Chromium against a real hub.

The phone enrols from its one-time link; a press reaches a supervisor's stream (timed from the
click, beside a desk's POST in the same run: the figures are printed, not asserted); the cancel
window; "who is coming" once a supervisor answers; a colleague's alert answered "j'arrive";
the interview timer through its no-answer alert and the duress answer, on the hub's manual
clock; a press while the hub is down is said at once and retried until stored, once.
Screenshots in French and English are written where DESKALERT_AGENT_SCREENSHOTS names a
directory. Skipped, with the reason, without Debian's `chromium`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent_helpers import phone_code
from broadcast_helpers import current, post, send
from deskalert.hub.clock import ManualClock
from deskalert.hub.settings import HubConfig
from support.events import EventReader
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import roster_toml
from test_page_browser import CHROMIUM, Browser, chromium

pytestmark = [
    pytest.mark.stores("sqlite"),
    pytest.mark.system,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium package (apt-get install chromium)"
    ),
]
SMALL_PHONE = {"width": 360, "height": 640, "deviceScaleFactor": 1, "mobile": True}


async def open_phone(browser: Browser, hub: RunningHub, desk: str = "g2") -> None:
    """The phone opens its enrolment link (`deskalert hub enrol g2 --phone`) at 360 x 640."""
    await browser.call("Emulation.setDeviceMetricsOverride", **SMALL_PHONE)
    await browser.call("Page.navigate", url=f"{hub.url}/page/agent/#code={phone_code(hub, desk)}")
    await browser.wait_for("document.getElementById('live').classList.contains('on')")
    assert await browser.js("location.hash") == "", "the code left the address bar"


async def phone_clock_ahead(browser: Browser, seconds: float) -> None:
    """The phone's clock moved on by `seconds` (the page's `Date.now`, which its cancel window
    and its "Merci" count on; the hub's time it takes from the hub): a wait on the page's own
    timers is ticked through instead of waited out. The page redraws every second."""
    await browser.js(
        f"(() => {{ const now = Date.now; Date.now = () => now() + {seconds * 1000:.0f}; }})()"
    )


def text(selector: str) -> str:
    return f"document.querySelector({selector!r})?.innerText"


async def shoot(browser: Browser, tmp_path: Path, name: str) -> None:
    await browser.js("window.scrollTo(0, 0)")
    await asyncio.sleep(0.2)
    shot = tmp_path / f"{name}.png"
    await browser.screenshot(shot)
    if target := os.environ.get("DESKALERT_AGENT_SCREENSHOTS"):
        shutil.copy(shot, Path(target) / shot.name)


async def click_timed(browser: Browser, selector: str) -> float:
    """A real click on `selector`; the monotonic time of the release (when `click` fires)."""
    box = await browser.wait_for(
        f"(() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )
    await browser.call(
        "Input.dispatchMouseEvent",
        type="mousePressed",
        x=box[0],
        y=box[1],
        button="left",
        clickCount=1,
    )
    released = time.monotonic()
    await browser.call(
        "Input.dispatchMouseEvent",
        type="mouseReleased",
        x=box[0],
        y=box[1],
        button="left",
        clickCount=1,
    )
    return released


# The lowest contrast ratio (WCAG 2) of the visible texts: each element's own text colour against
# the first opaque background up its ancestors.
LOWEST_CONTRAST = """(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ground = (node) => { for (; node; node = node.parentElement) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length === 3 || c[3] === 1) return c.slice(0, 3); } return [255, 255, 255]; };
  let lowest = [99, ""];
  for (const node of document.querySelectorAll("body *")) {
    const own = [...node.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !node.offsetParent || node.disabled) continue;
    const [a, b] = [lum(rgb(getComputedStyle(node).color)), lum(ground(node))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < lowest[0]) lowest = [ratio, node.className + ": " + node.textContent.trim()];
  }
  return lowest;
})()"""


async def raised_on(reader: EventReader, desk: str) -> tuple[float, dict[str, Any]]:
    """The next alert.raised of `desk` on the supervisor's stream, and when it arrived."""
    while True:
        _, kind, data = await asyncio.to_thread(reader.next_event, 10)
        if kind == "alert.raised" and data["desk"] == desk:
            return time.monotonic(), data


async def test_a_press_on_the_phone_reaches_the_supervisor_as_a_desks_does(
    hub: RunningHub, follow: Callable[..., EventReader], tmp_path: Path
) -> None:
    reader = follow(hub.url, "s.a")
    desk = hub.client("g1")  # one kept-alive connection, as the page's
    desk.get("/v1/oncall").raise_for_status()
    phone_ms: list[float] = []
    desk_ms: list[float] = []
    async with chromium(tmp_path) as browser:
        await open_phone(browser, hub)
        assert await browser.wait_for(text("#oncall-name")) == "Ana Sup"
        assert "01 00" in await browser.js(text("#oncall-call"))
        labels = await browser.js(
            "[...document.querySelectorAll('.code-button')].map(b => b.innerText)"
        )
        assert labels == ["Renfort", "Urgence médicale"]
        heights = await browser.js(
            "[...document.querySelectorAll('.code-button')]"
            ".map(b => b.getBoundingClientRect().height)"
        )
        assert min(heights) >= 80, heights  # a thumb cannot miss it
        assert await browser.js("document.documentElement.scrollWidth") <= 360
        ratio, where = await browser.js(LOWEST_CONTRAST)
        print("lowest contrast", ratio, where)
        assert ratio >= 7, (ratio, where)  # WCAG AAA for every text: readable in sunlight
        await shoot(browser, tmp_path, "agent-fr")
        await browser.tap("#lang")
        assert await browser.wait_for(text(".oncall .label")) == "SUPERVISOR ON CALL"
        await shoot(browser, tmp_path, "agent-en")
        await browser.tap("#lang")
        for code in ("renfort", "malaise", "renfort", "malaise"):
            clicked = await click_timed(browser, f".code-button[data-code={code}]")
            arrived, alert = await raised_on(reader, "g2")
            assert alert["code"] == code
            phone_ms.append((arrived - clicked) * 1000)
            await browser.wait_for("state.own.get(state.current).alert.code === " + repr(code))
            shown = await browser.js(text("#own-discreet" if code == "renfort" else "#own-step"))
            assert shown in ("· alerte transmise", "ALERTE TRANSMISE"), shown  # renfort: discreet
            await asyncio.sleep(0.3)
            posted = time.monotonic()
            await asyncio.to_thread(desk.post, "/v1/alerts", json=new_alert(code))
            arrived, _ = await raised_on(reader, "g1")
            desk_ms.append((arrived - posted) * 1000)
        print(f"\nclick to supervisor's stream, phone page (ms): {[round(m) for m in phone_ms]}")
        print(f"POST to supervisor's stream, desk (ms): {[round(m) for m in desk_ms]}")
        stored = httpx.get(f"{hub.url}/v1/alerts?state=all", headers=auth("s.a")).json()
        assert sum(a["desk"] == "g2" for a in stored) == 4


async def test_the_cancel_window_and_who_is_coming(hub: RunningHub, tmp_path: Path) -> None:
    async with chromium(tmp_path) as browser:
        await open_phone(browser, hub)
        await browser.tap(".code-button[data-code=malaise]")
        await browser.wait_for(f"{text('#own-step')} === 'ALERTE TRANSMISE'")
        cancel = await browser.wait_for(text("#own-cancel"))
        assert cancel.startswith("Annuler (fausse alerte) · ")
        await browser.tap("#own-cancel")
        await browser.wait_for(f"{text('#own-step')} === 'Annulée'")
        mine = httpx.get(f"{hub.url}/v1/alerts?state=all", headers=auth("s.a")).json()
        assert [a["state"] for a in mine if a["desk"] == "g2"] == ["cancelled"]

        await browser.tap(".code-button[data-code=malaise]")
        await browser.wait_for(f"{text('#own-step')} === 'ALERTE TRANSMISE'")
        assert await browser.js(text("#own-coming")) == "Personne n'a encore répondu"
        alert_id = await browser.js("state.current")
        httpx.post(f"{hub.url}/v1/alerts/{alert_id}/ack", headers=auth("s.a")).raise_for_status()
        await browser.wait_for(f"{text('#own-step')} === 'PRIS EN CHARGE'")
        assert "Arrive : Ana Sup" in await browser.js(text("#own-coming"))
        await phone_clock_ahead(browser, hub.config.hub.cancel_window_s)  # the window is over
        await browser.wait_for("document.getElementById('own-cancel').hidden", timeout=15)

        colleague = httpx.post(
            f"{hub.url}/v1/alerts", json=new_alert("renfort"), headers=auth("g1")
        ).json()
        card = f".colleague[data-id='{colleague['id']}']"
        seen = await browser.wait_for(text(card))
        assert "Renfort" in seen and "Desk g1" in seen and "L'encadrant vient au guichet." in seen
        ratio, where = await browser.js(LOWEST_CONTRAST)
        assert ratio >= 7, (ratio, where)
        await shoot(browser, tmp_path, "agent-coming-fr")
        await browser.tap(f"{card} button.ack")
        await browser.wait_for(f"{text(card + ' button.ack')} === 'Vous arrivez'")
        stored = httpx.get(f"{hub.url}/v1/alerts/{colleague['id']}", headers=auth("g1")).json()
        assert [r["name"] for r in stored["responders"]] == ["Desk g2"]

        await browser.tap("#lang")
        await browser.wait_for(f"{text('#own-step')} === 'HELP IS COMING'")
        assert "Coming: Ana Sup" in await browser.js(text("#own-coming"))
        await shoot(browser, tmp_path, "agent-coming-en")


async def test_the_interview_timer_through_its_no_answer_alert(
    hub_factory: Callable[..., RunningHub], follow: Callable[..., EventReader], tmp_path: Path
) -> None:
    hub = hub_factory(clock=ManualClock())
    reader = follow(hub.url, "s.a")
    async with chromium(tmp_path) as browser:
        await open_phone(browser, hub)
        await browser.js("document.getElementById('interview-room').value = 'Visite 12 rue Haute'")
        await browser.tap("#interview-form input[value='15']")
        await browser.tap("#interview-start")
        line = await browser.wait_for(text("#interview-line"))
        assert line.startswith("« Visite 12 rue Haute » · jusqu'à"), line
        await asyncio.to_thread(hub.advance, 15 * 60 + 1)
        await browser.wait_for("!document.getElementById('check').hidden")
        assert await browser.js(text("#check-question")) == "Tout va bien\u00a0?"
        await shoot(browser, tmp_path, "agent-check-fr")
        left = await browser.js(text("#check-left"))
        assert left in ("60 s pour répondre", "59 s pour répondre"), left  # the hub's clock
        await browser.js("document.getElementById('lang').click()")  # under the question
        assert await browser.wait_for(text("#check-question")) == "Are you all right?"
        await shoot(browser, tmp_path, "agent-check-en")
        await browser.js("document.getElementById('lang').click()")
        await asyncio.to_thread(hub.advance, hub.config.hub.check_answer_s + 1)
        _, alert = await raised_on(reader, "g2")
        assert alert["code"] == "sans-reponse" and "Visite 12 rue Haute" in alert["message"]
        assert "l'agent n'a pas répondu" in alert["message"]
        await browser.wait_for("document.getElementById('check').hidden")
        await browser.wait_for("document.getElementById('interview-running').hidden")
        sign = await browser.wait_for(text("#own-discreet"))
        assert "alerte transmise" in sign  # discreet: the small sign, not the big panel
        assert await browser.js("document.getElementById('own').hidden")


async def answer_check(browser: Browser, hub: RunningHub, hold_s: float) -> str:
    """Start a session, let it run out, answer "Oui" with a tap or a hold; the screen after."""
    await browser.tap("#interview-form input[value='15']")
    await browser.tap("#interview-start")
    await browser.wait_for("!document.getElementById('interview-running').hidden")
    await asyncio.to_thread(hub.advance, 15 * 60 + 1)
    await browser.wait_for("!document.getElementById('check').hidden")
    box = await browser.js(
        "(() => { const r = document.getElementById('check-ok').getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )
    for kind, pause in (("mousePressed", hold_s), ("mouseReleased", 0)):
        await browser.call(
            "Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1
        )
        await asyncio.sleep(pause)
    shown = await browser.wait_for(
        "!document.getElementById('check-thanks').hidden"
        " && document.getElementById('check').innerText"
    )
    await phone_clock_ahead(browser, 3)  # the "Merci" shown 3 s (agent-timer.js THANKS_MS)
    await browser.wait_for("document.getElementById('check').hidden", timeout=10)
    return str(shown)


async def test_the_duress_answer_looks_like_yes_and_raises_the_discreet_alert(
    hub_factory: Callable[..., RunningHub], follow: Callable[..., EventReader], tmp_path: Path
) -> None:
    hub = hub_factory(clock=ManualClock())
    reader = follow(hub.url, "s.a")
    async with chromium(tmp_path) as browser:
        await open_phone(browser, hub)
        after_yes = await answer_check(browser, hub, hold_s=0.05)
        checks = httpx.get(f"{hub.url}/v1/sessions", headers=auth("s.a")).json()
        assert checks == []  # "oui": the session is over, nothing raised
        after_duress = await answer_check(browser, hub, hold_s=2.4)
        assert after_duress == after_yes == "Merci"
        _, alert = await raised_on(reader, "g2")
        assert alert["code"] == "renfort" and alert["discreet"] is True
        assert "sous contrainte" in alert["message"]


async def test_a_press_without_the_hub_says_so_and_is_stored_once(tmp_path: Path) -> None:
    config = HubConfig.model_validate(tomllib.loads(roster_toml()))
    hub = start_threaded_hub(config, tmp_path / "hub")
    port = int(hub.url.rsplit(":", 1)[1])
    async with chromium(tmp_path) as browser:
        await open_phone(browser, hub)
        # Installed: its service worker keeps the page's files for a phone without network.
        await browser.wait_for("navigator.serviceWorker.controller !== null")
        await browser.call("Page.reload")
        await browser.wait_for("document.getElementById('live').classList.contains('on')")
        await browser.wait_for(
            "caches.open('deskalert-agent-shell-v1').then((c) => c.keys())"
            ".then((keys) => keys.length >= 5)"
        )
        await asyncio.to_thread(hub.stop)
        await browser.call("Page.reload")  # no hub: the page and its buttons as last known
        await browser.wait_for("!document.getElementById('banner-stream').hidden")
        assert await browser.js(text("#oncall-name")) == "Ana Sup"
        clicked = await click_timed(browser, ".code-button[data-code=malaise]")
        banner = await browser.wait_for(
            "!document.getElementById('banner-unsent').hidden"
            " && document.getElementById('banner-unsent').innerText"
        )
        print(
            f"\nclick to 'ALERTE NON TRANSMISE' shown: {(time.monotonic() - clicked) * 1000:.0f} ms"
        )
        assert banner.startswith("ALERTE NON TRANSMISE")
        assert await browser.js(text("#own-step")) == "NON TRANSMISE"
        await shoot(browser, tmp_path, "agent-unsent-fr")
        await asyncio.sleep(2.5)  # a few attempts fail meanwhile
        hub = start_threaded_hub(config, tmp_path / "hub", port)
        try:
            await browser.wait_for(f"{text('#own-step')} === 'ALERTE TRANSMISE'", timeout=20)
            assert await browser.js("document.getElementById('banner-unsent').hidden")
            await shoot(browser, tmp_path, "agent-sent-fr")
            sent = await browser.js("state.current")
            # The answer lost (the page never learned it): the same press sent again, reloaded.
            await browser.js(
                "localStorage.setItem('deskalert.agent.outbox', JSON.stringify([{id: state.current,"
                " code: 'malaise', created_at: new Date().toISOString()}]))"
            )
            await browser.call("Page.reload")
            await browser.wait_for("document.getElementById('live').classList.contains('on')")
            await browser.wait_for("localStorage.getItem('deskalert.agent.outbox') === '[]'")
            stored = httpx.get(f"{hub.url}/v1/alerts?state=all", headers=auth("s.a")).json()
            assert [a["id"] for a in stored if a["desk"] == "g2"] == [sent]
        finally:
            hub.stop()


async def test_a_supervisors_check_is_answered_venez_from_the_phone(
    hub: RunningHub, follow: Callable[..., EventReader], tmp_path: Path
) -> None:
    reader = follow(hub.url, "s.a")
    async with chromium(tmp_path) as browser:
        await open_phone(browser, hub)
        httpx.post(
            f"{hub.url}/v1/checks", json={"desk": "g2"}, headers=auth("s.a")
        ).raise_for_status()
        await browser.wait_for("!document.getElementById('check').hidden")
        assert await browser.js("document.getElementById('check-more').hidden")
        await browser.tap("#check-venez")
        _, alert = await raised_on(reader, "g2")
        assert alert["code"] == "renfort" and "venez" in alert["message"]
        await phone_clock_ahead(browser, 3)  # past the "Merci" (agent-timer.js THANKS_MS)
        await browser.wait_for("document.getElementById('check').hidden", timeout=10)


async def test_a_press_withdrawn_before_the_hub_had_it_is_never_sent(tmp_path: Path) -> None:
    config = HubConfig.model_validate(tomllib.loads(roster_toml()))
    hub = start_threaded_hub(config, tmp_path / "hub")
    port = int(hub.url.rsplit(":", 1)[1])
    async with chromium(tmp_path) as browser:
        await open_phone(browser, hub)
        await asyncio.to_thread(hub.stop)
        await browser.tap(".code-button[data-code=malaise]")
        await browser.wait_for("!document.getElementById('banner-unsent').hidden")
        assert await browser.js(text("#own-cancel")) == "Annuler : ne pas l'envoyer"
        await browser.tap("#own-cancel")
        await browser.wait_for(f"{text('#own-step')} === 'Annulée'")
        assert await browser.js("document.getElementById('banner-unsent').hidden")
        hub = start_threaded_hub(config, tmp_path / "hub", port)
        try:
            await browser.wait_for("document.getElementById('live').classList.contains('on')")
            await asyncio.sleep(1)
            stored = httpx.get(f"{hub.url}/v1/alerts?state=all", headers=auth("s.a")).json()
            assert [a for a in stored if a["desk"] == "g2"] == []
        finally:
            hub.stop()


async def test_a_message_to_the_site_shows_on_the_phone_and_is_read_in_one_tap(
    hub: RunningHub, tmp_path: Path
) -> None:
    async with chromium(tmp_path) as browser:
        await open_phone(browser, hub)
        sent = send(hub, "s.a").json()
        card = f".notice[data-id='{sent['id']}']"
        shown = await browser.wait_for(text(card))
        assert "VIGILANCE" in shown and "agitée" in shown and "Ana Sup" in shown
        await shoot(browser, tmp_path, "agent-notice-fr")
        await browser.tap(f"{card} button.read")
        await browser.wait_for(f"{text(card + ' button.read')}.startsWith('Lu à ')")
        stored = current(hub, "s.a")[0]
        assert [r["desk"] for r in stored["reads"]] == ["g2"]
        await browser.tap("#lang")
        await browser.wait_for(f"{text(card + ' button.read')}.startsWith('Read at ')")
        await shoot(browser, tmp_path, "agent-notice-en")
        post(hub, "s.a", f"/v1/broadcasts/{sent['id']}/end")
        await browser.wait_for(f"!document.querySelector({card!r})")


def session_due(hub: RunningHub) -> str:
    """The running interview's `due_at`, as the hub holds it."""
    sessions = httpx.get(f"{hub.url}/v1/sessions", headers=auth("s.a")).json()
    return str(sessions[0]["due_at"])


async def test_the_interview_is_extended_and_ended_from_the_phone(
    hub_factory: Callable[..., RunningHub], tmp_path: Path
) -> None:
    hub = hub_factory(clock=ManualClock())
    async with chromium(tmp_path) as browser:
        await open_phone(browser, hub)
        await browser.tap("#interview-form input[value='15']")
        await browser.tap("#interview-start")
        await browser.wait_for("!document.getElementById('interview-running').hidden")
        await asyncio.to_thread(hub.advance, 10 * 60)
        due = session_due(hub)
        await browser.tap("#interview-extend")
        await browser.wait_for(f"/reste 1[45] min/.test({text('#interview-line')})")
        # The page counts on the phone's clock: the hub's extension is what moves the check.
        deadline = time.monotonic() + 10
        while session_due(hub) == due:
            assert time.monotonic() < deadline, "the extension never reached the hub"
            await asyncio.sleep(0.05)
        await asyncio.to_thread(hub.advance, 14 * 60)  # past the first end: no check
        assert await browser.js("document.getElementById('check').hidden")
        sessions = httpx.get(f"{hub.url}/v1/sessions", headers=auth("s.a")).json()
        assert [s["state"] for s in sessions] == ["running"]
        await browser.tap("#interview-close")
        await browser.wait_for("document.getElementById('interview-running').hidden")
        assert httpx.get(f"{hub.url}/v1/sessions", headers=auth("s.a")).json() == []
        await asyncio.to_thread(hub.advance, 60 * 60)
        assert httpx.get(f"{hub.url}/v1/checks", headers=auth("s.a")).json() == []
