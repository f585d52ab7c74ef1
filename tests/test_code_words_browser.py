"""A code's English words on the supervisors' page and the agents' phone page, in a real
headless Chromium against a real hub whose `malaise` has `label_en`/`protocol_en` and whose
`renfort` has none. Skipped, with the reason, without Debian's `chromium`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.hubs import RunningHub, start_threaded_hub
from test_agent_phone import open_phone, text
from test_code_words import EN_LABEL, EN_PROTOCOL, FR_LABEL, FR_PROTOCOL, english_roster
from test_code_words import raise_from as alert_from_desk
from test_page_browser import CHROMIUM, chromium, log_in

pytestmark = [
    pytest.mark.stores("sqlite"),
    pytest.mark.system,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium package (apt-get install chromium)"
    ),
]


@pytest.fixture
def en_hub(tmp_path: Path) -> Iterator[RunningHub]:
    hub = start_threaded_hub(english_roster(), tmp_path / "hub")
    yield hub
    hub.stop()


async def test_the_page_in_english_shows_the_codes_english_words(
    en_hub: RunningHub, tmp_path: Path
) -> None:
    async with chromium(tmp_path) as browser:
        await log_in(browser, en_hub.url, "tok-s.a")
        alert = alert_from_desk(en_hub, "g1", "malaise")
        card = f".card[data-id='{alert['id']}']"
        shown = await browser.wait_for(f'document.querySelector("{card}")?.innerText')
        assert FR_LABEL in shown and FR_PROTOCOL in shown
        await browser.tap("#lang")
        await browser.wait_for(f'document.querySelector("{card}").innerText.includes("{EN_LABEL}")')
        shown = await browser.js(f'document.querySelector("{card}").innerText')
        assert EN_PROTOCOL in shown and FR_LABEL not in shown
        plain = alert_from_desk(en_hub, "g2", "renfort")
        shown = await browser.wait_for(
            f"document.querySelector(\".card[data-id='{plain['id']}']\")?.innerText"
        )
        assert "Renfort" in shown, "no label_en: the French"


async def test_the_phone_in_english_shows_the_codes_english_words(
    en_hub: RunningHub, tmp_path: Path
) -> None:
    buttons = "[...document.querySelectorAll('.code-button')].map(b => b.innerText)"
    async with chromium(tmp_path) as browser:
        await open_phone(browser, en_hub)
        assert await browser.js(buttons) == ["Renfort", FR_LABEL]
        await browser.tap("#lang")
        await browser.wait_for(f"{buttons}.includes({EN_LABEL!r})")
        assert await browser.js(buttons) == ["Renfort", EN_LABEL]
        colleague = alert_from_desk(en_hub, "g1", "malaise")
        card = f".colleague[data-id='{colleague['id']}']"
        shown = await browser.wait_for(text(card))
        assert EN_LABEL in shown and EN_PROTOCOL in shown
