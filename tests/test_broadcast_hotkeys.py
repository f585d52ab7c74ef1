"""The global-keys listener shows a broadcast this desk has not read as a desktop notification
that stays (critical), and its end; against a real hub. The notification call itself is
recorded here, except for the markup test, which drives a real session bus."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from broadcast_helpers import post, send
from dbus_helpers import missing_dbus
from deskalert.client.hotkeys.broadcasts import BroadcastNotices, follow_broadcasts
from support.hubs import RunningHub

pytestmark = pytest.mark.stores("sqlite")


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_broadcast_becomes_a_notification_that_stays_and_its_end_another(
    bc_hub: Callable[..., RunningHub],
) -> None:
    hub = bc_hub()
    shown: list[tuple[str, str, dict[str, Any]]] = []

    async def record(summary: str, body: str = "", **options: Any) -> None:
        shown.append((summary, body, options))

    already = (await asyncio.to_thread(send, hub)).json()
    await asyncio.to_thread(post, hub, "g1", f"/v1/broadcasts/{already['id']}/read")
    task = asyncio.create_task(
        follow_broadcasts(hub.url, "tok-g1", "g1", BroadcastNotices("g1", record))
    )
    try:
        sent = (await asyncio.to_thread(send, hub, template="evacuation")).json()
        await eventually(lambda: len(shown) == 1, "the notification")
        assert shown[0] == (
            "Message de l'encadrement · Évacuation",
            "Évacuation du bâtiment : sortez par l'issue la plus proche.",
            {"critical": True},
        )  # the one read before is not shown
        await asyncio.to_thread(post, hub, "s.a", f"/v1/broadcasts/{sent['id']}/end")
        await eventually(lambda: len(shown) == 2, "the end")
        assert shown[1][0].startswith("Terminé : Évacuation")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_after_a_reconnect_each_broadcast_is_shown_once_the_new_one_too(
    bc_hub: Callable[..., RunningHub],
) -> None:
    """The hub restarts (same port, same database) under a following listener: the one shown
    before is not shown again, the one sent after the restart is shown once."""
    hub = bc_hub()
    port = int(hub.url.rsplit(":", 1)[1])
    shown: list[str] = []

    async def record(summary: str, body: str = "", **options: Any) -> None:
        shown.append(body)

    task = asyncio.create_task(
        follow_broadcasts(hub.url, "tok-g2", "g2", BroadcastNotices("g2", record))
    )
    try:
        await asyncio.to_thread(send, hub)  # agite
        await eventually(lambda: len(shown) == 1, "the first notification")
        await asyncio.to_thread(hub.stop)
        hub = await asyncio.to_thread(bc_hub, port=port)
        await asyncio.to_thread(send, hub, template="confinement")
        await eventually(lambda: len(shown) == 2, "the one sent after the restart", timeout=30)
        await asyncio.sleep(1)
        assert shown == [
            "Une personne agitée se dirige vers les guichets.",
            "Confinement du bâtiment : restez à votre poste, porte fermée.",
        ]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.skipif(missing_dbus() is not None, reason=str(missing_dbus()))
@pytest.mark.parametrize(
    ("capabilities", "body"),
    [
        (("body", "body-markup"), "Salle &lt;B&gt; &amp; C : porte 2 &lt; 3"),
        (("body",), "Salle <B> & C : porte 2 < 3"),
    ],
)
async def test_a_text_with_markup_characters_reaches_the_notification_server_as_typed(
    bc_hub: Callable[..., RunningHub],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capabilities: tuple[str, ...],
    body: str,
) -> None:
    """Why: the body went to the D-Bus server as typed, and a server that reads the body as
    markup (the freedesktop spec's "body-markup") showed "Salle <B> & C" wrong or not at all.
    Escaped only for a server that says it reads markup (one that does not shows it as sent);
    the summary is never markup. A real session bus, a test server on it, desktop-notifier."""
    from dbus_helpers import notification_server, session_bus, wait_received
    from deskalert.client.hotkeys import feedback

    hub = bc_hub()
    text = "Salle <B> & C : porte 2 < 3"
    out = tmp_path / "notifications.jsonl"
    # Bounded: once, under two suites at once, this test waited forever in the gather below: the
    # listener's cancel was swallowed by asyncio.wait_for as the server answered (feedback.py,
    # test_a_notification_stopped_as_the_server_answers_stops). A hang says nothing; a failure
    # says where. The bus and the server bound their own start (dbus_helpers.first_line).
    async with asyncio.timeout(60):
        with session_bus(tmp_path) as address, notification_server(address, out, capabilities):
            monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
            chain = await feedback.Feedback.probe()
            notices = BroadcastNotices("g1", chain.notify)
            task = asyncio.create_task(follow_broadcasts(hub.url, "tok-g1", "g1", notices))
            try:
                await asyncio.to_thread(send, hub, template=None, kind="vigilance", text=text)
                [shown] = await asyncio.to_thread(wait_received, out, 1)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
    assert shown["summary"] == "Message de l'encadrement · Vigilance"
    assert shown["body"] == body
