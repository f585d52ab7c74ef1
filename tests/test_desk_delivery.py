"""The desk's delivery logic (tui/desk/delivery.py) on its own: no terminal, no Pilot, no hub.

`DeskDelivery` works on a real journal (SQLite in tmp_path) and a `DeskState`; the hub's answers
are the `Alert` copies the outbox and the stream would bring, built here. What the app does with
the results (workers, notices, drawing) is tested through Pilot in test_desk*.py.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from deskalert.errors import OUTSIDE_SITE_NETWORK, Forbidden, Unauthorized, is_outside_site_network
from deskalert.journal.store import Delivery, Journal
from deskalert.models import Alert, AlertCode, AlertState, DeskPresence, OnCall
from deskalert.tui.desk.delivery import RESEND_LOST_WITHIN, DeskDelivery, Withdrawal
from deskalert.tui.desk.state import DeskState, Step

START = datetime(2026, 11, 21, 10, 0).astimezone()


class Clock:
    def __init__(self) -> None:
        self.moment = START

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = Journal(tmp_path / "journal.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def delivery(journal: Journal, clock: Clock) -> DeskDelivery:
    return DeskDelivery(journal, DeskState("g1"), clock)


def hub_copy(alert_id: UUID, at: datetime, **changes: Any) -> Alert:
    """The hub's stored copy of one of this desk's alerts."""
    fields: dict[str, Any] = {
        "id": alert_id,
        "code": "renfort",
        "code_label": "Renfort",
        "discreet": True,
        "priority": 2,
        "desk": "g1",
        "desk_label": "Guichet 1",
        "site": "accueil",
        "location": "RDC",
        "created_at": at,
        "received_at": at,
        "state": AlertState.OPEN,
        "test": False,
        "updated_at": at,
    }
    return Alert.model_validate({**fields, **changes})


def stored(delivery: DeskDelivery, alert_id: UUID, at: datetime, **changes: Any) -> Alert:
    """What the outbox does when the hub has it (journal), then what the app applies (state)."""
    alert = hub_copy(alert_id, at, **changes)
    delivery.journal.mark_transmitted(alert)
    assert delivery.delivered(alert_id, Delivery.TRANSMITTED, alert, None) is None
    return alert


# -- the key ------------------------------------------------------------------------------------


def test_a_press_is_in_the_journal_before_anything_else_and_a_repeat_is_the_same_alert(
    delivery: DeskDelivery, journal: Journal
) -> None:
    first = delivery.press("renfort", test=False)
    assert first.entry is not None and first.same is None
    assert [e.id for e in journal.pending()] == [first.entry.id]
    assert delivery.state.own[first.entry.id].step is Step.QUEUED

    again = delivery.press("renfort", test=False)
    assert again.entry is None and again.same is not None and again.same.id == first.entry.id
    drill = delivery.press("renfort", test=True)  # a drill press is apart from a real one
    assert drill.entry is not None and drill.entry.test
    assert len(journal.pending()) == 2


def test_a_press_after_the_alert_was_answered_is_a_new_alert(
    delivery: DeskDelivery, clock: Clock
) -> None:
    first = delivery.press("renfort", test=False).entry
    assert first is not None
    stored(
        delivery,
        first.id,
        clock(),
        responders=[
            {"id": "s.a", "kind": "supervisor", "name": "Sophie A.", "at": clock().isoformat()}
        ],
    )
    second = delivery.press("renfort", test=False)
    assert second.entry is not None and second.entry.id != first.id


# -- alerts queued by another process ----------------------------------------------------------


def test_alerts_queued_by_another_process_are_adopted_once(
    delivery: DeskDelivery, journal: Journal
) -> None:
    mine = delivery.press("renfort", test=False).entry
    other = Journal(journal.path)  # `deskalert send` in another process, same journal
    queued = other.enqueue("venez", test=False)
    other.close()

    adopted = delivery.adopt()
    assert [e.id for e in adopted] == [queued.id], "its own press is never taken twice"
    assert mine is not None and delivery.state.own[queued.id].step is Step.QUEUED
    assert delivery.adopt() == []


# -- what the hub lost -------------------------------------------------------------------------


def test_a_stored_alert_missing_from_the_hubs_open_list_is_sent_again_under_its_id(
    delivery: DeskDelivery, journal: Journal, clock: Clock
) -> None:
    lost = delivery.press("renfort", test=False).entry
    kept = delivery.press("venez", test=False).entry
    assert lost is not None and kept is not None
    stored(delivery, lost.id, clock())
    kept_copy = stored(delivery, kept.id, clock(), code="venez")

    again = delivery.send_again([kept_copy])
    assert [e.id for e in again] == [lost.id]
    assert delivery.state.own[lost.id].step is Step.QUEUED
    assert [e.id for e in journal.pending()] == [lost.id]
    assert delivery.send_again([kept_copy]) == [], "queued again once, not at every snapshot"


def test_an_alert_older_than_the_resend_window_is_not_raised_again(
    delivery: DeskDelivery, clock: Clock
) -> None:
    old = delivery.press("renfort", test=False).entry
    assert old is not None
    stored(delivery, old.id, clock())
    clock.moment += RESEND_LOST_WITHIN + timedelta(minutes=1)
    assert delivery.send_again([]) == []


# -- the cancel key ----------------------------------------------------------------------------


def test_cancel_before_the_hub_has_it_withdraws_it_from_the_journal(
    delivery: DeskDelivery, journal: Journal
) -> None:
    assert delivery.withdraw() == (Withdrawal.NOTHING, None)
    entry = delivery.press("renfort", test=False).entry
    assert entry is not None
    assert delivery.withdraw() == (Withdrawal.WITHDRAWN, entry.id)
    assert journal.pending() == []
    assert delivery.state.own[entry.id].step is Step.CANCELLED
    assert delivery.withdraw() == (Withdrawal.NOTHING, None)


def test_cancel_of_a_stored_alert_asks_the_hub_once(delivery: DeskDelivery, clock: Clock) -> None:
    entry = delivery.press("renfort", test=False).entry
    assert entry is not None
    stored(delivery, entry.id, clock())
    assert delivery.withdraw() == (Withdrawal.ASK_HUB, entry.id)
    assert delivery.withdraw() == (Withdrawal.NOTHING, None)
    delivery.cancel_refused(entry.id)  # the hub said no: the key may try again
    assert delivery.withdraw() == (Withdrawal.ASK_HUB, entry.id)


def test_cancel_while_in_flight_is_sent_to_the_hub_when_its_copy_comes(
    delivery: DeskDelivery, journal: Journal, clock: Clock
) -> None:
    entry = delivery.press("renfort", test=False).entry
    assert entry is not None
    journal.mark_transmitted(hub_copy(entry.id, clock()))  # the outbox got it through meanwhile
    assert delivery.withdraw() == (Withdrawal.LATER, entry.id)
    assert delivery.record() == []  # no copy yet: nothing to cancel on the hub
    delivery.delivered(entry.id, Delivery.TRANSMITTED, hub_copy(entry.id, clock()), None)
    assert delivery.record() == [entry.id]
    assert delivery.record() == [], "asked once"


# -- the outbox's outcome ----------------------------------------------------------------------


def test_a_refused_token_and_a_desk_outside_its_network_are_returned_for_the_link(
    delivery: DeskDelivery,
) -> None:
    token = delivery.press("renfort", test=False).entry
    fenced = delivery.press("venez", test=False).entry
    other = delivery.press("medical", test=False).entry
    assert token is not None and fenced is not None and other is not None

    refused = delivery.delivered(token.id, Delivery.REFUSED, None, "unauthorized: unknown token")
    assert isinstance(refused, Unauthorized)
    outside = delivery.delivered(
        fenced.id,
        Delivery.REFUSED,
        None,
        f"{OUTSIDE_SITE_NETWORK}: 10.9.0.7 is not on accueil's networks",
    )
    assert isinstance(outside, Forbidden) and is_outside_site_network(outside)
    assert "10.9.0.7" in str(outside)
    assert delivery.delivered(other.id, Delivery.REFUSED, None, "unknown_code: medical") is None
    assert {delivery.state.own[i].step for i in (token.id, fenced.id, other.id)} == {Step.REFUSED}


def test_each_newer_copy_is_journaled(
    delivery: DeskDelivery, journal: Journal, clock: Clock
) -> None:
    entry = delivery.press("renfort", test=False).entry
    assert entry is not None
    stored(delivery, entry.id, clock())
    delivery.record()
    later = clock() + timedelta(minutes=3)
    delivery.state.apply(
        hub_copy(entry.id, clock(), state=AlertState.RESOLVED, updated_at=later, closed_at=later),
        clock(),
    )
    delivery.record()
    [incident] = journal.incidents()
    assert incident.alert.state is AlertState.RESOLVED


# -- what the screen shows until the hub answers -----------------------------------------------


def test_the_hubs_picture_is_cached_for_the_next_start(
    delivery: DeskDelivery, journal: Journal, clock: Clock
) -> None:
    codes = [AlertCode(code="venez", label="Venez", key="f3", discreet=False)]
    desk = DeskPresence(
        id="g1", label="Guichet 1", site="accueil", location="RDC", online=True, last_seen=None
    )
    oncall = OnCall(site="accueil", site_label="Accueil", supervisor=None, chain=[], source="none")
    assert delivery.take_snapshot(codes, oncall, desk, []) == []

    restarted = DeskDelivery(journal, DeskState("g1"), clock)
    restarted.load_cache()
    assert restarted.state.codes == codes and restarted.state.codes_known
    assert restarted.state.desk == desk and restarted.state.oncall == oncall


def test_a_resolved_real_alert_is_offered_a_note_until_put_off(
    delivery: DeskDelivery, journal: Journal, clock: Clock
) -> None:
    real = delivery.press("renfort", test=False).entry
    drill = delivery.press("renfort", test=True).entry
    assert real is not None and drill is not None
    for entry in (real, drill):
        stored(
            delivery,
            entry.id,
            clock(),
            test=entry.test,
            state=AlertState.RESOLVED,
            closed_at=clock(),
        )
    assert [a.id for a in delivery.notes_waiting()] == [real.id]
    journal.postpone_note(real.id)
    assert delivery.notes_waiting() == []


def test_the_delivery_logic_imports_no_textual() -> None:
    """Why it is a plain class: it runs (and is tested) without a terminal."""
    code = "import sys, deskalert.tui.desk.delivery; print('textual' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
