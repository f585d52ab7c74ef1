"""Raising an alert without the desk screen (`deskalert send`): journal first, then the hub.

The alert is committed to the journal before any network call; alerts left queued by an earlier
run go first, each under its own UUID. The answer says what became of each, and whom to call
when the new one did not reach the hub (the on-call card cached at the last success).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deskalert.client.api import HubClient
from deskalert.client.outbox import DeliveryResult, Outbox
from deskalert.errors import ConfigError, DeskAlertError
from deskalert.i18n import t
from deskalert.journal.privacy import has_file_number
from deskalert.journal.store import Journal, OutboxEntry
from deskalert.models import OnCall, Person

MESSAGE_MAX = 280


@dataclass(frozen=True)
class SendReport:
    entry: OutboxEntry
    result: DeliveryResult
    earlier: list[tuple[OutboxEntry, DeliveryResult]] = field(default_factory=list)
    call: Person | None = None  # whom to call instead, when it did not reach the hub


def argv_text(text: str | None) -> str | None:
    """A command-line argument as text, whatever the terminal's encoding: bytes that are not
    UTF-8 (a Latin-1 or Windows-1252 shortcut script: "caf\\xe9") reach Python as surrogates,
    which no journal or request can carry; read them as Windows-1252 (Latin-1 for its holes)
    rather than refuse the alert."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape")
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def check_message(message: str | None) -> None:
    """The alert's short text: at most 280 characters, never a visitor's file number."""
    if message is None:
        return
    if len(message) > MESSAGE_MAX:
        raise ConfigError(t("send.message_too_long", max=MESSAGE_MAX))
    if has_file_number(message):
        raise ConfigError(t("send.message_file_number"))


async def send_alert(
    journal: Journal,
    client: HubClient,
    code: str,
    *,
    test: bool = False,
    message: str | None = None,
    timeout: float,
) -> SendReport:
    """Queue `code` in the journal, deliver what was queued before, then it."""
    check_message(message)
    entry = journal.enqueue(code, test=test, message=message)
    outbox = Outbox(journal, client)
    earlier = [
        (queued, await outbox.deliver(queued, timeout=timeout))
        for queued in journal.pending()
        if queued.id != entry.id
    ]
    result = await outbox.deliver(entry, timeout=timeout)
    if result.transmitted:
        await cache_oncall(client, journal)
        return SendReport(entry, result, earlier)
    return SendReport(entry, result, earlier, call=cached_supervisor(journal))


async def cache_oncall(client: HubClient, journal: Journal) -> None:
    """Keep the on-call card, so a later failure can still say whom to call."""
    try:
        cards = await client.oncall()
    except DeskAlertError:
        return
    if cards:
        journal.save("oncall", cards[0])


def cached_supervisor(journal: Journal) -> Person | None:
    cached = journal.load_as("oncall", OnCall)
    return cached[0].supervisor if cached else None
