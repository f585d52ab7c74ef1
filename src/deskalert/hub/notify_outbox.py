"""The notification outbox's worker: claims due rows, sends them with Apprise, records outcomes.

What is sent to whom is planned in hub/notify.py (channels, messages, the `Planner`); this
module runs the sends on the leading hub, in threads of its own pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from deskalert.hub.notify import (
    NOTIFY_TYPES,
    Channel,
    ChannelError,
    Planner,
    check_channel,
    send_now,
)
from deskalert.hub.settings import HubConfig
from deskalert.hub.store import Notification, Store
from deskalert.models import Event, EventType, NotifyOutcome

log = logging.getLogger("deskalert.hub")
T = TypeVar("T")
MAX_ATTEMPTS = 6
BACKOFF_S = (2.0, 5.0, 15.0, 30.0, 60.0)  # before the 2nd, 3rd... attempt
CONCURRENT_SENDS = 4
POLL_S = 1.0  # the worker looks for due rows (retries, re-notifications) at least this often
STOP_WAIT_S = 2.0  # in-flight sends a stopping hub waits for; the rest are retried at restart
INTERRUPTED = "interrupted: the hub stopped during this attempt; it may have arrived, sending again"


def utcnow() -> datetime:
    return datetime.now(UTC)


def backoff(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones."""
    return BACKOFF_S[min(attempts, len(BACKOFF_S)) - 1]


class Notifier:
    """Sends the outbox's due rows, re-notifies unanswered alerts, records every outcome."""

    def __init__(self, config: HubConfig, store: Store,
                 on_store: Callable[[Callable[[], T]], Awaitable[T]],
                 publish: Callable[[Event], None]) -> None:
        self.config = config
        self.store = store
        self._on_store: Callable[[Callable[[], Any]], Awaitable[Any]] = on_store
        self._publish = publish
        self._pool = ThreadPoolExecutor(CONCURRENT_SENDS, thread_name_prefix="deskalert-notify")
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        # Sends only on the hub that leads (one of several on PostgreSQL; the only one else).
        self.leading = False
        self.planner = Planner(config, store, self.wake)
        store.event_hooks.append(self.planner.on_event)

    @property
    def enabled(self) -> bool:
        return bool(self.planner.channels)

    def wake(self) -> None:
        """Thread-safe: new rows were queued (called from the store thread)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if not self.enabled:
            return
        for channel in self.planner.channels.values():
            try:
                await asyncio.to_thread(check_channel, channel)
            except ChannelError as exc:
                log.warning("notify: %s: %s; its messages will fail until it is fixed",
                            channel.owner, exc)
        self._task = asyncio.create_task(self._run(), name="deskalert-notify")

    async def lead(self, leading: bool) -> None:
        """This hub takes (or loses) the lead: taking it, rows a stopped leader left 'sending'
        are retried first."""
        if leading and not self.leading and self.enabled:
            await self._on_store(self._requeue_interrupted)
        self.leading = leading
        if leading:
            self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._inflight:  # a send under way is given a moment; otherwise retried at restart
            await asyncio.wait(self._inflight, timeout=STOP_WAIT_S)
            for task in self._inflight:
                task.cancel()
            await asyncio.gather(*self._inflight, return_exceptions=True)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _requeue_interrupted(self) -> None:
        """On the store thread, at start: rows a stopped hub left 'sending' are retried."""
        for row in self.store.interrupted_notifications():
            self._finish(row, None, INTERRUPTED, utcnow())

    async def _run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(POLL_S):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            if not self.leading:
                continue
            try:
                await self._renotify_due(utcnow())
                await self._send_due()
            except Exception:
                log.exception("notify: the worker failed; it goes on")
                await asyncio.sleep(POLL_S)

    async def _renotify_due(self, now: datetime) -> None:
        last_before = now - timedelta(seconds=self.config.hub.renotify_s)
        for alert in await self._on_store(lambda: self.store.alerts_to_renotify(last_before)):
            await self._on_store(lambda a=alert: self.store.in_transaction(
                lambda db: self.planner.renotify(db, a, now)))

    async def _send_due(self) -> None:
        free = CONCURRENT_SENDS - len(self._inflight)
        if free <= 0:
            return
        for row in await self._on_store(lambda: self.store.claim_notifications(utcnow(), free)):
            task = asyncio.create_task(self._attempt(row))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _attempt(self, row: Notification) -> None:
        loop = asyncio.get_running_loop()
        channel = self.planner.channels.get(row.channel)
        if channel is None:
            reason: str | None = "this channel is no longer in hub.toml"
        else:
            try:
                url = channel.url()
            except ChannelError as exc:
                reason = str(exc)
            else:
                reason = await loop.run_in_executor(
                    self._pool, send_now, url, row.title, row.body, NOTIFY_TYPES[row.kind])
        give_up = channel is None
        await self._on_store(lambda: self._finish(row, channel, reason, utcnow(), give_up))
        self._wake.set()  # a slot is free

    def _finish(self, row: Notification, channel: Channel | None, reason: str | None,
                now: datetime, give_up: bool = False) -> None:
        """On the store thread: the outcome, its event, and the event published in order."""
        if channel is None:
            channel = self.planner.channels.get(row.channel)
        data = NotifyOutcome(
            id=row.alert_id, notification=row.id, kind=row.kind,  # type: ignore[arg-type]
            to=row.owner, channel=channel.shown() if channel else "?", attempt=row.attempts,
            attempt_id=row.attempt_id or "", reason=reason,
        )
        retry_at = None
        if reason is None:
            state, event_type = "sent", EventType.NOTIFY_SENT
        elif give_up or row.attempts >= MAX_ATTEMPTS:
            state, event_type = "gave_up", EventType.NOTIFY_GAVE_UP
        else:
            delay = 0.0 if reason == INTERRUPTED else backoff(row.attempts)
            retry_at = now + timedelta(seconds=delay)
            state, event_type = "retry", EventType.NOTIFY_FAILED
            data.retry_in_s = delay
        event = self.store.finish_notification(row, state, now, retry_at, event_type,
                                               data.model_dump(mode="json"))
        if event is not None:
            self._publish(event)
