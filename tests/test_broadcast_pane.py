"""The pane sends a broadcast (a template or a typed text), shows who has read it and when,
names the desks that have not after the roster's delay, and ends it. A Pilot pane against a
real hub; desks say "lu" over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.widgets import Label

from broadcast_helpers import current, post
from desk_helpers import in_thread, make_pane, wait_until
from deskalert.tui.pane.broadcast import BroadcastPanel
from deskalert.tui.pane.screens import Prompt
from support.hubs import RunningHub

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")

SIZE = (100, 40)
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def panel(app: Any) -> str:
    return str(app.query_one(BroadcastPanel).text)


async def answer(app: Any, pilot: Any, *keys: str) -> None:
    await wait_until(pilot, lambda: isinstance(app.screen, Prompt), what="a question")
    question = app.screen
    await pilot.press(*keys, "enter")
    await wait_until(pilot, lambda: app.screen is not question, what="the question answered")


async def test_send_a_template_see_reads_live_the_unread_named_and_end_it(
    bc_hub: Callable[..., RunningHub],
) -> None:
    hub = bc_hub()
    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: app.state.loaded and app.broadcasts.catalog is not None, what="loaded"
        )
        assert panel(app) == ""  # hidden while there is none
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, Prompt), what="the templates")
        question = str(app.screen.query(Label).first().render())
        assert "1. Vigilance · Une personne agitée se dirige vers les guichets." in question
        assert "3. Évacuation · Évacuation du bâtiment" in question
        await answer(app, pilot, "1")
        await answer(app, pilot, *"accueil")
        await wait_until(pilot, lambda: "Lu 0/3" in panel(app), what="the broadcast shown")
        assert "Vigilance" in panel(app) and "agitée" in panel(app)
        sent = (await in_thread(lambda: current(hub, "g1")))[0]
        await in_thread(lambda: post(hub, "g1", f"/v1/broadcasts/{sent['id']}/read"))
        await wait_until(pilot, lambda: "Lu 1/3 : Desk g1" in panel(app), what="g1's read, live")
        await wait_until(
            pilot,
            lambda: "PAS LU après 1 s : Desk g2 (hors ligne), Desk d00 (hors ligne)" in panel(app),
            what="the unread named after the delay",
        )
        await pilot.press("t")
        await answer(app, pilot, "1")
        await wait_until(pilot, lambda: panel(app) == "", what="ended: gone from the panel")
    assert await in_thread(lambda: current(hub, "g1")) == []


async def test_a_typed_message_asks_its_kind_and_goes_to_every_site_by_default(
    bc_hub: Callable[..., RunningHub],
) -> None:
    hub = bc_hub()
    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.broadcasts.catalog is not None, what="loaded")
        await pilot.press("m")
        await answer(app, pilot, *"Fermeture à 16h")
        await answer(app, pilot, "3")  # evacuation
        await answer(app, pilot)  # every site
        await wait_until(pilot, lambda: "Lu 0/4" in panel(app), what="sent to both sites")
        assert "Évacuation" in panel(app) and "Fermeture à 16h" in panel(app)
    assert [b["text"] for b in await in_thread(lambda: current(hub, "e1"))] == ["Fermeture à 16h"]


async def test_d_counts_the_broadcasts_of_the_month_and_their_reads(
    bc_hub: Callable[..., RunningHub],
) -> None:
    from textual.widgets import Static

    from broadcast_helpers import send
    from deskalert.tui.pane.screens import Details

    hub = bc_hub()
    sent = (await in_thread(lambda: send(hub))).json()
    await in_thread(lambda: post(hub, "g1", f"/v1/broadcasts/{sent['id']}/read"))
    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.loaded, what="loaded")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, Details), what="figures")
        body = str(app.screen.query_one("#details", Static).content)
        assert "1 message de l'encadrement ; lectures : 1/3" in body


async def test_the_unread_are_named_once_the_rosters_delay_has_passed_not_before(
    bc_hub: Callable[..., RunningHub],
) -> None:
    """Time passes by hand (ManualClock): at 0.9 s of the roster's 1 s nobody is named; at 1 s
    the desks that have not read it are, and the one that did is not; a desk offline is said
    so (it gets the message when back, it did not leave it unread on its screen)."""
    from broadcast_helpers import send
    from deskalert.hub.clock import ManualClock
    from deskalert.sitetime import local

    hub = bc_hub(clock=ManualClock(T0))
    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.loaded, what="loaded")
        await in_thread(lambda: post(hub, "g2", "/v1/heartbeat"))  # g2 online, d00 not
        await wait_until(pilot, lambda: app.state.desks["g2"].online, what="g2 online")
        sent = (await in_thread(lambda: send(hub))).json()
        await wait_until(pilot, lambda: "Lu 0/3" in panel(app), what="the broadcast shown")
        await in_thread(lambda: hub.advance(0.9))
        await in_thread(lambda: post(hub, "g1", f"/v1/broadcasts/{sent['id']}/read"))
        read = f"Lu 1/3 : Desk g1 {local(T0):%H:%M}"  # the hub's time, in the site's zone
        await wait_until(pilot, lambda: read in panel(app), what="g1's read, with its time")
        await pilot.pause(0.3)
        assert "PAS LU" not in panel(app)
        await in_thread(lambda: hub.advance(0.1))
        await wait_until(
            pilot,
            lambda: "PAS LU après 1 s : Desk g2, Desk d00 (hors ligne)" in panel(app),
            what="the unread named at the delay, the offline one said so",
        )


async def test_a_broadcast_sent_while_the_pane_loads_the_list_is_not_lost(
    bc_hub: Callable[..., RunningHub],
) -> None:
    """Why: the list read after a snapshot replaced what the events had brought meanwhile, so a
    broadcast sent during the load vanished from the pane until the next snapshot. The real
    hub answers; only the list's answer is held back until the test lets it through (the one
    way to make the crossing certain)."""
    import asyncio

    from broadcast_helpers import send

    hub = bc_hub()
    app = make_pane(hub.url)
    client = app.client
    listing, fetched, held = client.broadcasts, asyncio.Event(), asyncio.Event()

    async def held_listing() -> Any:
        current = await listing()  # read now, answered once the test lets it through
        fetched.set()
        await held.wait()
        return current

    client.broadcasts = held_listing  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, fetched.is_set, what="the list read")
        await in_thread(lambda: send(hub))
        await wait_until(pilot, lambda: "Lu 0/3" in panel(app), what="the broadcast's event")
        held.set()
        await wait_until(pilot, lambda: app.broadcasts.catalog is not None, what="list loaded")
        await pilot.pause(0.2)
        assert "Lu 0/3" in panel(app)


async def test_a_text_with_brackets_is_listed_as_typed_when_ending_it(
    bc_hub: Callable[..., RunningHub],
) -> None:
    """Why: the questions were Textual markup, so "t" listing a message "Salle [/] fermée"
    raised a MarkupError and "[b]" vanished."""
    from broadcast_helpers import send

    hub = bc_hub()
    text = "Salle [/] fermée, [b] entrée B"
    await in_thread(lambda: send(hub, template=None, kind="vigilance", text=text))
    app = make_pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: text in panel(app), what="the broadcast shown")
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, Prompt), what="which to end")
        assert text in str(app.screen.query(Label).first().render())
        await answer(app, pilot, "1")
        await wait_until(pilot, lambda: panel(app) == "", what="ended")


def toasts(app: Any) -> str:
    return " ".join(str(toast.render()) for toast in app.screen.query("Toast"))


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("fr", "Fin du message Confinement par Bob Sup à {time} : Confinement du bâtiment"),
        ("en", "Lockdown message ended by Bob Sup at {time}: Building lockdown"),
    ],
)
async def test_the_end_of_a_message_says_who_ended_it_and_when(
    bc_hub: Callable[..., RunningHub], language: str, said: str
) -> None:
    """Why: the notice said "Message terminé : <text>", not who ended it (the model has it):
    a supervisor who did not end it could not tell whom to ask. Ended by another supervisor,
    two minutes after it was sent (time passes by hand)."""
    from broadcast_helpers import send
    from deskalert.client.settings import ClientConfig
    from deskalert.hub.clock import ManualClock
    from deskalert.sitetime import local
    from deskalert.tui.pane.app import PaneApp

    hub = bc_hub(clock=ManualClock(T0))
    sent = (await in_thread(lambda: send(hub, template="confinement"))).json()
    config = {"language": language, "hub": {"url": hub.url}, "supervisor": {"id": "s.a"}}
    app = PaneApp(ClientConfig.model_validate(config), "tok-s.a")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: "0/3" in panel(app), what="the broadcast shown")
        await in_thread(lambda: hub.advance(120))
        await in_thread(lambda: post(hub, "s.b", f"/v1/broadcasts/{sent['id']}/end"))
        await wait_until(pilot, lambda: panel(app) == "", what="ended")
        ended = said.format(time=f"{local(T0.replace(minute=2)):%H:%M}")
        await wait_until(pilot, lambda: ended in toasts(app), what=f"the notice {ended!r}")
