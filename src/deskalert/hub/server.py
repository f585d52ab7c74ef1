"""Running the hub on uvicorn: bind first (so port 0 works and errors are one line), then serve."""

from __future__ import annotations

import logging
import socket
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import uvicorn

from deskalert import __version__
from deskalert.errors import ConfigError
from deskalert.hub.app import create_app
from deskalert.hub.settings import HubConfig
from deskalert.hub.store import Store

DB_NAME = "hub.sqlite3"
GRACEFUL_SHUTDOWN_S = 2  # open event streams would otherwise hold shutdown forever


@dataclass
class HubServer:
    """A hub bound to its socket, ready to `run()`; `url` is known before it runs."""

    server: uvicorn.Server
    sock: socket.socket
    url: str
    db_path: Path

    def run(self) -> None:
        self.server.run(sockets=[self.sock])

    def stop(self) -> None:
        self.server.should_exit = True


def build_server(
    config: HubConfig,
    *,
    host: str,
    port: int,
    data_dir: Path,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
) -> HubServer:
    if (tls_cert is None) != (tls_key is None):
        raise ConfigError("--tls-cert and --tls-key go together: give both or neither")
    for path in (tls_cert, tls_key):
        if path is not None and not path.is_file():
            raise ConfigError(f"{path}: TLS file not found")
    db_path = data_dir / DB_NAME
    try:
        store = Store(db_path)
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError(f"{db_path}: cannot open the hub database: {exc}") from None
    sock = bind_socket(host, port)
    uv_config = uvicorn.Config(
        create_app(config, store),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )
    bound_host, bound_port = sock.getsockname()[:2]
    scheme = "https" if tls_cert else "http"
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    url = f"{scheme}://{shown_host}:{bound_port}"
    return HubServer(uvicorn.Server(uv_config), sock, url, db_path)


def bind_socket(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )[0]
        # proto must be IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets, and without
        # it every response waits ~40 ms for a delayed ACK (Nagle).
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def print_banner(hub: HubServer, config: HubConfig, config_path: Path, out: TextIO) -> None:
    """What the operator needs to see at start: where it listens, what it stores, what it loaded."""
    c, h = config, config.hub
    keys = ", ".join(f"{code.code} ({code.key.upper()})" for code in c.codes)
    lines = [
        f"deskalert hub {__version__}",
        f"  listening on  {hub.url}   (API: {hub.url}/docs, {hub.url}/openapi.json)",
        f"  data file     {hub.db_path}",
        f"  config        {config_path}",
        (f"  loaded        {len(c.sites)} sites, {len(c.desks)} desks, "
         f"{len(c.supervisors)} supervisors, {len(c.oncall)} on-call slots"),
        f"  codes         {keys}",
        (f"  timing        j'arrive expected within {h.ack_timeout_s:g} s, cancel window "
         f"{h.cancel_window_s:g} s, heartbeat {h.heartbeat_s:g} s"),
    ]
    demo = config.demo_token_users()
    if demo:
        lines.append(
            f"  WARNING       {len(demo)} of the desks/supervisors still use the published demo"
            " token: fine for a try-out, never on a real site (deskalert token new)"
        )
    print("\n".join(lines), file=out, flush=True)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
