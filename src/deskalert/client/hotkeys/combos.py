"""Which key combination is down, and for how long: the same for every source of keys.

A source (X11 through pynput, a device through evdev) turns what it reads into `press(key)` and
`release(key)` with keys of its own kind; a combination is a tuple of parts, each part the set of
keys that satisfy it (`<ctrl>` read from a device is the left or the right Ctrl). A combination
fires once when all its parts are down, or with `hold_s` once they have stayed down that long;
it fires again only after one of its keys was released. Autorepeat (X11 repeats the press, evdev
sends value 2) never fires twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable

Part = frozenset[Hashable]
Combination = tuple[Part, ...]


class ComboTracker:
    def __init__(
        self,
        combinations: dict[str, Combination],
        hold_s: float,
        fire: Callable[[str], object],
        call_later: Callable[..., asyncio.TimerHandle],
    ) -> None:
        self.combinations = combinations
        self.hold_s = hold_s
        self.fire = fire
        self.call_later = call_later
        self.down: set[Hashable] = set()
        self.fired: set[str] = set()
        self.holding: dict[str, asyncio.TimerHandle] = {}

    def is_down(self, code: str) -> bool:
        return all(part & self.down for part in self.combinations[code])

    def press(self, key: Hashable) -> None:
        if key in self.down:
            return  # autorepeat
        self.down.add(key)
        for code in self.combinations:
            if code in self.fired or code in self.holding or not self.is_down(code):
                continue
            if self.hold_s <= 0:
                self._fire(code)
            else:
                self.holding[code] = self.call_later(self.hold_s, self._held, code)

    def release(self, key: Hashable) -> None:
        self.down.discard(key)
        for code, combination in self.combinations.items():
            if any(key in part for part in combination):
                self.fired.discard(code)
                if (timer := self.holding.pop(code, None)) is not None:
                    timer.cancel()  # let go before hold_ms: nothing is sent

    def _held(self, code: str) -> None:
        self.holding.pop(code, None)
        if self.is_down(code):
            self._fire(code)

    def _fire(self, code: str) -> None:
        self.fired.add(code)
        self.fire(code)

    def reset(self) -> None:
        """Forget every key (a source that lost its device cannot know what was released)."""
        for timer in self.holding.values():
            timer.cancel()
        self.down.clear()
        self.fired.clear()
        self.holding.clear()
