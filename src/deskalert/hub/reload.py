"""A roster change without a restart: hub.toml read again, checked as `hub --check` does, and
the outcome written where `deskalert hub reload` reads it.

`deskalert hub reload` (and `systemctl reload`, whose ExecReload= runs it) sends SIGHUP to the
hub whose pid is in DATA_DIR/hub.control, then waits for that file to say how the reload went.
A signal rather than an HTTP endpoint: the operating system says who may ask (the hub's user or
root), no credential has to be made, kept or typed, nothing more listens on the network, and it
is what `kill -HUP` and systemd already do. The control file carries the answer back.

Only the roster is reloaded (`ROSTER_KEYS`); `[hub]` and `[metrics]` (the database, the
timings, the limits, the address list) are read at start: a file that changes them is refused,
whole, and says which key, so that a reload never half-applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from deskalert.errors import ConfigError, HubError
from deskalert.hub.settings import HubConfig, load_hub_config

log = logging.getLogger("deskalert.hub")
CONTROL_NAME = "hub.control"
# What a reload replaces; everything else of hub.toml is read at start only.
ROSTER_KEYS = (
    "codes",
    "sites",
    "desks",
    "supervisors",
    "oncall",
    "oncall_calendar",
    "broadcasts",
)
START_ONLY = ("hub", "metrics")


def read_for_reload(path: Path, running: HubConfig) -> HubConfig:
    """hub.toml read again with the checks of `hub --check` (the file's keys, the calendar
    files, the notification channels); ConfigError in one line if it cannot replace
    `running` (nothing changes then)."""
    from deskalert.hub import notify
    from deskalert.hub.calendar import CalendarError, check_calendars

    config = load_hub_config(path)
    try:
        check_calendars(config)
    except CalendarError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    for channel in notify.all_channels(config).values():
        try:
            notify.check_channel(channel)
        except notify.ChannelError as exc:
            raise ConfigError(f"{path}: notify {channel.owner}: {exc}") from None
    for section in START_ONLY:
        changed = _changed_keys(getattr(running, section), getattr(config, section))
        if changed:
            raise ConfigError(
                f"{path}: [{section}] {changed[0]} differs from the running hub's; [{section}]"
                " is read at start only: restore it, or restart the hub"
            )
    return config


def _changed_keys(old: object, new: object) -> list[str]:
    before, after = old.model_dump(), new.model_dump()  # type: ignore[attr-defined]
    return [key for key in after if before.get(key) != after[key]]


# -- the control file: how `deskalert hub reload` finds the hub and hears its answer ------------


@dataclass
class Control:
    """DATA_DIR/hub.control: the running hub's pid and the outcome of its last reload."""

    pid: int
    config: str
    reloads: int = 0  # reloads asked since start (SIGHUP), good or bad
    ok: bool = True
    line: str = "started"
    at: str = ""

    def write(self, data_dir: Path) -> None:
        """Atomically (a reader never sees half a file); 0600 like the rest of the data dir."""
        self.at = datetime.now(UTC).isoformat(timespec="seconds")
        target = data_dir / CONTROL_NAME
        temporary = target.with_name(f"{CONTROL_NAME}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(self), out)
        os.replace(temporary, target)

    @classmethod
    def read(cls, data_dir: Path) -> Control | None:
        """The control file, or None if there is none or it cannot be read."""
        try:
            raw = json.loads((data_dir / CONTROL_NAME).read_text(encoding="utf-8"))
            return cls(**raw)
        except (OSError, ValueError, TypeError):
            return None


class Reloader:
    """SIGHUP in a running hub: read hub.toml again, swap the roster if it is good, log one
    line and write it to the control file either way. With several hubs, a roster another hub
    made the database's is followed the same way (`follow`): this hub reads its own file
    again, and goes out of step (503) if that file is another roster."""

    def __init__(self, hub: ReloadableHub, config_path: Path, data_dir: Path) -> None:
        self.hub = hub
        self.config_path = config_path
        self.data_dir = data_dir
        self.control = Control(pid=os.getpid(), config=str(config_path))
        self._running: asyncio.Task[None] | None = None
        self._next: list[str | None] = []  # what to do once the running reload ends
        hub.on_roster_moved = self.follow

    def install(self) -> None:
        """At the server's start, in the main thread: SIGHUP reloads; the control file says
        which process to signal."""
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, self.asked)
        self.control.write(self.data_dir)

    def uninstall(self) -> None:
        with contextlib.suppress(ValueError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)

    def asked(self) -> None:
        """SIGHUP: this hub's file becomes the roster (of every hub of its database)."""
        self._queue(None)

    def follow(self, fingerprint: str) -> None:
        """Another hub made `fingerprint` the database's roster: read this hub's file again."""
        self._queue(fingerprint)

    def _queue(self, expected: str | None) -> None:
        """One reload at a time; one asked during another is done once it ends (the file may
        have changed again since it was read)."""
        if expected not in self._next:
            self._next.append(expected)
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._drain(), name="deskalert-reload")

    async def _drain(self) -> None:
        while self._next:
            expected = self._next.pop(0)
            if expected is None:
                await self.reload()
            else:
                await self.reload_following(expected)

    async def reload(self) -> tuple[bool, str]:
        """Read, check, swap; (whether it was swapped, the one line said about it)."""
        ok, line = await self._swap(None)
        self.control.reloads += 1
        self.control.ok, self.control.line = ok, line
        try:
            self.control.write(self.data_dir)
        except OSError as exc:
            log.error("cannot write %s: %s", self.data_dir / CONTROL_NAME, exc.strerror)
        return ok, line

    async def reload_following(self, expected: str) -> tuple[bool, str]:
        """The same file read again to follow another hub; refused, this hub goes 503."""
        ok, line = await self._swap(expected)
        if not ok:
            self.hub.go_out_of_step(line)
        return ok, line

    async def _swap(self, expected: str | None) -> tuple[bool, str]:
        try:
            config = await asyncio.to_thread(read_for_reload, self.config_path, self.hub.config)
            ok, line = True, await self.hub.reload(config, expected)
        except ConfigError as exc:
            ok, line = False, f"reload refused, nothing changed: {_one_line(exc)}"
        except HubError as exc:  # the database (503), or another roster than the others'
            ok, line = False, f"reload refused, nothing changed: {exc.detail}"
        if expected is None or ok:
            (log.info if ok else log.error)("%s", line)
        return ok, line


class ReloadableHub(Protocol):
    config: HubConfig
    on_roster_moved: Callable[[str], None]

    async def reload(self, config: HubConfig, expected: str | None = None) -> str: ...

    def go_out_of_step(self, line: str) -> None: ...


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).splitlines())
