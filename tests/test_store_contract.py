"""The store's contract, alike on SQLite and PostgreSQL: alerts, events, history, notes, meta.

Each test opens the store directly (no hub, no HTTP) on both real databases; the HTTP suites
check the same behaviour through a hub on SQLite. The rest of the contract (interviews,
presence, the outbox, tokens, broadcasts, page sessions) is in test_store_contract_rows.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from deskalert.errors import StoreUnavailable
from deskalert.hub.store import Connection, Store, decode_cursor
from deskalert.hub.store.rows import ALL_ROWS
from deskalert.models import Alert, AlertState, EventType
from store_contract_helpers import STORES, T0, alert, at, note, open_contract_store, reopen


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from open_contract_store(request, tmp_path)


def acknowledge(by: str) -> Callable[[Alert], tuple[Alert, EventType] | None]:
    def change(current: Alert) -> tuple[Alert, EventType] | None:
        if current.state is not AlertState.OPEN:
            return None
        return current.model_copy(
            update={"state": AlertState.ACKNOWLEDGED, "closed_by": by}
        ), EventType.ALERT_ACKNOWLEDGED

    return change


def close(state: AlertState, event: EventType) -> Callable[[Alert], tuple[Alert, EventType]]:
    return lambda current: (current.model_copy(update={"state": state}), event)


# -- alerts and their events ---------------------------------------------------------------------


def test_an_alert_is_stored_once_with_its_event_and_a_resent_id_adds_nothing(store: Store) -> None:
    raised = alert(message="50 % ? «dossier» d'urgence")
    event = store.insert_alert(raised, raised.received_at)
    assert event is not None
    assert (event.type, event.site, event.data["id"]) == (
        EventType.ALERT_RAISED,
        "accueil",
        str(raised.id),
    )
    assert store.get_alert(raised.id) == raised  # every field back, the % and ? too
    assert store.insert_alert(raised.model_copy(update={"desk": "g9"}), raised.received_at) is None
    assert store.get_alert(raised.id) == raised, "the first one stays"
    assert store.last_event_id() == event.id
    assert [e.id for e in store.events_about(str(raised.id))] == [event.id]
    assert store.get_alert(alert().id) is None


def test_event_ids_increase_in_commit_order_and_reading_after_an_id_gives_the_rest(
    store: Store,
) -> None:
    first = store.append_event(EventType.ROSTER_CHANGED, T0, None, {"fingerprint": "a"})
    alerts = [alert(i, site=site) for i, site in enumerate(["accueil", "etage", "accueil"])]
    events = [store.insert_alert(a, a.received_at) for a in alerts]
    ids = [first.id, *(e.id for e in events if e is not None)]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert [e.id for e in store.events_after(0, None, 100)] == ids
    assert [e.id for e in store.events_after(ids[1], None, 100)] == ids[2:]
    assert [e.id for e in store.events_after(0, None, 2)] == ids[:2]
    # A site's reader gets its site's events and the global ones (site NULL).
    assert [e.id for e in store.events_after(0, {"accueil"}, 100)] == [ids[0], ids[1], ids[3]]
    assert store.events_after(ids[-1], None, 100) == []
    assert store.events_after(0, None, 100)[1].data["message"] == alerts[0].message


def test_a_desks_stream_leaves_out_other_desks_presence(store: Store) -> None:
    store.ensure_desks(["g1", "g2"])
    for desk in ("g1", "g2"):
        store.set_presence(desk, True, T0, None, {"id": desk, "online": True}, "accueil")
    raised = alert()
    store.insert_alert(raised, raised.received_at)
    kinds = [(e.type, e.data["id"]) for e in store.events_after(0, {"accueil"}, 100, "g1")]
    assert kinds == [(EventType.DESK_ONLINE, "g1"), (EventType.ALERT_RAISED, str(raised.id))]


def test_acknowledge_resolve_and_cancel_write_the_alert_and_its_event(store: Store) -> None:
    taken, cancelled = alert(0), alert(1)
    for a in (taken, cancelled):
        store.insert_alert(a, a.received_at)
    assert store.open_alert_count() == 2
    acked, event = store.update_alert(taken.id, acknowledge("s.a"))
    assert event is not None and event.type is EventType.ALERT_ACKNOWLEDGED
    assert acked.state is AlertState.ACKNOWLEDGED and store.get_alert(taken.id) == acked
    again, none = store.update_alert(taken.id, acknowledge("s.b"))
    assert none is None and again == acked, "a no-op writes nothing"
    assert [a.id for a in store.unanswered_alerts()] == [cancelled.id]
    store.update_alert(taken.id, close(AlertState.RESOLVED, EventType.ALERT_RESOLVED))
    store.update_alert(cancelled.id, close(AlertState.CANCELLED, EventType.ALERT_CANCELLED))
    assert store.open_alert_count() == 0
    assert [e.type for e in store.events_about(str(taken.id))] == [
        EventType.ALERT_RAISED,
        EventType.ALERT_ACKNOWLEDGED,
        EventType.ALERT_RESOLVED,
    ]
    assert store.list_alerts(open_only=True, site=None, since=None, limit=10) == ([], None)
    with pytest.raises(KeyError):
        store.update_alert(alert().id, acknowledge("s.a"))


def test_unanswered_alerts_received_before_a_time(store: Store) -> None:
    early, late = alert(0), alert(10)
    for a in (early, late):
        store.insert_alert(a, a.received_at)
    assert [a.id for a in store.unanswered_alerts(at(5))] == [early.id]
    assert {a.id for a in store.unanswered_alerts()} == {early.id, late.id}


def test_a_write_group_commits_together_and_a_refused_write_is_undone_alone(store: Store) -> None:
    kept, refused_alert, resent = alert(0), alert(1), alert(2)
    store.insert_alert(resent, resent.received_at)

    def refuse(db: Connection) -> None:
        store.add_alert(db, refused_alert, refused_alert.received_at)
        raise ValueError("another body under this id")

    outcomes = store.write_group(
        [
            lambda db: store.add_alert(db, kept, kept.received_at),
            refuse,
            lambda db: store.add_alert(db, resent, resent.received_at),
            lambda db: store.alert_in(db, kept.id),
        ]
    )
    assert outcomes[0] is not None and not isinstance(outcomes[0], Exception)
    assert isinstance(outcomes[1], ValueError)
    assert outcomes[2] is None, "stored already: no second event"
    assert outcomes[3] == kept, "the transaction sees its own writes"
    assert store.get_alert(kept.id) == kept and store.get_alert(refused_alert.id) is None
    assert [e.data["id"] for e in store.events_after(0, None, 10)] == [
        str(resent.id),
        str(kept.id),
    ]


# -- history: lists, pages, periods ------------------------------------------------------------


def test_the_alert_list_is_newest_first_paged_by_cursor_and_filtered(store: Store) -> None:
    same_time = [alert(5) for _ in range(3)]  # ties broken by id, never skipped nor repeated
    others = [alert(0, site="etage"), alert(10), alert(20, state=AlertState.RESOLVED)]
    for a in [*same_time, *others]:
        store.insert_alert(a, a.received_at)
    seen: list[Alert] = []
    cursor: str | None = None
    while True:
        after: list[str] | None = decode_cursor(cursor, 2) if cursor else None
        page, cursor = store.list_alerts(
            open_only=False, site=None, since=None, limit=2, after=after
        )
        seen.extend(page)
        if cursor is None:
            break
    assert len(seen) == 6 and len({a.id for a in seen}) == 6
    assert [a.received_at for a in seen] == sorted((a.received_at for a in seen), reverse=True)
    opened, _ = store.list_alerts(open_only=True, site=None, since=None, limit=10)
    assert len(opened) == 5
    on_site, _ = store.list_alerts(open_only=False, site="etage", since=None, limit=10)
    assert [a.id for a in on_site] == [others[0].id]
    # A bound given with another offset is the same instant.
    paris = timezone(timedelta(hours=1))
    recent, _ = store.list_alerts(
        open_only=False, site=None, since=at(10).astimezone(paris), limit=10
    )
    assert {a.id for a in recent} == {others[1].id, others[2].id}


def test_counted_events_compare_instants_whatever_their_offset(store: Store) -> None:
    """10:30Z written as 11:30+01:00 is before 11:00Z, although its text comes after."""
    paris = timezone(timedelta(hours=1))
    for minutes, zone in ((0, paris), (30, paris), (90, UTC)):
        moment = at(minutes).astimezone(zone)
        store.append_event(EventType.ALERT_RAISED, moment, "accueil", {"id": f"a{minutes}"})
    store.append_event(EventType.ALERT_RAISED, at(1), "etage", {"id": "b"})
    types = [EventType.ALERT_RAISED.value, EventType.ALERT_RESOLVED.value]
    assert store.count_events(types, at(0), at(60), None) == {
        "alert.raised": 3,
        "alert.resolved": 0,
    }
    assert store.count_events(types, at(0).astimezone(paris), at(60), {"accueil"}) == {
        "alert.raised": 2,
        "alert.resolved": 0,
    }
    assert store.count_events(types, at(31), None, None)["alert.raised"] == 1
    assert store.count_events(types, None, None, None)["alert.raised"] == 4


def test_notes_are_replaced_per_author_and_listed_by_period_and_cursor(store: Store) -> None:
    first, second = alert(0), alert(1, site="etage")
    for a in (first, second):
        store.insert_alert(a, a.received_at)
    assert store.save_note(note(first, "s.a", 10)) is True
    assert store.save_note(note(first, "s.a", 12)) is False, "the author's note is replaced"
    store.save_note(note(first, "g1", 11))
    store.save_note(note(second, "s.a", 20, site="etage"))
    all_notes, cursor = store.list_notes()
    assert cursor is None
    assert [(n.author, n.shared_at) for n in all_notes] == [
        ("g1", at(11)),
        ("s.a", at(12)),
        ("s.a", at(20)),
    ]
    assert [n.author for n in store.list_notes(alert_id=first.id)[0]] == ["g1", "s.a"]
    assert len(store.list_notes(author="s.a")[0]) == 2
    assert [n.site for n in store.list_notes(sites={"etage"})[0]] == ["etage"]
    paris = timezone(timedelta(hours=1))
    period = {"since": at(11).astimezone(paris), "until": at(20).astimezone(paris)}
    assert [n.shared_at for n in store.list_notes(**period)[0]] == [
        at(11),
        at(12),
    ]
    page, cursor = store.list_notes(limit=2)
    assert len(page) == 2 and cursor is not None
    rest, end = store.list_notes(limit=2, after=decode_cursor(cursor, 3))
    assert [n.shared_at for n in rest] == [at(20)] and end is None


def test_the_purge_removes_closed_old_alerts_their_notes_and_older_events(store: Store) -> None:
    old_closed, old_open, recent = alert(0), alert(1), alert(60 * 24 * 40)
    for a in (old_closed, old_open, recent):
        store.insert_alert(a, a.received_at)
    store.update_alert(old_closed.id, close(AlertState.RESOLVED, EventType.ALERT_RESOLVED))
    store.save_note(note(old_closed, "s.a", 5))
    store.save_note(note(recent, "s.a", 60 * 24 * 40))
    # The resolve event is dated 0 but is the last: kept, so ids never go back.
    assert store.purge(at(60 * 24 * 30)) == (1, 1, 2)
    assert store.get_alert(old_closed.id) is None
    assert store.get_alert(old_open.id) is not None, "an open alert is kept"
    assert [n.alert_id for n in store.list_notes()[0]] == [recent.id]
    last = store.last_event_id()
    assert store.purge(at(60 * 24 * 400))[2] >= 1 and store.last_event_id() == last, (
        "the last event stays: ids never go back"
    )


# -- meta, overrides, epoch, health ------------------------------------------------------------


def test_meta_values_are_swapped_and_read(store: Store) -> None:
    assert store.read_meta("roster") is None
    assert store.swap_meta("roster", "abc") is None
    assert store.swap_meta("roster", "def") == "abc"
    assert store.read_meta("roster") == "def"


def test_an_override_is_stored_with_its_event_and_deleted(store: Store) -> None:
    event = store.set_override("accueil", "s.b", at(60), at(0), {"site": "accueil"})
    assert event is not None and event.type is EventType.ONCALL_CHANGED
    assert store.overrides() == {"accueil": ("s.b", at(60))}
    assert store.set_override("accueil", "s.c", at(90), at(1)) is None, "no card: no event"
    assert store.overrides() == {"accueil": ("s.c", at(90))}
    store.set_override("accueil", None, None, at(2))
    assert store.overrides() == {}


def test_the_epoch_is_kept_across_a_reopen_and_the_store_answers(
    store: Store, tmp_path: Path
) -> None:
    epoch = store.epoch
    assert len(epoch) == 16
    raised = alert()
    store.insert_alert(raised, raised.received_at)
    store.probe_write()
    assert store.check() == "ok"
    again = reopen(store)
    try:
        assert again.epoch == epoch
        assert again.get_alert(raised.id) == raised
        assert again.last_event_id() == store.last_event_id()
    finally:
        again.close()


def test_a_database_error_in_a_write_group_fails_the_whole_group(store: Store) -> None:
    stored, new = alert(0), alert(1)
    store.insert_alert(stored, stored.received_at)
    last = store.last_event_id()
    with pytest.raises(StoreUnavailable):
        store.write_group(
            [
                lambda db: store.add_alert(db, new, new.received_at),
                lambda db: store.put_alert(db, stored),  # the same id again: the database refuses
            ]
        )
    assert store.get_alert(new.id) is None, "nothing of the group is stored"
    assert store.last_event_id() == last
    assert store.insert_alert(new, new.received_at) is not None, "the store writes again"


def test_the_largest_event_id_and_the_widest_periods_are_read_without_error(store: Store) -> None:
    raised = alert()
    store.insert_alert(raised, raised.received_at)
    assert store.events_after(2**63 - 1, None, 10) == []
    assert store.events_after(0, None, ALL_ROWS)[0].data["id"] == str(raised.id)
    # SQLite's julianday() reads no later than 9999-12-31T23:59:59.999 (NULL after it).
    first, last = datetime.min.replace(tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)
    kinds = [EventType.ALERT_RAISED.value]
    assert store.count_events(kinds, first, last, None) == {"alert.raised": 1}
    assert [a.id for a in store.list_alerts(open_only=False, site=None, since=first, limit=5)[0]]
    assert store.list_notes(since=first, until=last) == ([], None)
    assert store.list_broadcasts(first, last) == ([], None)


def test_the_link_secret_is_the_databases_when_shared(store: Store) -> None:
    """PostgreSQL: every hub signs links and page sessions with the key kept in the database;
    SQLite: the hub keeps its own (None here)."""
    secret = store.link_secret()
    if store.url is None:
        assert secret is None
        return
    assert secret is not None and len(secret) >= 16
    again = reopen(store)
    try:
        assert again.link_secret() == secret
    finally:
        again.close()
