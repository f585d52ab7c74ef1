"""Real local receivers for the notification tests and bench: an HTTP endpoint (Apprise's json://
and ntfy:// post there) and an SMTP server (aiosmtpd, for mailto://). No pytest in here."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from support.ports import free_port


@dataclass
class Received:
    """One message a receiver got: its title and body, and when (time.monotonic())."""

    channel: str
    title: str
    body: str
    at: float


@dataclass
class HttpReceiver:
    """Accepts POSTs on 127.0.0.1; `down = True` answers 503 (a channel that fails);
    `delay_s` holds each answer that long (a slow SMTP relay or SMS gateway), each POST in a
    thread of its own. A message counts as received when it is answered."""

    port: int = 0
    down: bool = False
    delay_s: float = 0.0
    messages: queue.Queue[Received] = field(default_factory=queue.Queue)

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                time.sleep(receiver.delay_s)
                if receiver.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                data: dict[str, Any] = json.loads(raw)
                receiver.messages.put(
                    Received(
                        self.path, data.get("title", ""), data.get("message", ""), time.monotonic()
                    )
                )
                with contextlib.suppress(ConnectionError):  # a sender stopped while held
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def url(self, path: str = "hook", scheme: str = "json") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/{path}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class SmtpReceiver:
    """An aiosmtpd server on 127.0.0.1 without TLS or login: Apprise's mailto:// delivers here."""

    def __init__(self) -> None:
        self.messages: queue.Queue[Received] = queue.Queue()
        self.port = free_port()

    def start(self) -> SmtpReceiver:
        from aiosmtpd.controller import Controller

        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                part = message.get_body(preferencelist=("plain", "html"))
                body = part.get_content() if part is not None else ""
                receiver.messages.put(
                    Received(
                        ",".join(envelope.rcpt_tos), str(message["Subject"]), body, time.monotonic()
                    )
                )
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def url(self, to: str) -> str:
        return f"mailto://127.0.0.1:{self.port}?to={to}&from=hub@example.org&mode=insecure"

    def stop(self) -> None:
        self._controller.stop()


def take(messages: queue.Queue[Received], timeout: float = 20) -> Received:
    """The next message, waiting up to `timeout` (generous: a shared 2-core machine)."""
    return messages.get(timeout=timeout)


def take_until(messages: queue.Queue[Received], words: str, timeout: float = 20) -> list[Received]:
    """Messages up to and including the first whose title contains `words`."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        message = messages.get(timeout=max(0.01, deadline - time.monotonic()))
        seen.append(message)
        if words in message.title:
            return seen


def drain(messages: queue.Queue[Received], quiet_s: float) -> list[Received]:
    """Everything that arrives until nothing has for `quiet_s`."""
    seen = []
    while True:
        try:
            seen.append(messages.get(timeout=quiet_s))
        except queue.Empty:
            return seen
