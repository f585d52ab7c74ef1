"""Running the hub on uvicorn: bind first (so port 0 works and errors are one line), then serve.

The connections go through `guard.GuardedProtocol` (deadlines and caps against clients that hold
sockets); stopping ends every connection within `GRACEFUL_SHUTDOWN_S` and logs one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import os
import resource
import secrets
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from deskalert.errors import ConfigError
from deskalert.hub.app import create_app
from deskalert.hub.clock import Clock, SystemClock
from deskalert.hub.guard import ConnectionGuard, ConnectionLimits, LimitLog, guarded_protocol
from deskalert.hub.one_roster import announce_at_start, check_at_start, note_at_start
from deskalert.hub.reload import Reloader
from deskalert.hub.served import renew_if_went_back
from deskalert.hub.settings import HubConfig
from deskalert.hub.store import hold_hub_file, open_store
from deskalert.i18n import N_, t
from deskalert.sqlite import FileInUse, HeldLock

log = logging.getLogger("deskalert.hub")
DB_NAME = "hub.sqlite3"
GRACEFUL_SHUTDOWN_S = 2  # open event streams would otherwise hold shutdown forever
FILES_PER_PRINCIPAL = 2  # an event stream and a keep-alive connection for heartbeats and alerts
FILES_HEADROOM = 256  # the hub's own files, short requests, clients outside the roster
FILES_RESERVED = 64  # never used for connections: the database, its WAL, logs, the loop
GC_GEN0_THRESHOLD = 5_000
ACCEPT_ERRORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


@dataclass
class HubServer:
    """A hub bound to its socket, ready to `run()`; `url` is known before it runs."""

    server: uvicorn.Server
    sock: socket.socket
    url: str
    db_path: Path
    open_files: int
    database: str  # where the store is, shown (a PostgreSQL URL without its password)
    lock: HeldLock | None = None  # this hub's hold on its SQLite file (None: PostgreSQL)
    reloader: Reloader | None = None  # SIGHUP: hub.toml read again (hub/reload.py)
    demo_tokens: int = 0  # principals whose token in force is the published demo one, at start

    def run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        finally:
            if self.lock is not None:
                self.lock.release()

    def stop(self) -> None:
        self.server.should_exit = True


class GuardedServer(uvicorn.Server):
    """uvicorn's server that says in one line why and how fast it stopped, and turns a failed
    accept (out of file descriptors) into a rate-limited line instead of a traceback."""

    def __init__(
        self, config: uvicorn.Config, guard: ConnectionGuard, reloader: Reloader | None = None
    ) -> None:
        super().__init__(config)
        self.guard = guard
        self.reloader = reloader

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().set_exception_handler(_loop_errors(self.guard.limit_log))
        await super().startup(sockets)
        if self.reloader is not None and threading.current_thread() is threading.main_thread():
            self.reloader.install()  # signals reach the main thread only (a test's hub: none)
        tune_gc()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        started, connections = time.monotonic(), len(self.guard.open)
        if self.reloader is not None:
            self.reloader.uninstall()
        await super().shutdown(sockets)
        signals = [signal.Signals(s).name for s in getattr(self, "_captured_signals", [])]
        log.info(
            "hub stopped (%s) in %.1f s; %d connection(s) were open",
            signals[0] if signals else "asked to",
            time.monotonic() - started,
            connections,
        )


def claim_new_file(lock: HeldLock, db_path: Path, held: str) -> None:
    """The hold written into a file the store just created (one that existed was claimed with
    the hold), so that a hub on a hard link of it is refused too (sqlite.py)."""
    try:
        lock.claim()
    except FileInUse as exc:
        raise ConfigError(t(held, pid=exc.pid or "?", path=db_path)) from None
    except OSError as exc:
        raise ConfigError(t("hub.error.hold", path=db_path, reason=exc.strerror)) from None


def tune_gc() -> None:
    """After start-up: what the imports and the app built (FastAPI's routes, pydantic's
    schemas) is moved out of the collector's sight (`gc.freeze`), and the youngest generation
    is collected every GC_GEN0_THRESHOLD allocations instead of 700. Measured in the 5000-stream
    bench (bench/findings.md): without either, 11 full collections of up to 1.9 s; frozen with
    the default threshold, 11 of up to 0.86 s; with both, one. A threshold of 20 000 avoided
    that one too, but each young collection got long (up to 0.23 s against 0.06 s)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, older, oldest)


def _loop_errors(limit_log: LimitLog) -> Any:
    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in ACCEPT_ERRORS:
            limit_log.hit(
                "open_files",
                "cannot accept a connection (%s); accepting resumes by itself",
                exc.strerror,
            )
            return
        loop.default_exception_handler(context)

    return handle


def needed_open_files(config: HubConfig) -> int:
    """What the roster needs at most: desks x 2 plus headroom (docs/guarantees.md, deploy/)."""
    return FILES_PER_PRINCIPAL * len(config.principals()) + FILES_HEADROOM


def raise_open_files_limit() -> int:
    """Raise the soft limit of open files to the hard one; return the soft limit we have."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def open_files_warning(config: HubConfig, limit: int) -> str | None:
    needed = needed_open_files(config)
    if limit >= needed:
        return None
    return (
        f"the open-file limit is {limit}, below the {needed} this roster needs "
        f"({len(config.principals())} desks and supervisors x {FILES_PER_PRINCIPAL} + "
        f"{FILES_HEADROOM}): raise LimitNOFILE (deploy/deskalert-hub.service)"
    )


def build_server(
    config: HubConfig,
    *,
    host: str,
    port: int,
    data_dir: Path,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    config_path: Path | None = None,
    clock: Clock | None = None,
    ticker: bool = True,
) -> HubServer:
    """A hub bound to host:port on its store; with `config_path`, SIGHUP reloads its roster
    from that file (hub/reload.py). `clock` and `ticker`: see `create_app` (tests that drive
    time by hand)."""
    if (tls_cert is None) != (tls_key is None):
        raise ConfigError(t("hub.error.tls_pair"))
    for path in (tls_cert, tls_key):
        if path is not None and not path.is_file():
            raise ConfigError(t("hub.error.tls_missing", path=path))
    db_path = data_dir / DB_NAME
    database = database_url(config)
    held = N_("hub.held.serve")
    lock = None if database else hold_hub_file(db_path, held)
    hub_id = secrets.token_hex(6)  # this process among the hubs of a shared store
    store = None
    try:
        store = open_store(database, db_path)
        if lock is not None:  # SQLite: a file put back in time gets a new epoch
            claim_new_file(lock, db_path, held)
            store.epoch = renew_if_went_back(
                db_path,
                store.epoch,
                store.last_event_id(),
                lambda epoch: store.swap_meta("epoch", epoch),
            )
        # hub.toml edited while the hub was stopped: roster.changed for whoever comes back
        # (several hubs: one roster, hub/one_roster.py)
        if store.shared:
            start = check_at_start(store, config, hub_id)
        else:
            start = note_at_start(store, config)
        if start.said:
            log.warning("%s", start.said)
        if start.changed:
            announce_at_start(store, config, (clock or SystemClock()).now())
        sock = bind_socket(host, port)
    except BaseException:
        if lock is not None:
            lock.release()
        if store is not None and store.shared:  # not running after all: not counted
            with contextlib.suppress(Exception):
                store.forget_streams(hub_id)
        raise
    demo_tokens = len(config.demo_token_users(store.token_overlay()))  # the store's in force
    files = raise_open_files_limit()
    warning = open_files_warning(config, files)
    if warning:
        log.warning("%s", warning)
    budget = max(FILES_RESERVED, files - FILES_RESERVED)  # a tiny limit still serves a few
    guard = ConnectionGuard(ConnectionLimits.from_config(config.hub, budget))
    app = create_app(config, store, clock=clock, ticker=ticker, hub_id=hub_id)
    reloader = Reloader(app.state.hub, config_path, data_dir) if config_path else None
    uv_config = uvicorn.Config(
        app,
        http=guarded_protocol(guard),
        log_config=None,
        access_log=False,
        # X-Forwarded-For (right-most address not in the list) and -Proto only from these
        # peers; never from $FORWARDED_ALLOW_IPS (docs/integrators/api.md, "Alerts from where
        # they belong").
        proxy_headers=True,
        forwarded_allow_ips=list(config.hub.trusted_proxies),
        timeout_keep_alive=config.hub.keepalive_timeout_s,  # type: ignore[arg-type]
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )
    bound_host, bound_port = sock.getsockname()[:2]
    scheme = "https" if tls_cert else "http"
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    url = f"{scheme}://{shown_host}:{bound_port}"
    return HubServer(
        GuardedServer(uv_config, guard, reloader),
        sock,
        url,
        db_path,
        files,
        store.location,
        lock,
        reloader,
        demo_tokens=demo_tokens,
    )


def database_url(config: HubConfig) -> str | None:
    """DESKALERT_DATABASE, else `[hub] database` (env:NAME and file:/path read here), else None:
    the SQLite file."""
    from_env = os.environ.get("DESKALERT_DATABASE")
    return resolve_database(
        from_env or config.hub.database, "DESKALERT_DATABASE" if from_env else "hub.database"
    )


def resolve_database(value: str | None, source: str) -> str | None:
    """A postgresql:// URL from `value` (itself, or read from env:NAME or file:/path); None if
    unset. `source` names where the value came from, in the error."""
    if not value:
        return None
    if value.startswith("env:"):
        name = value[4:]
        value = os.environ.get(name, "")
        if not value:
            raise ConfigError(t("hub.error.env_unset", source=source, name=name))
    elif value.startswith("file:"):
        try:
            value = Path(value[5:]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                t("hub.error.file", source=source, reason=exc.strerror, path=value[5:])
            ) from None
    if not value.startswith(("postgresql://", "postgres://")):
        raise ConfigError(t("hub.error.database_url", source=source))
    return value


BACKLOG = 2048  # uvicorn's default


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
        # Listening from here: the banner says "listening on" before uvicorn starts the app,
        # and a desk connecting meanwhile waits in the backlog (uvicorn's 2048) instead of
        # being refused (uvicorn listens again on the same socket, which only sets the backlog).
        sock.listen(BACKLOG)
    except OSError as exc:
        raise ConfigError(
            t("hub.error.listen", host=host, port=port, reason=exc.strerror or exc)
        ) from None
    sock.set_inheritable(True)
    return sock


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # The hub's own line says when it started and stopped; uvicorn's are one per step.
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.setLevel(max(logging.WARNING, logging.getLogger().level))
    uvicorn_log.addFilter(OncePerInterval())


class OncePerInterval(logging.Filter):
    """Lets one record of each message through per interval: a client sending garbage on many
    sockets gets uvicorn's "Invalid HTTP request received." logged once, not once per socket."""

    def __init__(self, every_s: float = 10.0) -> None:
        super().__init__()
        self.every_s = every_s
        self._last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        key = str(record.msg)
        if now - self._last.get(key, -self.every_s) < self.every_s:
            return False
        self._last[key] = now
        return True
