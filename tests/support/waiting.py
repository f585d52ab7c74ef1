"""Waiting for something a hub, a process or a screen does in its own time: `wait_until` in a
test's thread, `wait_until_async` in a coroutine (the event loop keeps running while it waits;
desk_helpers' `wait_until(pilot, ...)` passes the Textual pilot's own pause)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], timeout: float = 10, what: str = "condition", every: float = 0.05
) -> T:
    """Asks `condition` every `every` seconds until it gives a true value, and returns that
    value; AssertionError naming `what` once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)
    return value


async def wait_until_async(
    condition: Callable[[], T],
    timeout: float = 10,
    what: str = "condition",
    pause: Callable[[float], Awaitable[object]] = asyncio.sleep,
    every: float = 0.05,
) -> T:
    """`wait_until` for a coroutine: awaits `pause(every)` between two looks."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pause(every)
    return value
