"""The desk when the hub answers wrong, refuses the token, or a worker breaks: never a crash.

Against a real hub (conftest) and a small real HTTP server on 127.0.0.1 that answers what a
corporate proxy or another hub version would: an HTML login page with 200, JSON of another
shape, a 500, a 401.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from textual.worker import WorkerState

from desk_helpers import in_thread, make_desk, text_of, wait_until
from deskalert.client.api import HubClient
from deskalert.errors import HubIncompatible, ServerError, Unauthorized
from deskalert.journal.store import Journal
from deskalert.text import strip_control
from deskalert.tui.desk.state import Step
from deskalert.tui.link import LinkKind
from support.hubs import RunningHub, start_threaded_hub
from support.roster import make_config

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")

SIZE = (100, 40)
ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "html": (
        200,
        "text/html; charset=utf-8",
        b"<html><head><title>Portail d'authentification\x1b[31m proxy</title></head>"
        b"<body>login</body></html>",
    ),
    "json": (200, "application/json", b'{"unexpected": "shape", "version": 99}'),
    "500": (500, "text/plain", b"Internal Server Error"),
    "401": (401, "application/json", b'{"error": "unauthorized", "detail": "unknown token"}'),
}


class FakeHub:
    """A real HTTP server answering every request with one fixed answer (`mode`)."""

    def __init__(self, mode: str, port: int = 0) -> None:
        self.mode = mode
        answers = ANSWERS

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                status, content_type, body = answers[server.mode]
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        server = self
        self.http = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.http.daemon_threads = True
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.http.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def fake_hub() -> Iterator[Any]:
    started: list[FakeHub] = []

    def start(mode: str, port: int = 0) -> FakeHub:
        server = FakeHub(mode, port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def seed_cache(journal_path: Path) -> None:
    """What a desk that once reached its hub knows: the on-call card and the codes."""
    journal = Journal(journal_path)
    person = {"id": "s.a", "name": "Ana Sup", "phone": "01 00", "location": "office s.a"}
    journal.save(
        "oncall",
        {
            "site": "accueil",
            "site_label": "Accueil RDC",
            "supervisor": person,
            "chain": [],
            "source": "schedule",
            "until": None,
        },
        at=datetime(2026, 11, 21, 9, 0).astimezone(),
    )
    journal.save("codes", [{"code": "renfort", "label": "Renfort", "key": "f2", "discreet": True}])
    journal.close()


@pytest.mark.parametrize(
    ("mode", "error", "words"),
    [
        ("html", HubIncompatible, "text/html « Portail d'authentification proxy »"),
        ("json", HubIncompatible, "unexpected JSON"),
        ("500", ServerError, "HTTP 500"),
        ("401", Unauthorized, "unknown token"),
    ],
)
async def test_the_client_turns_every_unexpected_answer_into_a_typed_error(
    fake_hub: Any, mode: str, error: type[Exception], words: str
) -> None:
    server = fake_hub(mode)
    async with HubClient(server.url, "tok") as client:
        with pytest.raises(error) as raised:
            await client.codes()
    assert words in str(raised.value) and "\x1b" not in str(raised.value)


@pytest.mark.parametrize(
    ("mode", "kind", "words"),
    [
        # the person's words, then the detail on a line of its own, for the administrator
        (
            "html",
            LinkKind.INCOMPATIBLE,
            "hub incompatible ou intermédiaire (proxy). Les alertes"
            "|détail pour l'administrateur : GET /healthz: HTTP 200 text/html",
        ),
        (
            "json",
            LinkKind.INCOMPATIBLE,
            "hub incompatible ou intermédiaire (proxy). Les alertes"
            "|détail pour l'administrateur : GET /healthz",
        ),
        (
            "500",
            LinkKind.HUB_ERROR,
            "erreur du hub. Les alertes|détail pour l'administrateur : HTTP 500",
        ),
    ],
)
async def test_an_unexpected_answer_is_named_the_card_kept_and_keys_still_queue(
    fake_hub: Any, tmp_path: Path, mode: str, kind: LinkKind, words: str
) -> None:
    journal = tmp_path / "journal.sqlite3"
    seed_cache(journal)
    server = fake_hub(mode)
    app = make_desk(server.url, journal)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.link.kind is kind, what=f"link {kind}")
        advice = text_of(app, "#link-advice")
        reason, detail = words.split("|")
        assert advice.startswith(reason) and f"\n{detail}" in advice, advice
        assert "appelez Ana Sup : 01 00" in advice
        assert "dernière information connue" in text_of(app, "#oncall")
        assert "liaison perdue depuis" in text_of(app, "#link")
        await pilot.press("f2")
        await wait_until(
            pilot, lambda: "ALERTE NON TRANSMISE" in text_of(app, "#warning"), what="warning"
        )
        [own] = app.state.own.values()
        assert own.step is Step.QUEUED, "queued in the journal, retried"
        await pilot.pause(0.5)
        assert app.is_running and app.return_code is None


async def test_a_proxy_page_then_the_real_hub_on_the_same_address_recovers_by_itself(
    fake_hub: Any, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    seed_cache(journal)
    server = fake_hub("html")
    port = server.port
    app = make_desk(server.url, journal)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.link.kind is LinkKind.INCOMPATIBLE, what="proxy")
        await pilot.press("f2")
        await in_thread(server.stop)
        hub = await in_thread(lambda: start_threaded_hub(make_config(), tmp_path / "hub", port))
        try:
            await wait_until(
                pilot, lambda: app.link.kind is LinkKind.UP, timeout=15, what="link up"
            )
            await wait_until(
                pilot, lambda: "transmise" in text_of(app, "#corner"), what="delivered"
            )
            assert not app.query_one("#link-advice").display
            assert "dernière information connue" not in text_of(app, "#oncall")
        finally:
            await in_thread(hub.stop)


async def test_a_refused_token_is_a_red_state_of_its_own_that_stays(
    hub: RunningHub, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    seed_cache(journal)
    app = make_desk(hub.url, journal, desk="g1")
    app.token = "revoked"
    app.client = type(app.client)(hub.url, "revoked")
    app.outbox.client = app.client
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.link.kind is LinkKind.TOKEN_REFUSED, what="refused")
        advice = text_of(app, "#link-advice")
        assert "jeton refusé par le hub : alertes impossibles, appelez Ana Sup (01 00)" in advice
        assert "deskalert login" in advice
        assert "liaison perdue" not in advice and "retour de la liaison" not in advice
        assert app.query_one("#link-advice").has_class("-refused")
        assert text_of(app, "#link") == "● jeton refusé par le hub"
        await pilot.press("f2")
        await wait_until(
            pilot,
            lambda: any(o.step is Step.REFUSED for o in app.state.own.values()),
            what="alert refused",
        )
        await pilot.pause(4)  # several reconnection attempts: still the token, not "lost"
        assert app.link.kind is LinkKind.TOKEN_REFUSED
        assert app.is_running


async def test_a_401_from_the_fake_hub_at_start_is_a_refused_token(
    fake_hub: Any, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    seed_cache(journal)
    app = make_desk(fake_hub("401").url, journal)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.link.kind is LinkKind.TOKEN_REFUSED, what="refused")
        assert "jeton refusé" in text_of(app, "#link-advice")


def toasts(app: Any) -> str:
    return " ".join(str(toast.render()) for toast in app.screen.query("Toast"))


async def test_a_worker_that_raises_anything_is_shown_restarted_and_the_app_keeps_running(
    hub: RunningHub, tmp_path: Path
) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3")
    real_load = app.load_snapshot
    calls = 0

    async def broken_once() -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyError("a bug, not a hub error")
        return await real_load()

    app.load_snapshot = broken_once  # type: ignore[method-assign]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: "Erreur interne" in toasts(app), what="shown")
        assert "KeyError" in toasts(app) and "Relance dans 1 s" in toasts(app)
        await wait_until(pilot, lambda: app.link.kind is LinkKind.UP, what="restarted")

        async def boom() -> None:
            raise ZeroDivisionError("short-lived")

        worker = app.run_worker(boom(), name="boom", exit_on_error=False)
        await wait_until(pilot, lambda: worker.state is WorkerState.ERROR, what="boom")
        await wait_until(pilot, lambda: "ZeroDivisionError" in toasts(app), what="boom shown")
        await pilot.press("f2")
        await wait_until(pilot, lambda: "transmise" in text_of(app, "#corner"), what="sent")
        assert app.is_running and app.return_code is None


async def test_binding_labels_follow_the_language(hub: RunningHub, tmp_path: Path) -> None:
    app = make_desk(hub.url, tmp_path / "journal.sqlite3", language="en")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.link.kind is LinkKind.UP, what="up")
        await pilot.pause(0.2)
        footer = " ".join(str(key.render()) for key in app.screen.query("FooterKey"))
        assert "I'm coming" in footer and "J'arrive" not in footer
        assert text_of(app, "#link") == "● link OK"


async def test_text_from_the_hub_is_drawn_without_control_characters(
    hub: RunningHub, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    seed_cache(journal)
    j = Journal(journal)
    person = {"id": "s.a", "name": "Ana\x1b[2J Sup\u202e", "phone": "01\x07 00", "location": "x"}
    j.save(
        "oncall",
        {
            "site": "accueil",
            "site_label": "A",
            "supervisor": person,
            "chain": [],
            "source": "schedule",
            "until": None,
        },
    )
    j.close()
    app = make_desk("http://127.0.0.1:9", journal)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        card = text_of(app, "#oncall")
        assert (
            "Ana Sup" in card and "[2J" not in card and "\x1b" not in card and "\u202e" not in card
        )
        assert "01 00" in card


def test_strip_control_removes_whole_sequences_and_keeps_newlines_on_request() -> None:
    text = "a\tb\nc\x00\x1b\x7f\x85\u202a\u2066d é"
    assert strip_control(text) == "a b cd é"
    assert strip_control(text, keep_newlines=True) == "a b\ncd é"
    assert strip_control("x\x1b]52;c;ZXZpbA==\x07y\x1b[2Jz") == "xyz"  # OSC 52, CSI: gone whole


async def test_an_event_of_an_unknown_type_is_skipped_not_fatal() -> None:
    from deskalert.client.follower import _parse

    assert _parse("3", "desk.renamed", '{"id": "g1"}') is None
    assert _parse("4", "alert.raised", '{"not": "an alert"}') is None
    await asyncio.sleep(0)
