"""Refresh the documentation's pictures from the real programs, on a demo hub of their own.

    .venv/bin/python docs/capture.py      (needs tmux and Debian's chromium; the test extra)

- docs/captures/*.txt: the desk and the pane as text, as a person sees them in a terminal
  (each program runs in a detached tmux session of a fixed size; `tmux capture-pane`); the
  README's inline copy of one (the block after `<!-- capture: docs/captures/... -->`) with them;
- docs/page.png: the supervisors' page at phone size in a headless Chromium, driven over its
  DevTools protocol (as tests/test_page_browser.py does), after a tap on "J'arrive";
- docs/agent-phone.png: the agents' page at 360 x 640, enrolled by a one-time phone link
  (`deskalert hub enrol guichet-3 --phone`), after a tap on "Urgence médicale" and Paul Leroy's
  "j'arrive".

The desk is captured at 80 x 32, where it has its full layout (under 80 columns or 30 lines it
turns compact: docs/agents/desk.md shows that one at 60 x 16); the pane at 120 x 32.

Everything runs on 127.0.0.1 with a temporary data directory; nothing of the user's is read.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import aiohttp
import httpx

DOCS = Path(__file__).resolve().parent
CAPTURES = DOCS / "captures"
DESKALERT = str(Path(sys.executable).with_name("deskalert"))
PHONE = {"width": 412, "height": 915, "deviceScaleFactor": 1, "mobile": True}
SUPERVISOR = {"Authorization": "Bearer demo-p.leroy"}
SMALL_PHONE = {"width": 360, "height": 640, "deviceScaleFactor": 1, "mobile": True}
DESK_SIZE = (80, 32)  # the desk's full layout starts at 80 x 30 (tui/base.py, COMPACT_BELOW)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def demo_hub(home: Path) -> Iterator[int]:
    port = free_port()
    hub = subprocess.Popen([DESKALERT, "demo", "--hub-only", "--port", str(port),
                            "--data-dir", str(home / "demo")], env=_env(home),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("capture: the demo hub did not start")
            time.sleep(0.2)
        yield port
    finally:
        hub.terminate()
        hub.wait(10)


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"), "TERM": "xterm-256color"}


class Terminal:
    """One program in a detached tmux session of a fixed size."""

    def __init__(self, name: str, size: tuple[int, int], command: list[str], home: Path) -> None:
        self.name = f"deskalert-docs-{name}-{os.getpid()}"
        env = " ".join(f"{k}={v}" for k, v in _env(home).items() if k.startswith("XDG_"))
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", str(size[0]),
                        "-y", str(size[1]), f"env {env} " + " ".join(command)], check=True)

    def keys(self, *keys: str, wait: float = 1.5) -> None:
        for key in keys:
            subprocess.run(["tmux", "send-keys", "-t", self.name, key], check=True)
            time.sleep(wait)

    def text(self) -> str:
        shown = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], check=True,
                               capture_output=True, text=True).stdout
        lines = [line.rstrip() for line in shown.splitlines()]
        # the empty rows of the screen as one empty line: the page shows the boxes, not the gap
        kept = [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]
        return "\n".join(kept).strip("\n") + "\n"

    def wait_for(self, *words: str, timeout: float = 30) -> str:
        """The screen once it shows every one of `words` (a program starts at its own pace)."""
        deadline = time.monotonic() + timeout
        while not all(word in (shown := self.text()) for word in words):
            if time.monotonic() > deadline:
                raise SystemExit(f"capture: {self.name} never showed {words}:\n{shown}")
            time.sleep(0.3)
        time.sleep(0.5)  # let the frame that brought them finish drawing
        return self.text()

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], check=False)


def save(name: str, text: str) -> None:
    CAPTURES.mkdir(exist_ok=True)
    (CAPTURES / name).write_text(text, encoding="utf-8")
    print(f"wrote docs/captures/{name}")


README = DOCS.parent / "README.md"
# The README shows one capture inline (GitHub has no include): the block right after this marker.
README_CAPTURE = re.compile(r"(<!-- capture: docs/captures/([\w.-]+) -->\n```\n)(.*?)(```)", re.S)


def readme_in_step() -> None:
    """The README's inline capture rewritten from docs/captures (tests/test_docs.py checks it)."""
    text = README.read_text(encoding="utf-8")
    fresh = README_CAPTURE.sub(
        lambda m: m[1] + (CAPTURES / m[2]).read_text(encoding="utf-8").rstrip("\n") + "\n" + m[4],
        text,
    )
    if fresh != text:
        README.write_text(fresh, encoding="utf-8")
        print("wrote README.md (its capture)")


def capture_screens(port: int, home: Path) -> None:
    join = [DESKALERT, "demo", "--join", "--port", str(port)]
    desk = Terminal("g3", DESK_SIZE, [*join, "--desk", "guichet-3"], home)
    terminals = [desk]
    try:
        save("desk.txt", desk.wait_for("liaison OK", "Personne d'autre"))
        neighbour = Terminal("g2", DESK_SIZE, [*join, "--desk", "guichet-2"], home)
        pane = Terminal("pane", (120, 32), [*join, "--supervisor", "p.leroy"], home)
        terminals += [neighbour, pane]
        desk.wait_for("1 collègue en ligne")
        pane.wait_for("flux en direct")
        desk.keys("F2", wait=0.1)
        save("desk-sent.txt", desk.wait_for("transmise"))
        save("pane.txt", pane.wait_for("NOUVELLE"))
        save("desk-colleague.txt", neighbour.wait_for("Guichet 3 appelle"))
        pane.keys("a", wait=0.1)
        save("desk-answered.txt", desk.wait_for("pris en charge"))
        desk.keys("i", wait=0.1)
        save("desk-interview.txt", desk.wait_for("Minutes"))
    finally:
        for terminal in terminals:
            terminal.close()


# --- the page, in Chromium ------------------------------------------------------------------


class Browser:
    def __init__(self, cdp: aiohttp.ClientWebSocketResponse) -> None:
        self.cdp = cdp
        self.replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.counter = 0
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.cdp:
            data = json.loads(message.data)
            future = self.replies.pop(data.get("id", -1), None)
            if future is not None:
                future.set_result(data)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.counter += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.replies[self.counter] = future
        await self.cdp.send_json({"id": self.counter, "method": method, "params": params})
        return dict((await asyncio.wait_for(future, 20)).get("result", {}))

    async def js(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                                 awaitPromise=True)
        return result.get("result", {}).get("value")

    async def wait_for(self, expression: str, timeout: float = 15) -> Any:
        deadline = time.monotonic() + timeout
        guarded = f"(() => {{ try {{ return ({expression}); }} catch (e) {{ return null; }} }})()"
        while not (value := await self.js(guarded)):
            if time.monotonic() > deadline:
                raise SystemExit(f"capture: the page never showed {expression}")
            await asyncio.sleep(0.1)
        return value

    async def tap(self, selector: str) -> None:
        box = await self.wait_for(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            await self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1],
                            button="left", clickCount=1)

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        print(f"wrote {path}")


@contextlib.asynccontextmanager
async def chromium(profile: Path, viewport: dict[str, Any]) -> AsyncIterator[Browser]:
    profile.mkdir(parents=True, exist_ok=True)
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise SystemExit("capture: needs Debian's chromium (apt-get install chromium)")
    process = subprocess.Popen(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (profile / "DevToolsActivePort").exists():
            if time.monotonic() > deadline:
                raise SystemExit("capture: chromium did not open its DevTools port")
            await asyncio.sleep(0.1)
        port = int((profile / "DevToolsActivePort").read_text().split()[0])
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list").json()
        page = next(t for t in targets if t["type"] == "page")
        async with aiohttp.ClientSession() as session, \
                session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as cdp:
            browser = Browser(cdp)
            await browser.call("Page.enable")
            await browser.call("Runtime.enable")
            await browser.call("Emulation.setDeviceMetricsOverride", **viewport)
            await browser.call("Network.setUserAgentOverride", userAgent="deskalert-docs",
                               acceptLanguage="fr-FR,fr;q=0.9")
            try:
                yield browser
            finally:
                browser.reader.cancel()
    finally:
        process.terminate()
        process.wait(10)


async def capture_page(port: int, home: Path) -> None:
    hub = f"http://127.0.0.1:{port}"
    pressed = datetime.now(UTC) - timedelta(seconds=40)
    alert = httpx.post(f"{hub}/v1/alerts", headers={"Authorization": "Bearer demo-guichet-2"},
                       json={"id": str(uuid.uuid4()), "code": "hulk",
                             "created_at": pressed.isoformat(), "test": False,
                             "message": None}).raise_for_status().json()
    async with chromium(home / "chromium", PHONE) as browser:
        await browser.call("Page.navigate", url=f"{hub}/page/")
        await browser.wait_for("!document.getElementById('login').hidden")
        await browser.js("document.getElementById('token').value = 'demo-j.martin'")
        await browser.tap("#login-form button[type=submit]")
        await browser.wait_for("document.getElementById('live').classList.contains('on')")
        card = f".card[data-id='{alert['id']}']"
        await browser.tap(f"{card} button.ack")
        await browser.wait_for(f"document.querySelector(\"{card} .coming\").innerText"
                               ".includes('Jérôme Martin')")
        await browser.screenshot(DOCS / "page.png")


def phone_link(port: int, home: Path, desk: str) -> str:
    """A one-time link to the agents' page, made as an administrator would (`hub enrol --phone`)."""
    with resources.as_file(resources.files("deskalert.data") / "hub.example.toml") as roster:
        made = subprocess.run(
            [DESKALERT, "hub", "enrol", desk, "--phone", "--no-qr", "--config", str(roster),
             "--data-dir", str(home / "demo"), "--url", f"http://127.0.0.1:{port}"],
            env=_env(home), check=True, capture_output=True, text=True)
    return made.stdout.strip().splitlines()[-1]


async def capture_agent_phone(port: int, home: Path) -> None:
    hub = f"http://127.0.0.1:{port}"
    link = phone_link(port, home, "guichet-3")
    async with chromium(home / "chromium-agent", SMALL_PHONE) as browser:
        await browser.call("Page.navigate", url=link)
        await browser.wait_for("!!document.querySelector(\"#code-buttons [data-code='malaise']\")")
        await browser.tap("#code-buttons [data-code='malaise']")
        await browser.wait_for("!document.getElementById('own').hidden")
        deadline = time.monotonic() + 15
        while not (opened := httpx.get(f"{hub}/v1/alerts", headers=SUPERVISOR).json()):
            if time.monotonic() > deadline:
                raise SystemExit("capture: the phone's alert never reached the hub")
            await asyncio.sleep(0.2)
        httpx.post(f"{hub}/v1/alerts/{opened[0]['id']}/ack", headers=SUPERVISOR).raise_for_status()
        await browser.wait_for("document.getElementById('own-coming').innerText"
                               ".includes('Paul Leroy')")
        await browser.js("window.scrollTo(0, 0)")
        await asyncio.sleep(0.5)
        await browser.screenshot(DOCS / "agent-phone.png")


def main() -> int:
    if shutil.which("tmux") is None:
        print("capture: needs tmux (apt-get install tmux)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="deskalert-docs-") as tmp:
        home = Path(tmp)
        with demo_hub(home) as port:
            capture_screens(port, home)
        readme_in_step()
        with demo_hub(home / "page") as port:
            asyncio.run(capture_page(port, home / "page"))
        with demo_hub(home / "agent") as port:
            asyncio.run(capture_agent_phone(port, home / "agent"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
