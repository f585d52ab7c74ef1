"""The outbox: alerts go to the journal first, then to the hub, retried until it has them.

Every attempt sends the same UUID, so the hub stores the alert exactly once however many times
the network drops an answer. A 2xx marks it transmitted. A 4xx other than 408/429 means the hub
will never accept it as it is, so it is marked refused with the hub's reason and shown to the
agent, never retried in silence; that includes a 409 `alert_id_reused` (the hub holds another
alert under this id, and retrying would never change that). A 429 (a burst of alerts from this
desk) is "later", never a refusal: the next attempt waits what the hub's `Retry-After` says.
Anything else (no answer, 5xx) is retried with a backoff capped at `WAIT_MAX_S`.

`deliver` answers with a `DeliveryResult`: the alert as the hub stored it, or the refusal and its
reason, or "still queued" and the last reason it did not go. The caller has what it needs to
draw; the journal holds the same, for the next start.

Several processes may deliver one entry at once (the desk app adopts what `send` or `hotkeys`
queued): the same UUID makes that safe at the hub, and an entry cancelled in the journal by one
of them is not sent again by the others (`Delivery.CANCELLED`).
"""

from __future__ import annotations

from dataclasses import dataclass

import stamina
from pydantic import ValidationError

from deskalert.client.api import HubClient
from deskalert.config import describe_errors
from deskalert.errors import (
    OUTSIDE_SITE_NETWORK,
    DeskAlertError,
    HubError,
    HubUnreachable,
    RateLimited,
)
from deskalert.journal.store import Delivery, Journal, OutboxEntry
from deskalert.models import Alert, AlertIn
from deskalert.text import strip_control

WAIT_INITIAL_S = 0.2
WAIT_MAX_S = 2.0
RETRYABLE_STATUSES = {408, 429}


def quiet_retries() -> None:
    """stamina logs every retry to stderr; the outbox records each attempt in the journal."""
    import stamina.instrumentation

    stamina.instrumentation.set_on_retry_hooks([])


def is_retryable(exc: Exception) -> bool:
    if isinstance(exc, HubUnreachable):
        return True
    return isinstance(exc, HubError) and (exc.status >= 500 or exc.status in RETRYABLE_STATUSES)


def retry_wait(exc: Exception) -> bool | float:
    """stamina's hook: the hub's Retry-After for a 429, else its own backoff if retryable."""
    if isinstance(exc, RateLimited):
        return max(WAIT_INITIAL_S, exc.retry_after_s)
    return is_retryable(exc)


def outside_site_network(reason: str | None) -> str | None:
    """The hub's detail when a refusal (`deliver`'s "code: detail") is a desk calling from
    outside its site's networks; None for any other reason."""
    prefix = f"{OUTSIDE_SITE_NETWORK}: "
    return reason.removeprefix(prefix) if reason and reason.startswith(prefix) else None


@dataclass(frozen=True)
class DeliveryResult:
    """Where one alert stands after `Outbox.deliver`."""

    status: Delivery
    alert: Alert | None = None  # TRANSMITTED: the hub's stored copy
    reason: str | None = None  # REFUSED: the hub's reason; QUEUED: why it has not gone yet
    error: DeskAlertError | None = None  # the failure itself, when this call saw it (its kind)

    @property
    def transmitted(self) -> bool:
        return self.status is Delivery.TRANSMITTED


class Outbox:
    def __init__(self, journal: Journal, client: HubClient) -> None:
        self.journal = journal
        self.client = client

    async def deliver(self, entry: OutboxEntry, *, timeout: float | None) -> DeliveryResult:
        """Send one queued alert until the hub stores it, refuses it, or `timeout` runs out."""
        body, refusal = self._body(entry)
        if body is None:
            return DeliveryResult(Delivery.REFUSED, reason=refusal)
        last_error, failure = entry.last_error, None
        try:
            async for attempt in stamina.retry_context(
                on=retry_wait,
                attempts=None,
                timeout=timeout,
                wait_initial=WAIT_INITIAL_S,
                wait_max=WAIT_MAX_S,
            ):
                with attempt:
                    if self._withdrawn(entry):
                        return DeliveryResult(Delivery.CANCELLED)
                    try:
                        alert, _created = await self.client.raise_alert(body)
                    except (HubUnreachable, HubError) as exc:
                        if is_retryable(exc):
                            last_error, failure = str(exc), exc
                            self.journal.record_attempt(entry.id, last_error)
                        raise
                    self.journal.mark_transmitted(alert)
                    return DeliveryResult(Delivery.TRANSMITTED, alert=alert)
        except HubError as exc:
            if not is_retryable(exc):
                reason = f"{exc.code}: {exc.detail}"
                self.journal.mark_refused(entry.id, reason)
                return DeliveryResult(Delivery.REFUSED, reason=reason, error=exc)
        except HubUnreachable:
            pass
        # the timeout ran out: it stays queued
        return DeliveryResult(Delivery.QUEUED, reason=last_error, error=failure)

    def _withdrawn(self, entry: OutboxEntry) -> bool:
        """Cancelled in the journal since: by the desk app, which may have adopted an alert
        that `send` or `hotkeys` is still retrying. Read before each attempt, so a withdrawn
        alert stops going out (one already on the wire is cancelled on the hub by the desk)."""
        stored = self.journal.get(entry.id)
        return stored is not None and stored.status is Delivery.CANCELLED

    def _body(self, entry: OutboxEntry) -> tuple[AlertIn | None, str | None]:
        """The request for `entry`, its message stripped of control characters (the hub refuses
        them, and a stray tab must not keep an alert from going); or, marked refused, the reason
        it can never be valid (a code that is no identifier), rather than fail every flush."""
        message = strip_control(entry.message) if entry.message is not None else None
        try:
            return AlertIn(
                id=entry.id,
                code=entry.code,
                created_at=entry.created_at,
                test=entry.test,
                message=message,
            ), None
        except ValidationError as exc:
            reason = f"invalid_request: {describe_errors(exc.errors())}"
            self.journal.mark_refused(entry.id, reason)
            return None, reason

    async def flush(self, *, timeout: float | None) -> dict[str, DeliveryResult]:
        """Deliver every queued alert, oldest first (alerts left by a crash or a dead link)."""
        return {
            str(entry.id): await self.deliver(entry, timeout=timeout)
            for entry in self.journal.pending()
        }
