"""Global keys: an alert raised from anywhere on the desktop, or from a USB button under the desk.

    [hotkeys]                       in config.toml
    renfort = "<ctrl>+<shift>+<f2>" code = key combination, in pynput's notation
    hold_ms = 800                   optional: held that long, or nothing is sent
    device = "/dev/input/by-id/..." optional: read this device through evdev, not the display

`listen` reads the keys (sources.py), follows the combinations (combos.py) and calls `fire(code)`
in the event loop; what a press does is the caller's: the desk app calls its F-key action, so the
corner and the 2 s warning follow the alert as for an F-key; `deskalert hotkeys` alone raises
through the same outbox (standalone.py). Both hold one lock file next to the journal while they
listen, so that with both running a press raises one alert, not two: the other waits, and takes
over when the first stops (the desk app closed, the autostarted listener ended).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import filelock

from deskalert.client.hotkeys.combos import ComboTracker
from deskalert.client.hotkeys.sources import Source, display_available, open_source
from deskalert.client.settings import Hotkeys

__all__ = ["display_available", "listen", "lock_path", "open_source"]

log = logging.getLogger("deskalert.hotkeys")
LOCK_RETRY_S = 2.0


def lock_path(journal_path: Path) -> Path:
    """One listener per journal: the lock lives beside it."""
    return journal_path.with_name("hotkeys.lock")


async def listen(
    hotkeys: Hotkeys,
    fire: Callable[[str], object],
    *,
    lock: Path | None,
    source: Source | None = None,
) -> None:
    """Call `fire(code)` for each combination pressed (or held `hold_ms`), until cancelled."""
    source = source or open_source(hotkeys)
    async with _exclusive(lock):
        loop = asyncio.get_running_loop()
        tracker = ComboTracker(source.combinations, hotkeys.hold_ms / 1000, fire, loop.call_later)
        log.info("listening: %s", ", ".join(sorted(source.combinations)))
        await source.run(tracker)


@contextlib.asynccontextmanager
async def _exclusive(path: Path | None) -> AsyncIterator[None]:
    """Hold `path` locked while listening; wait while another listener holds it. filelock
    takes flock on POSIX and msvcrt's lock on Windows: the OS drops either when the process
    dies, so a crashed listener leaves no stale lock."""
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(path, mode=0o600, thread_local=False)
    waiting = False
    while True:
        try:
            lock.acquire(timeout=0)
            break
        except filelock.Timeout:
            if not waiting:
                log.info("another deskalert listens to the global keys; waiting for it to stop")
                waiting = True
            await asyncio.sleep(LOCK_RETRY_S)
    try:
        yield
    finally:
        lock.release()
