"""Several hubs in config.toml: a client uses the first that answers and moves on when it is down.

Until hubs share PostgreSQL, "another hub on the same database" is a SQLite hub stopped and
another started on the same data directory at another port: the same file, so the same event ids
and the same epoch, which is what hubs on one PostgreSQL give a client. Whatever is not a hub (a
proxy's page, a 503) is a small real HTTP server (failover_helpers.AnswerServer).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from desk_helpers import free_port, in_thread, text_of, wait_until
from deskalert import i18n
from deskalert.client.api import HubClient
from deskalert.client.follower import EventFollower, LinkDown, LinkUp
from deskalert.client.outbox import Outbox
from deskalert.client.send import send_alert
from deskalert.client.settings import ClientConfig, load_client_config
from deskalert.errors import (
    ConfigError,
    Conflict,
    Forbidden,
    HubError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unprocessable,
)
from deskalert.journal.store import Delivery, Journal
from deskalert.models import AlertEvent, AlertIn, StreamReset
from deskalert.tui.desk.app import DeskApp
from deskalert.tui.link import LinkKind
from failover_helpers import AnswerServer, dead_url
from support.cli import run_cli
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import make_config
from support.waiting import wait_until_async

SIZE = (100, 40)


@pytest.fixture
def answer_server() -> Iterator[Callable[[str], AnswerServer]]:
    started: list[AnswerServer] = []

    def start(mode: str) -> AnswerServer:
        started.append(AnswerServer(mode))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def stored_ids(url: str) -> list[str]:
    """Every alert id the hub holds, as many times as it holds it."""
    response = httpx.get(f"{url}/v1/alerts", params={"state": "all"}, headers=auth("s.a"))
    response.raise_for_status()
    return [alert["id"] for alert in response.json()]


def alert_body(code: str = "renfort") -> AlertIn:
    return AlertIn.model_validate(new_alert(code))


# -- requests ------------------------------------------------------------------------------------


async def test_first_url_dead_the_second_serves_and_the_alert_is_stored_once(
    hub: RunningHub, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    async with HubClient([dead_url(), hub.url], "tok-g1") as client:
        report = await send_alert(journal, client, "renfort", timeout=10)
        assert client.hubs.current == 1, "stays on the hub that answered"
    journal.close()
    assert report.result.transmitted
    assert stored_ids(hub.url).count(str(report.entry.id)) == 1


@pytest.mark.parametrize("mode", ["503-store", "503-html", "502-html", "200-login-page"])
async def test_a_503_or_a_proxy_page_from_the_first_hub_fails_over(
    hub: RunningHub, answer_server: Callable[[str], AnswerServer], mode: str
) -> None:
    first = answer_server(mode)
    body = alert_body()
    async with HubClient([first.url, hub.url], "tok-g1") as client:
        alert, created = await client.raise_alert(body)
    assert created and alert.id == body.id
    assert first.requests == 1
    assert stored_ids(hub.url) == [str(body.id)]


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("401", Unauthorized),
        ("403", Forbidden),
        ("404", NotFound),
        ("409", Conflict),
        ("422", Unprocessable),
        ("429", RateLimited),
    ],
)
async def test_a_refusal_from_the_first_hub_is_an_answer_not_an_outage(
    hub: RunningHub,
    answer_server: Callable[[str], AnswerServer],
    mode: str,
    error: type[HubError],
) -> None:
    """A refused token is not an outage, and a 409 must not be tried elsewhere blindly."""
    first = answer_server(mode)
    async with HubClient([first.url, hub.url], "tok-g1") as client:
        with pytest.raises(error):
            await client.raise_alert(alert_body())
        assert client.hubs.current == 0
    assert stored_ids(hub.url) == [], "the second hub was never asked"


async def test_the_client_sticks_to_the_hub_that_works_and_tries_the_first_again_when_it_fails(
    tmp_path: Path, answer_server: Callable[[str], AnswerServer]
) -> None:
    first = answer_server("503-store")
    hub = start_threaded_hub(make_config(), tmp_path / "hub")
    try:
        async with HubClient([first.url, hub.url], "tok-g1") as client:
            await client.raise_alert(alert_body())
            await client.raise_alert(alert_body())
            assert first.requests == 1, "the second request went straight to hub 2"
            await in_thread(hub.stop)
            first.mode = "401"  # hub 1 is back, and it refuses this token
            with pytest.raises(Unauthorized):
                await client.codes()
            assert first.requests == 2 and client.hubs.current == 0
    finally:
        if hub.thread.is_alive():
            await in_thread(hub.stop)


async def test_a_cancel_whose_answer_was_lost_is_not_repeated_on_another_hub(
    hub: RunningHub, answer_server: Callable[[str], AnswerServer]
) -> None:
    """A 504 (the gateway gave up waiting) may come after the first hub did the work: only
    requests that are harmless twice (an alert under its id, a read) go on to the next hub."""
    first = answer_server("504-html")
    body = alert_body()
    httpx.post(
        f"{hub.url}/v1/alerts", json=body.model_dump(mode="json"), headers=auth("g1")
    ).raise_for_status()
    async with HubClient([first.url, hub.url], "tok-g1") as client:
        with pytest.raises(HubError) as raised:
            await client.cancel(body.id)
        assert raised.value.status == 504
        assert (await client.raise_alert(body))[1] is False, "the alert POST is replayable"
    assert [a["state"] for a in httpx.get(f"{hub.url}/v1/alerts", headers=auth("s.a")).json()] == [
        "open"
    ], "the cancel was not sent to hub 2"


# -- the outbox ----------------------------------------------------------------------------------


async def test_the_outbox_keeps_queued_alerts_across_a_failover_and_each_is_stored_once(
    tmp_path: Path,
) -> None:
    config, data = make_config(), tmp_path / "data"
    hub_a = start_threaded_hub(config, data)
    port_b = free_port()
    journal = Journal(tmp_path / "journal.sqlite3")
    outbox = Outbox(journal, HubClient([hub_a.url, f"http://127.0.0.1:{port_b}"], "tok-g1"))
    lost = journal.enqueue("renfort")  # hub A stores it, but its answer never comes back
    async with HubClient(hub_a.url, "tok-g1") as direct:
        await direct.raise_alert(
            AlertIn(
                id=lost.id, code=lost.code, created_at=lost.created_at, test=lost.test, message=None
            )
        )
    await in_thread(hub_a.stop)
    queued = [lost, journal.enqueue("malaise"), journal.enqueue("renfort", message="box A")]
    while_down = await outbox.flush(timeout=0.3)  # both hubs down: nothing is lost
    assert {r.status for r in while_down.values()} == {Delivery.QUEUED}
    hub_b = await in_thread(lambda: start_threaded_hub(config, data, port_b))
    try:
        after = await outbox.flush(timeout=10)
        ids = await in_thread(lambda: stored_ids(hub_b.url))
    finally:
        await outbox.client.aclose()
        journal.close()
        await in_thread(hub_b.stop)
    assert {r.status for r in after.values()} == {Delivery.TRANSMITTED}
    assert outbox.client.hubs.current == 1
    assert sorted(ids) == sorted(str(entry.id) for entry in queued), "each stored exactly once"


# -- the stream ----------------------------------------------------------------------------------


async def read_log(url: str, up_to: int) -> list[int]:
    """The ids of the hub's events 1..up_to, read by a follower of that hub alone."""
    ids: list[int] = []
    async for item in EventFollower(url, "tok-s.a").follow():
        if not isinstance(item, LinkUp | LinkDown | StreamReset):
            ids.append(item.id)
        if ids and ids[-1] >= up_to:
            return ids
    raise AssertionError("unreachable")


async def test_a_follower_resumes_on_the_second_hub_from_the_same_position_every_event_once(
    tmp_path: Path,
) -> None:
    config, data = make_config(heartbeat_s=0.5), tmp_path / "data"
    hub_a = start_threaded_hub(config, data)
    port_b = free_port()
    epoch = httpx.get(f"{hub_a.url}/healthz").json()["epoch"]
    follower = EventFollower(
        [hub_a.url, f"http://127.0.0.1:{port_b}"], "tok-s.a", heartbeat_s=0.5, epoch=epoch
    )
    items: list[Any] = []

    async def consume() -> None:
        async for item in follower.follow():
            items.append(item)

    def raise_on(url: str) -> str:
        alert = new_alert()
        httpx.post(f"{url}/v1/alerts", json=alert, headers=auth("g1")).raise_for_status()
        return str(alert["id"])

    def raised() -> list[str]:
        return [
            str(i.data.id)
            for i in items
            if isinstance(i, AlertEvent) and i.type.value == "alert.raised"
        ]

    task = asyncio.create_task(consume())
    hub_b: RunningHub | None = None
    try:
        await wait_until_async(lambda: any(isinstance(i, LinkUp) for i in items), 20)
        sent = [await in_thread(lambda: raise_on(hub_a.url))]
        await wait_until_async(lambda: len(raised()) == 1, 20)
        await in_thread(hub_a.stop)
        hub_b = await in_thread(lambda: start_threaded_hub(config, data, port_b))
        b_url = hub_b.url
        sent += [await in_thread(lambda: raise_on(b_url)) for _ in range(2)]  # while switching
        await wait_until_async(lambda: any(isinstance(i, LinkUp) and i.hub == 2 for i in items), 20)
        sent.append(await in_thread(lambda: raise_on(b_url)))
        await wait_until_async(lambda: len(raised()) == 4, 20)
        followed = [i.id for i in items if not isinstance(i, LinkUp | LinkDown | StreamReset)]
        async with asyncio.timeout(20):
            log = await read_log(b_url, followed[-1])
    finally:
        task.cancel()
        if hub_b is not None:
            await in_thread(hub_b.stop)
    assert raised() == sent, "every alert once, in order"
    assert followed == log, "the same events as the log itself: no gap, no duplicate"
    assert follower.epoch == epoch and not [i for i in items if isinstance(i, StreamReset)]
    assert [i.hub for i in items if isinstance(i, LinkUp)][-1] == 2


# -- the desk ------------------------------------------------------------------------------------


def desk_on(urls: list[str], journal: Path, language: str = "fr") -> DeskApp:
    config = ClientConfig.model_validate(
        {"language": language, "hub": {"urls": urls}, "desk": {"id": "g1"}}
    )
    return DeskApp(config, "tok-g1", Journal(journal))


@pytest.mark.parametrize(
    ("language", "words"), [("fr", "liaison via hub 2"), ("en", "link via hub 2")]
)
async def test_the_desk_says_via_hub_2_when_on_the_second_hub(
    hub: RunningHub, tmp_path: Path, language: str, words: str
) -> None:
    app = desk_on([dead_url(), hub.url], tmp_path / "journal.sqlite3", language)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.link.kind is LinkKind.UP, what="link up")
        assert words in text_of(app, "#link")


async def test_the_desk_says_nothing_of_hubs_when_on_the_first(
    hub: RunningHub, tmp_path: Path
) -> None:
    app = desk_on([hub.url, dead_url()], tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.link.kind is LinkKind.UP, what="link up")
        shown = text_of(app, "#link")
    assert "liaison OK" in shown and "hub" not in shown


async def test_a_401_from_the_first_hub_shows_a_refused_token_not_a_failover(
    hub: RunningHub, tmp_path: Path, answer_server: Callable[[str], AnswerServer]
) -> None:
    first = answer_server("401")
    app = desk_on([first.url, hub.url], tmp_path / "journal.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: app.link.kind is LinkKind.TOKEN_REFUSED, what="token refused"
        )
        assert "jeton refusé par le hub" in text_of(app, "#link")
        assert app.hubs.current == 0


# -- config.toml ---------------------------------------------------------------------------------


def client_config(tmp_path: Path, hub_lines: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[hub]\n{hub_lines}\n\n[desk]\nid = "g1"\n', encoding="utf-8")
    return path


def test_urls_lists_hubs_in_order_and_url_still_gives_one(tmp_path: Path) -> None:
    several = load_client_config(
        client_config(tmp_path, 'urls = ["https://hub1.example.org/", "https://hub2.example.org"]')
    )
    assert several.hub_urls == ["https://hub1.example.org", "https://hub2.example.org"]
    one = load_client_config(client_config(tmp_path, 'url = "https://hub.example.org"'))
    assert one.hub_urls == ["https://hub.example.org"] and one.hub_url == "https://hub.example.org"


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        ('url = "https://a"\nurls = ["https://b"]', 'hub: give either url = "..." or urls = ['),
        ("", 'hub: give url = "https://hub" or urls = ['),
        ("urls = []", "hub: urls: give at least one hub URL"),
        ('urls = ["https://a", "https://a/"]', "hub: urls: https://a is listed twice"),
        ('urls = ["not a url"]', "hub.urls[0]:"),
    ],
)
def test_a_wrong_hub_section_is_one_line_naming_the_file_and_the_key(
    tmp_path: Path, lines: str, words: str
) -> None:
    path = client_config(tmp_path, lines)
    i18n.set_language("en")  # the words below are English (the fixture puts French back)
    with pytest.raises(ConfigError) as raised:
        load_client_config(path)
    assert str(raised.value).startswith(f"{path}: {words}"), str(raised.value)
    assert "\n" not in str(raised.value)


def test_send_with_both_url_and_urls_exits_2_with_one_line(tmp_path: Path) -> None:
    path = client_config(tmp_path, 'url = "https://a"\nurls = ["https://b"]')
    result = run_cli(
        "send", "renfort", "--config", path, env={**os.environ, "DESKALERT_TOKEN": "tok-g1"}
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "pas les deux" in result.stderr


async def test_send_reaches_the_second_hub_when_the_first_is_down(
    hub: RunningHub, tmp_path: Path
) -> None:
    """`deskalert send` with [hub] urls: the first dead, the alert stored once by the second."""
    path = client_config(tmp_path, f'urls = ["{dead_url()}", "{hub.url}"]')
    env = {**os.environ, "DESKALERT_TOKEN": "tok-g1", "XDG_DATA_HOME": str(tmp_path / "data")}
    result = await in_thread(lambda: run_cli("send", "renfort", "--config", path, env=env))
    assert result.returncode == 0, result.stderr
    assert len(await in_thread(lambda: stored_ids(hub.url))) == 1


async def test_the_pane_says_live_via_hub_2_when_on_the_second_hub(hub: RunningHub) -> None:
    from deskalert.tui.pane.app import PaneApp

    config = ClientConfig.model_validate(
        {"hub": {"urls": [dead_url(), hub.url]}, "supervisor": {"id": "s.a"}}
    )
    app = PaneApp(config, "tok-s.a")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.link.kind is LinkKind.UP, what="link up")
        assert "flux en direct via hub 2" in str(app.query_one("#stream").render())


async def test_health_prefers_a_healthy_hub_to_a_degraded_one(
    hub: RunningHub, answer_server: Callable[[str], AnswerServer]
) -> None:
    """A hub whose database is down says 503 on /healthz: the client goes on to one that can."""
    degraded = answer_server("503-store")
    async with HubClient([degraded.url, hub.url], "tok-g1") as client:
        await client.health()
        assert client.hubs.current == 1


async def test_a_follower_moved_to_hub_2_goes_back_to_hub_1_without_a_break_when_2_stops(
    tmp_path: Path,
) -> None:
    """A stream that opened on hub 2 and breaks tries hub 1 next, at once: no LinkDown when it
    answers. Hub 1 runs on a copy of hub 2's file, epoch kept (one serving hub per SQLite
    file): the same event log as long as nothing is written on hub 2 meanwhile."""
    config, data = make_config(heartbeat_s=0.5), tmp_path / "data"
    port_a = free_port()
    hub_b = start_threaded_hub(config, data)
    follower = EventFollower([f"http://127.0.0.1:{port_a}", hub_b.url], "tok-s.a", heartbeat_s=0.5)
    items: list[Any] = []

    async def consume() -> None:
        async for item in follower.follow():
            items.append(item)

    task = asyncio.create_task(consume())
    hub_a: RunningHub | None = None
    try:
        await wait_until_async(lambda: any(isinstance(i, LinkUp) and i.hub == 2 for i in items), 20)
        on_b = len(items)
        copy = tmp_path / "copy"
        copy.mkdir()
        with (
            closing(sqlite3.connect(data / "hub.sqlite3")) as source,
            closing(sqlite3.connect(copy / "hub.sqlite3")) as target,
        ):
            source.backup(target)
        hub_a = await in_thread(lambda: start_threaded_hub(config, copy, port_a))
        await in_thread(hub_b.stop)
        await wait_until_async(lambda: any(isinstance(i, LinkUp) for i in items[on_b:]), 20)
        alert = new_alert()
        a_url = hub_a.url
        await in_thread(
            lambda: httpx.post(
                f"{a_url}/v1/alerts", json=alert, headers=auth("g1")
            ).raise_for_status()
        )
        await wait_until_async(lambda: any(isinstance(i, AlertEvent) for i in items[on_b:]), 20)
    finally:
        task.cancel()
        if hub_a is not None:
            await in_thread(hub_a.stop)
    after = items[on_b:]
    assert isinstance(after[0], LinkUp) and after[0].hub == 1, after
    assert [str(i.data.id) for i in after if isinstance(i, AlertEvent)] == [alert["id"]]


async def test_every_hub_down_is_said_with_each_hub_named() -> None:
    """A desk or `send` with two hubs listed, both unreachable: the error names both."""
    from desk_helpers import free_port
    from deskalert.client.api import HubClient
    from deskalert.errors import HubUnreachable

    urls = [f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"]
    async with HubClient(urls, "tok-g1") as client:
        with pytest.raises(HubUnreachable) as caught:
            await client.health()
    assert str(caught.value).startswith("no hub answered")
    assert all(url in str(caught.value) for url in urls)
