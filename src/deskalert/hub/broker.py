"""Live fan-out of committed events to the open streams, and how many one identity may hold.

Every subscriber has its own bounded queue. A subscriber that falls too far behind is dropped
rather than slowing the others or growing without bound; its stream ends, and the client
reconnects with `Last-Event-ID` and catches up from the store, so nothing is lost. A reader that
stopped reading altogether never lets its stream reach that end (the write blocks): the
connection guard aborts a response that cannot be written for a while (`guard.py`).

The fast path: a live stream that is idle (its task waits, its queue is empty) and whose
connection takes writes gives the broker a `write` callable, and `publish` writes the event's
frame, encoded once, straight to that connection, from one loop over the subscribers, without
waking one task per stream. Anything else (a stream still replaying, a queue not yet drained, a
connection whose buffer is full) goes through the queue as before, so a stream's events are
written in id order, and a slow reader still fills its own bounded queue and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from deskalert.hub.guard import LimitLog
from deskalert.models import Event, EventType

log = logging.getLogger("deskalert.hub")
QUEUE_SIZE = 1000
FRAMES_KEPT = 512
# write(frame, chunk): the SSE frame, and the same as one HTTP/1.1 chunk; False if not written
DirectWrite = Callable[[bytes, bytes], bool]
PRESENCE_EVENTS = (EventType.DESK_ONLINE, EventType.DESK_OFFLINE)


@dataclass(eq=False)
class Subscription:
    """One open stream: which sites it wants (None: all), whose stream it is, and the events
    waiting for it.

    A desk's stream (`desk_id` set) carries its own presence only: other desks' comings and
    goings are for supervisors. Filtered here, at publish time, so that 5000 desks coming
    online do not wake 5000 streams each.
    """

    sites: set[str] | None
    desk_id: str | None = None
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False
    write: DirectWrite | None = None  # the stream's connection, for the fast path
    # True while the stream's own task replays or writes: then events go through the queue,
    # behind what it is writing. Set False by the task when it waits on an empty queue.
    busy: bool = True
    # The id of the last stored event the stream wrote (replayed, from its queue or directly):
    # one published again after the stream replayed it from the store is not written twice
    # (with several hubs the event table's reader publishes apart from the replay's reads).
    last_id: int = 0
    who: str | None = None  # the desk's or supervisor's id (a reload ends those removed)

    def wants(self, event: Event) -> bool:
        if self.sites is not None and event.site is not None and event.site not in self.sites:
            return False
        return (
            self.desk_id is None
            or event.type not in PRESENCE_EVENTS
            or event.data.get("id") == self.desk_id
        )


class Broker:
    """Hands each committed event to every subscription that wants it, in commit order."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        # A desk's presence event goes to the supervisors' streams and that desk's own only:
        # looked up here rather than asked of each of 5000 desks' streams (`wants`).
        self._watchers: set[Subscription] = set()
        self._by_desk: defaultdict[str, set[Subscription]] = defaultdict(set)
        self._frames: OrderedDict[int, bytes] = OrderedDict()
        # Called with every published event, before the fan-out (hub/metrics.py counts them).
        self.observers: list[Callable[[Event], None]] = []

    def subscribe(
        self,
        sites: set[str] | None,
        desk_id: str | None = None,
        write: DirectWrite | None = None,
        who: str | None = None,
    ) -> Subscription:
        subscription = Subscription(sites, desk_id, write=write, who=who)
        self._subscriptions.add(subscription)
        if desk_id is None:
            self._watchers.add(subscription)
        else:
            self._by_desk[desk_id].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)
        if subscription.desk_id is None:
            self._watchers.discard(subscription)
            return
        own = self._by_desk.get(subscription.desk_id)
        if own is not None:
            own.discard(subscription)
            if not own:
                del self._by_desk[subscription.desk_id]

    def _candidates(self, event: Event) -> list[Subscription]:
        if event.type in PRESENCE_EVENTS:
            return [*self._watchers, *self._by_desk.get(str(event.data.get("id")), ())]
        return list(self._subscriptions)

    def publish(self, event: Event) -> None:
        for observe in self.observers:
            try:
                observe(event)
            except Exception:  # counting never stops an alert's fan-out
                log.exception("an observer of event %d failed", event.id)
        frame = chunk = b""
        for subscription in self._candidates(event):
            if not subscription.wants(event):
                continue
            write = subscription.write
            if write is not None and not subscription.busy and subscription.queue.empty():
                if 0 < event.id <= subscription.last_id:
                    continue  # already replayed from the store
                if not frame:
                    frame = self.frame(event)
                    chunk = b"%x\r\n%b\r\n" % (len(frame), frame)
                if write(frame, chunk):
                    subscription.last_id = max(subscription.last_id, event.id)
                    continue
            try:
                subscription.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscription.overflowed = True
                self.unsubscribe(subscription)

    def publish_all(self, events: list[Event]) -> None:
        """Several committed events (one group commit's), in order, from one loop callback."""
        for event in events:
            self.publish(event)

    def end_all(self) -> None:
        """End every stream now: this hub no longer receives the events (it lost its shared
        database), so its streams' clients had better reconnect, to this hub or another one,
        with their Last-Event-ID. Each stream is woken by an event of id 0, which no stream
        writes (it has written nothing above its `last_id`, which is never below 0)."""
        self._end(list(self._subscriptions))

    def end(self, who: set[str]) -> None:
        """End the streams of these desks and supervisors (removed from the roster): their
        reconnection is refused (401), which their screen shows."""
        if who:
            self._end([s for s in self._subscriptions if s.who in who])

    def _end(self, subscriptions: list[Subscription]) -> None:
        wake = Event(id=0, type=EventType.ONCALL_CHANGED, at=datetime.now(UTC), site=None, data={})
        for subscription in subscriptions:
            subscription.overflowed = True
            self.unsubscribe(subscription)
            with contextlib.suppress(asyncio.QueueFull):  # the stream ends once it drains anyway
                subscription.queue.put_nowait(wake)

    def frame(self, event: Event) -> bytes:
        """The event as one SSE frame, encoded once whoever it goes to (an event's id, type and
        data never change once stored); the latest FRAMES_KEPT are kept for streams that
        replay or drain their queue."""
        frame = self._frames.get(event.id)
        if frame is None:
            frame = self._frames[event.id] = sse_frame(event)
            if len(self._frames) > FRAMES_KEPT:
                self._frames.popitem(last=False)
        return frame

    def __len__(self) -> int:
        return len(self._subscriptions)


def sse_frame(event: Event) -> bytes:
    data = json.dumps(event.data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.type.value}\ndata: {data}\n\n".encode()


@dataclass(eq=False)
class OpenStream:
    """One open event stream of `identity`; `abort` drops its connection (None: no guard)."""

    identity: str
    abort: Callable[[], None] | None
    evicted: bool = False


class StreamCap:
    """At most `cap` open streams per identity (token): one more closes the oldest.

    The oldest, not the newest: a desk that reconnected after its link died must get its new
    stream, and the one left behind on the dead path is what goes. Someone holding a stolen
    token can still hold no more than `cap` streams.
    """

    def __init__(self, cap: int, limit_log: LimitLog | None = None) -> None:
        self.cap = cap
        self.limit_log = limit_log or LimitLog()
        self._by_identity: defaultdict[str, list[OpenStream]] = defaultdict(list)

    def open(self, identity: str, abort: Callable[[], None] | None) -> OpenStream:
        stream = OpenStream(identity, abort)
        streams = self._by_identity[identity]
        streams.append(stream)
        while len(streams) > self.cap:
            self._evict(streams.pop(0))
        return stream

    def close(self, stream: OpenStream) -> None:
        streams = self._by_identity.get(stream.identity, [])
        if stream in streams:
            streams.remove(stream)
        if not streams:
            self._by_identity.pop(stream.identity, None)

    def _evict(self, stream: OpenStream) -> None:
        self.limit_log.hit(
            "max_streams_per_identity",
            "%s opened more than %d event streams: closed the oldest",
            stream.identity,
            self.cap,
        )
        stream.evicted = True
        if stream.abort is not None:
            stream.abort()
