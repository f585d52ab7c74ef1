"""`deskalert supervise --web`: a real headless Chromium opens the page and receives the pane.

textual-serve draws the terminal on a WebGL/canvas, so the page's DOM holds no text. The test
drives Chromium through its DevTools protocol: before the page loads it wraps `WebSocket` to keep
what the browser receives, then checks that the pane's own words reached the browser. Skipped, with
the reason, on a machine without Debian's `chromium` package (`apt-get install chromium`).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import httpx
import pytest

from conftest import RunningHub, auth, new_alert
from desk_helpers import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
KEEP_FRAMES = """
(() => {
  const Original = window.WebSocket;
  window.__frames = [];
  function Recording(...args) {
    const socket = new Original(...args);
    socket.addEventListener("message", async (event) => {
      let data = event.data;
      if (data instanceof Blob) data = await data.text();
      else if (data instanceof ArrayBuffer) data = new TextDecoder().decode(data);
      window.__frames.push(String(data));
    });
    return socket;
  }
  Recording.prototype = Original.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Recording[k] = Original[k];
  window.WebSocket = Recording;
})();
"""


def wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.1)


async def received_text(page_url: str, devtools_port: int, wanted: str) -> str:
    targets = httpx.get(f"http://127.0.0.1:{devtools_port}/json/list").json()
    page = next(t for t in targets if t["type"] == "page")
    async with aiohttp.ClientSession() as session, \
            session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as cdp:
        counter = 0

        async def call(method: str, **params: object) -> dict[str, object]:
            nonlocal counter
            counter += 1
            await cdp.send_json({"id": counter, "method": method, "params": params})
            while True:
                reply = json.loads((await cdp.receive()).data)
                if reply.get("id") == counter:
                    return dict(reply.get("result", {}))

        await call("Page.enable")
        await call("Page.addScriptToEvaluateOnNewDocument", source=KEEP_FRAMES)
        await call("Page.navigate", url=page_url)
        deadline = time.monotonic() + 40
        text = ""
        while wanted not in text and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            result = await call("Runtime.evaluate", expression="(window.__frames||[]).join('')",
                                returnByValue=True)
            text = str(dict(result.get("result", {})).get("value", ""))
        return text


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")
async def test_the_pane_served_to_a_headless_chromium(hub: RunningHub, tmp_path: Path) -> None:
    httpx.post(f"{hub.url}/v1/alerts", json=new_alert("malaise"), headers=auth("g1")).raise_for_status()
    config = tmp_path / "config.toml"
    config.write_text(f'[hub]\nurl = "{hub.url}"\n[supervisor]\nid = "s.a"\n')
    port, devtools = free_port(), free_port()
    env = {**os.environ, "DESKALERT_TOKEN": "tok-s.a"}
    server = subprocess.Popen(
        [sys.executable, "-m", "deskalert", "supervise", "--web", "--port", str(port),
         "--config", str(config)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert CHROMIUM is not None
    browser = subprocess.Popen(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'chromium'}", f"--remote-debugging-port={devtools}",
         "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        await asyncio.to_thread(wait_http, url)
        await asyncio.to_thread(wait_http, f"http://127.0.0.1:{devtools}/json/version")
        text = await received_text(url, devtools, "Urgence médicale")
    finally:
        browser.terminate()
        server.terminate()
        browser.wait(10)
        server.wait(10)
    # Textual sends only what changed, so the words are checked, not the whole title.
    assert "Alertes en cours" in text and "Martine" not in text, text[-2000:]
    assert "Desk g1" in text and "Urgence médicale" in text and "Ana Sup" in text
