"""The desk's own alerts between the key and the hub, without a terminal: no Textual here.

`DeskDelivery` holds the journal and the `DeskState` and decides; the desk app (app.py) carries
out what it returns (start a delivery worker, stop one, ask the hub to cancel) and draws:

- `press`: a code key queues the alert in the journal at once and tracks it, or names the fresh
  alert the press repeats (state.py, `REPRESS_SAME_ALERT`);
- `adopt`: the journal's queued alerts this desk does not track yet (left by an earlier run, or
  queued by `deskalert send` / `deskalert hotkeys` while the screen is open);
- `send_again`: an own alert the hub's fresh list of open alerts lost, requeued under its id;
- `withdraw`: the cancel key, before the hub has the alert (the journal entry is cancelled) or
  after (the hub is asked);
- `delivered`: the outbox's outcome, and the refusal the link must show;
- `record`: each own alert's newest copy to the journal, and the withdrawn ones to cancel now;
- `take_event`, `take_snapshot`: the hub's alerts, on-call card and this desk's presence;
- the caches (codes, on-call card, this desk) the screen shows until the hub answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from deskalert.client.follower import StreamEvent
from deskalert.client.outbox import outside_site_network
from deskalert.errors import OUTSIDE_SITE_NETWORK, DeskAlertError, Forbidden, Unauthorized
from deskalert.journal.store import Delivery, Journal, OutboxEntry
from deskalert.models import (
    Alert,
    AlertCode,
    AlertEvent,
    DeskPresence,
    OnCall,
    OnCallEvent,
    PresenceEvent,
)
from deskalert.tui.desk.state import DeskState, OwnAlert, Step

# An own alert the hub no longer has is sent again only if raised this recently: a desk left
# open for days must not raise again an alert the hub purged (retention) long after it closed.
RESEND_LOST_WITHIN = timedelta(hours=12)


@dataclass(frozen=True)
class Press:
    """What a code key did: a new alert queued (`entry`), or the fresh one it repeats (`same`)."""

    entry: OutboxEntry | None = None
    same: OwnAlert | None = None


class Withdrawal(StrEnum):
    """What the cancel key did to the agent's current alert."""

    NOTHING = "nothing"  # no live alert to cancel, or already asked
    WITHDRAWN = "withdrawn"  # still queued: cancelled in the journal, its delivery must stop
    ASK_HUB = "ask_hub"  # the hub has it: ask the hub to cancel it
    LATER = "later"  # on its way: cancelled on the hub as soon as its copy comes (`record`)


class DeskDelivery:
    """The desk's delivery logic over its journal and state (see the module docstring)."""

    def __init__(self, journal: Journal, state: DeskState, clock: Callable[[], datetime]) -> None:
        self.journal, self.state, self.now = journal, state, clock
        self._recorded: dict[UUID, datetime] = {}

    # -- from the key to the outbox ---------------------------------------------------------

    def press(self, code: str, test: bool) -> Press:
        """A new alert written to the journal before anything else, or the fresh one repeated."""
        now = self.now()
        same = self.state.same_alert(code, test, now)
        if same is not None:
            return Press(same=same)
        entry = self.journal.enqueue(code, test=test)
        self._track(entry, now)
        return Press(entry=entry)

    def _track(self, entry: OutboxEntry, queued_at: datetime | None = None) -> None:
        self.state.track(
            OwnAlert(
                id=entry.id,
                code=entry.code,
                test=entry.test,
                queued_at=queued_at or entry.created_at,
            )
        )

    def adopt(self) -> list[OutboxEntry]:
        """The journal's queued alerts this desk does not track yet, now tracked: to deliver.

        If another process is still sending one, the hub stores it once (a resend of the same id
        is answered with the stored copy). The desk's own alerts are tracked in `press`, in the
        same step as they are queued, so they are never taken twice."""
        adopted = [entry for entry in self.journal.pending() if entry.id not in self.state.own]
        for entry in adopted:
            self._track(entry)
        return adopted

    def send_again(self, open_alerts: list[Alert]) -> list[OutboxEntry]:
        """Own alerts held as stored and open that the hub's fresh list of open alerts lacks,
        requeued under their ids: to deliver again. The hub answers 200 with its copy if it was
        closed meanwhile, or stores it again (201) if it lost it (restored from an older copy).
        Without this, the desk showed "transmise" for an alert no supervisor could see."""
        open_ids, now = {a.id for a in open_alerts}, self.now()
        again = []
        for own in self.state.own.values():
            if (
                own.alert is None
                or own.step.is_final
                or own.cancel_requested
                or own.id in open_ids
                or now - own.alert.received_at > RESEND_LOST_WITHIN
            ):
                continue
            if (entry := self.journal.requeue(own.id)) is not None:
                own.alert, own.delivery = None, Delivery.QUEUED
                again.append(entry)
        return again

    # -- cancel -----------------------------------------------------------------------------

    def withdraw(self) -> tuple[Withdrawal, UUID | None]:
        """The cancel key on the agent's current alert: what was done, and to which alert."""
        own = self.state.current_own(self.now())
        if own is None or own.step.is_final or own.cancel_requested:
            return Withdrawal.NOTHING, None
        own.cancel_requested = True
        if own.step is Step.QUEUED and self.journal.mark_cancelled(own.id):
            own.delivery, own.final_since = Delivery.CANCELLED, self.now()
            return Withdrawal.WITHDRAWN, own.id
        if own.alert is not None:
            own.cancel_sent = True
            return Withdrawal.ASK_HUB, own.id
        return Withdrawal.LATER, own.id

    def cancel_refused(self, alert_id: UUID) -> None:
        """The hub did not take the cancel: the alert is live again, the key may try again."""
        if (own := self.state.own.get(alert_id)) is not None:
            own.cancel_requested = own.cancel_sent = False

    # -- from the hub -----------------------------------------------------------------------

    def delivered(
        self, alert_id: UUID, delivery: Delivery, alert: Alert | None, error: str | None
    ) -> DeskAlertError | None:
        """The outbox is done with an alert; returns the refusal the link must show, if any
        (a refused token, a desk outside its site's networks)."""
        if alert is not None:
            self.state.apply(alert, self.now())
        elif delivery is Delivery.REFUSED:
            reason = error or "?"
            self.state.refuse(alert_id, reason, self.now())
            if reason.startswith(Unauthorized.code):
                return Unauthorized(reason)
            if (detail := outside_site_network(reason)) is not None:
                return Forbidden(detail, code=OUTSIDE_SITE_NETWORK)
        return None

    def record(self) -> list[UUID]:
        """Journal each own alert's newest copy; returns the alerts withdrawn while in flight
        that the hub now has, open: to cancel on the hub (each returned once)."""
        to_cancel = []
        for own in self.state.own.values():
            if own.alert is not None and self._recorded.get(own.id) != own.alert.updated_at:
                self.journal.record_alert(own.alert)
                self._recorded[own.id] = own.alert.updated_at
            if (
                own.cancel_requested
                and not own.cancel_sent
                and own.alert is not None
                and not own.alert.state.is_closed
            ):
                own.cancel_sent = True
                to_cancel.append(own.id)
        return to_cancel

    def take_event(self, event: StreamEvent) -> None:
        """An alert, an on-call card or this desk's presence from the stream (others: ignored)."""
        match event:
            case AlertEvent(data=alert):
                self.state.apply(alert, self.now())
            case OnCallEvent(data=card):
                if self.state.desk is None or card.site == self.state.desk.site:
                    self.set_oncall(card)
            case PresenceEvent(data=desk) if desk.id == self.state.desk_id:
                self.state.desk = desk

    def take_snapshot(
        self,
        codes: list[AlertCode],
        oncall: OnCall | None,
        desk: DeskPresence | None,
        open_alerts: list[Alert],
    ) -> list[OutboxEntry]:
        """The hub's picture: cached, applied; returns the own alerts to send again."""
        self.state.codes, self.state.codes_known = codes, True
        self.journal.save("codes", codes)
        self.set_oncall(oncall)
        if desk is not None:
            self.state.desk = desk
            self.journal.save("desk", desk)
        self.state.replace_open(open_alerts, self.now())
        return self.send_again(open_alerts)

    def refresh_errors(self) -> None:
        """Queued alerts shown as not transmitted carry the outbox's last error (the journal's)."""
        for queued in self.state.unsent(self.now()):
            if queued.step is Step.QUEUED and (stored := self.journal.get(queued.id)):
                queued.error = stored.last_error

    # -- what the screen shows until the hub answers ----------------------------------------

    def set_oncall(self, card: OnCall | None) -> None:
        self.state.oncall, self.state.oncall_saved_at = card, self.now()
        if card is not None:
            self.journal.save("oncall", card)

    def load_cache(self) -> None:
        """What the desk knew last time: shown at once, marked as last known until the hub
        answers. A cache that no longer reads (written by another version) is ignored."""
        if codes := self.journal.load_as("codes", list[AlertCode]):
            self.state.codes, self.state.codes_known = codes[0], True
        if oncall := self.journal.load_as("oncall", OnCall):
            self.state.oncall, self.state.oncall_saved_at = oncall
        if desk := self.journal.load_as("desk", DeskPresence):
            self.state.desk = desk[0]

    def notes_waiting(self) -> list[Alert]:
        """Own real alerts resolved in the last day whose note is neither done nor put off.

        Read from the journal, so the offer survives a restart; older ones wait in the journal."""
        recent = self.journal.incidents(self.now() - timedelta(days=1))
        return [
            incident.alert
            for incident in recent
            if incident.alert.state == "resolved"
            and not incident.alert.test
            and not (incident.record and (incident.record.finished or incident.record.postponed))
        ]
