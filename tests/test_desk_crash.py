"""A desk app killed (SIGKILL) with a queued alert delivers it once at its next start."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from desk_helpers import free_port, in_thread, make_desk, wait_until
from deskalert.tui.desk.state import Step
from support.hubs import start_threaded_hub
from support.roster import make_config

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = [pytest.mark.stores("sqlite"), pytest.mark.system]  # a desk killed with SIGKILL

# The desk app in a child process, headless through run_test (no terminal here): it presses the
# key with the hub down, says so, then waits to be killed.
CHILD = textwrap.dedent("""
    import asyncio, sys
    sys.path.insert(0, {tests!r})
    from desk_helpers import make_desk, wait_until
    from pathlib import Path

    async def main():
        app = make_desk({url!r}, Path({journal!r}))
        async with app.run_test() as pilot:
            await wait_until(pilot, lambda: app.state.link_up is False)
            await pilot.press("f2")
            [own] = app.state.own.values()
            print("QUEUED", own.id, flush=True)
            await asyncio.sleep(600)

    asyncio.run(main())
""")


async def test_killed_with_a_queued_alert_then_restarted_delivers_it_exactly_once(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    journal = tmp_path / "journal.sqlite3"
    script = CHILD.format(tests=str(Path(__file__).parent), url=url, journal=str(journal))
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = await in_thread(child.stdout.readline)
        assert line.startswith("QUEUED "), line
        queued_id = line.split()[1]
    finally:
        child.kill()
        child.wait()

    hub = start_threaded_hub(make_config(), tmp_path / "hub", port)
    notes: list[str] = []
    try:
        app = make_desk(url, journal)
        app.notify = lambda message, **kw: notes.append(message)  # type: ignore[method-assign]
        async with app.run_test() as pilot:
            await wait_until(
                pilot,
                lambda: any(
                    str(o.id) == queued_id and o.step is Step.TRANSMITTED
                    for o in app.state.own.values()
                ),
                what="delivered after restart",
            )
            await pilot.pause(0.3)
        with hub.client("s.a") as sup:
            alerts = (await in_thread(lambda: sup.get("/v1/alerts"))).json()
        assert [a["id"] for a in alerts] == [queued_id]
        assert "1 alerte restée en file : envoi en cours." in notes

        again = make_desk(url, journal)  # a third start sends nothing more
        async with again.run_test() as pilot:
            await wait_until(pilot, lambda: again.state.link_up is True, what="link up")
            await pilot.pause(0.3)
        with hub.client("s.a") as sup:
            assert len((await in_thread(lambda: sup.get("/v1/alerts"))).json()) == 1
    finally:
        await in_thread(hub.stop)
