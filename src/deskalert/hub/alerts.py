"""Alerts: who may do what to one, and escalation.

A desk raises an alert (stored by group commit, hub/batcher.py); someone answers "j'arrive"
(acknowledge), a supervisor or the raising desk resolves or cancels it; unanswered, it climbs
its escalation chain one level each `ack_timeout_s` (the ticker calls `escalate_due`). Every
change is one transaction on the store thread: the alert and its event, then the event is
published in commit order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from deskalert.errors import Conflict, Forbidden, NotFound, Unprocessable
from deskalert.hub.batcher import Batcher
from deskalert.hub.oncall_board import OnCallBoard
from deskalert.hub.roster import Roster
from deskalert.hub.runtime import Runtime
from deskalert.hub.settings import HubConfig, Principal
from deskalert.hub.store import Store, decode_cursor
from deskalert.models import Alert, AlertIn, AlertState, Event, EventType, Responder

EVERYONE = "everyone"
# What a desk sends that a resend of the same alert id must repeat (created_at as an instant).
RESEND_FIELDS = ("code", "message", "test", "created_at")
Change = Callable[[Alert], "tuple[Alert, EventType] | None"]


class Alerts:
    """Raise, read, answer and escalate alerts."""

    def __init__(
        self, config: HubConfig, runtime: Runtime, roster: Roster, oncall: OnCallBoard
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.roster = roster
        self.oncall = oncall
        self.clock = runtime.clock
        self.batch = Batcher[Alert, tuple[Alert, bool]](self._commit_group, "deskalert-group")

    async def stop(self) -> None:
        await self.batch.drain()

    # -- a new alert ----------------------------------------------------------------------

    async def raise_alert(self, principal: Principal, body: AlertIn) -> tuple[Alert, bool]:
        """Store a new alert, or return the stored one if this id was seen: (alert, created)."""
        if principal.is_supervisor:
            raise Forbidden("only a desk raises an alert; a supervisor answers them")
        code = self.roster.codes.get(body.code)
        if code is None:
            known = ", ".join(self.roster.codes)
            raise Unprocessable(f"unknown code {body.code!r} (known: {known})", code="unknown_code")
        desk = self.roster.desks[principal.id]
        now = self.clock.now()
        chain = self.oncall.chain(desk.site)
        alert = Alert(
            id=body.id,
            code=code.code,
            code_label=code.label,
            code_label_en=code.label_en,
            discreet=code.discreet,
            priority=code.priority,
            desk=desk.id,
            desk_label=desk.label,
            site=desk.site,
            location=desk.location,
            created_at=body.created_at,
            received_at=now,
            state=AlertState.OPEN,
            test=body.test,
            message=body.message,
            chain=chain,
            escalated_to=chain[0] if chain else EVERYONE,
            updated_at=now,
        )
        return await self.batch.submit(alert)

    async def _commit_group(self, alerts: list[Alert]) -> list[tuple[Alert, bool] | Exception]:
        return await self.runtime.db(self._insert_group, alerts)

    def _insert_group(self, alerts: list[Alert]) -> list[tuple[Alert, bool] | Exception]:
        """On the store thread: one commit for the group, then its events, in id order."""
        store = self.runtime.store
        outcomes = store.write_group([partial(insert_once, store, alert=a) for a in alerts])
        self.runtime.publish_all(
            [o[1] for o in outcomes if not isinstance(o, Exception) and o[1] is not None]
        )
        return [o if isinstance(o, Exception) else o[0] for o in outcomes]

    # -- reads ----------------------------------------------------------------------------

    async def get_alert(self, principal: Principal, alert_id: UUID) -> Alert:
        alert = await self.runtime.db(self.runtime.store.get_alert, alert_id)
        if alert is None:
            raise NotFound(f"no alert {alert_id}")
        self.roster.check_visible(principal, alert)
        return alert

    async def alert_history(self, principal: Principal, alert_id: UUID) -> list[Event]:
        await self.get_alert(principal, alert_id)
        return await self.runtime.db(self.runtime.store.events_about, str(alert_id))

    async def list_alerts(
        self,
        principal: Principal,
        *,
        open_only: bool,
        site: str | None,
        since: datetime | None,
        limit: int,
        cursor: str | None = None,
    ) -> tuple[list[Alert], str | None]:
        """A page of alerts, newest first, after `cursor`, and the cursor of the next page."""
        sites = self.roster.visible_sites(principal, site)
        one_site = next(iter(sites)) if sites else None
        after = decode_cursor(cursor, 2) if cursor is not None else None
        return await self.runtime.db(
            partial(
                self.runtime.store.list_alerts,
                open_only=open_only,
                site=one_site,
                since=since,
                limit=limit,
                after=after,
            )
        )

    # -- answers --------------------------------------------------------------------------

    async def acknowledge(self, principal: Principal, alert_id: UUID) -> Alert:
        def change(alert: Alert) -> tuple[Alert, EventType] | None:
            self.roster.check_visible(principal, alert)
            if alert.desk == principal.id:
                raise Forbidden("the desk that raised an alert cannot answer it itself")
            _refuse_if_closed(alert, "answer")
            if any(r.id == principal.id for r in alert.responders):
                return None
            now = self.clock.now()
            responder = Responder(id=principal.id, kind=principal.kind, name=principal.name, at=now)
            return alert.model_copy(
                update={
                    "state": AlertState.ACKNOWLEDGED,
                    "responders": [*alert.responders, responder],
                    "updated_at": now,
                }
            ), EventType.ALERT_ACKNOWLEDGED

        return await self._update(alert_id, change)

    async def resolve(self, principal: Principal, alert_id: UUID, summary: str | None) -> Alert:
        def change(alert: Alert) -> tuple[Alert, EventType]:
            self.roster.check_visible(principal, alert)
            if not principal.is_supervisor and alert.desk != principal.id:
                raise Forbidden("only a supervisor or the desk that raised it resolves an alert")
            _refuse_if_closed(alert, "resolve")
            closed = _closed(alert, AlertState.RESOLVED, principal, summary, self.clock.now())
            return closed, EventType.ALERT_RESOLVED

        return await self._update(alert_id, change)

    async def cancel(self, principal: Principal, alert_id: UUID, reason: str | None) -> Alert:
        window = self.config.hub.cancel_window_s

        def change(alert: Alert) -> tuple[Alert, EventType]:
            self.roster.check_visible(principal, alert)
            if not principal.is_supervisor and alert.desk != principal.id:
                raise Forbidden("only a supervisor or the desk that raised it cancels an alert")
            _refuse_if_closed(alert, "cancel")
            now = self.clock.now()
            if not principal.is_supervisor:
                elapsed = (now - alert.received_at).total_seconds()
                if elapsed > window:
                    raise Forbidden(
                        f"the {window:g} s cancel window is over ({elapsed:.0f} s since the alert);"
                        " only a supervisor can close it now",
                        code="cancel_window_over",
                    )
            cancelled = _closed(alert, AlertState.CANCELLED, principal, reason, now)
            return cancelled.model_copy(update={"false_alarm": True}), EventType.ALERT_CANCELLED

        return await self._update(alert_id, change)

    async def _update(self, alert_id: UUID, change: Change) -> Alert:
        def run() -> Alert:
            try:
                alert, event = self.runtime.store.update_alert(alert_id, change)
            except KeyError:
                raise NotFound(f"no alert {alert_id}") from None
            if event is not None:
                self.runtime.publish(event)
            return alert

        return await self.runtime.db(run)

    # -- escalation (the ticker) ----------------------------------------------------------

    async def escalate_due(self, now: datetime) -> None:
        """One level at a time, each `ack_timeout_s` after the previous one, from what the store
        says (level and time of the last escalation): a hub back from a long stop resumes the
        chain in order, it does not skip to everyone."""
        timeout = timedelta(seconds=self.config.hub.ack_timeout_s)
        # Due means escalated (or else received) at least `timeout` ago, so received before
        # now - timeout: the younger ones are not read at all.
        for alert in await self.runtime.db(self.runtime.store.unanswered_alerts, now - timeout):
            last = alert.escalated_at or alert.received_at
            if alert.escalation_level < len(alert.chain) and now - last >= timeout:
                await self._update(alert.id, _escalation(alert.escalation_level + 1, now))


class AlertIdReused(Conflict):
    """A resent alert id whose body differs from the stored alert's: a 409 carrying the stored
    alert. An identical resend is a retry (200); a different one is a bug or a forgery, and
    answering 200 would tell the desk that what it sent now was stored."""

    def __init__(self, stored: Alert, differing: list[str]) -> None:
        super().__init__(
            f"alert id {stored.id} is already stored with another {', '.join(differing)};"
            " a retry must resend the same body, a new alert needs a new id",
            code="alert_id_reused",
            state=stored.state.value,
        )
        self.alert = stored


def insert_once(store: Store, db: Any, alert: Alert) -> tuple[tuple[Alert, bool], Event | None]:
    """In a group's transaction: ((alert, created), its event if stored now); a resent id
    answers the stored alert, or raises the refusal (another desk's id, another body).
    A plain function of the rules, given to the store as one write of a group."""
    existing = store.alert_in(db, alert.id)
    if existing is not None:
        if existing.desk != alert.desk:
            raise Conflict(f"alert id {alert.id} is already used by another desk")
        differing = [
            name for name in RESEND_FIELDS if getattr(existing, name) != getattr(alert, name)
        ]
        if differing:
            raise AlertIdReused(existing, differing)
        return (existing, False), None
    event = store.add_alert(db, alert, alert.received_at)
    if event is None:  # another hub stored this id meanwhile: answer as a resend
        return insert_once(store, db, alert)
    return (alert, True), event


def _refuse_if_closed(alert: Alert, verb: str) -> None:
    if alert.state.is_closed:
        raise Conflict(
            f"cannot {verb}: the alert is already {alert.state.value}",
            code="invalid_transition",
            state=alert.state.value,
        )


def _closed(
    alert: Alert, state: AlertState, principal: Principal, summary: str | None, now: datetime
) -> Alert:
    return alert.model_copy(
        update={
            "state": state,
            "closed_at": now,
            "closed_by": principal.id,
            "summary": summary,
            "updated_at": now,
        }
    )


def _escalation(level: int, now: datetime) -> Change:
    def change(alert: Alert) -> tuple[Alert, EventType] | None:
        if alert.state is not AlertState.OPEN or alert.escalation_level >= level:
            return None  # answered or closed in the meantime
        target = alert.chain[level] if level < len(alert.chain) else EVERYONE
        return alert.model_copy(
            update={
                "escalation_level": level,
                "escalated_to": target,
                "escalated_at": now,
                "updated_at": now,
            }
        ), EventType.ALERT_ESCALATED

    return change
