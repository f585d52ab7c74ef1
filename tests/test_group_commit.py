"""Group commit of new alerts, through a real hub: many desks at once, each 201 stored once and
answered only after its group's commit; a group whose commit fails answers 503 to every request
in it and stores none of them (a 201 means "on disk", a 503 means "not stored": never half)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from support.hubs import RunningHub, on_store
from support.requests import auth, new_alert

DESKS = 20
PER_DESK = 8
NO_RATE_LIMIT = {"alert_burst": 100000, "alerts_per_minute": 60000}


class GroupSpy:
    """Wraps the hub's group insert (on the store thread): records each group's alert ids,
    holds the first group until `hold_until_waiting` alerts wait behind it (or `hold_s`
    passed), and runs `during(index)` before each group (to arm a fault)."""

    def __init__(
        self,
        hub: RunningHub,
        hold_s: float = 0.05,
        hold_until_waiting: int = 0,
        during: Callable[[int], None] = lambda index: None,
    ) -> None:
        self.alerts = hub.server.server.config.app.state.hub.alerts
        self.groups: list[list[str]] = []
        self.hold_s, self.hold_until_waiting, self.during = hold_s, hold_until_waiting, during
        self._insert_group = self.alerts._insert_group
        self.alerts._insert_group = self

    def __call__(self, alerts: list[Any]) -> Any:
        index = len(self.groups)
        self.groups.append([str(alert.id) for alert in alerts])
        if index == 0:
            deadline = time.monotonic() + self.hold_s
            while time.monotonic() < deadline and (
                not self.hold_until_waiting or self.alerts.batch.waiting < self.hold_until_waiting
            ):
                time.sleep(0.005)
        self.during(index)
        return self._insert_group(alerts)


def raised_events(hub: RunningHub) -> Counter[str]:
    rows = on_store(
        hub,
        lambda db: db.execute("SELECT subject FROM events WHERE type='alert.raised'").fetchall(),
    )
    return Counter(row[0] for row in rows)


def stored_alerts(hub: RunningHub) -> Counter[str]:
    return Counter(
        row[0] for row in on_store(hub, lambda db: db.execute("SELECT id FROM alerts").fetchall())
    )


async def test_many_desks_at_once_each_201_stored_once_in_shared_commits(
    hub_factory: Callable[..., RunningHub],
) -> None:
    """Every new alert answered 201 exactly once, its resends 200, a resend with another body
    409; each stored once with one alert.raised event; and commits were shared."""
    hub = hub_factory(extra_desks=DESKS, **NO_RATE_LIMIT)
    spy = GroupSpy(hub)
    created: list[str] = []

    async def desk(index: int) -> None:
        async with httpx.AsyncClient(
            base_url=hub.url, headers=auth(f"d{index:02d}"), timeout=30
        ) as http:
            for number in range(PER_DESK):
                body = new_alert(message=f"desk {index} alert {number}")
                resend = body if number % 2 == 0 else {**body, "message": "another body"}
                first, second = await asyncio.gather(
                    http.post("/v1/alerts", json=body), http.post("/v1/alerts", json=resend)
                )
                expected = [200, 201] if resend is body else [201, 409]
                assert sorted([first.status_code, second.status_code]) == expected
                winner = first if first.status_code == 201 else second
                assert winner.json()["id"] == body["id"]
                if resend is not body:  # the 409 carries the alert as stored: the 201's body
                    refused = second if winner is first else first
                    assert refused.json()["alert"]["message"] == winner.json()["message"]
                created.append(body["id"])

    await asyncio.gather(*(desk(i) for i in range(DESKS)))

    assert len(created) == DESKS * PER_DESK
    assert stored_alerts(hub) == Counter({alert_id: 1 for alert_id in created}), (
        "every 201 stored, once"
    )
    assert raised_events(hub) == Counter({alert_id: 1 for alert_id in created}), (
        "one alert.raised event per alert"
    )
    assert sum(len(group) for group in spy.groups) == 2 * DESKS * PER_DESK
    assert max(len(group) for group in spy.groups) > 1, "alerts waiting shared one commit"
    assert len(spy.groups) < 2 * DESKS * PER_DESK


async def test_a_group_whose_commit_fails_answers_503_to_all_its_requests_stores_none(
    hub_factory: Callable[..., RunningHub],
) -> None:
    """The store fails in the middle of a group (its third insert: an I/O error): every
    request of that group gets a 503, none of its alerts nor events is stored; the group
    before it is stored and answered 201, and the same alerts resent later are stored."""
    hub = hub_factory(extra_desks=DESKS, **NO_RATE_LIMIT)
    store = hub.server.server.config.app.state.hub.store
    add_alert = store.add_alert
    inserts = {"armed": False, "count": 0}

    def failing_add_alert(db: sqlite3.Connection, *args: Any) -> Any:
        if inserts["armed"]:
            inserts["count"] += 1
            if inserts["count"] == 3:
                raise store.db_errors[0]("disk I/O error")  # the database's own error
        return add_alert(db, *args)

    store.add_alert = failing_add_alert
    spy = GroupSpy(
        hub,
        hold_s=20,
        hold_until_waiting=DESKS - 1,
        during=lambda index: inserts.update(armed=index == 1, count=0),
    )
    async with httpx.AsyncClient(base_url=hub.url, timeout=30) as http:
        first = new_alert()
        alone = asyncio.create_task(http.post("/v1/alerts", json=first, headers=auth("d00")))
        while not spy.groups:  # the first group is on the store thread, held there
            await asyncio.sleep(0.01)
        bodies = [new_alert() for _ in range(DESKS - 1)]
        answers = await asyncio.gather(
            *(
                http.post("/v1/alerts", json=body, headers=auth(f"d{i + 1:02d}"))
                for i, body in enumerate(bodies)
            )
        )
        assert (await alone).status_code == 201

        assert spy.groups[:2] == [[first["id"]], spy.groups[1]], [len(g) for g in spy.groups]
        assert sorted(spy.groups[1]) == sorted(b["id"] for b in bodies), "one group"
        assert [a.status_code for a in answers] == [503] * len(bodies)
        assert {a.json()["error"] for a in answers} == {"store_unavailable"}
        assert stored_alerts(hub) == Counter({first["id"]: 1}), "none of the group stored"
        assert raised_events(hub) == Counter({first["id"]: 1})

        resent = await asyncio.gather(
            *(
                http.post("/v1/alerts", json=body, headers=auth(f"d{i + 1:02d}"))
                for i, body in enumerate(bodies)
            )
        )
        assert [a.status_code for a in resent] == [201] * len(bodies)
    assert stored_alerts(hub) == Counter({b["id"]: 1 for b in [first, *bodies]})


async def test_desks_coming_online_together_share_commits_and_each_is_announced_once(
    hub_factory: Callable[..., RunningHub],
) -> None:
    """40 desks whose heartbeats arrive at once (the morning opening): desk.online once per
    desk, every desk online, in fewer commits than desks (one per group)."""
    hub = hub_factory(extra_desks=40)
    store = hub.server.server.config.app.state.hub.store
    groups: list[int] = []
    write_group = store.write_group

    def counting(writes: Any) -> Any:
        groups.append(len(writes))
        return write_group(writes)

    store.write_group = counting
    desks = [f"d{i:02d}" for i in range(40)]
    async with httpx.AsyncClient(base_url=hub.url, timeout=30) as http:
        answers = await asyncio.gather(
            *(http.post("/v1/heartbeat", headers=auth(d)) for d in desks)
        )
        assert {a.status_code for a in answers} == {200}
        again = await asyncio.gather(
            *(http.post("/v1/heartbeat", headers=auth(d)) for d in desks[:5])
        )
        assert {a.status_code for a in again} == {200}
        online = {
            d["id"]: d["online"] for d in (await http.get("/v1/desks", headers=auth("s.a"))).json()
        }
    assert all(online[d] for d in desks)
    announced = Counter(
        on_store(
            hub,
            lambda db: [
                r[0]
                for r in db.execute(
                    "SELECT subject FROM events WHERE type='desk.online'"
                ).fetchall()
            ],
        )
    )
    assert announced == Counter({d: 1 for d in desks}), "each desk announced once"
    assert sum(groups) == 40 and len(groups) < 40, f"grouped commits: {groups}"
