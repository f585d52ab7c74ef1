"""A real session D-Bus for the desktop-notification tests: `dbus-daemon --session` on a
private socket, and a tiny org.freedesktop.Notifications server on it (dbus-fast, which
desktop-notifier brings on Linux) that writes each Notify call as one JSON line.

Run as a script, it is that server: `python dbus_helpers.py OUT.jsonl [CAPABILITY,...]` (the
bus address in $DBUS_SESSION_BUS_ADDRESS; capabilities "body" unless given). No `from
__future__ import annotations` here: dbus-fast reads the D-Bus signatures from the annotations
at run time."""

import asyncio
import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


def missing_dbus() -> str | None:
    if shutil.which("dbus-daemon") is None:
        return "dbus-daemon not installed (Debian: apt-get install -y dbus-daemon; .ci/run does)"
    return None


@contextmanager
def session_bus(tmp: Path) -> Iterator[str]:
    """A session bus of its own; yields its address."""
    config = tmp / "session.conf"
    config.write_text(
        '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"'
        ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n<busconfig>'
        f"<type>session</type><listen>unix:dir={tmp}</listen>"
        '<policy context="default"><allow send_destination="*" eavesdrop="true"/>'
        '<allow eavesdrop="true"/><allow own="*"/></policy></busconfig>',
        encoding="utf-8",
    )
    daemon = subprocess.Popen(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address"],
        stdout=subprocess.PIPE,
    )
    try:
        yield first_line(daemon, "dbus-daemon's address")
    finally:
        daemon.terminate()
        daemon.wait(10)


@contextmanager
def notification_server(
    address: str, out: Path, capabilities: tuple[str, ...] = ("body",)
) -> Iterator[Path]:
    """The server of this file as a process on the bus at `address`, once it owns its name;
    it says it has `capabilities` ("body-markup": it reads the body as the spec's markup)."""
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address}
    server = subprocess.Popen(
        [sys.executable, __file__, str(out), ",".join(capabilities)],
        env=env,
        stdout=subprocess.PIPE,
    )
    try:
        assert first_line(server, "the notification server's ready") == "ready"
        yield out
    finally:
        server.terminate()
        server.wait(10)


def first_line(process: subprocess.Popen[bytes], what: str, timeout: float = 30) -> str:
    """The first line `process` prints, within `timeout` s. A bare readline would wait for ever
    on a process that hangs, and in an async test it holds the event loop, so that no
    `asyncio.timeout` around it can fire."""
    assert process.stdout is not None
    fd, line, deadline = process.stdout.fileno(), b"", time.monotonic() + timeout
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"{what}: no line within {timeout:g} s")
        if not (chunk := os.read(fd, 4096)):
            raise AssertionError(f"{what}: the process ended first (exit {process.wait(10)})")
        line += chunk
    return line.decode().strip()


def received(out: Path) -> list[dict[str, Any]]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def wait_received(out: Path, count: int, timeout: float = 10) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(notes := received(out)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return notes


async def _serve(out: Path, capabilities: list[str]) -> None:
    from dbus_fast import Variant
    from dbus_fast.aio import MessageBus
    from dbus_fast.service import ServiceInterface, method

    class Notifications(ServiceInterface):
        def __init__(self) -> None:
            super().__init__(NAME)
            self.last = 0

        @method()
        def Notify(
            self,
            app_name: "s",
            replaces_id: "u",
            app_icon: "s",  # type: ignore
            summary: "s",
            body: "s",
            actions: "as",
            hints: "a{sv}",
            expire_timeout: "i",
        ) -> "u":
            self.last += 1
            urgency = hints.get("urgency")
            with out.open("a", encoding="utf-8") as file:
                file.write(
                    json.dumps(
                        {
                            "app": app_name,
                            "summary": summary,
                            "body": body,
                            "urgency": urgency.value if isinstance(urgency, Variant) else None,
                        }
                    )
                    + "\n"
                )
            return self.last

        @method()
        def GetCapabilities(self) -> "as":  # type: ignore
            return capabilities

        @method()
        def GetServerInformation(self) -> "ssss":  # type: ignore
            return ["test-server", "deskalert", "1", "1.2"]

        @method()
        def CloseNotification(self, id: "u") -> None:  # type: ignore
            pass

    bus = await MessageBus().connect()
    bus.export(PATH, Notifications())
    await bus.request_name(NAME)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_serve(Path(sys.argv[1]), (sys.argv[2:] or ["body"])[0].split(",")))
