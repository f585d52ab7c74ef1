"""The pane's interview sessions per site, and its "tout va bien ?" key, against a real hub."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from desk_helpers import in_thread, wait_until
from pane_helpers import live, pane, text_of
from support.hubs import RunningHub

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")

SIZE = (120, 45)


async def test_pane_shows_running_sessions_with_time_left_and_asks_a_desk(
    hub_factory: Callable[..., RunningHub],
) -> None:
    hub = hub_factory(check_answer_s=30)
    app = pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        assert text_of(app, "#sessions") == ""  # hidden while there is none
        with hub.client("g1") as desk:
            await in_thread(
                lambda: desk.post(
                    "/v1/sessions", json={"room": "Box A", "minutes": 20}
                ).raise_for_status()
            )
        await wait_until(pilot, lambda: "Box A" in text_of(app, "#sessions"), what="session")
        shown = text_of(app, "#sessions")
        assert "Accueil RDC" in shown and "Desk g1" in shown and "reste 19:5" in shown

        await pilot.press("k")
        await pilot.press(*"e1", "enter")
        await wait_until(
            pilot,
            lambda: "Desk e1 · « Tout va bien ? » sans réponse encore" in text_of(app, "#sessions"),
            what="check pending",
        )
        with hub.client("s.a") as sup:
            [check] = await in_thread(lambda: sup.get("/v1/checks").json())
        assert check["desk"] == "e1" and check["asked_by"] == "s.a"
        with hub.client("e1") as desk:
            await in_thread(
                lambda: desk.post(
                    f"/v1/checks/{check['id']}/answer", json={"answer": "ok"}
                ).raise_for_status()
            )
        await wait_until(
            pilot, lambda: "Desk e1" not in text_of(app, "#sessions"), what="check answered"
        )
