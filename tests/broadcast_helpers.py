"""A hub on the broadcast roster (three desks on accueil, a supervisor of etage only, a short
unread delay), and the few requests the broadcast tests make."""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from deskalert.hub.clock import ManualClock
from deskalert.hub.settings import HubConfig
from support.hubs import RunningHub, start_threaded_hub
from support.roster import roster_toml

UNREAD_AFTER_S = 1.0


def broadcast_config(unread_after_s: float = UNREAD_AFTER_S) -> HubConfig:
    """The test roster with a third desk on accueil (d00), s.c sending to etage only, and a
    short unread delay."""
    config = HubConfig.model_validate(tomllib.loads(roster_toml(extra_desks=1)))
    config.broadcasts.unread_after_s = unread_after_s
    config.supervisors[2].sites = ["etage"]
    return config


@pytest.fixture
def bc_hub(
    tmp_path: Path, hub_database: Callable[[], str | None]
) -> Iterator[Callable[..., RunningHub]]:
    """Start (and restart, on the same database) a hub on the broadcast roster; with `clock`,
    time passes only by `RunningHub.advance` (the unread are named then, not after 1 s)."""
    started: list[RunningHub] = []
    database = hub_database()

    def start(name: str = "hub", clock: ManualClock | None = None, port: int = 0) -> RunningHub:
        config = broadcast_config()
        config.hub.database = database
        hub = start_threaded_hub(config, tmp_path / name, port=port, clock=clock)
        started.append(hub)
        return hub

    yield start
    for hub in started:
        if hub.thread.is_alive():
            hub.stop()


def send(hub: RunningHub, who: str = "s.a", **body: Any) -> Any:
    payload = {"id": str(uuid.uuid4()), "template": "agite", "sites": ["accueil"], **body}
    with hub.client(who) as client:
        return client.post("/v1/broadcasts", json=payload)


def current(hub: RunningHub, who: str) -> list[dict[str, Any]]:
    with hub.client(who) as client:
        answer = client.get("/v1/broadcasts", params={"state": "current"})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def post(hub: RunningHub, who: str, path: str) -> Any:
    with hub.client(who) as client:
        return client.post(path)
