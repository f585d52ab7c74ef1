"""Helpers for the failover tests: a real HTTP server that answers one fixed way and counts."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from desk_helpers import free_port

PROXY_PAGE = (
    b"<html><head><title>Bad Gateway</title></head>"
    b"<body>The upstream hub is not answering.</body></html>"
)
# (status, content type, body): what stands in front of a hub that is down, or a hub's refusal.
ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "503-store": (
        503,
        "application/json",
        b'{"error": "store_unavailable", "detail": "the database cannot be written"}',
    ),
    "503-html": (503, "text/html", PROXY_PAGE),
    "502-html": (502, "text/html", PROXY_PAGE),
    "504-html": (504, "text/html", PROXY_PAGE),
    "200-login-page": (
        200,
        "text/html; charset=utf-8",
        b"<html><head><title>Portail d'authentification</title></head></html>",
    ),
    "401": (401, "application/json", b'{"error": "unauthorized", "detail": "unknown token"}'),
    "403": (403, "application/json", b'{"error": "forbidden", "detail": "not from here"}'),
    "404": (404, "application/json", b'{"error": "not_found", "detail": "no such alert"}'),
    "409": (
        409,
        "application/json",
        b'{"error": "alert_id_reused", "detail": "stored with another code"}',
    ),
    "422": (422, "application/json", b'{"error": "invalid", "detail": "unknown code"}'),
    "429": (429, "application/json", b'{"error": "rate_limited", "detail": "slow down"}'),
}


class AnswerServer:
    """A real HTTP server on 127.0.0.1 answering every request with `ANSWERS[mode]`; `requests`
    counts what reached it (a stand-in for a hub behind a proxy, or a hub that refuses)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                server.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                status, content_type, body = ANSWERS[server.mode]
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        # `shutdown()` waits for the serving loop's next look at its flag: every 50 ms, not
        # the default 0.5 s that each test using one paid at its end.
        self.thread = threading.Thread(
            target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}"

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.thread.join(timeout=5)


def dead_url() -> str:
    """A URL where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"
