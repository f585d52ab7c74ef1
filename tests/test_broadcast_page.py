"""The page sends a broadcast, shows who has read it (live, with the time), names the unread
after the roster's delay, and ends it: a real headless Chromium against a real hub."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from broadcast_helpers import current, post
from support.hubs import RunningHub
from test_page_browser import CHROMIUM, chromium, log_in

pytestmark = [
    pytest.mark.stores("sqlite"),
    pytest.mark.system,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium package (apt-get install chromium)"
    ),
]


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
