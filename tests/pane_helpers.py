"""Helpers for the supervisor pane's tests: a pane with its own config, what a widget says, and
a small server that answers as something other than a working hub (a proxy's page, JSON of
another shape, a 500, a 401)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from textual.pilot import Pilot

from desk_helpers import text_of as desk_text
from desk_helpers import wait_until
from deskalert.client.settings import ClientConfig

PROXY_PAGE = (
    b"<html><head><title>Portail d'authentification</title></head><body>login</body></html>"
)
ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "html": (200, "text/html; charset=utf-8", PROXY_PAGE),
    "json": (200, "application/json", b'{"hello": "world", "items": [1, 2]}'),
    "500": (500, "text/plain", b"Internal Server Error"),
    "401": (401, "application/json", b'{"error": "unauthorized", "detail": "unknown token"}'),
}


def pane(
    url: str,
    who: str = "s.a",
    *,
    keys: dict[str, str] | None = None,
    language: str = "fr",
    token: str | None = None,
    **kwargs: Any,
) -> Any:
    from deskalert.tui.pane.app import PaneApp

    config = ClientConfig.model_validate(
        {"hub": {"url": url}, "supervisor": {"id": who}, "keys": keys or {}, "language": language}
    )
    return PaneApp(config, token or f"tok-{who}", **kwargs)


def text_of(app: Any, selector: str) -> str:
    """What a pane widget says (its own drawing, "" when hidden)."""
    widget = app.query_one(selector)
    return str(widget.text) if hasattr(widget, "text") else desk_text(app, selector)


async def live(pilot: Pilot[Any]) -> None:
    app: Any = pilot.app
    await wait_until(
        pilot,
        lambda: app.link.up is True and bool(app.state.oncall) and bool(text_of(app, "#oncall")),
        what="live",
    )


@contextmanager
def not_a_hub(kind: str) -> Iterator[str]:
    """A server on 127.0.0.1 that answers every request with ANSWERS[kind]; yields its URL."""
    status, content_type, body = ANSWERS[kind]

    class Answer(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer  # noqa: N815 - http.server's naming

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
