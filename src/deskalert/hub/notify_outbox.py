"""The notification outbox's worker: claims due rows, sends them with Apprise, records outcomes.

What is sent to whom is planned in hub/notify.py (channels, messages, the `Planner`); in which
order, fairly between sites and channels, is hub/notify_queue.py's; this module runs the sends
on the leading hub, in threads of its own pool, never on the event loop, and tells how far
behind each channel is (`backlog`, in /healthz).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from deskalert.hub.clock import Clock
from deskalert.hub.lease import LeadLost, Lease, leader_writes
from deskalert.hub.links import with_sender_address
from deskalert.hub.notify import (
    NOTIFY_TYPES,
    Channel,
    ChannelError,
    Planner,
    check_channel,
    render_reminders,
    send_now,
)
from deskalert.hub.notify_queue import SENDS, Batch, Due, Turns
from deskalert.hub.settings import HubConfig
from deskalert.hub.store import Notification, Store
from deskalert.models import Alert, Event, EventType, NotifyBacklog, NotifyOutcome

log = logging.getLogger("deskalert.hub")
T = TypeVar("T")
MAX_ATTEMPTS = 6
BACKOFF_S = (2.0, 5.0, 15.0, 30.0, 60.0)  # before the 2nd, 3rd... attempt
DUE_PER_QUEUE = 20  # due rows of each (site, channel) the scheduler chooses from
BEHIND_S = 20.0  # a channel whose oldest unsent message waited longer is shown behind
POLL_S = 1.0  # the worker looks for due rows (retries, re-notifications) at least this often
STOP_WAIT_S = 2.0  # in-flight sends a stopping hub waits for; the rest are retried at restart
INTERRUPTED = "interrupted: the hub stopped during this attempt; it may have arrived, sending again"


def backoff(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones."""
    return BACKOFF_S[min(attempts, len(BACKOFF_S)) - 1]


class Notifier:
    """Sends the outbox's due rows, re-notifies unanswered alerts, records every outcome."""

    def __init__(
        self,
        config: HubConfig,
        store: Store,
        on_store: Callable[[Callable[[], T]], Awaitable[T]],
        publish: Callable[[Event], None],
        clock: Clock,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self._on_store: Callable[[Callable[[], Any]], Awaitable[Any]] = on_store
        self._publish = publish
        self._pool = ThreadPoolExecutor(SENDS, thread_name_prefix="deskalert-notify")
        self.turns = Turns()
        self.services: dict[str, str] = {}  # channel key -> scheme and host
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        # Sends only on the hub that leads (one of several on PostgreSQL; the only one else).
        self.leading = False
        self.lease: Lease | None = None  # the leader's, set at each tick: claims are fenced
        self.planner = Planner(config, store, self.wake)  # its on_event: the store's hook

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
            self.services[channel.key] = await asyncio.to_thread(channel.service)
            try:
                await asyncio.to_thread(check_channel, channel)
            except ChannelError as exc:
                log.warning(
                    "notify: %s: %s; its messages will fail until it is fixed", channel.owner, exc
                )
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
            self._finish(row, None, INTERRUPTED, self.clock.now())

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
                with leader_writes(self.lease):  # a lapsed lease: nothing claimed, nothing sent
                    await self._renotify_due(self.clock.now())
                    await self._send_due()
            except LeadLost:
                pass  # the next tick says whether this hub still leads
            except Exception:
                log.exception("notify: the worker failed; it goes on")
                await asyncio.sleep(POLL_S)

    async def _renotify_due(self, now: datetime) -> None:
        """Reminders for the unanswered alerts last told `renotify_s` ago; if any was queued,
        the others at least half-way there go with them, so that a person's reminders come
        together and leave as one message (hub/notify_queue.py) instead of one per alert."""
        period = timedelta(seconds=self.config.hub.renotify_s)
        due = await self._on_store(lambda: self.store.alerts_to_renotify(now - period))
        if await self._remind(due, now):
            done = {alert.id for alert in due}
            half = await self._on_store(lambda: self.store.alerts_to_renotify(now - period / 2))
            await self._remind([alert for alert in half if alert.id not in done], now)

    async def _remind(self, alerts: list[Alert], now: datetime) -> int:
        """Queue the reminders of `alerts`, each in its own transaction; how many were queued."""
        queued = 0
        for alert in alerts:
            queued += await self._on_store(partial(self._remind_one, alert, now))
        return queued

    def _remind_one(self, alert: Alert, now: datetime) -> int:
        queued: list[int] = []
        self.store.in_transaction(lambda db: queued.append(self.planner.renotify(db, alert, now)))
        return sum(queued)

    async def _send_due(self) -> None:
        """Start the batches the scheduler picks among the due rows, each claimed first."""
        if self.turns.free() <= 0:
            return
        due = await self._on_store(
            lambda: self.store.due_notifications(self.clock.now(), DUE_PER_QUEUE)
        )
        batches = self.turns.pick(
            [
                Due(row_id, site, kind, channel, self._service(channel))
                for row_id, site, kind, channel in due
            ]
        )
        if not batches:
            return
        ids = [row_id for batch in batches for row_id in batch.ids]
        claimed = {
            row.id: row for row in await self._on_store(lambda: self.store.claim_notifications(ids))
        }
        for batch in batches:
            rows = [claimed[row_id] for row_id in batch.ids if row_id in claimed]
            # Claimed under the lease; what became of a send is recorded whatever the lease.
            task = asyncio.create_task(self._attempt(batch, rows), context=contextvars.Context())
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    def _service(self, channel_key: str) -> str:
        return self.services.get(channel_key, channel_key)

    async def _attempt(self, batch: Batch, rows: list[Notification]) -> None:
        """One send for the batch's rows (several: one person's reminders), each row's
        outcome recorded."""
        try:
            if rows:
                channel = self.planner.channels.get(rows[0].channel)
                reason = await self._send(channel, rows)
                await self._on_store(partial(self._finish_all, rows, channel, reason))
        finally:
            self.turns.done(batch)
            self._wake.set()  # a slot is free

    async def _send(self, channel: Channel | None, rows: list[Notification]) -> str | None:
        if channel is None:
            return "this channel is no longer in hub.toml"
        try:
            url = channel.url()
        except ChannelError as exc:
            return str(exc)
        title, body = render_reminders(
            self.config.hub.language, [(row.title, row.body) for row in rows]
        )
        body = with_sender_address(body, self.config.hub.public_url)  # this hub's own address
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, send_now, url, title, body, NOTIFY_TYPES[rows[0].kind]
        )

    async def backlog(self) -> list[NotifyBacklog]:
        """Per kind of channel (its scheme: no host, /healthz needs no token), the messages not
        sent yet and how long the oldest has waited."""
        if not self.enabled:
            return []
        rows = await self._on_store(self.store.notification_backlog)
        now = self.clock.now()
        waiting: dict[str, list[float]] = {}
        for channel_key, count, oldest in rows:
            scheme = self._service(channel_key).split(":", 1)[0]
            age = (now - datetime.fromisoformat(oldest)).total_seconds()
            seen = waiting.setdefault(scheme, [0, 0.0])
            seen[0], seen[1] = seen[0] + count, max(seen[1], age)
        return [
            NotifyBacklog(
                channel=scheme, waiting=int(count), oldest_s=round(age, 1), behind=age > BEHIND_S
            )
            for scheme, (count, age) in sorted(waiting.items())
        ]

    def _finish_all(
        self, rows: list[Notification], channel: Channel | None, reason: str | None
    ) -> None:
        """On the store thread: one send's outcome, for each row it carried."""
        for row in rows:
            self._finish(row, channel, reason, self.clock.now(), channel is None)

    def _finish(
        self,
        row: Notification,
        channel: Channel | None,
        reason: str | None,
        now: datetime,
        give_up: bool = False,
    ) -> None:
        """On the store thread: the outcome, its event, and the event published in order."""
        if channel is None:
            channel = self.planner.channels.get(row.channel)
        data = NotifyOutcome(
            id=UUID(row.alert_id),
            notification=row.id,
            kind=row.kind,  # type: ignore[arg-type]
            to=row.owner,
            channel=channel.shown() if channel else "?",
            attempt=row.attempts,
            attempt_id=row.attempt_id or "",
            reason=reason,
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
        event = self.store.finish_notification(
            row, state, now, retry_at, event_type, data.model_dump(mode="json")
        )
        if event is not None:
            self._publish(event)
