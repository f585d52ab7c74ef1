"""GET /metrics: a real hub, a scenario driven over HTTP, the text parsed by prometheus-client's
own parser; and who may scrape (`[metrics]` of hub.toml)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from deskalert.hub.metrics import channel_kind
from deskalert.hub.settings import token_hash
from notify_helpers import HttpReceiver
from support.events import EventReader
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import make_config

METRICS_TOKEN = "scrape-me-0123456789"


def scrape(hub: RunningHub, token: str | None = METRICS_TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{hub.url}/metrics", headers=headers, timeout=5)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample by (name, labels), from prometheus-client's own parser."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def receivers() -> Iterator[tuple[HttpReceiver, HttpReceiver]]:
    working, refusing = HttpReceiver().start(), HttpReceiver(down=True).start()
    yield working, refusing
    working.stop()
    refusing.stop()


@pytest.fixture
def metrics_hub(
    tmp_path: Path,
    hub_database: Callable[[], str | None],
    receivers: tuple[HttpReceiver, HttpReceiver],
) -> Iterator[RunningHub]:
    """The test roster; s.a (on call for accueil) has a channel that works, s.b (next in the
    chain) one that answers 503; an unanswered alert escalates after 3 s."""
    working, refusing = receivers
    config = make_config(ack_timeout_s=3, renotify_s=3600)
    config.hub.database = hub_database()
    by_id = {s.id: s for s in config.supervisors}
    by_id["s.a"].notify = [working.url("ana")]
    by_id["s.b"].notify = [refusing.url("bob")]
    config.metrics.token_sha256 = token_hash(METRICS_TOKEN)
    hub = start_threaded_hub(config, tmp_path / "hub")
    yield hub
    hub.stop()


def until_leading(hub: RunningHub) -> None:
    """On PostgreSQL a hub takes the lead (and sends notifications) after a tick or two."""
    deadline = time.monotonic() + 15
    while value(samples(scrape(hub).text), "deskalert_leader") != 1:
        assert time.monotonic() < deadline, "the hub never took the lead"
        time.sleep(0.1)


def until_older(hub: RunningHub) -> float:
    """The outbox's oldest waiting message, once it has waited long enough to show."""
    deadline = time.monotonic() + 10
    while (
        age := value(samples(scrape(hub).text), "deskalert_outbox_oldest_seconds", channel="json")
    ) <= 0:
        assert time.monotonic() < deadline, "the refused message's age never grew"
        time.sleep(0.1)
    return age


def test_metrics_count_the_scenario(metrics_hub: RunningHub) -> None:
    """3 alerts, 2 answered, 1 escalated whose next person's channel refuses."""
    until_leading(metrics_hub)
    reader = EventReader(metrics_hub.url, "s.c").start()
    assert reader.items.get(timeout=5) == ("status", 200)
    with metrics_hub.client("g1") as desk, metrics_hub.client("g2") as neighbour:
        assert desk.post("/v1/heartbeat").status_code == 200  # g1 online; g2 and e1 never came
        ids = []
        for _ in range(3):
            answer = desk.post("/v1/alerts", json=new_alert("renfort"))
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["id"])
        seen = reader.counts_until({"notify.sent": 3})  # s.a told of each (answered before: not)
        for alert_id in ids[:2]:
            assert neighbour.post(f"/v1/alerts/{alert_id}/ack").status_code == 200
    # s.a: then 2 "pris en charge" delivered; s.b: the escalation of the third, refused.
    more = reader.counts_until({"alert.escalated": 1, "notify.failed": 1, "notify.sent": 2})
    found = samples(scrape(metrics_hub).text)
    reader.stop()
    for kind, n in more.items():
        seen[kind] = seen.get(kind, 0) + n

    assert seen.get("desk.online", 0) == 1
    assert seen["alert.escalated"] == 1 and seen["notify.failed"] == 1
    assert value(found, "deskalert_alerts_raised_total", site="accueil", code="renfort") == 3
    assert value(found, "deskalert_alerts_escalated_total", site="accueil", level="1") == 1
    assert value(found, "deskalert_notifications_failed_total", channel="json") == 1
    assert value(found, "deskalert_notifications_sent_total", channel="json") == seen["notify.sent"]
    assert value(found, "deskalert_alerts_first_response_seconds_count", site="accueil") == 2
    assert value(found, "deskalert_alerts_unanswered", site="accueil") == 1
    assert value(found, "deskalert_alerts_unanswered", site="etage") == 0
    assert (
        "deskalert_alerts_raised_total",  # a series at 0 from the start
        frozenset({("site", "etage"), ("code", "malaise")}),
    ) in found
    assert value(found, "deskalert_desks_online", site="accueil") == 1
    assert value(found, "deskalert_desks_offline", site="accueil") == 1
    assert value(found, "deskalert_desks_offline", site="etage") == 1
    assert value(found, "deskalert_streams_open") == 1
    assert value(found, "deskalert_store_up") == 1
    assert value(found, "deskalert_store_commit_seconds_count") >= 3
    # the refused one waits for its retry
    assert value(found, "deskalert_outbox_backlog", channel="json") >= 1
    assert value(found, "deskalert_outbox_oldest_seconds", channel="json") >= 0
    assert until_older(metrics_hub) > 0  # its age grows (shown to 0.1 s: may read 0.0 at first)
    assert value(found, "deskalert_oncall_assigned", site="accueil") == 1
    assert any(name == "deskalert_build_info" for name, _ in found)
    labels = {v for _, pairs in found for _, v in pairs}
    assert not any("Sup" in v or "127.0.0.1" in v or "near" in v for v in labels), labels


def test_refused_tokens_are_counted(metrics_hub: RunningHub) -> None:
    for _ in range(2):
        assert httpx.get(f"{metrics_hub.url}/v1/alerts", headers=auth("nobody")).status_code == 401
    found = samples(scrape(metrics_hub).text)
    assert value(found, "deskalert_tokens_refused_total", reason="unknown_token") == 2
    assert value(found, "deskalert_tokens_refused_total", reason="outside_network") == 0


def test_scrape_needs_the_metrics_token(metrics_hub: RunningHub) -> None:
    assert scrape(metrics_hub, token=None).status_code == 401
    assert scrape(metrics_hub, token="tok-s.a").status_code == 401  # a supervisor's is not it
    answer = scrape(metrics_hub)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")


def test_metrics_are_off_by_default_and_fenced_by_address(tmp_path: Path) -> None:
    config = make_config()
    hub = start_threaded_hub(config, tmp_path / "off")
    try:
        refused = scrape(hub)
        assert refused.status_code == 403 and refused.json()["error"] == "metrics_off"
    finally:
        hub.stop()
    config = make_config()
    config.metrics.allow = ["10.9.0.0/16"]
    hub = start_threaded_hub(config, tmp_path / "fenced")
    try:
        assert scrape(hub, token=None).status_code == 403
    finally:
        hub.stop()
    config = make_config()
    config.metrics.allow = ["127.0.0.0/8"]
    hub = start_threaded_hub(config, tmp_path / "open")
    try:
        assert scrape(hub, token=None).status_code == 200
    finally:
        hub.stop()


@pytest.mark.parametrize(
    ("shown", "kind"),
    [
        ("mailto://smtp.example.org", "mailto"),
        ("ntfys://ntfy.sh", "ntfys"),
        ("tgram://…", "tgram"),
        ("?", "unknown"),
        ("env:NTFY_URL", "unknown"),
    ],
)
def test_a_channel_is_labelled_by_its_kind_only(shown: str, kind: str) -> None:
    assert channel_kind(shown) == kind


def test_a_failing_observer_never_stops_the_fan_out() -> None:
    from deskalert.hub.broker import Broker
    from deskalert.models import Event, EventType

    broker = Broker()
    broker.observers.append(lambda event: 1 / 0)
    subscription = broker.subscribe(None)
    broker.publish(
        Event(
            id=1,
            type=EventType.ALERT_RAISED,
            at="2026-12-06T00:00:00Z",
            site="accueil",
            data={"code": "renfort"},
        )
    )
    assert subscription.queue.qsize() == 1
