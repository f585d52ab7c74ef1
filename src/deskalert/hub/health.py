"""The hub's health (`GET /healthz`): can its store be read and written, and its role."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Literal

from deskalert import __version__
from deskalert.errors import StoreUnavailable
from deskalert.hub.runtime import Runtime
from deskalert.models import Health, NotifyBacklog

Role = Literal["solo", "leader", "follower"]
PROBE_EVERY_S = 5.0  # /healthz writes one meta row at most this often


class HubHealth:
    """What `/healthz` answers; `role` says solo, leader or follower, `backlog` what the
    notifier has not sent yet."""

    def __init__(
        self,
        runtime: Runtime,
        role: Callable[[], Role],
        backlog: Callable[[], Awaitable[list[NotifyBacklog]]],
        out_of_step: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.runtime = runtime
        self._out_of_step = out_of_step
        self._role = role
        self._backlog = backlog
        self._probed_at: float | None = None

    async def report(self) -> Health:
        runtime, store = self.runtime, self.runtime.store
        store_state = await runtime.db(store.check)
        if store_state == "ok":
            store_state = await self._write_state()
        try:
            last_id = await runtime.db(store.last_event_id)
            open_count = await runtime.db(store.open_alert_count)
            backlog = await self._backlog()
        except StoreUnavailable as exc:  # the database is gone: a 503 that says why
            store_state, last_id, open_count, backlog = f"error: {exc.detail}", None, None, []
        if store.shared and store_state != "ok":  # no token here: no host, no user
            store_state = "error: the database cannot be read or written (the hub's log says why)"
        roster = self._out_of_step()
        return Health(
            status="ok" if store_state == "ok" and roster is None else "degraded",
            roster=roster,
            store=store_state,
            epoch=store.epoch,
            last_event_id=last_id,
            open_alerts=open_count,
            version=__version__,
            role=self._role(),
            notify=backlog,
        )

    async def _write_state(self) -> str:
        """'ok' unless the last write failed; probes with a real write at most every
        PROBE_EVERY_S, so a full or read-only disk shows without waiting for an alert, and a
        repaired one recovers by itself."""
        now = self.runtime.clock.monotonic()
        if self._probed_at is None or now - self._probed_at >= PROBE_EVERY_S:
            self._probed_at = now
            with contextlib.suppress(StoreUnavailable):  # db() keeps and logs the reason
                await self.runtime.db(self.runtime.store.probe_write)
                self.runtime.store_error = None
        error = self.runtime.store_error
        return f"error: {error}" if error else "ok"
