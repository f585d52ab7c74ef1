"""Group commit: items that arrive while a group is being committed form the next group.

A new alert (or a desk coming online) does not get a transaction and an fsync of its own: it
joins the group of those that arrived while the previous group was being committed, and the
whole group is one transaction and one fsync on the store thread (`Store.write_group`). Each
caller still gets its answer only after the commit that holds its item, so a 201 still means
"on disk"; a group whose commit fails answers the failure to every caller in it, none stored.
Both commit paths of the hub (alerts, desks coming online) use this one batcher.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from deskalert.errors import StoreUnavailable

I = TypeVar("I")  # noqa: E741 - an item
O = TypeVar("O")  # noqa: E741 - its outcome
Commit = Callable[[list[I]], Awaitable[list[O | Exception]]]


class Batcher(Generic[I, O]):
    """`submit(item)` waits for the commit of the group that holds `item`; `commit(items)`
    commits one group and gives one outcome per item (an exception is that item's answer)."""

    def __init__(self, commit: Commit[I, O], name: str) -> None:
        self._commit = commit
        self._name = name
        self._waiting: list[tuple[I, asyncio.Future[O]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: I) -> O:
        answer: asyncio.Future[O] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, answer))
        if self._task is None or self._task.done():
            # A context of its own: the group holds the items of whoever comes, never fenced by
            # the lease of the leader's timer that happened to start it (hub/lease.py).
            self._task = asyncio.create_task(
                self._commit_groups(), name=self._name, context=contextvars.Context()
            )
        return await answer

    @property
    def waiting(self) -> int:
        """How many items wait for the next group."""
        return len(self._waiting)

    async def drain(self) -> None:
        """At stop: the groups under way are committed and answered."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _commit_groups(self) -> None:
        """While items wait: take them all as one group, commit it, answer each of them."""
        while self._waiting:
            group, self._waiting = self._waiting, []
            outcomes: list[O | Exception]
            try:
                outcomes = await self._commit([item for item, _ in group])
            except StoreUnavailable as exc:
                outcomes = [StoreUnavailable(exc.detail) for _ in group]
            except Exception as exc:  # noqa: BLE001 - each request answers it (500, logged)
                outcomes = [exc for _ in group]
            except asyncio.CancelledError:  # the hub stops: nobody is left to answer
                for _, answer in group + self._waiting:
                    answer.cancel()
                raise
            for (_, answer), outcome in zip(group, outcomes, strict=True):
                if answer.done():  # the request went away meanwhile; its item is stored
                    continue
                if isinstance(outcome, BaseException):
                    answer.set_exception(outcome)
                else:
                    answer.set_result(outcome)
