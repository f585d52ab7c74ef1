"""Who can come now (`site.availability`, `GET /v1/availability`) and alerts from where they
belong (`[[sites]] networks`, `[hub] trusted_proxies`), against a real hub over HTTP."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from deskalert.hub.settings import HubConfig
from support.events import EventReader
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import roster_toml

# One hub's HTTP API (routes, validation, permissions, answers): the same whatever the store,
# so SQLite only. The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py;
# hubs sharing PostgreSQL in test_replicas.py, test_failover.py (docs/test-ids-issue-22.md).
pytestmark = pytest.mark.stores("sqlite")


@pytest.fixture
def readers() -> Iterator[Callable[..., EventReader]]:
    """Streams that ask for the live-only frames (`availability=1`), open when returned."""
    opened: list[EventReader] = []

    def start(url: str, who: str, headers: dict[str, str] | None = None) -> EventReader:
        reader = EventReader(url, who, params={"availability": "1"}, headers=headers or {})
        opened.append(reader.start().wait_open())
        return reader

    yield start
    for reader in opened:
        reader.stop()


def availability(reader: EventReader, timeout: float = 5) -> dict[str, Any]:
    """The next site.availability frame's data."""
    return reader.next_data("site.availability", timeout)


def all_availability(reader: EventReader, for_s: float) -> list[dict[str, Any]]:
    """Every site.availability frame's data that comes within `for_s` seconds."""
    return [data for _, kind, data in reader.events_for(for_s) if kind == "site.availability"]


def start_hub(tmp_path: Path, toml: str) -> RunningHub:
    return start_threaded_hub(HubConfig.model_validate(tomllib.loads(toml)), tmp_path / "hub")


@pytest.fixture
def many_desks(tmp_path: Path) -> Iterator[RunningHub]:
    hub = start_hub(tmp_path, roster_toml(extra_desks=50))
    yield hub
    hub.stop()


def beat(hub: RunningHub, who: str) -> None:
    assert httpx.post(f"{hub.url}/v1/heartbeat", headers=auth(who)).status_code == 200


# -- who can come now ---------------------------------------------------------------------------


def test_fifty_desks_coming_online_give_a_few_debounced_events_with_the_right_counts(
    many_desks: RunningHub, readers: Callable[..., EventReader]
) -> None:
    """At most one event per site and second, never one per desk; the last says 51 online."""
    desk = readers(many_desks.url, "g1")
    first = availability(desk)
    assert (first["site"], first["desks_online"], first["desks"]) == ("accueil", 1, 52)
    upstairs = readers(many_desks.url, "e1")
    assert availability(upstairs)["site"] == "etage"
    started = time.monotonic()
    with ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda i: beat(many_desks, f"d{i:02d}"), range(50)))
    burst_s = time.monotonic() - started
    seen = all_availability(desk, 2.5)
    assert 1 <= len(seen) <= 2 + burst_s, f"debounced: {len(seen)} events in {burst_s:.1f} s"
    counts = [event["desks_online"] for event in seen]
    assert counts == sorted(counts) and counts[-1] == 51, counts
    assert all(event["site"] == "accueil" for event in seen)
    assert {e["site"] for e in all_availability(upstairs, 0.1)} <= {"etage"}, (
        "another site's numbers are not sent upstairs"
    )
    with many_desks.client("g2") as client:
        snapshot = client.get("/v1/availability").json()
    assert [(s["site"], s["desks_online"]) for s in snapshot] == [("accueil", 51)]


def test_a_reconnecting_desk_gets_the_numbers_now_at_once(
    hub: RunningHub, readers: Callable[..., EventReader]
) -> None:
    """Live only, so nothing is replayed: the stream's opening carries the current numbers."""
    desk = readers(hub.url, "e1")
    alone = availability(desk)
    assert (alone["desks_online"], alone["supervisors"]) == (1, [])
    desk.stop()
    supervisor = readers(hub.url, "s.b")  # the pane of Bob, following every site
    assert {e["site"] for e in (availability(supervisor), availability(supervisor))} == {
        "accueil",
        "etage",
    }
    with hub.client("s.a") as client:
        last_id = client.get("/healthz").json()["last_event_id"]
    again = availability(readers(hub.url, "e1", headers={"Last-Event-ID": str(last_id)}), 1)
    assert [(p["id"], p["connected"], p["on_call"]) for p in again["supervisors"]] == [
        ("s.b", True, False)
    ]


def test_a_supervisor_connecting_and_leaving_reaches_the_site_desks_and_on_call_counts(
    hub: RunningHub, readers: Callable[..., EventReader]
) -> None:
    desk = readers(hub.url, "g1")
    now = availability(desk)
    assert [(p["id"], p["connected"], p["on_call"]) for p in now["supervisors"]] == [
        ("s.a", False, True)
    ], "the on-call supervisor can answer on the phone"
    supervisor = readers(hub.url, "s.c")
    # A frame already due (the desk's own arrival) may come first on a loaded machine.
    joined = availability(desk, 3)
    if len(joined["supervisors"]) == 1:
        joined = availability(desk, 3)
    assert [(p["id"], p["connected"]) for p in joined["supervisors"]] == [
        ("s.a", False),
        ("s.c", True),
    ]
    supervisor.stop()
    # The hub learns that a stream closed when its next keep-alive cannot be written (within
    # heartbeat_s = 5 s), then sends the numbers within the 1 s debounce.
    left = availability(desk, 8)
    assert [p["id"] for p in left["supervisors"]] == ["s.a"]
    with hub.client("s.a") as client:
        both = client.get("/v1/availability").json()
        assert [s["site"] for s in both] == ["accueil", "etage"]
        assert (
            client.get("/v1/availability", params={"site": "etage"}).json()[0]["supervisors"] == []
        )
    with hub.client("g1") as client:
        assert client.get("/v1/availability", params={"site": "etage"}).status_code == 403


def test_a_stream_without_the_flag_gets_no_availability_frame_and_ids_stay_consecutive(
    hub: RunningHub, follow: Callable[..., Any]
) -> None:
    """Old clients and scripts count ids: live-only frames go only to streams that ask."""
    reader = follow(hub.url, "s.a")
    beat(hub, "g1")
    beat(hub, "e1")
    events = reader.events_until("desk.online") + reader.events_until("desk.online")
    events += reader.events_for(1.5)
    assert [e[1] for e in events] == ["desk.online", "desk.online"]
    assert [e[0] for e in events] == [1, 2]


# -- alerts from where they belong --------------------------------------------------------------


def fenced_roster(**hub: Any) -> str:
    """accueil admits 127.0.0.2 only; etage lists no networks."""
    return roster_toml(**hub).replace(
        'label = "Accueil RDC"', 'label = "Accueil RDC"\nnetworks = ["127.0.0.2/32", "10.1.2.0/24"]'
    )


def from_address(hub: RunningHub, who: str, source: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=hub.url, headers=auth(who), timeout=5, transport=transport)


def test_an_alert_from_outside_the_site_networks_is_403_and_listed_for_supervisors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hub = start_hub(tmp_path, fenced_roster())
    try:
        with from_address(hub, "g1", "127.0.0.5") as home:
            refused = home.post("/v1/alerts", json=new_alert())
            assert home.post("/v1/heartbeat").status_code == 403, "any desk request"
        logged = [r.getMessage() for r in caplog.records if "outside the site" in r.getMessage()]
        line = (
            "refused desk g1 (site accueil) from 127.0.0.5, outside the site's networks:"
            " POST /v1/alerts (1 time(s) since the last line)"
        )
        assert logged == [line], "one line per desk, address and minute"
        assert refused.status_code == 403
        assert refused.json()["error"] == "outside_site_network"
        assert "127.0.0.5" in refused.json()["detail"]
        with from_address(hub, "g1", "127.0.0.2") as desk:
            assert desk.post("/v1/alerts", json=new_alert()).status_code == 201
        with from_address(hub, "e1", "127.0.0.5") as upstairs:
            assert upstairs.post("/v1/alerts", json=new_alert()).status_code == 201, (
                "a site that lists no networks admits any address"
            )
        with hub.client("s.a") as supervisor:
            listed = supervisor.get("/v1/presence").json()["refused_desks"]
        assert [
            (r["desk"], r["address"], r["count"], r["alerts"], r["last_request"]) for r in listed
        ] == [("g1", "127.0.0.5", 2, 1, "POST /v1/heartbeat")]
    finally:
        hub.stop()


def test_forwarded_for_is_ignored_from_an_untrusted_peer_and_honoured_from_a_trusted_proxy(
    tmp_path: Path,
) -> None:
    hub = start_hub(tmp_path, fenced_roster(trusted_proxies='["127.0.0.3"]'))
    inside = {"X-Forwarded-For": "127.0.0.2"}
    try:
        with from_address(hub, "g1", "127.0.0.4") as stranger:
            forged = stranger.post("/v1/alerts", json=new_alert(), headers=inside)
        assert forged.status_code == 403 and "127.0.0.4" in forged.json()["detail"]
        with from_address(hub, "g1", "127.0.0.3") as proxy:
            assert proxy.post("/v1/alerts", json=new_alert(), headers=inside).status_code == 201
            # The right-most address the proxy did not add is the client: one forged further
            # left by the client itself changes nothing.
            chained = {"X-Forwarded-For": "10.1.2.7, 192.0.2.9"}
            outside = proxy.post("/v1/alerts", json=new_alert(), headers=chained)
            assert outside.status_code == 403 and "192.0.2.9" in outside.json()["detail"]
            spoofed = {"X-Forwarded-For": "192.0.2.9, 10.1.2.7"}
            assert proxy.post("/v1/alerts", json=new_alert(), headers=spoofed).status_code == 201
            garbled = {"X-Forwarded-For": "not-an-address"}
            assert proxy.post("/v1/alerts", json=new_alert(), headers=garbled).status_code == 403
        with from_address(hub, "g1", "127.0.0.1") as loopback:  # not trusted here
            assert loopback.post("/v1/alerts", json=new_alert(), headers=inside).status_code == 403
    finally:
        hub.stop()


@pytest.mark.parametrize(
    "line,error",
    [
        ('networks = ["10.1.2.0/33"]', "'10.1.2.0/33' n'est ni une adresse IP ni un réseau"),
        ('networks = ["salle-3"]', "'salle-3' n'est ni une adresse IP ni un réseau"),
    ],
)
def test_a_bad_network_is_a_one_line_error(tmp_path: Path, line: str, error: str) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(
        roster_toml().replace('label = "Étage"', f'label = "Étage"\n{line}'), encoding="utf-8"
    )
    from deskalert.config import load_toml
    from deskalert.errors import ConfigError

    with pytest.raises(ConfigError) as raised:
        load_toml(path, HubConfig)
    assert "sites[1].networks" in str(raised.value) and error in str(raised.value)
    assert "\n" not in str(raised.value)
