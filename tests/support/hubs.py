"""Real hubs on 127.0.0.1: in a thread of the test (`RunningHub`) or in a process of their own
(`HubProcess`), and the helpers that reach into a threaded hub's store."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from deskalert.errors import StoreUnavailable
from deskalert.hub.clock import ManualClock
from deskalert.hub.server import HubServer, build_server
from deskalert.hub.service import Hub
from deskalert.hub.settings import HubConfig
from support.requests import auth


@dataclass
class RunningHub:
    """A real hub on 127.0.0.1 and a port of its own, served by uvicorn in a thread.

    Started with a `ManualClock` (`hub_factory(clock=...)`), it has no ticker: time passes
    only by `advance(seconds)`, which moves the clock and ticks the hub once, on its loop."""

    server: HubServer
    thread: threading.Thread
    config: HubConfig
    data_dir: Path
    clock: ManualClock | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def hub(self) -> Hub:
        """The in-process `Hub` behind the server (its components, its store)."""
        return self.server.server.config.app.state.hub  # type: ignore[no-any-return]

    def advance(self, seconds: float) -> None:
        """Time passing by hand: the clock moves on by `seconds`, then the hub does what time
        passing does (`Hub.tick`: offline desks, escalation, interview checks), both on the
        hub's own loop; returns once the tick's commits are done. A tick the store refuses is
        what the ticker's would be: logged by the hub, tried again at the next one."""
        clock = self.clock
        assert clock is not None, "a hub started without a ManualClock keeps its own time"
        hub = self.hub

        async def step() -> None:
            clock.advance(seconds)
            with contextlib.suppress(StoreUnavailable):
                await hub.tick()

        asyncio.run_coroutine_threadsafe(step(), hub.runtime.loop).result(timeout=10)

    def client(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=auth(who), timeout=5)

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "hub thread did not stop"


def on_store(hub: RunningHub, fn: Callable[[Any], Any]) -> Any:
    """Runs `fn(connection)` on the threaded hub's own store thread (SQLite connections belong
    to a thread): how the fault tests break and repair the hub's database."""
    state = hub.server.server.config.app.state.hub
    return state.runtime.executor.submit(lambda: fn(state.store._db)).result()


def read_only(db: Any) -> None:
    """Make the hub's store connection refuse writes (as a read-only database would)."""
    if isinstance(db, sqlite3.Connection):
        db.execute("PRAGMA query_only=ON")
    else:  # PostgreSQL: the session's transactions become read-only
        db.execute("SET default_transaction_read_only = on")


def writable(db: Any) -> None:
    if isinstance(db, sqlite3.Connection):
        db.execute("PRAGMA query_only=OFF")
    else:
        db.execute("SET default_transaction_read_only = off")


def start_threaded_hub(
    config: HubConfig,
    data_dir: Path,
    port: int = 0,
    config_path: Path | None = None,
    clock: ManualClock | None = None,
) -> RunningHub:
    """A real hub in a thread; with `clock`, without its ticker (`RunningHub.advance`)."""
    server = build_server(
        config,
        host="127.0.0.1",
        port=port,
        data_dir=data_dir,
        config_path=config_path,
        clock=clock,
        ticker=clock is None,
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.server.started:
        assert time.monotonic() < deadline, "hub did not start"
        time.sleep(0.01)
    return RunningHub(server, thread, config, data_dir, clock)


@dataclass
class HubProcess:
    """A hub in its own process (`python -m deskalert hub`), for kill -9 and restarts."""

    process: subprocess.Popen[str]
    url: str
    database: str | None = None  # the PostgreSQL URL it shares, None: SQLite in its data dir

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise AssertionError("hub did not become healthy")


# The banner's line with the hub's address, in either language of the command line.
LISTENING = re.compile(r"^\s+(?:listening on|écoute sur)\s+(\S+)")


def listening_url(line: str) -> str | None:
    """The hub's URL if `line` is its banner's listening line, else None."""
    found = LISTENING.match(line)
    return found.group(1) if found else None


def first_lines(argv: list[str], count: int) -> list[str]:
    """The first `count` lines a `deskalert ARGV` process prints (a hub's banner, printed before
    it serves), with none of this machine's DESKALERT_ variables; the process is then stopped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKALERT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "deskalert", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        return [process.stdout.readline() for _ in range(count)]
    finally:
        process.terminate()
        process.wait(timeout=30)
