"""Notifications through Apprise to real local receivers (HTTP for json://, SMTP for mailto://):
who is told, re-notified, stopped, escalated; failures shown; nothing lost or doubled by kill -9.

Timing asserts are bounds, generous for a shared 2-core machine: "received within 20 s", never
"not before" a time.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w

from deskalert.hub import notify
from deskalert.hub.settings import HubConfig
from deskalert.models import Alert, AlertState, EventType
from notify_helpers import HttpReceiver, SmtpReceiver, drain, take, take_until
from support.cli import Result, run_cli
from support.hubs import RunningHub, listening_url, start_threaded_hub, wait_healthy
from support.requests import auth, new_alert
from support.roster import roster_toml
from support.waiting import wait_until


def roster(
    channels: dict[str, list[str]], rooms: dict[str, list[str]] | None = None, **hub: float
) -> dict[str, Any]:
    """The test roster (s.a on call for accueil, then s.b; nobody for etage) with channels."""
    data = tomllib.loads(roster_toml(**hub))
    for supervisor in data["supervisors"]:
        supervisor["notify"] = channels.get(supervisor["id"], [])
    for site in data["sites"]:
        site["notify"] = (rooms or {}).get(site["id"], [])
    return data


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def notify_hub(tmp_path: Path) -> Iterator[Callable[..., RunningHub]]:
    started: list[RunningHub] = []

    def start(data: dict[str, Any]) -> RunningHub:
        hub = start_threaded_hub(HubConfig.model_validate(data), tmp_path / f"hub{len(started)}")
        started.append(hub)
        return hub

    yield start
    for hub in started:
        hub.stop()


def history(hub_url: str, alert_id: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{hub_url}/v1/alerts/{alert_id}/events", headers=auth("s.c"))
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


# -- what a message says ---------------------------------------------------------------------


def alert(**changes: Any) -> Alert:
    base = dict(
        id="0b5c8e0e-2f7e-4c55-9d0a-6a1f3e9b7c21",
        code="renfort",
        code_label="Renfort",
        discreet=True,
        priority=2,
        desk="g3",
        desk_label="Guichet 3",
        site="accueil",
        location="RDC, troisième guichet",
        created_at=None,
        received_at="2026-11-21T10:00:00+00:00",
        state=AlertState.OPEN,
        test=False,
        message="Monsieur Dupont, dossier 1234",
        updated_at="2026-11-21T10:00:00+00:00",
    )
    return Alert.model_validate({**base, **changes})


def test_a_discreet_alert_says_only_the_label_the_desk_and_its_location() -> None:
    title, body = notify.render("raised", alert(), "fr", link="https://hub/a/x")
    assert title == "Alerte Renfort — Guichet 3"
    assert body == "Guichet 3 · RDC, troisième guichet\nRépondre : https://hub/a/x"
    assert "Dupont" not in title + body


def test_a_plain_alert_carries_its_message_and_a_drill_says_exercice() -> None:
    title, body = notify.render("raised", alert(discreet=False, test=True), "fr")
    assert title.startswith("EXERCICE — Alerte Renfort")
    assert "Message : Monsieur Dupont" in body and "exercice" in body
    title, _ = notify.render("acknowledged", alert(), "en", responder="Ana")
    assert title == "Taken by Ana: Renfort — Guichet 3"


def test_a_channel_is_shown_as_scheme_and_host_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert (
        notify.mask("ntfys://user:s3cret@ntfy.example.org/topic-xyz?x=1")
        == "ntfys://ntfy.example.org"
    )
    assert notify.mask("tgram://123456789:ABCdefGHI/12345") == "tgram://…"  # host is a token
    monkeypatch.setenv("NTFY_URL_PAUL", "ntfys://ntfy.example.org/paul-secret-topic")
    channel = notify.Channel("p", "env:NTFY_URL_PAUL")
    assert channel.url().endswith("paul-secret-topic")
    assert channel.shown() == "ntfys://ntfy.example.org (env:NTFY_URL_PAUL)"
    secret_file = tmp_path / "paul.url"
    secret_file.write_text("json://hub:pw1234@127.0.0.1:9/x\n")
    assert notify.Channel("p", f"file:{secret_file}").url() == "json://hub:pw1234@127.0.0.1:9/x"
    with pytest.raises(notify.ChannelError, match="not set"):
        notify.Channel("p", "env:NOT_SET_ANYWHERE").url()
    reason = "failed sending to json://hub:pw1234@127.0.0.1:9/x: pw1234 refused"
    assert "pw1234" not in notify.scrub(reason, "json://hub:pw1234@127.0.0.1:9/x")


def test_a_bad_notify_entry_is_one_line_naming_the_key() -> None:
    data = roster({"s.a": ["env:1BAD"]})
    with pytest.raises(ValueError, match="env: must name an environment variable"):
        HubConfig.model_validate(data)
    assert HubConfig.model_validate(roster({})).hub.renotify_s == 60


# -- a hub and real receivers ----------------------------------------------------------------


def test_on_call_notified_renotified_until_jarrive_then_told_who_took_it(
    notify_hub: Callable[..., RunningHub], http: HttpReceiver, smtp: SmtpReceiver
) -> None:
    hub = notify_hub(
        roster(
            {"s.a": [http.url("ana")], "s.b": [smtp.url("bob@example.org")]},
            {"accueil": [http.url("room")]},
            renotify_s=0.5,
        )
    )
    body = new_alert(message="Monsieur Dupont")
    assert httpx.post(f"{hub.url}/v1/alerts", json=body, headers=auth("g1")).status_code == 201

    first = [take(http.messages), take(http.messages)]
    assert sorted(m.channel for m in first) == ["/ana", "/room"]
    assert all(m.title == "Alerte Renfort — Desk g1" for m in first)
    assert all("Dupont" not in m.body and "near g1" in m.body for m in first)  # discreet
    reminder = take_until(http.messages, "Rappel")[-1]
    assert reminder.channel == "/ana", "re-notified: the person, not the team room"
    assert smtp.messages.empty(), "the backup is not told before the escalation"

    assert (
        httpx.post(f"{hub.url}/v1/alerts/{body['id']}/ack", headers=auth("s.c")).status_code == 200
    )
    taken = take_until(http.messages, "Pris en charge")[-1]
    assert taken.title == "Pris en charge par Cleo Sup : Renfort — Desk g1"
    drain(http.messages, quiet_s=1.5)  # in flight at the ack, if any

    events = wait_until(
        lambda: (
            [
                e
                for e in history(hub.url, body["id"])
                if e["type"].startswith("notify.") and e["data"]["kind"] == "acknowledged"
            ]
            and history(hub.url, body["id"])
        ),
        20,
    )
    notes = [e["data"] for e in events if e["type"] == "notify.sent"]
    acknowledged = min(n["notification"] for n in notes if n["kind"] == "acknowledged")
    alerting = [n["notification"] for n in notes if n["kind"] in ("raised", "renotify")]
    assert alerting and max(alerting) < acknowledged, "nothing alerting queued after j'arrive"
    assert all(n["channel"] == "json://127.0.0.1" for n in notes)
    assert http.messages.empty(), "no more reminders once someone answered"


def test_escalation_notifies_the_next_level_then_everyone(
    notify_hub: Callable[..., RunningHub], http: HttpReceiver, smtp: SmtpReceiver
) -> None:
    hub = notify_hub(
        roster(
            {
                "s.a": [http.url("ana")],
                "s.b": [smtp.url("bob@example.org")],
                "s.c": [http.url("cleo")],
            },
            ack_timeout_s=0.5,
            renotify_s=600,
        )
    )
    body = new_alert(code="malaise", test=True)
    assert httpx.post(f"{hub.url}/v1/alerts", json=body, headers=auth("g2")).status_code == 201
    mail = take(smtp.messages)
    assert mail.title == "EXERCICE — Alerte relayée, sans réponse : Urgence médicale — Desk g2"
    assert mail.channel == "bob@example.org"
    by_channel = {m.channel: m.title for m in (take(http.messages), take(http.messages))}
    assert by_channel["/ana"].startswith("EXERCICE — Alerte Urgence")
    assert by_channel["/cleo"].startswith("EXERCICE — Alerte relayée"), "everyone, at the end"


def test_a_failing_channel_is_shown_failed_in_the_history_then_sent(
    notify_hub: Callable[..., RunningHub], http: HttpReceiver
) -> None:
    http.down = True
    hub = notify_hub(roster({"s.a": [http.url("ana")]}, renotify_s=600))
    body = new_alert()
    httpx.post(f"{hub.url}/v1/alerts", json=body, headers=auth("g1"))
    failed = wait_until(
        lambda: [e for e in history(hub.url, body["id"]) if e["type"] == "notify.failed"], 20
    )
    assert "503" in failed[0]["data"]["reason"] or "Unavailable" in failed[0]["data"]["reason"]
    assert failed[0]["data"]["retry_in_s"] > 0
    http.down = False
    assert take(http.messages).title == "Alerte Renfort — Desk g1"
    sent = wait_until(
        lambda: [e for e in history(hub.url, body["id"]) if e["type"] == "notify.sent"], 20
    )
    assert sent[0]["data"]["attempt"] >= 2


def test_a_channel_whose_secret_is_missing_gives_up_with_the_reason(
    notify_hub: Callable[..., RunningHub], http: HttpReceiver
) -> None:
    hub = notify_hub(roster({"s.a": ["env:DESKALERT_TEST_UNSET_URL", http.url("ana")]}))
    body = new_alert()
    httpx.post(f"{hub.url}/v1/alerts", json=body, headers=auth("g1"))
    assert take(http.messages).channel == "/ana", "the other channel is not held up"
    events = wait_until(
        lambda: [
            e
            for e in history(hub.url, body["id"])
            if e["type"] in ("notify.failed", "notify.gave_up")
        ],
        20,
    )
    assert "DESKALERT_TEST_UNSET_URL" in events[0]["data"]["reason"]


# -- kill -9 -------------------------------------------------------------------------------


def start_hub_process(config: Path, data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deskalert",
            "hub",
            "--config",
            str(config),
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    url = next(filter(None, map(listening_url, process.stdout)))
    wait_healthy(url)
    return process, url


@pytest.mark.system
def test_kill_9_with_notifications_pending_sends_each_once_after_restart(
    tmp_path: Path, http: HttpReceiver
) -> None:
    secret_url = http.url("ana").replace("json://", "json://hub:pw-Zx81Q@")
    config = tmp_path / "hub.toml"
    config.write_text(
        tomli_w.dumps(roster({"s.a": [secret_url]}, renotify_s=600, ack_timeout_s=600))
    )
    data_dir = tmp_path / "data"
    http.down = True  # nothing gets through before the crash
    process, url = start_hub_process(config, data_dir)
    alerts = [new_alert(), new_alert(code="malaise")]
    for body, desk in zip(alerts, ("g1", "g2"), strict=True):
        assert httpx.post(f"{url}/v1/alerts", json=body, headers=auth(desk)).status_code == 201
    process.kill()
    _, first_log = process.communicate(timeout=10)
    # As if killed in the middle of sending the second one.
    with sqlite3.connect(data_dir / "hub.sqlite3") as db:
        db.execute(
            "UPDATE notifications SET state='sending', attempt_id='dead' WHERE alert_id=?",
            (alerts[1]["id"],),
        )
    http.down = False
    process, url = start_hub_process(config, data_dir)
    try:
        got = [take(http.messages), take(http.messages)]
        got += drain(http.messages, quiet_s=3)
        assert sorted(m.title for m in got) == [
            "Alerte Renfort — Desk g1",
            "Alerte Urgence médicale — Desk g2",
        ]
        interrupted = [
            e["data"] for e in history(url, alerts[1]["id"]) if e["type"] == "notify.failed"
        ]
        assert any("interrupted" in e["reason"] for e in interrupted)
    finally:
        process.terminate()
        _, second_log = process.communicate(timeout=10)
    assert "pw-Zx81Q" not in first_log + second_log, "a secret in the hub's log"
    assert "notify.sent" in second_log


# -- deskalert hub --check --notify-test ------------------------------------------------------


def test_notify_test_prints_each_channel_and_fails_if_one_fails(
    tmp_path: Path, http: HttpReceiver, smtp: SmtpReceiver
) -> None:
    config = tmp_path / "hub.toml"
    secret = http.url("ana").replace("json://", "json://hub:pw-Zx81Q@")
    data = roster(
        {"s.a": [secret, smtp.url("ana@example.org")], "s.b": ["env:DESKALERT_TEST_UNSET_URL"]}
    )
    config.write_text(tomli_w.dumps(data))

    def check(who: str) -> Result:
        return run_cli("hub", "--config", config, "--check", "--notify-test", who)

    good = check("s.a")
    assert "pw-Zx81Q" not in good.stdout + good.stderr
    assert "test s.a\u00a0: json://127.0.0.1 envoyé" in good.stdout  # the command line's French
    assert "test s.a\u00a0: mailto://127.0.0.1 envoyé" in good.stdout
    assert "INUTILISABLE\u00a0: env:DESKALERT_TEST_UNSET_URL" in good.stdout
    assert good.returncode == 1, "an unusable channel (s.b's) fails --check"
    assert take(http.messages).title == "deskalert : notification de test"
    assert take(smtp.messages).title == "deskalert : notification de test"

    config.write_text(tomli_w.dumps(roster({"s.a": [secret]})))
    http.down = True
    down = check("s.a")
    assert down.returncode == 1 and "test s.a\u00a0: json://127.0.0.1 ÉCHEC\u00a0: " in down.stdout
    http.down = False
    assert check("s.a").returncode == 0


# -- the figures -------------------------------------------------------------------------------


def test_the_report_counts_notifications_sent_failed_and_given_up() -> None:
    from deskalert.journal.debrief import count_notifications, report_text
    from deskalert.models import Event

    def event(kind: str) -> Event:
        return Event(
            id=1, type=kind, at="2026-11-21T10:00:00+00:00", site="accueil", data={"id": "x"}
        )

    histories = [
        [event("alert.raised"), event("notify.failed"), event("notify.sent")],
        [event("notify.sent"), event("notify.gave_up")],
    ]
    counts = count_notifications(histories)
    assert counts == {"sent": 2, "failed": 1, "gave_up": 1}
    text = report_text([], "fr", None, None, color=False, notifications=counts)
    assert "Notifications : 2 envoyées, 1 échecs (réessayés), 1 abandonnées" in text


def test_no_reminder_is_queued_for_an_alert_answered_since_it_was_found_unanswered(
    tmp_path: Path,
) -> None:
    """The worker finds unanswered alerts, then queues reminders in another transaction: a
    "j'arrive" in between must win (a reminder after "pris en charge" is what users hate)."""
    from datetime import UTC, datetime

    from deskalert.hub.store import SqliteStore

    config = HubConfig.model_validate(roster({"s.a": ["json://127.0.0.1:9/ana"]}))
    store = SqliteStore(tmp_path / "hub.sqlite3")
    planner = notify.Planner(config, store, wake=lambda: None)
    store.set_event_hook(planner.on_event)
    raised = alert(desk="g1", chain=["s.a"], escalated_to="s.a")
    store.insert_alert(raised, raised.received_at)
    store._db.execute("UPDATE notifications SET attempts=1")
    found_unanswered = store.alerts_to_renotify(datetime.now(UTC))
    assert [a.id for a in found_unanswered] == [raised.id]
    store.update_alert(
        raised.id,
        lambda a: (
            a.model_copy(update={"state": AlertState.ACKNOWLEDGED}),
            EventType.ALERT_ACKNOWLEDGED,
        ),
    )
    store.in_transaction(lambda db: planner.renotify(db, found_unanswered[0], datetime.now(UTC)))
    kinds = [r[0] for r in store._db.execute("SELECT kind FROM notifications ORDER BY id")]
    assert kinds == ["raised"], "no reminder once answered"
    store.close()


def test_a_notification_carries_the_supervisors_answer_link_and_opening_it_changes_nothing(
    notify_hub: Callable[..., RunningHub], http: HttpReceiver
) -> None:
    data = roster({"s.a": [http.url("ana")]}, {"accueil": [http.url("room")]})
    data["hub"]["public_url"] = "https://deskalert.example"
    hub = notify_hub(data)
    body = new_alert()
    assert httpx.post(f"{hub.url}/v1/alerts", json=body, headers=auth("g1")).status_code == 201

    by_channel = {m.channel: m for m in (take(http.messages), take(http.messages))}
    links = [w for w in by_channel["/ana"].body.split() if w.startswith("https://deskalert.")]
    assert len(links) == 1 and f"/page/a/{body['id']}?s=s.a&" in links[0]
    assert "https://" not in by_channel["/room"].body, "a team room gets no one's link"

    opened = httpx.get(hub.url + links[0].removeprefix("https://deskalert.example"))
    assert opened.status_code == 200 and "set-cookie" not in opened.headers
    alert = httpx.get(f"{hub.url}/v1/alerts/{body['id']}", headers=auth("s.a")).json()
    assert alert["state"] == "open" and alert["responders"] == [], "a GET answers nothing"
