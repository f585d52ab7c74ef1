"""A reload seen on the screens: the desk's new code and key and the new on-call card arrive
over the stream it has open; a removed desk shows its refused token as it does today."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from desk_helpers import in_thread, make_desk, make_pane, text_of, wait_until
from deskalert.tui.link import LinkKind
from support.hubs import RunningHub
from test_reload import changed_roster

# What is tested here is a screen, not the store: on SQLite only (test_reload runs both).
pytestmark = pytest.mark.stores("sqlite")
SIZE = (100, 40)


def reload_now(hub: RunningHub) -> tuple[bool, str]:
    """What SIGHUP does, on the hub's loop (signals reach only a process's main thread)."""
    reloader = hub.server.reloader
    assert reloader is not None
    loop = hub.server.server.config.app.state.hub.runtime.loop
    return asyncio.run_coroutine_threadsafe(reloader.reload(), loop).result(timeout=10)


async def test_the_desk_shows_the_new_code_and_card_without_losing_its_link(
    reloadable: tuple[RunningHub, Path], tmp_path: Path
) -> None:
    hub, path = reloadable
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: app.state.link_up is True and app.state.codes_known, what="link up"
        )
        assert "Incendie" not in text_of(app, "#codes")
        downs: list[LinkKind] = []
        app.watch(
            app,
            "link",
            lambda link: downs.append(link.kind) if link.kind is not LinkKind.UP else None,
            init=False,
        )
        path.write_text(changed_roster(), encoding="utf-8")
        ok, line = await in_thread(lambda: reload_now(hub))
        assert ok, line
        await wait_until(pilot, lambda: "Incendie" in text_of(app, "#codes"), what="new code")
        await wait_until(pilot, lambda: "Cleo Sup" in text_of(app, "#oncall"), what="new card")
        assert "F6" in text_of(app, "#codes")
        assert downs == []  # the link never went down: the same stream carried it all


async def test_a_removed_desk_shows_its_token_refused(
    reloadable: tuple[RunningHub, Path], tmp_path: Path
) -> None:
    hub, path = reloadable
    app = make_desk(hub.url, tmp_path / "journal.sqlite3", desk="g2")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        path.write_text(changed_roster(), encoding="utf-8")
        ok, line = await in_thread(lambda: reload_now(hub))
        assert ok and "-g2" in line, line
        await wait_until(pilot, lambda: app.link.kind is LinkKind.TOKEN_REFUSED, what="refused")
        assert text_of(app, "#link") == "● jeton refusé par le hub"


async def test_the_pane_shows_the_new_card(reloadable: tuple[RunningHub, Path]) -> None:
    hub, path = reloadable
    app = make_pane(hub.url, "s.b")
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.state.loaded, what="picture loaded")
        assert "incendie" not in app.state.codes
        path.write_text(changed_roster(), encoding="utf-8")
        ok, line = await in_thread(lambda: reload_now(hub))
        assert ok, line
        await wait_until(pilot, lambda: "incendie" in app.state.codes, what="codes read again")
        card = app.state.oncall["accueil"]
        assert card.supervisor is not None and card.supervisor.id == "s.c"
        assert app.link.kind is LinkKind.UP


async def test_a_revoked_desk_shows_its_token_refused(
    reloadable: tuple[RunningHub, Path], tmp_path: Path
) -> None:
    from deskalert.cli import main

    hub, path = reloadable
    app = make_desk(hub.url, tmp_path / "journal.sqlite3", desk="g2")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.link_up is True, what="link up")
        revoke = [
            "hub",
            "token",
            "revoke",
            "g2",
            "--config",
            str(path),
            "--data-dir",
            str(hub.data_dir),
        ]
        assert await in_thread(lambda: main(revoke)) == 0
        await wait_until(pilot, lambda: app.link.kind is LinkKind.TOKEN_REFUSED, what="refused")
        assert text_of(app, "#link") == "● jeton refusé par le hub"
