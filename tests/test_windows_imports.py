"""The desk side without the POSIX-only modules (as on Windows): every module of client/,
journal/, tui/ and the command line imports, the hotkeys' single-instance lock works, and the
user's name is found. Run in a subprocess where `fcntl`, `pwd`, `grp` and `termios` are made
unimportable (`sys.modules[name] = None`): this machine is Linux, and nothing here has been run
on Windows itself (README, "Windows")."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import sys
    for name in ("fcntl", "pwd", "grp", "termios"):
        sys.modules[name] = None  # import fails with ImportError, as on Windows

    import asyncio, importlib, pkgutil, tempfile
    from pathlib import Path

    import deskalert
    imported = []
    for package in ("client", "journal", "tui"):
        root = importlib.import_module(f"deskalert.{package}")
        imported.append(root.__name__)
        for info in pkgutil.walk_packages(root.__path__, f"deskalert.{package}."):
            importlib.import_module(info.name)
            imported.append(info.name)
    cli = importlib.import_module("deskalert.cli")  # a module, or a package since cli-models
    imported.append(cli.__name__)
    for info in pkgutil.walk_packages(getattr(cli, "__path__", []), "deskalert.cli."):
        importlib.import_module(info.name)
        imported.append(info.name)

    from deskalert.client import hotkeys
    from deskalert.client.hotkeys.sources import _user
    assert _user() == "agent-7", _user()  # Windows sets USERNAME
    hotkeys.LOCK_RETRY_S = 0.05

    async def one_at_a_time(lock):
        order = []
        async def hold(name, seconds):
            async with hotkeys._exclusive(lock):
                order.append(name + " in")
                await asyncio.sleep(seconds)
                order.append(name + " out")
        first = asyncio.create_task(hold("a", 0.3))
        await asyncio.sleep(0.05)
        await asyncio.gather(first, hold("b", 0))
        return order

    with tempfile.TemporaryDirectory() as tmp:
        order = asyncio.run(one_at_a_time(Path(tmp) / "sub" / "hotkeys.lock"))
    assert order == ["a in", "a out", "b in", "b out"], order
    print(len(imported), "modules")
""")


def test_the_desk_side_runs_without_posix_modules() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LOGNAME", "USER", "LNAME")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "USERNAME": "agent-7"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[0]) >= 30
