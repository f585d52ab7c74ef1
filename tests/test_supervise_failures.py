"""The pane when things go wrong (issue 11): each failure named as what it is, a refused token a
red state that stays, the list marked NOT LIVE, a worker that raises leaving the pane running and
saying so, and hub or desk text drawn without its control characters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest
from textual.widgets._toast import Toast

from desk_helpers import free_port, in_thread, table_rows, wait_until
from deskalert.models import Alert, AlertEvent, EventType
from deskalert.tui.base import LinkKind
from deskalert.tui.messages import HubEvent
from pane_helpers import live, not_a_hub, pane, text_of
from support.hubs import RunningHub
from support.requests import auth, new_alert

# What is tested here is a screen, not the store: on SQLite only (the store is tested on both).
pytestmark = pytest.mark.stores("sqlite")

SIZE = (140, 40)


def toasts(app: Any) -> list[str]:
    """The notifications on screen, as text."""
    return [str(toast.render()) for toast in app.screen.query(Toast)]


async def down_as(pilot: Any, kind: LinkKind) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.link.kind is kind, what=f"link {kind}")


@pytest.mark.parametrize(
    ("answer", "kind", "words"),
    [
        # the person's words, then the detail on a line of its own, for the administrator
        (
            "html",
            LinkKind.INCOMPATIBLE,
            (
                "hub incompatible ou intermédiaire (proxy)\ndétail pour"
                " l'administrateur : GET /healthz: HTTP 200 text/html"
                " « Portail d'authentification »"
            ),
        ),
        (
            "json",
            LinkKind.INCOMPATIBLE,
            (
                "hub incompatible ou intermédiaire (proxy)\ndétail pour"
                " l'administrateur : GET /healthz: HTTP 200"
                " application/json: unexpected JSON (status: Field"
                " required)"
            ),
        ),
        (
            "500",
            LinkKind.HUB_ERROR,
            "erreur du hub\ndétail pour l'administrateur : HTTP 500 (text/plain)",
        ),
    ],
)
async def test_an_answer_that_is_not_the_hubs_is_named(
    answer: str, kind: LinkKind, words: str
) -> None:
    with not_a_hub(answer) as url:
        app = pane(url)
        async with app.run_test(size=SIZE) as pilot:
            await down_as(pilot, kind)
            await wait_until(pilot, lambda: words in text_of(app, "#link-why"), what=words)
            assert "flux interrompu depuis" in text_of(app, "#stream")
            assert "PAS EN DIRECT" in str(app.query_one("#alerts").border_title)
            assert app.is_running


async def test_a_hub_that_does_not_answer_is_named_unreachable() -> None:
    app = pane(f"http://127.0.0.1:{free_port()}")
    async with app.run_test(size=SIZE) as pilot:
        await down_as(pilot, LinkKind.UNREACHABLE)
        assert "hub injoignable" in text_of(app, "#link-why")
        assert "PAS EN DIRECT" in str(app.query_one("#alerts").border_title)


async def test_a_refused_token_is_a_red_state_that_does_not_clear_by_itself(
    hub: RunningHub,
) -> None:
    app = pane(hub.url, token="tok-revoked")
    async with app.run_test(size=SIZE) as pilot:
        await down_as(pilot, LinkKind.TOKEN_REFUSED)
        assert "jeton refusé par le hub" in text_of(app, "#stream")
        why = text_of(app, "#link-why")
        assert "alertes impossibles" in why and "deskalert login" in why
        assert app.query_one("#link-why").has_class("-token-refused")
        await pilot.pause(2.5)  # several retries later: still refused, never "unreachable"
        assert app.link.kind is LinkKind.TOKEN_REFUSED


async def test_a_401_from_a_proxy_in_front_is_a_refused_token_too() -> None:
    with not_a_hub("401") as url:
        app = pane(url)
        async with app.run_test(size=SIZE) as pilot:
            await down_as(pilot, LinkKind.TOKEN_REFUSED)


async def test_the_desks_panel_lists_the_tokens_the_hub_refused(hub: RunningHub) -> None:
    await in_thread(
        lambda: httpx.get(f"{hub.url}/v1/codes", headers={"Authorization": "Bearer tok-revoked"})
    )
    app = pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        await wait_until(
            pilot, lambda: "jeton refusé :" in text_of(app, "#presence"), what="refused token"
        )
        line = next(
            line for line in text_of(app, "#presence").splitlines() if "jeton refusé" in line
        )
        assert " depuis 127.0.0.1, " in line
        assert "1 fois" in text_of(app, "#presence")


async def test_a_worker_that_raises_leaves_the_pane_running_and_says_so(
    hub: RunningHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: any exception but a DeskAlertError in a worker closed the app."""
    monkeypatch.setattr("deskalert.tui.pane.app.REFUSED_EVERY_S", 0.05)
    app = pane(hub.url)
    calls: list[int] = []
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await live(pilot)

        async def broken(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            raise RuntimeError("boom [/x]")  # markup-like text must not break the message

        monkeypatch.setattr(app.client, "presence", broken)
        said = "Erreur interne dans la lecture des jetons refusés : RuntimeError: boom [/x]."
        await wait_until(pilot, lambda: any(said in t for t in toasts(app)), what="on screen")
        await wait_until(pilot, lambda: len(calls) >= 2, timeout=5, what="restarted")
        assert app.is_running and app.link.kind is LinkKind.UP
        await in_thread(
            lambda: httpx.post(
                f"{hub.url}/v1/alerts", json=new_alert(), headers=auth("g1")
            ).raise_for_status()
        )
        await wait_until(pilot, lambda: len(table_rows(app)) == 1, what="still live")


async def test_a_short_worker_that_raises_is_said_and_the_pane_goes_on(
    hub: RunningHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = pane(hub.url)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await live(pilot)
        await in_thread(
            lambda: httpx.post(
                f"{hub.url}/v1/alerts", json=new_alert(), headers=auth("g1")
            ).raise_for_status()
        )
        await wait_until(pilot, lambda: len(table_rows(app)) == 1, what="row")

        async def broken(*args: Any) -> Any:
            raise KeyError("unexpected")

        monkeypatch.setattr(app.client, "history", broken)
        app.query_one("#alerts").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("KeyError" in t for t in toasts(app)), what="said")
        await pilot.press("a")
        await wait_until(pilot, lambda: "Ana Sup" in table_rows(app)[0], what="still answers")


def alert_with(**text: str) -> Alert:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "id": uuid4(),
        "code": "renfort",
        "code_label": "Renfort",
        "discreet": True,
        "priority": 2,
        "desk": "g1",
        "desk_label": "Desk g1",
        "site": "accueil",
        "location": "near g1",
        "created_at": now,
        "received_at": now,
        "state": "open",
        "test": False,
        "updated_at": now,
        **text,
    }
    return Alert.model_validate(fields)


async def test_text_from_the_hub_is_drawn_without_control_characters(hub: RunningHub) -> None:
    """An escape sequence in a label (an older row, another hub) never reaches the terminal."""
    app = pane(hub.url)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        alert = alert_with(
            desk_label="\x1b]52;c;ZXZpbA==\x07Desk\x1b[2J g9",
            location="near\u202e g9",
            code_label="Ren\x07fort\x9b",
            message="au\x00 secours\x1b[31m",
        )
        app.post_message(HubEvent(AlertEvent(id=10_000, type=EventType.ALERT_RAISED, data=alert)))
        await wait_until(pilot, lambda: len(table_rows(app)) == 1, what="row")
        shown = table_rows(app)[0] + text_of(app, "#detail")
        assert "Desk g9" in shown and "near g9" in shown and "Renfort" in shown
        assert "au secours" in shown
        assert not any(
            (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in shown
        ), repr(shown)


async def test_a_hub_without_the_presence_route_still_loads(
    hub: RunningHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An older hub answers /v1/presence with 404: the desks come from /v1/desks, no tokens."""
    from deskalert.errors import NotFound

    async def missing(*args: Any, **kwargs: Any) -> Any:
        raise NotFound("no such route")

    app = pane(hub.url)
    monkeypatch.setattr(app.client, "presence", missing)
    async with app.run_test(size=SIZE) as pilot:
        await live(pilot)
        assert "Desk g1  jamais connecté" in text_of(app, "#presence")
        assert "jeton refusé" not in text_of(app, "#presence")
