"""The store's contract, alike on SQLite and PostgreSQL: interviews, presence, the outbox,
tokens and enrolment codes, broadcasts, page sessions (test_store_contract.py: the rest)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deskalert.hub.store import Notification, Store, decode_cursor
from deskalert.hub.store.connection import Connection
from deskalert.models import (
    Alert,
    AlertState,
    BroadcastRead,
    BroadcastState,
    CheckState,
    EventType,
    SessionState,
)
from store_contract_helpers import (
    STORES,
    T0,
    alert,
    at,
    broadcast,
    check,
    open_contract_store,
    session,
)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from open_contract_store(request, tmp_path)


# -- interview sessions and checks --------------------------------------------------------------


def test_sessions_and_checks_are_written_and_found_due(store: Store) -> None:
    early, late = session("g1", 10), session("g2", 30, site="etage")
    asked = check("g1", 5, session_id=early.id)
    other = check("g2", 50, site="etage")
    for s in (early, late):
        store.in_transaction(lambda db, s=s: store.put_session(db, s))
    for c in (asked, other):
        store.in_transaction(lambda db, c=c: store.put_check(db, c))
    store.in_transaction(lambda db: None)
    assert [s.id for s in store.open_sessions(None)] == [early.id, late.id]
    assert [s.id for s in store.open_sessions({"etage"})] == [late.id]
    assert [c.id for c in store.pending_checks({"accueil"})] == [asked.id]
    found: dict[str, list[object]] = {}

    def read(db: Connection) -> None:
        found["sessions"] = [s.id for s in store.sessions_due(db, at(20))]
        found["checks"] = [c.id for c in store.checks_due(db, at(20))]
        found["of_session"] = [c.id for c in store.pending_checks_of_session(db, early.id)]
        found["one"] = [store.get_session(db, late.id), store.get_check(db, other.id)]

    store.in_transaction(read)
    assert found == {
        "sessions": [early.id],
        "checks": [asked.id],
        "of_session": [asked.id],
        "one": [late, other],
    }


def test_a_session_closed_and_a_check_answered_leave_the_open_lists(store: Store) -> None:
    running = session("g1", 10)
    asked = check("g1", 5, session_id=running.id)
    store.in_transaction(lambda db: (store.put_session(db, running), store.put_check(db, asked)))
    closed = running.model_copy(update={"state": SessionState.CLOSED, "closed_at": at(3)})
    answered = asked.model_copy(update={"state": CheckState.ANSWERED, "answered_at": at(3)})
    store.in_transaction(lambda db: (store.put_session(db, closed), store.put_check(db, answered)))
    assert store.open_sessions(None) == [] and store.pending_checks(None) == []
    got: list[object] = []
    store.in_transaction(lambda db: got.extend([store.get_session(db, running.id)]))
    assert got == [closed]


def test_an_unanswered_check_raises_its_alert_in_the_same_transaction(store: Store) -> None:
    raised = alert()
    events = []
    store.in_transaction(lambda db: events.append(store.put_alert(db, raised)))
    assert events[0].type is EventType.ALERT_RAISED
    assert store.get_alert(raised.id) == raised


# -- presence --------------------------------------------------------------------------------------


def test_presence_changes_once_and_offline_waits_for_silence(store: Store) -> None:
    store.ensure_desks(["g1", "g2"])
    store.ensure_desks(["g1", "g2"])  # a restart adds nothing
    assert store.presence_rows() == {"g1": (False, None), "g2": (False, None)}
    data = {"id": "g1", "online": True}
    assert store.set_presence("g1", True, at(0), None, data, "accueil") is not None
    assert store.set_presence("g1", True, at(1), None, data, "accueil") is None, "once"
    assert store.presence_rows()["g1"] == (True, at(0))
    store.share_live_state("hub-a", {"g1": at(5)}, "{}", at(5), at(0))
    store.share_live_state("hub-a", {"g1": at(2)}, "{}", at(6), at(0))  # never back
    assert store.presence_rows()["g1"] == (True, at(5))
    gone = {"id": "g1", "online": False}
    assert store.set_presence("g1", False, at(6), at(4), gone, "accueil") is None, "heard at 5"
    offline = store.set_presence("g1", False, at(9), at(6), gone, "accueil")
    assert offline is not None and offline.type is EventType.DESK_OFFLINE
    assert store.presence_rows()["g1"][0] is False
    assert store.last_presence() == {"g1": gone}


def test_hubs_share_their_streams_while_alive_and_a_leader_graces_silent_desks(
    store: Store,
) -> None:
    store.ensure_desks(["g1"])
    store.set_presence("g1", True, at(0), None, {"id": "g1"}, "accueil")
    store.share_live_state("hub-b", {}, '{"s.b": 1}', at(1), at(0))
    rows, others = store.share_live_state("hub-a", {}, '{"s.a": 1}', at(2), at(0))
    assert others == {"hub-b": '{"s.b": 1}'} and rows["g1"] == (True, at(0))
    assert store.share_live_state("hub-a", {}, "{}", at(3), at(2))[1] == {}, "b is silent"
    store.forget_streams("hub-b")
    assert store.share_live_state("hub-a", {}, "{}", at(3), at(0))[1] == {}
    store.grace_online(at(10), at(5))
    assert store.presence_rows()["g1"] == (True, at(10))


# -- the notification outbox ---------------------------------------------------------------------


def queued(a: Alert, kind: str, owner: str, channel: str = "ntfy") -> Notification:
    return Notification(
        alert_id=str(a.id),
        site=a.site,
        kind=kind,
        owner=owner,
        channel=channel,
        title="Renfort",
        body="100 % ? oui",
    )


def test_the_outbox_queues_claims_once_and_finishes_an_attempt(store: Store) -> None:
    raised = alert()
    store.insert_alert(raised, raised.received_at)
    rows = [queued(raised, "raised", "s.a"), queued(raised, "raised", "site:accueil", "room")]
    store.in_transaction(lambda db: store.add_notifications(db, rows, at(0)))
    due = store.due_notifications(at(1), per_queue=10)
    assert [(d[1], d[2], d[3]) for d in due] == [
        ("accueil", "raised", "ntfy"),
        ("accueil", "raised", "room"),
    ]
    assert store.due_notifications(at(-1), per_queue=10) == [], "not due yet"
    claimed = store.claim_notifications([d[0] for d in due])
    assert [(c.attempts, c.body) for c in claimed] == [(1, "100 % ? oui")] * 2
    assert store.claim_notifications([d[0] for d in due]) == [], "claimed once"
    assert [n.id for n in store.interrupted_notifications()] == [c.id for c in claimed]
    assert {b[0]: b[1] for b in store.notification_backlog()} == {"ntfy": 1, "room": 1}
    sent = store.finish_notification(
        claimed[0], "sent", at(2), None, EventType.NOTIFY_SENT, {"id": str(raised.id)}
    )
    assert sent is not None and sent.type is EventType.NOTIFY_SENT
    stale = store.finish_notification(
        claimed[0], "sent", at(2), None, EventType.NOTIFY_SENT, {"id": str(raised.id)}
    )
    assert stale is None, "no longer this attempt's"
    store.finish_notification(
        claimed[1], "retry", at(2), at(3), EventType.NOTIFY_FAILED, {"reason": "503"}
    )
    assert [d[3] for d in store.due_notifications(at(3), per_queue=10)] == ["room"]
    assert store.interrupted_notifications() == []


def test_the_outbox_knows_who_was_told_cancels_and_finds_alerts_to_renotify(
    store: Store,
) -> None:
    open_one, taken, room_only = alert(0), alert(1), alert(2)
    for a in (open_one, taken, room_only):
        store.insert_alert(a, a.received_at)
    rows = [
        queued(open_one, "raised", "s.a"),
        queued(open_one, "raised", "site:accueil", "room"),
        queued(taken, "raised", "s.a"),
        queued(room_only, "raised", "site:accueil", "room"),
    ]
    store.in_transaction(lambda db: store.add_notifications(db, rows, at(0)))
    found: dict[str, object] = {}

    def read(db: Connection) -> None:
        found["all"] = store.notified_channels(db, str(open_one.id), attempted=False)
        found["tried"] = store.notified_channels(db, str(open_one.id), attempted=True)
        found["unsent"] = store.unsent_channels(db, str(open_one.id))
        found["state"] = store.alert_state(db, str(open_one.id))
        store.cancel_notifications(db, str(taken.id))

    store.in_transaction(read)
    assert found == {
        "all": [("s.a", "ntfy"), ("site:accueil", "room")],
        "tried": [],
        "unsent": {"ntfy", "room"},
        "state": "open",
    }
    assert len(store.due_notifications(at(1), per_queue=10)) == 3, "the taken one's cancelled"
    # Only supervisors' rows (not `site:%` rooms) count for a reminder; open alerts only.
    store.update_alert(
        taken.id,
        lambda a: (
            a.model_copy(update={"state": AlertState.ACKNOWLEDGED}),
            EventType.ALERT_ACKNOWLEDGED,
        ),
    )
    assert [a.id for a in store.alerts_to_renotify(at(0))] == [open_one.id]
    assert store.alerts_to_renotify(at(-1)) == []


def test_due_notifications_give_each_sites_first_messages_first(store: Store) -> None:
    busy, quiet = alert(0), alert(0, site="etage")
    for a in (busy, quiet):
        store.insert_alert(a, a.received_at)
    rows = [queued(busy, "renotify", "s.a") for _ in range(3)] + [queued(busy, "raised", "s.a")]
    store.in_transaction(lambda db: store.add_notifications(db, rows, at(0)))
    store.in_transaction(
        lambda db: store.add_notifications(db, [queued(quiet, "closed", "s.b")], at(0))
    )
    due = store.due_notifications(at(1), per_queue=2)
    assert [(d[1], d[2]) for d in due] == [
        ("accueil", "raised"),
        ("etage", "closed"),
        ("accueil", "renotify"),
    ]


# -- tokens and enrolment codes ------------------------------------------------------------------


def test_a_token_overlay_is_written_and_its_version_moves(store: Store) -> None:
    assert store.token_overlay() == {} and store.tokens_version() is None
    store.set_token("g1", "base1", None, at(0))
    first = store.tokens_version()
    store.set_token("s.a", "base2", "new2", at(1))
    assert store.token_overlay() == {"g1": ("base1", None), "s.a": ("base2", "new2")}
    assert store.tokens_version() not in (None, first)


def test_an_enrolment_code_is_spent_once_before_it_expires(store: Store) -> None:
    store.add_enrolment("code1", "g1", at(10))
    store.add_enrolment("code2", "g2", at(10))
    store.add_enrolment("code3", "gone", at(10))
    assert store.enrolment_outcome("code1", at(1)) == ("g1", "ok")
    assert store.enrolment_outcome("nope", at(1)) == (None, "unknown")
    assert store.enrolment_outcome("code2", at(10)) == ("g2", "expired")
    bases = {"g1": "base1", "g2": "base2"}.get
    assert store.use_enrolment("code1", at(1), bases, "tok1") == ("g1", "ok")
    assert store.use_enrolment("code1", at(2), bases, "tok1") == ("g1", "used")
    assert store.use_enrolment("code3", at(2), bases, "tok3") == ("gone", "gone")
    assert store.use_enrolment("code2", at(11), bases, None) == ("g2", "expired")
    assert store.token_overlay() == {"g1": ("base1", "tok1")}
    assert store.enrolment_outcome("code1", at(3)) == ("g1", "used")


# -- broadcasts ----------------------------------------------------------------------------------


def test_a_broadcast_is_sent_once_with_an_event_per_site(store: Store) -> None:
    message = broadcast(0, ["accueil", "etage"])
    events = store.in_broadcasts(lambda db: store.add_broadcast(db, message))
    assert events is not None
    assert [(e.type, e.site) for e in events] == [
        (EventType.BROADCAST_SENT, "accueil"),
        (EventType.BROADCAST_SENT, "etage"),
    ]
    assert store.in_broadcasts(lambda db: store.add_broadcast(db, message)) is None, "resent"
    assert store.get_broadcast(message.id) == message
    assert store.current_broadcasts() == [message]


def test_a_read_is_stored_once_per_desk_under_the_row_lock_and_an_end_is_final(
    store: Store,
) -> None:
    message = broadcast(0, ["accueil", "etage"])
    store.in_broadcasts(lambda db: store.add_broadcast(db, message))

    def read(db: Connection, desk: str) -> list[object]:
        current = store.broadcast_in(db, message.id, lock=True)
        assert current is not None
        if any(r.desk == desk for r in current.reads):
            return []
        reads = [*current.reads, BroadcastRead(desk=desk, at=at(1))]
        return list(
            store.put_broadcast(
                db,
                current.model_copy(update={"reads": reads}),
                EventType.BROADCAST_READ,
                ["accueil"],
            )
        )

    assert len(store.in_broadcasts(lambda db: read(db, "d.accueil"))) == 1
    assert store.in_broadcasts(lambda db: read(db, "d.accueil")) == [], "once per desk"
    stored = store.get_broadcast(message.id)
    assert stored is not None and [r.desk for r in stored.reads] == ["d.accueil"]
    ended = stored.model_copy(update={"state": BroadcastState.ENDED, "ended_at": at(2)})
    events = store.in_broadcasts(
        lambda db: store.put_broadcast(db, ended, EventType.BROADCAST_ENDED)
    )
    assert [e.site for e in events] == ["accueil", "etage"]
    assert store.current_broadcasts() == [] and store.get_broadcast(message.id) == ended
    assert store.in_broadcasts(lambda db: store.current_broadcasts(db, lock=True)) == []


def test_broadcasts_are_listed_by_period_oldest_first_and_paged(store: Store) -> None:
    sent = [broadcast(m, ["accueil"]) for m in (0, 5, 5, 10)]
    for b in sent:
        store.in_broadcasts(lambda db, b=b: store.add_broadcast(db, b))
    listed, cursor = store.list_broadcasts(None, None)
    assert cursor is None and [b.sent_at for b in listed] == [at(0), at(5), at(5), at(10)]
    assert len(store.list_broadcasts(at(5), at(10))[0]) == 2
    page, cursor = store.list_broadcasts(None, None, limit=2)
    assert cursor is not None
    rest, end = store.list_broadcasts(None, None, limit=2, after=decode_cursor(cursor, 2))
    assert end is None and {b.id for b in [*page, *rest]} == {b.id for b in sent}


def test_the_purge_removes_ended_broadcasts_closed_sessions_and_done_checks(
    store: Store,
) -> None:
    ended = broadcast(0, ["accueil"], state=BroadcastState.ENDED)
    current = broadcast(0, ["accueil"])
    for b in (ended, current):
        store.in_broadcasts(lambda db, b=b: store.add_broadcast(db, b))
    closed = session("g1", 0, state=SessionState.CLOSED)
    answered = check("g1", 0, state=CheckState.ANSWERED)
    store.in_transaction(lambda db: (store.put_session(db, closed), store.put_check(db, answered)))
    store.purge(at(60))
    assert store.get_broadcast(ended.id) is None and store.get_broadcast(current.id) == current
    gone: list[object] = []
    store.in_transaction(
        lambda db: gone.extend([store.get_session(db, closed.id), store.get_check(db, answered.id)])
    )
    assert gone == [None, None]


# -- page sessions ended by a logout -------------------------------------------------------------


def test_a_revoked_page_session_is_kept_until_its_cookie_expires(store: Store) -> None:
    store.revoke_session("sess1", at(60), T0)
    store.revoke_session("sess1", at(60), T0)  # a second logout: the same row
    store.revoke_session("sess2", at(10), T0)
    assert store.revoked_sessions(at(5)) == {"sess1": at(60), "sess2": at(10)}
    assert store.revoked_sessions(at(30)) == {"sess1": at(60)}
    store.revoke_session("sess3", at(90), at(30))  # a write forgets the expired ones
    assert store.revoked_sessions(T0) == {"sess1": at(60), "sess3": at(90)}
