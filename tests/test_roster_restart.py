"""hub.toml edited while the hub was stopped, then the hub started again (a restart instead of
`deskalert hub reload`): the desks, panes and pages that come back replay `roster.changed`
from their last event and read their codes again. Before, nothing told them: they kept the
codes, desks and on-call of the roster before the restart until their own restart."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Callable
from pathlib import Path

import httpx

from deskalert.hub.settings import HubConfig
from support.events import EventReader
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth
from support.roster import roster_toml
from test_reload import changed_roster


def start(toml: str, database: str | None, data_dir: Path) -> RunningHub:
    config = HubConfig.model_validate(tomllib.loads(toml))
    config.hub.database = database
    return start_threaded_hub(config, data_dir)


def last_event_id(hub: RunningHub) -> int:
    health = httpx.get(f"{hub.url}/healthz", timeout=5).json()
    return int(health["last_event_id"] or 0)


def test_a_restart_on_an_edited_roster_is_announced_once(
    tmp_path: Path,
    hub_database: Callable[[], str | None],
    follow: Callable[..., EventReader],
) -> None:
    database = hub_database()
    before = start(roster_toml(), database, tmp_path / "data")
    seen = last_event_id(before)  # where a desk's stream was when the hub stopped
    before.stop()

    edited = start(changed_roster(), database, tmp_path / "data")
    desk = follow(edited.url, "g1", params={"since": str(seen)})  # the desk coming back
    event_id, kind, data = desk.next_event(timeout=10)
    assert kind == "roster.changed", (kind, data)
    codes = httpx.get(f"{edited.url}/v1/codes", headers=auth("g1"), timeout=5).json()
    assert "incendie" in {code["code"] for code in codes}
    edited.stop()

    # The same file again: nothing changed, nothing announced.
    again = start(changed_roster(), database, tmp_path / "data")
    desk = follow(again.url, "g1", params={"since": str(event_id)})
    try:
        assert "roster.changed" not in [kind for _, kind, _ in desk.events_for(1.5)]
    finally:
        again.stop()


def test_a_reload_then_a_restart_on_the_file_before_it_is_announced(
    tmp_path: Path,
    hub_database: Callable[[], str | None],
    follow: Callable[..., EventReader],
) -> None:
    """The file reloaded to the edited roster, then put back and the hub restarted: the desks
    were told of the edited one, so the one put back is a change too."""
    database = hub_database()
    hub = start(roster_toml(), database, tmp_path / "data")
    edited = HubConfig.model_validate(tomllib.loads(changed_roster()))
    reload = hub.hub.reload(edited)
    asyncio.run_coroutine_threadsafe(reload, hub.hub.runtime.loop).result(timeout=10)
    seen = last_event_id(hub)
    hub.stop()

    back = start(roster_toml(), database, tmp_path / "data")
    try:
        _, kind, _ = follow(back.url, "g1", params={"since": str(seen)}).next_event(timeout=10)
        assert kind == "roster.changed"
    finally:
        back.stop()
