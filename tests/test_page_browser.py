"""The supervisors' page in a real headless Chromium, driven through its DevTools protocol.

A supervisor logs in with the token, a desk raises an alert over HTTP and it appears without a
reload, a tap on "J'arrive" puts the name on the alert the desk sees; a foreign page's POST
with the session cookie is refused; a stopped hub shows the stream banner, a rotated token the
login banner (other words). A screenshot at phone size is written (DESKALERT_PAGE_SCREENSHOT
names where to copy it: docs/page.png). Skipped, with the reason, without Debian's `chromium`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
import tomllib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
import pytest

from deskalert.hub.links import answer_url
from deskalert.hub.settings import HubConfig, token_hash
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import roster_toml

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = [
    pytest.mark.stores("sqlite"),
    pytest.mark.system,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium package (apt-get install chromium)"
    ),
]
PHONE = {"width": 412, "height": 915, "deviceScaleFactor": 1, "mobile": True}


class Browser:
    """One page of a headless Chromium, over the DevTools protocol (a WebSocket)."""

    def __init__(self, cdp: aiohttp.ClientWebSocketResponse) -> None:
        self.cdp = cdp
        self.events: list[dict[str, Any]] = []
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._counter = 0
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.cdp:
            data = json.loads(message.data)
            future = self._replies.pop(data.get("id", -1), None)
            if future is not None:
                future.set_result(data)
            elif "method" in data:
                self.events.append(data)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._counter += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[self._counter] = future
        await self.cdp.send_json({"id": self._counter, "method": method, "params": params})
        async with asyncio.timeout(20):
            reply = await future
        assert "error" not in reply, reply
        return dict(reply.get("result", {}))

    async def js(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 15) -> Any:
        deadline = time.monotonic() + timeout
        guarded = f"(() => {{ try {{ return ({expression}); }} catch (e) {{ return null; }} }})()"
        while True:
            value = await self.js(guarded)
            if value:
                return value
            assert time.monotonic() < deadline, (
                f"still false after {timeout} s: {expression}\n{await self.debug()}"
            )
            await asyncio.sleep(0.1)

    async def debug(self) -> str:
        """What the page says and logged, for a failing test's message."""
        text = await self.js("document.body ? document.body.innerText : ''")
        logged = [
            e["params"]
            for e in self.events
            if e["method"] in ("Runtime.exceptionThrown", "Runtime.consoleAPICalled")
        ]
        return f"page text: {text!r}\nconsole: {str(logged)[-3000:]}"

    async def tap(self, selector: str) -> None:
        """A real click at the element's centre (mouse events, as a tap would give)."""
        box = await self.wait_for(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@contextlib.asynccontextmanager
async def chromium(tmp_path: Path, zone: str | None = None) -> AsyncIterator[Browser]:
    """`zone`: the phone's time zone (the TZ of the chromium process)."""
    assert CHROMIUM is not None
    env = {**os.environ, "TZ": zone} if zone else None
    process = subprocess.Popen(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-port=0",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--autoplay-policy=no-user-gesture-required",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        port = await asyncio.to_thread(_devtools_port, tmp_path / "chromium")
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list").json()
        page = next(t for t in targets if t["type"] == "page")
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as cdp,
        ):
            browser = Browser(cdp)
            await browser.call("Page.enable")
            await browser.call("Network.enable")
            await browser.call("Runtime.enable")
            await browser.call("Emulation.setDeviceMetricsOverride", **PHONE)
            await browser.call(
                "Network.setUserAgentOverride",
                userAgent="deskalert-test",
                acceptLanguage="fr-FR,fr;q=0.9",
            )
            try:
                yield browser
            finally:
                await browser.close()
    finally:
        process.terminate()
        process.wait(10)


def _devtools_port(profile: Path, timeout: float = 30) -> int:
    """Chromium writes the port it chose into DevToolsActivePort."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((profile / "DevToolsActivePort").read_text().split()[0])
        assert time.monotonic() < deadline, "chromium did not open its DevTools port"
        time.sleep(0.1)


@contextlib.contextmanager
def foreign_page(target: str) -> Iterator[str]:
    """A page on another origin (same host, another port: same site, so the SameSite cookie
    IS sent; only the Origin check stands) whose script tries to cancel an alert."""
    body = f"""<!doctype html><script>
      fetch({json.dumps(target)}, {{method: "POST", credentials: "include",
        headers: {{"Content-Type": "text/plain"}}, body: "{{}}"}}).catch(() => {{}});
    </script>""".encode()

    class Evil(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's naming
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def alert_from_desk(
    hub_url: str, desk: str, code: str, pressed_ago_s: float = 40
) -> dict[str, Any]:
    pressed = datetime.now(UTC) - timedelta(seconds=pressed_ago_s)
    response = httpx.post(
        f"{hub_url}/v1/alerts",
        headers=auth(desk),
        json=new_alert(code, created_at=pressed.isoformat()),
    )
    response.raise_for_status()
    return dict(response.json())


async def log_in(browser: Browser, hub_url: str, token: str) -> None:
    await browser.call("Page.navigate", url=f"{hub_url}/page/")
    await browser.wait_for("!document.getElementById('login').hidden")
    await browser.js(f"document.getElementById('token').value = {json.dumps(token)}")
    await browser.tap("#login-form button[type=submit]")
    await browser.wait_for("document.getElementById('live').classList.contains('on')")
    await browser.js("window.__sameDocument = true")  # gone if the page reloads


async def test_log_in_see_an_alert_live_and_answer_it(hub: RunningHub, tmp_path: Path) -> None:
    async with chromium(tmp_path) as browser:
        await log_in(browser, hub.url, "tok-s.a")
        assert await browser.js("document.getElementById('who').textContent") == "Ana Sup"
        assert await browser.js("document.getElementById('empty').hidden") is False

        alert = alert_from_desk(hub.url, "g1", "malaise")
        card = f".card[data-id='{alert['id']}']"
        text = await browser.wait_for(f'document.querySelector("{card}")?.innerText')
        assert await browser.js("window.__sameDocument === true"), "the page reloaded"
        assert "Urgence médicale" in text and "Desk g1" in text and "near g1" in text
        assert "Le secouriste vient avec la trousse." in text  # the code's protocol
        assert "Appui il y a 4" in text  # pressed 40 s ago, by the desk's clock
        assert "Personne n'a encore répondu" in text

        await browser.tap(f"{card} button.ack")
        await browser.wait_for(
            f"document.querySelector(\"{card} .coming\").innerText.includes('Ana Sup')"
        )
        seen_by_desk = httpx.get(f"{hub.url}/v1/alerts/{alert['id']}", headers=auth("g1")).json()
        assert [r["name"] for r in seen_by_desk["responders"]] == ["Ana Sup"]
        assert seen_by_desk["state"] == "acknowledged"
        assert await browser.js(f'document.querySelector("{card} button.ack").disabled')
        shot = tmp_path / "page.png"
        await browser.screenshot(shot)
        if os.environ.get("DESKALERT_PAGE_SCREENSHOT"):
            shutil.copy(shot, os.environ["DESKALERT_PAGE_SCREENSHOT"])

        # Résoudre asks for a second tap; then the alert leaves the list.
        await browser.tap(f"{card} button.resolve")
        await browser.wait_for(
            f"document.querySelector(\"{card} button.resolve\").classList.contains('confirm')"
        )
        assert (
            httpx.get(f"{hub.url}/v1/alerts/{alert['id']}", headers=auth("g1")).json()["state"]
            == "acknowledged"
        )
        await browser.tap(f"{card} button.resolve")
        await browser.wait_for(f'!document.querySelector("{card}")')
        assert (
            httpx.get(f"{hub.url}/v1/alerts/{alert['id']}", headers=auth("g1")).json()["state"]
            == "resolved"
        )


async def test_an_unanswered_check_alert_says_the_hub_raised_it_not_a_press(
    hub_factory: Callable[..., RunningHub], tmp_path: Path
) -> None:
    """The hub's alert for an unanswered "Tout va bien ?" read "Appui il y a …": nobody
    pressed anything."""
    from deskalert.hub.clock import ManualClock

    hub = hub_factory(clock=ManualClock(), check_answer_s=30)
    httpx.post(f"{hub.url}/v1/checks", headers=auth("s.a"), json={"desk": "g1"}).raise_for_status()
    hub.advance(31)  # nobody answers
    [alert] = httpx.get(f"{hub.url}/v1/alerts", headers=auth("s.a")).json()
    async with chromium(tmp_path) as browser:
        await log_in(browser, hub.url, "tok-s.a")
        card = f".card[data-id='{alert['id']}']"
        text = await browser.wait_for(f'document.querySelector("{card}")?.innerText')
        assert "Levée par le hub il y a" in text and "(pas de réponse)" in text
        assert "Appui" not in text


async def test_a_foreign_page_cannot_act_with_the_session(hub: RunningHub, tmp_path: Path) -> None:
    alert = alert_from_desk(hub.url, "g1", "renfort")
    target = f"{hub.url}/v1/alerts/{alert['id']}/cancel"
    async with chromium(tmp_path) as browser:
        await log_in(browser, hub.url, "tok-s.a")
        with foreign_page(target) as evil:
            await browser.call("Page.navigate", url=evil)
            deadline = time.monotonic() + 15
            answers: list[dict[str, Any]] = []
            while not answers:
                sent = [
                    e["params"]["requestId"]
                    for e in browser.events
                    if e["method"] == "Network.requestWillBeSent"
                    and e["params"]["request"]["url"] == target
                ]
                answers = [
                    e["params"]
                    for e in browser.events
                    if e["method"] == "Network.responseReceivedExtraInfo"
                    and e["params"]["requestId"] in sent
                ]
                seen = [e["method"] for e in browser.events]
                assert time.monotonic() < deadline, f"the foreign POST was not seen: {seen}"
                await asyncio.sleep(0.1)
        assert answers[0]["statusCode"] == 403
        request = next(
            e["params"]
            for e in browser.events
            if e["method"] == "Network.requestWillBeSentExtraInfo"
            and e["params"]["requestId"] == answers[0]["requestId"]
        )
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert "deskalert_session=" in headers.get("cookie", "")  # sent: Origin stopped it
        assert headers["origin"] == evil.rstrip("/")
    stored = httpx.get(f"{hub.url}/v1/alerts/{alert['id']}", headers=auth("s.b")).json()
    assert stored["state"] == "open"


async def test_stream_down_and_refused_session_show_different_banners(tmp_path: Path) -> None:
    roster = tomllib.loads(roster_toml())
    first = start_threaded_hub(HubConfig.model_validate(roster), tmp_path / "hub")
    port = int(urlsplit(first.url).port or 0)
    async with chromium(tmp_path) as browser:
        await log_in(browser, first.url, "tok-s.a")
        first.stop()
        stream_banner = await browser.wait_for(
            "!document.getElementById('banner-stream').hidden"
            " && document.getElementById('banner-stream').innerText"
        )
        assert "Flux interrompu" in stream_banner
        # The same hub back with a new token for s.a: the session is revoked, not the stream.
        for supervisor in roster["supervisors"]:
            if supervisor["id"] == "s.a":
                supervisor["token_sha256"] = token_hash("rotated-s.a")
        second = start_threaded_hub(HubConfig.model_validate(roster), tmp_path / "hub", port)
        try:
            auth_banner = await browser.wait_for(
                "!document.getElementById('banner-auth').hidden"
                " && document.getElementById('banner-auth').innerText",
                timeout=30,
            )
            assert "Session refusée" in auth_banner and "Flux" not in auth_banner
            assert await browser.js("document.getElementById('banner-stream').hidden")
            assert await browser.js("!document.getElementById('login').hidden")
        finally:
            second.stop()


async def test_an_answer_link_opens_the_page_on_its_alert(hub: RunningHub, tmp_path: Path) -> None:
    hub.config.hub.public_url = hub.url  # the address phones would use
    alert = alert_from_desk(hub.url, "g1", "renfort")
    other = alert_from_desk(hub.url, "g2", "malaise")
    url = answer_url(hub.config, "s.b", alert["id"], datetime.now(UTC))
    assert url is not None
    async with chromium(tmp_path) as browser:
        await browser.call("Page.navigate", url=url)
        card = f".card[data-id='{alert['id']}']"
        await browser.wait_for(f'!!document.querySelector("{card}")')
        assert await browser.js("location.search") == ""  # the link left the address bar
        assert await browser.js(f"!document.querySelector(\".card[data-id='{other['id']}']\")")
        scope = await browser.js("document.getElementById('scope').innerText")
        assert "cette alerte seulement" in scope
        stored = httpx.get(f"{hub.url}/v1/alerts/{alert['id']}", headers=auth("g1")).json()
        assert stored["responders"] == []  # opening the link answered nothing
        await browser.tap(f"{card} button.ack")
        await browser.wait_for(
            f"document.querySelector(\"{card} .coming\").innerText.includes('Bob Sup')"
        )
    stored = httpx.get(f"{hub.url}/v1/alerts/{alert['id']}", headers=auth("g1")).json()
    assert [r["name"] for r in stored["responders"]] == ["Bob Sup"]


async def test_after_a_restore_the_page_reloads_and_shows_the_new_alerts(tmp_path: Path) -> None:
    """Before: the page followed with `?since=<id>` and no epoch. After `deskalert backup
    --restore` of an older copy, the hub gave those ids out again to new alerts, and the page,
    shown live, replayed from its old id on the new log: the first new alerts never showed."""
    from deskalert.hub import backup

    config, data = HubConfig.model_validate(tomllib.loads(roster_toml())), tmp_path / "hub"
    hub = start_threaded_hub(config, data)
    port = int(urlsplit(hub.url).port or 0)
    async with chromium(tmp_path) as browser:
        await log_in(browser, hub.url, "tok-s.a")
        copy, _ = await asyncio.to_thread(
            backup.backup, data / "hub.sqlite3", tmp_path / "copies", 30
        )
        lost = [alert_from_desk(hub.url, "g1", "renfort") for _ in range(3)]
        await browser.wait_for(f"!!document.querySelector(\".card[data-id='{lost[-1]['id']}']\")")
        await asyncio.to_thread(hub.stop)
        await asyncio.to_thread(backup.restore, copy, data / "hub.sqlite3")
        # The restored hub serves elsewhere first: the new alerts take the ids the page had.
        elsewhere = start_threaded_hub(config, data)
        fresh = [alert_from_desk(elsewhere.url, "g2", "malaise") for _ in range(5)]
        await asyncio.to_thread(elsewhere.stop)
        hub = start_threaded_hub(config, data, port)
        try:
            for alert in fresh:
                await browser.wait_for(
                    f"!!document.querySelector(\".card[data-id='{alert['id']}']\")", timeout=30
                )
            for alert in lost:
                assert await browser.js(
                    f"!document.querySelector(\".card[data-id='{alert['id']}']\")"
                ), "the page shows the restored hub's alerts, not the lost ones"
            assert await browser.js("document.getElementById('live').classList.contains('on')")
        finally:
            hub.stop()


async def test_scrolled_down_the_stale_banner_stays_in_view_and_the_cards_look_stale(
    tmp_path: Path,
) -> None:
    """Issue 23: scrolled down, a supervisor saw live-looking cards and ticking timers on a
    stale list; the "Flux interrompu" banner had scrolled away with the header."""
    roster = tomllib.loads(roster_toml(extra_desks=2))
    first = start_threaded_hub(HubConfig.model_validate(roster), tmp_path / "hub")
    for desk in ("g1", "g2", "d00", "d01"):
        alert_from_desk(first.url, desk, "malaise")
    async with chromium(tmp_path) as browser:
        await browser.call(
            "Emulation.setDeviceMetricsOverride",
            width=390,
            height=844,
            deviceScaleFactor=1,
            mobile=True,
        )
        await log_in(browser, first.url, "tok-s.a")
        await browser.wait_for("document.querySelectorAll('.card').length === 4")
        first.stop()
        await browser.wait_for("!document.getElementById('banner-stream').hidden")
        await browser.js("window.scrollTo(0, document.body.scrollHeight)")
        await asyncio.sleep(0.3)
        assert await browser.js("window.scrollY") > 300, "the list is longer than the screen"
        box = await browser.js(
            "(() => { const r = document.getElementById('banner-stream')"
            ".getBoundingClientRect(); return [r.top, r.bottom]; })()"
        )
        assert box[0] >= 0 and box[1] <= 844, f"banner out of the viewport: {box}"
        cards = await browser.js(
            "[...document.querySelectorAll('.card')].map((c) =>"
            " [c.classList.contains('stale'), getComputedStyle(c).opacity,"
            " c.querySelector('.times').innerText])"
        )
        assert all(stale and float(opacity) < 1 for stale, opacity, _ in cards), cards
        assert all("figé" in times for _, _, times in cards), cards
        before = [times for _, _, times in cards]
        await asyncio.sleep(2.2)
        after = await browser.js(
            "[...document.querySelectorAll('.card .times')].map((t) => t.innerText)"
        )
        assert after == before, "the timers stopped with the stream"
        shot = tmp_path / "stale.png"
        await browser.screenshot(shot)
        if target := os.environ.get("DESKALERT_STALE_SCREENSHOT"):
            shutil.copy(shot, target)


async def test_a_closed_alerts_link_says_who_closed_it_and_a_logout_ends_the_cookie(
    hub: RunningHub, tmp_path: Path
) -> None:
    """Issue 27: the link of an alert already resolved opened the page as if something were
    left to answer; a cookie taken before "Sortir" went on working after it."""
    hub.config.hub.public_url = hub.url
    alert = alert_from_desk(hub.url, "g1", "renfort")
    url = answer_url(hub.config, "s.a", alert["id"], datetime.now(UTC))
    assert url is not None
    httpx.post(
        f"{hub.url}/v1/alerts/{alert['id']}/resolve", json={}, headers=auth("s.b")
    ).raise_for_status()
    async with chromium(tmp_path) as browser:
        await browser.call("Page.navigate", url=url)
        closed = await browser.wait_for(
            "!document.getElementById('banner-closed').hidden"
            " && document.getElementById('banner-closed').innerText"
        )
        assert "Cette alerte est close : RÉSOLUE par Bob Sup" in closed, closed
        assert "plus rien à répondre" in closed
        assert await browser.js("!document.getElementById('login').hidden")
        assert not (await browser.call("Network.getCookies"))["cookies"]  # no session opened
        await browser.tap("#lang")
        english = await browser.js("document.getElementById('banner-closed').innerText")
        assert "This alert is closed: RESOLVED by Bob Sup" in english, english
        await browser.tap("#lang")

        await log_in(browser, hub.url, "tok-s.a")
        cookies = (await browser.call("Network.getCookies"))["cookies"]
        cookie = {"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in cookies)}
        assert httpx.get(f"{hub.url}/page/api/me", headers=cookie).status_code == 200
        await browser.tap("#logout")
        await browser.wait_for("!document.getElementById('login').hidden")
        replayed = httpx.get(f"{hub.url}/v1/alerts", headers=cookie)
        assert replayed.status_code == 401 and replayed.json()["error"] == "session_refused"
