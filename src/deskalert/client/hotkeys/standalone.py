"""`deskalert hotkeys`: the global keys without the desk screen (autostart at login).

A press goes through the desk's outbox as an F-key does: written to the journal first, then sent
under the same UUID until the hub stores it. A second press of a code whose alert is still open
is that alert, not a new one: one still queued in the journal is delivered again; one the hub
stored is looked up among the hub's open alerts (if the hub does not answer, the press raises a
new alert: a stale journal must never swallow a call for help). One line is printed at start,
the feedback it will use (or a warning that it has no desktop notification); then the log goes
to `hotkeys.log` beside the journal; the agent gets the feedback of feedback.py, and if the alert
is not stored within 2 s a critical notification with the number to call and a sound (even for
a discreet code: then help must be called).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.handlers
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from deskalert.client.api import HubClient
from deskalert.client.hotkeys import feedback, listen, lock_path
from deskalert.client.hotkeys.broadcasts import follow_broadcasts
from deskalert.client.hotkeys.sources import Source
from deskalert.client.outbox import Outbox
from deskalert.client.send import cache_oncall, cached_supervisor
from deskalert.client.settings import Hotkeys
from deskalert.errors import DeskAlertError
from deskalert.i18n import t
from deskalert.journal.store import Delivery, Journal, OutboxEntry
from deskalert.models import Alert

log = logging.getLogger("deskalert.hotkeys")

STORED_WITHIN_S = 2.0
OPEN_CHECK_S = 1.5


class Raiser:
    """What a global key does when no desk app runs: the outbox, and feedback."""

    def __init__(self, journal: Journal, client: HubClient) -> None:
        self.journal = journal
        self.client = client
        self.outbox = Outbox(journal, client)
        self.busy: dict[str, asyncio.Task[None]] = {}

    def fire(self, code: str) -> None:
        """Called in the event loop by the listener; a press while one of the code is under
        way is that same alert."""
        if (task := self.busy.get(code)) is not None and not task.done():
            log.info("%s pressed again: same alert, already on its way", code)
            return
        task = asyncio.get_running_loop().create_task(self.raise_code(code))
        task.add_done_callback(_log_failure)
        self.busy[code] = task

    async def raise_code(self, code: str) -> None:
        queued = [e for e in self.journal.pending() if e.code == code and not e.test]
        if queued:
            log.info("%s pressed again: alert %s is still queued, sent again", code, queued[0].id)
            entry = queued[0]
        elif (open_id := await self._still_open(code)) is not None:
            log.info("%s pressed again: alert %s is still open on the hub", code, open_id)
            await feedback.blink_led()
            return
        else:
            entry = self.journal.enqueue(code)
            log.info("%s pressed: alert %s written to the journal", code, entry.id)
        await self.deliver(entry)

    async def _still_open(self, code: str) -> UUID | None:
        """The alert of `code` this desk raised that the hub says is still open; None when there
        is none, or when the hub does not answer."""
        recent = self.journal.incidents(since=datetime.now(UTC) - timedelta(days=1))
        candidates = [
            i.alert.id
            for i in recent
            if i.alert.code == code and not i.alert.test and not i.alert.state.is_closed
        ]
        if not candidates:
            return None
        try:
            async with asyncio.timeout(OPEN_CHECK_S):
                open_now = await self.client.alerts(state="open")
        except (DeskAlertError, TimeoutError):
            # The hub does not answer: the journal cannot tell a resolved alert from an open one
            # (no stream here). A duplicate costs a supervisor a glance; a press swallowed
            # because of a stale copy could cost the agent the help: a new alert.
            log.info("%s pressed again, the hub does not answer: a new alert", code)
            return None
        return next((alert.id for alert in open_now if alert.id in candidates), None)

    async def deliver(self, entry: OutboxEntry) -> None:
        """Until the hub stores or refuses it; at 2 s, if it has not, the agent is told."""
        delivery = asyncio.ensure_future(self.outbox.deliver(entry, timeout=None))
        try:
            async with asyncio.timeout(STORED_WITHIN_S):
                result = await asyncio.shield(delivery)
        except TimeoutError:
            stored_entry = self.journal.get(entry.id)
            reason = stored_entry.last_error if stored_entry else None
            log.warning("alert %s not stored within %.0f s: %s", entry.id, STORED_WITHIN_S, reason)
            await self._not_stored()
            result = await delivery
        if result.alert is not None:
            await self._stored(result.alert)
        elif result.status is Delivery.REFUSED:
            log.error("alert %s refused by the hub: %s", entry.id, result.reason)
            await self._not_stored()

    async def _stored(self, alert: Alert) -> None:
        log.info("alert %s (%s) stored by the hub", alert.id, alert.code)
        await feedback.stored(alert)
        await cache_oncall(self.client, self.journal)

    async def _not_stored(self) -> None:
        person = cached_supervisor(self.journal)
        call = t("send.call", name=person.name, phone=person.phone) if person else ""
        await feedback.desktop_notification(t("hotkeys.not_stored"), call.strip(), critical=True)


async def check_codes(client: HubClient, hotkeys: Hotkeys) -> None:
    """Log the `[hotkeys]` codes the hub does not know (their alerts would be refused)."""
    try:
        async with asyncio.timeout(5):
            codes = {code.code for code in await client.codes()}
    except (DeskAlertError, TimeoutError) as exc:
        log.info("the hub's repertoire could not be read to check [hotkeys]: %s", exc)
        return
    if unknown := set(hotkeys.combinations) - codes:
        log.error(
            "[hotkeys] %s: not a code of the hub's repertoire (%s); those keys would be refused",
            ", ".join(sorted(unknown)),
            ", ".join(sorted(codes)),
        )


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("a press failed: %r", error, exc_info=error)


def log_to_file(path: Path) -> None:
    """The listener's log, beside the journal: nothing is printed where a visitor could read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=1_000_000, backupCount=1, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    path.chmod(0o600)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    logging.getLogger("desktop_notifier").addHandler(handler)  # its failures: here, not stderr


async def run(
    hotkeys: Hotkeys,
    source: Source,
    hub_urls: str | Sequence[str],
    token: str,
    journal: Journal,
    desk_id: str | None = None,
) -> None:
    """Listen to `source` (opened by the caller, so that an unreadable device fails before
    anything else) until SIGTERM or SIGINT; with `desk_id`, show the desk's broadcasts as
    desktop notifications meanwhile (broadcasts.py)."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # Windows: ctrl+c is KeyboardInterrupt
            loop.add_signal_handler(signum, task.cancel)
    chain = await feedback.Feedback.probe(last_resort=True)
    feedback.use(chain)
    print(chain.describe(), file=sys.stderr, flush=True)
    log.info("feedback: %s", chain.describe())
    async with HubClient(hub_urls, token) as client:
        raiser = Raiser(journal, client)
        checking = loop.create_task(check_codes(client, hotkeys))  # kept: tasks are weak refs
        notices = loop.create_task(follow_broadcasts(hub_urls, token, desk_id)) if desk_id else None
        for entry in journal.pending():  # left queued by an earlier run: out first
            raiser.busy[entry.code] = loop.create_task(raiser.deliver(entry))
        try:
            await listen(hotkeys, raiser.fire, lock=lock_path(journal.path), source=source)
        except asyncio.CancelledError:
            log.info("stopped")
        finally:
            checking.cancel()
            if notices is not None:
                notices.cancel()
