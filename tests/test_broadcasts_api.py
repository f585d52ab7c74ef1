"""Broadcasts through a real hub, on both stores: a supervisor's message to every desk of a
site, each desk's "lu" once, the unread named after the roster's delay, the end, the refusals."""

from __future__ import annotations

import queue
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from broadcast_helpers import current, post, send
from support.events import EventReader
from support.hubs import RunningHub

# One hub's HTTP API (routes, validation, permissions, answers): the same whatever the store,
# so SQLite only. The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py;
# hubs sharing PostgreSQL in test_replicas.py, test_failover.py (docs/test-ids-issue-22.md).
pytestmark = pytest.mark.stores("sqlite")


def until(reader: EventReader, event_type: str) -> dict[str, Any]:
    return reader.events_until(event_type, timeout=10)[-1][2]


def test_a_broadcast_reaches_every_desk_of_its_site_and_each_reads_it_once(
    bc_hub: Callable[..., RunningHub], follow: Callable[..., EventReader]
) -> None:
    hub = bc_hub()
    sup, g1 = follow(hub.url, "s.a"), follow(hub.url, "g1")
    answer = send(hub)
    assert answer.status_code == 201, answer.text
    sent = answer.json()
    assert sent["text"] == "Une personne agitée se dirige vers les guichets."
    assert sent["kind"] == "vigilance" and sent["look"] == "warning" and sent["protocol"]
    assert sorted(d["id"] for d in sent["desks"]) == ["d00", "g1", "g2"]
    assert until(g1, "broadcast.sent")["id"] == sent["id"]
    assert current(hub, "e1") == []  # another site's desk does not get it

    assert post(hub, "g1", f"/v1/broadcasts/{sent['id']}/read").status_code == 200
    again = post(hub, "g1", f"/v1/broadcasts/{sent['id']}/read")
    assert again.status_code == 200 and [r["desk"] for r in again.json()["reads"]] == ["g1"]
    read = until(sup, "broadcast.read")
    assert [r["desk"] for r in read["reads"]] == ["g1"]

    # After the delay, the leader's tick names the desks that have not read it.
    unread = until(sup, "broadcast.unread")
    assert unread["unread_named_at"] is not None
    assert sorted(d["id"] for d in unread["desks"]) == ["d00", "g1", "g2"]
    assert [r["desk"] for r in unread["reads"]] == ["g1"]
    # d00 was offline: back, it finds the broadcast still current and reads it.
    assert [b["id"] for b in current(hub, "d00")] == [sent["id"]]
    assert post(hub, "d00", f"/v1/broadcasts/{sent['id']}/read").status_code == 200
    assert [r["desk"] for r in until(sup, "broadcast.read")["reads"]] == ["g1", "d00"]
    # One broadcast.read per desk in the whole log: the second "lu" of g1 stored nothing.
    replay = follow(hub.url, "s.a", params={"since": "0"})
    seen = replay.events_until("broadcast.read", timeout=5)
    seen += replay.events_until("broadcast.read", timeout=5)
    with pytest.raises(queue.Empty):  # no third one
        replay.events_until("broadcast.read", timeout=0.5)
    assert [e[1] for e in seen].count("broadcast.unread") == 1


def test_ending_a_broadcast_reaches_the_desks_and_survives_a_restart(
    bc_hub: Callable[..., RunningHub], follow: Callable[..., EventReader]
) -> None:
    hub = bc_hub()
    first = send(hub, kind="confinement", text="Confinement : porte fermée", template=None).json()
    second = send(hub).json()
    g2 = follow(hub.url, "g2")
    assert post(hub, "s.a", f"/v1/broadcasts/{first['id']}/end").status_code == 200
    ended = until(g2, "broadcast.ended")
    assert ended["id"] == first["id"] and ended["state"] == "ended" and ended["ended_by"] == "s.a"
    assert post(hub, "s.a", f"/v1/broadcasts/{first['id']}/end").status_code == 200  # again: as is
    g2.stop()
    hub.stop()

    hub = bc_hub()  # the same database: the current one is still current
    assert [b["id"] for b in current(hub, "g2")] == [second["id"]]
    g1 = follow(hub.url, "g1", params={"since": "0"})  # replayed after a reconnect
    assert until(g1, "broadcast.ended")["id"] == first["id"]
    # fin d'alerte ends the current ones of its sites, and is itself current.
    clear = send(hub, template="fin-alerte").json()
    assert until(g1, "broadcast.ended")["id"] == second["id"]
    assert [b["id"] for b in current(hub, "g1")] == [clear["id"]]
    assert clear["look"] == "clear"


def test_a_resent_id_is_stored_once_and_another_body_is_refused(
    bc_hub: Callable[..., RunningHub],
) -> None:
    hub = bc_hub()
    body = {"id": str(uuid.uuid4())}
    assert send(hub, **body).status_code == 201
    assert send(hub, **body).status_code == 200
    refused = send(hub, **body, template=None, kind="vigilance", text="Autre chose")
    assert refused.status_code == 409 and refused.json()["error"] == "broadcast_id_reused"
    assert len(current(hub, "g1")) == 1


@pytest.mark.parametrize(
    ("who", "body", "status", "error"),
    [
        ("g1", {}, 403, "forbidden"),  # a desk cannot send
        ("s.c", {}, 403, "site_not_yours"),  # s.c sends to etage only
        ("s.a", {"template": None, "kind": "vigilance", "text": "x" * 301}, 422, None),
        ("s.a", {"template": None, "kind": "vigilance", "text": "   "}, 422, None),
        ("s.a", {"template": None, "kind": "tempete", "text": "Vent"}, 422, "unknown_kind"),
        ("s.a", {"template": "inconnu"}, 422, "unknown_template"),
        ("s.a", {"template": None, "kind": "vigilance"}, 422, "missing_text"),
        ("s.a", {"sites": ["nulle-part"]}, 422, "unknown_site"),
        ("s.a", {"sites": []}, 422, None),
    ],
)
def test_refusals_are_one_line_4xx(
    bc_hub: Callable[..., RunningHub],
    who: str,
    body: dict[str, Any],
    status: int,
    error: str | None,
) -> None:
    hub = bc_hub()
    answer = send(hub, who, **body)
    assert answer.status_code == status, answer.text
    if error is not None:
        assert answer.json()["error"] == error
    assert "\n" not in answer.json()["detail"]
    assert current(hub, "s.a") == []


def test_who_may_read_and_end(bc_hub: Callable[..., RunningHub]) -> None:
    hub = bc_hub()
    sent = send(hub).json()
    path = f"/v1/broadcasts/{sent['id']}"
    assert post(hub, "e1", f"{path}/read").status_code == 403  # not for another site's desk
    assert post(hub, "s.a", f"{path}/read").status_code == 403  # a supervisor does not read
    assert post(hub, "g1", f"{path}/end").status_code == 403  # a desk does not end
    assert post(hub, "s.c", f"{path}/end").status_code == 403  # not one of s.c's sites
    assert post(hub, "g1", f"/v1/broadcasts/{uuid.uuid4()}/read").status_code == 404
    assert current(hub, "s.c") == []  # s.c does not see accueil's
    with hub.client("s.c") as client:
        assert client.get("/v1/broadcasts", params={"site": "accueil"}).status_code == 403


def test_the_catalog_gives_senders_the_roster_kinds_and_templates(
    bc_hub: Callable[..., RunningHub],
) -> None:
    with bc_hub().client("s.a") as client:
        catalog = client.get("/v1/broadcasts/catalog").json()
    assert [k["id"] for k in catalog["kinds"]] == [
        "vigilance",
        "confinement",
        "evacuation",
        "fin-alerte",
    ]
    assert catalog["templates"][0]["text"] == "Une personne agitée se dirige vers les guichets."
    assert catalog["unread_after_s"] == 1.0


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        (
            '[[supervisors]]\nid = "s.z"\nname = "Z"\ntoken_sha256 = "' + "a" * 64 + '"\n'
            'sites = ["nulle-part"]\n',
            "supervisors[3].sites: unknown 'nulle-part'",
        ),
        (
            '[broadcasts]\n[[broadcasts.templates]]\nid = "x"\nkind = "tempete"\ntext = "Vent"\n',
            "broadcasts.templates[0].kind: unknown 'tempete'",
        ),
        ("[broadcasts]\nunread_after_s = 0\n", "broadcasts.unread_after_s: must be > 0"),
        (
            '[broadcasts]\n[[broadcasts.templates]]\nid = "x"\nkind = "vigilance"\ntext = "V"\n'
            + '[[broadcasts.templates]]\nid = "x"\nkind = "vigilance"\ntext = "V"\n',
            "broadcasts.templates: id 'x' appears more than once",
        ),
    ],
)
def test_a_wrong_broadcast_roster_is_refused_with_its_place(
    tmp_path: Path, extra: str, error: str
) -> None:
    """The place is said once: it read "broadcasts: broadcasts.templates[0].kind: ..." (the
    table's validator fails at the table and names the key under it)."""
    from support.cli import run_cli
    from support.roster import roster_toml

    hub_toml = tmp_path / "hub.toml"
    hub_toml.write_text(roster_toml() + "\n" + extra, encoding="utf-8")
    done = run_cli("--language", "en", "hub", "--config", hub_toml, "--check")
    assert done.code == 2 and done.err.startswith(f"deskalert: {hub_toml}: {error}"), done.err


def test_a_roster_without_broadcasts_gets_the_four_built_in_kinds() -> None:
    from support.roster import make_config

    roster = make_config().broadcasts
    assert roster.unread_after_s == 60
    assert [k.id for k in roster.kinds if k.ends] == ["fin-alerte"]
    assert roster.template("agite") is not None
