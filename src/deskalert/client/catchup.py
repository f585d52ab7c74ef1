"""The desk's journal caught up with the hub.

An alert raised by `deskalert send` or `deskalert hotkeys` while the desk screen was closed is
journaled with the hub's first answer; when it is then answered, resolved or cancelled from the
pane or the phone, no desk screen is there to see it, and the journal would show it open, "to
fill", forever. So whenever the hub can be reached, the journal's still-open alerts are read
again from it (state, responders, times): when the desk screen starts, when `deskalert journal`,
`export` and `report` open the journal; while the desk screen is open, its stream brings every
alert of its desk, and it journals each new copy (tui/desk/delivery.py, `record`).
A hub that does not answer within `CATCH_UP_S` leaves the journal as it is, said in one line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from deskalert.client.api import HubClient
from deskalert.errors import DeskAlertError
from deskalert.journal.store import Journal

log = logging.getLogger("deskalert.journal")

CATCH_UP_S = 3.0


async def catch_up(journal: Journal, client: HubClient, *, timeout: float = CATCH_UP_S) -> bool:
    """Take the hub's newer copy of each alert the journal holds as open; False when the hub
    could not be asked (the journal may be behind)."""
    unsettled = journal.unsettled()
    if not unsettled:
        return True
    since = min(alert.received_at for alert in unsettled)
    try:
        async with asyncio.timeout(timeout):
            fresh = await client.alerts_since(since)
    except (DeskAlertError, TimeoutError) as exc:
        log.info("journal not caught up with the hub: %s", exc or type(exc).__name__)
        return False
    wanted = {alert.id for alert in unsettled}
    updated = sum(journal.update_known(alert) for alert in fresh if alert.id in wanted)
    log.info(
        "journal caught up with the hub: %d of %d open alerts changed", updated, len(unsettled)
    )
    return True


async def catch_up_with(
    journal: Journal,
    hub_urls: str | Sequence[str],
    token: str | None,
    *,
    timeout: float = CATCH_UP_S,
) -> bool:
    """`catch_up` through a client of its own; False without a token."""
    if token is None:
        return False
    async with HubClient(hub_urls, token) as client:
        return await catch_up(journal, client, timeout=timeout)
