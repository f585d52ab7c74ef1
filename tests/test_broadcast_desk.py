"""The desk shows a broadcast above everything, says "lu" with one key, shows the end; a desk
that was offline gets the current one when it comes back. Pilot desks against a real hub."""

from __future__ import annotations

import queue
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Static

from broadcast_helpers import current, post, send
from desk_helpers import in_thread, make_desk, wait_until
from deskalert.tui.desk.app import DeskApp
from deskalert.tui.desk.broadcast import BroadcastScreen
from support.events import EventReader
from support.hubs import RunningHub

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")

SIZE = (80, 24)


def shown(app: DeskApp) -> str:
    """The words of the broadcast screen on top, "" if none."""
    screen = app.screen
    if not isinstance(screen, BroadcastScreen):
        return ""
    return " ".join(str(w.render()) for w in screen.query(Static))


def reads(hub: RunningHub, broadcast_id: str) -> list[str]:
    with hub.client("s.a") as client:
        return [r["desk"] for r in client.get(f"/v1/broadcasts/{broadcast_id}").json()["reads"]]


async def test_a_broadcast_shows_above_everything_and_l_says_lu(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    hub = bc_hub()
    app = make_desk(hub.url, tmp_path / "g1.sqlite3", "g1")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        sent = (await in_thread(lambda: send(hub))).json()
        await wait_until(pilot, lambda: "agitée" in shown(app), what="the broadcast on top")
        words = shown(app)
        assert "Vigilance" in words and "À faire" in words and "Ana Sup" in words
        assert "Appuyez sur L" in words
        await pilot.press("l")
        await wait_until(
            pilot,
            lambda: not isinstance(app.screen, BroadcastScreen),
            what="the screen closed after lu",
        )
        assert await in_thread(lambda: reads(hub, sent["id"])) == ["g1"]


async def test_a_desk_offline_gets_it_when_back_and_sees_it_ended_in_english(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    hub = bc_hub()
    sent = send(hub).json()  # d00 is not running: offline
    app = make_desk(hub.url, tmp_path / "d00.sqlite3", "d00", language="en")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "agitated person" in shown(app), what="on top when back")
        assert "Be alert" in shown(app) and "Press L" in shown(app)
        await in_thread(lambda: post(hub, "s.a", f"/v1/broadcasts/{sent['id']}/end"))
        await wait_until(pilot, lambda: "ENDED at" in shown(app), what="shown ended")
        # An ended lockdown must not still read as one: its look and "what to do" go.
        assert app.screen.has_class("look-ended") and not app.screen.has_class("look-warning")
        assert not app.screen.query_one("#broadcast-protocol").display
        await pilot.press("escape")
        await wait_until(
            pilot, lambda: not isinstance(app.screen, BroadcastScreen), what="closed once ended"
        )
    assert await in_thread(lambda: current(hub, "d00")) == []


async def test_a_broadcast_read_before_a_restart_does_not_show_again(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    hub = bc_hub()
    sent = send(hub).json()
    post(hub, "g2", f"/v1/broadcasts/{sent['id']}/read")
    app = make_desk(hub.url, tmp_path / "g2.sqlite3", "g2")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await pilot.pause(0.5)
        assert not isinstance(app.screen, BroadcastScreen)


async def test_a_broadcast_received_is_in_the_journal_and_the_export(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    from deskalert.journal.debrief import Period, export_text
    from deskalert.journal.store import Journal
    from deskalert.tui.desk.journal import JournalScreen

    hub = bc_hub()
    app = make_desk(hub.url, tmp_path / "g1.sqlite3", "g1")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await in_thread(lambda: send(hub, template="confinement"))
        await wait_until(pilot, lambda: "Confinement" in shown(app), what="the broadcast")
        await pilot.press("l")
        await wait_until(pilot, lambda: not isinstance(app.screen, BroadcastScreen), what="read")
        await pilot.pause(0.5)  # the read event comes back and is journaled too
        await pilot.press("j")
        await wait_until(pilot, lambda: isinstance(app.screen, JournalScreen), what="journal")
        line = str(app.screen.query_one("#broadcasts-received", Static).render())
        assert "Confinement: Confinement du bâtiment" in line
    journal = Journal(tmp_path / "g1.sqlite3")
    text = export_text([], "md", "fr", Period(), journal.broadcasts(), "g1")
    assert "# Messages de l'encadrement" in text
    assert "Confinement du bâtiment : restez à votre poste, porte fermée. (Ana Sup)" in text
    assert "  - Lu 1/1 : Desk g1 " in text  # this desk's read alone, not its colleagues'
    assert "Jamais lu" not in text


async def test_the_alert_keys_still_work_while_a_broadcast_is_on_top(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    """Why: a message above everything must never stand between the agent and the panic key."""
    hub = bc_hub()
    app = make_desk(hub.url, tmp_path / "g1.sqlite3", "g1")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: app.state.link_up is True and app.state.codes_known,
            what="link up and codes",
        )
        await in_thread(lambda: send(hub))
        await wait_until(pilot, lambda: "agitée" in shown(app), what="the broadcast on top")
        await pilot.press("f2")

        def alerts() -> list[str]:
            with hub.client("s.a") as client:
                return [a["code"] for a in client.get("/v1/alerts").json()]

        for _ in range(100):
            if await in_thread(alerts) == ["renfort"]:
                break
            await pilot.pause(0.1)
        assert await in_thread(alerts) == ["renfort"]
        assert isinstance(app.screen, BroadcastScreen)  # still there until "lu"


async def d00_back(hub: RunningHub, tmp_path: Path, says_lu: bool) -> None:
    """Desk d00 starts (on its journal): shows the broadcast and says "lu", or shows none."""
    d00 = make_desk(hub.url, tmp_path / "d00.sqlite3", "d00")
    async with d00.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: d00.state.link_up is True, what="d00 link up")
        if not says_lu:
            await pilot.pause(0.5)
            assert not isinstance(d00.screen, BroadcastScreen)
            return
        await wait_until(pilot, lambda: "agitée" in shown(d00), what="on d00 when back")
        await pilot.press("l")
        await wait_until(pilot, lambda: not isinstance(d00.screen, BroadcastScreen), what="lu")


async def test_three_desks_of_a_site_read_it_once_each_the_offline_one_when_back(
    bc_hub: Callable[..., RunningHub], tmp_path: Path, follow: Callable[..., EventReader]
) -> None:
    """Done means: a broadcast to a site with 3 desks, one offline that reads it when back;
    each "lu" stored once, and a desk started again does not show it again."""
    hub = bc_hub()
    g1 = make_desk(hub.url, tmp_path / "g1.sqlite3", "g1")
    g2 = make_desk(hub.url, tmp_path / "g2.sqlite3", "g2")  # one language a process
    async with g1.run_test(size=SIZE) as on_g1, g2.run_test(size=SIZE) as on_g2:
        for app, pilot in ((g1, on_g1), (g2, on_g2)):
            await wait_until(pilot, lambda app=app: app.state.link_up is True, what="link up")
        sent = (await in_thread(lambda: send(hub))).json()
        await wait_until(on_g1, lambda: "agitée" in shown(g1), what="on g1")
        await wait_until(on_g2, lambda: "agitée" in shown(g2), what="on g2")
        for app, pilot in ((g1, on_g1), (g2, on_g2)):
            await pilot.press("l")
            await wait_until(
                pilot, lambda app=app: not isinstance(app.screen, BroadcastScreen), what="lu"
            )
    assert sorted(await in_thread(lambda: reads(hub, sent["id"]))) == ["g1", "g2"]

    # d00 was offline: back, it shows it and says "lu"; back again, it does not show it.
    await d00_back(hub, tmp_path, says_lu=True)
    await d00_back(hub, tmp_path, says_lu=False)
    assert await in_thread(lambda: reads(hub, sent["id"])) == ["g1", "g2", "d00"]
    replay = follow(hub.url, "s.a", params={"since": "0"})  # the whole log: one "lu" per desk
    seen = [replay.events_until("broadcast.read", timeout=5)[-1] for _ in range(3)]
    assert [len(e[2]["reads"]) for e in seen] == [1, 2, 3]
    with pytest.raises(queue.Empty):
        replay.events_until("broadcast.read", timeout=0.5)


async def test_an_older_copy_arriving_after_the_lu_does_not_show_it_again(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    """Why: the list read after a snapshot can be older than the events that came meanwhile;
    its unread copy of a broadcast this desk has just read opened the screen again."""
    from deskalert.models import Broadcast
    from deskalert.tui.desk.broadcast import BroadcastWatch

    hub = bc_hub()
    older = Broadcast.model_validate(send(hub).json())  # as a list read before the "lu" says
    app = make_desk(hub.url, tmp_path / "g1.sqlite3", "g1")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "agitée" in shown(app), what="the broadcast on top")
        await pilot.press("l")
        watch = app.query_one(BroadcastWatch)
        await wait_until(
            pilot, lambda: watch.known[older.id].read_by("g1") is not None, what="lu came back"
        )
        await wait_until(pilot, lambda: not isinstance(app.screen, BroadcastScreen), what="closed")
        watch.post_message(BroadcastWatch.Seen(older))
        await pilot.pause(0.3)
        assert not isinstance(app.screen, BroadcastScreen)


async def test_a_second_broadcast_hides_the_first_until_it_is_closed(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    """Why: a shorter box on top (an ended one) let the first one's "Appuyez sur L" show
    around it, as if it were its own; then the second was drawn on a blank screen, which hid
    the desk, its on-call and its code keys, while two messages were shown."""
    from desk_helpers import screen_text

    hub = bc_hub()
    app = make_desk(hub.url, tmp_path / "g1.sqlite3", "g1")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        await in_thread(lambda: send(hub))
        await wait_until(pilot, lambda: "agitée" in shown(app), what="the first")
        second = (await in_thread(lambda: send(hub, template="confinement"))).json()
        await wait_until(pilot, lambda: "Confinement" in shown(app), what="the second")
        await pilot.pause(0.2)
        seen = screen_text(app)
        assert "agitée" not in seen and "Appuyez sur L" in seen, seen  # the second's alone
        assert "Desk g1" in seen and "F2/ctrl+r Renfort" in seen, seen  # the desk seen through
        await in_thread(lambda: post(hub, "s.a", f"/v1/broadcasts/{second['id']}/end"))
        await wait_until(pilot, lambda: "TERMINÉ" in shown(app), what="the second ended")
        await pilot.pause(0.2)
        seen = screen_text(app)
        assert "agitée" not in seen and "Appuyez sur L" not in seen, seen
        await pilot.press("l")
        await wait_until(pilot, lambda: "agitée" in shown(app), what="the first again")
        await pilot.pause(0.2)
        assert "agitée" in screen_text(app)


async def test_a_kind_labelled_with_brackets_shows_as_written(
    tmp_path: Path, hub_database: Callable[[], str | None]
) -> None:
    """Why: the heading was Textual markup, so a roster kind "Vigilance [/] étage" raised a
    MarkupError on the desk at the moment the message had to show."""
    from broadcast_helpers import broadcast_config
    from support.hubs import start_threaded_hub

    config = broadcast_config()
    kinds = config.broadcasts.kinds  # a copy: the built-in kinds are shared by every config
    kinds[0] = kinds[0].model_copy(update={"label": "Vigilance [/] étage"})
    config.hub.database = hub_database()
    hub = start_threaded_hub(config, tmp_path / "hub")
    try:
        app = make_desk(hub.url, tmp_path / "g1.sqlite3", "g1")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
            await in_thread(lambda: send(hub))
            await wait_until(pilot, lambda: "agitée" in shown(app), what="the broadcast on top")
            assert "Message de l'encadrement · Vigilance [/] étage" in shown(app)
    finally:
        hub.stop()


async def test_a_desk_with_two_messages_says_one_more_waits_and_shows_it_after_lu(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    """Why: the top message (the newest) hid the other entirely and said nothing of it, so the
    agent who read one did not know that a second one, older, was still to be read."""
    hub = bc_hub()
    first = send(hub).json()  # the desk is not running yet: both wait for it
    second = send(hub, template="confinement").json()
    app = make_desk(hub.url, tmp_path / "g1.sqlite3", "g1")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "Confinement du" in shown(app), what="the newest on top")
        await wait_until(pilot, lambda: "1 autre message" in shown(app), what="the other said")
        await pilot.press("l")
        await wait_until(pilot, lambda: "agitée" in shown(app), what="the older one, after lu")
        assert "autre message" not in shown(app)  # the last one: nothing more underneath
        await pilot.press("l")
        await wait_until(pilot, lambda: not isinstance(app.screen, BroadcastScreen), what="lu")
    assert await in_thread(lambda: reads(hub, second["id"])) == ["g1"]
    assert await in_thread(lambda: reads(hub, first["id"])) == ["g1"]


async def test_a_message_arriving_over_another_counts_it_and_the_count_follows_its_end(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    """A second message arrives while the first is shown: it says "1 other message"; when the
    one underneath is read from elsewhere the count goes, and the message on top stays (closing
    the one underneath closed the top one: Textual's `dismiss` pops the top screen)."""
    hub = bc_hub()
    app = make_desk(hub.url, tmp_path / "g1.sqlite3", "g1", language="en")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        first = (await in_thread(lambda: send(hub))).json()
        await wait_until(pilot, lambda: "agitated" in shown(app), what="the first")
        assert "other message" not in shown(app)
        await in_thread(lambda: send(hub, template="confinement"))
        await wait_until(pilot, lambda: "1 other message" in shown(app), what="the count")
        await in_thread(lambda: post(hub, "g1", f"/v1/broadcasts/{first['id']}/read"))
        await wait_until(pilot, lambda: "other message" not in shown(app), what="count gone")
        await pilot.pause(0.3)
        assert "Lockdown" in shown(app) or "Confinement" in shown(app)  # the top one stays
        await pilot.press("l")
        await wait_until(pilot, lambda: not isinstance(app.screen, BroadcastScreen), what="lu")
        await pilot.pause(0.3)  # the first, read elsewhere, does not come back
        assert not isinstance(app.screen, BroadcastScreen)
